//! Test-only support of the decoder fuzz tests (`*/fuzz_tests.rs`): their proptest
//! configuration (`PROPTEST_CASES` overrides each test's case count), the damage a good file
//! suffers, and an allocation probe — the unit-test binaries of the LSM and the engine install
//! `Probe` as their global allocator, which records, per thread, the largest single allocation
//! requested while a probe is armed, to show that a length field claiming gigabytes is refused
//! before anything of that size is allocated. Thread-safe (state is thread-local);
//! `test-support` feature only. See docs/reliability.md ("Decoder fuzzing").

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// The allocation probe: each test binary that uses `largest_allocation` installs it with
/// `#[global_allocator] static PROBE: Probe = Probe;` in its crate root (test builds only).
pub struct Probe;

thread_local! {
    // `const` initialisers and no destructors: reading them never allocates and never fails,
    // not even while a thread is being torn down.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    if ARMED.with(Cell::get) {
        LARGEST.with(|l| l.set(l.get().max(size)));
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the bookkeeping touches only plain thread-local cells and never allocates.
unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout, forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout, forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; arguments forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
#[global_allocator]
static PROBE: Probe = Probe;

/// A proptest configuration running `cases` cases, or `PROPTEST_CASES` if that is set (an
/// explicit `with_cases` would ignore the variable).
pub fn config(cases: u32) -> proptest::test_runner::Config {
    let mut c = proptest::test_runner::Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    // Failures are reproduced by the regular tests they become, not by persisted seed files.
    c.failure_persistence = None;
    c
}

/// Runs `f` and returns its result with the largest single allocation (bytes) it requested on
/// this thread.
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let was_armed = ARMED.with(|a| a.replace(true));
    let before = LARGEST.with(|l| l.replace(0));
    let out = f();
    let largest = LARGEST.with(|l| l.replace(before.max(l.get())));
    ARMED.with(|a| a.set(was_armed));
    (out, largest)
}

/// How a good file is damaged in the decoder fuzz tests: a flipped bit, a truncation, inserted
/// bytes, or replaced by random bytes.
#[derive(Clone, Debug)]
pub enum Damage {
    Flip { at: Index, bit: u8 },
    Truncate(Index),
    Insert { at: Index, bytes: Vec<u8> },
    Random(Vec<u8>),
}

/// Any damage, flips three times as likely as each other kind.
pub fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        1 => any::<Index>().prop_map(Damage::Truncate),
        1 => (any::<Index>(), vec(any::<u8>(), 1..16)).prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        1 => vec(any::<u8>(), 0..512).prop_map(Damage::Random),
    ]
}

/// `good` with the damage `d` applied.
pub fn apply(d: &Damage, good: &[u8]) -> Vec<u8> {
    let mut b = good.to_vec();
    match d {
        Damage::Flip { at, bit } => b[at.index(good.len())] ^= 1 << bit,
        Damage::Truncate(at) => b.truncate(at.index(good.len())),
        Damage::Insert { at, bytes } => {
            let at = at.index(good.len() + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Damage::Random(r) => b.clone_from(r),
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_large_and_ignores_unarmed_allocations() {
        let (v, largest) = largest_allocation(|| vec![0u8; 3 << 20]);
        assert!(largest >= 3 << 20, "{largest}");
        drop(v);
        let ((), small) = largest_allocation(|| {
            let _ = vec![0u8; 100];
        });
        assert!((100..4096).contains(&small), "{small}");
        let _unseen = vec![0u8; 5 << 20];
        let ((), none) = largest_allocation(|| ());
        assert_eq!(none, 0);
    }
}
