//! Test-only support of the decoder fuzz tests (`*/fuzz_tests.rs`): their proptest
//! configuration (`PROPTEST_CASES` overrides each test's case count), and an allocation probe —
//! the engine's unit-test binary runs on a global allocator that records, per thread, the largest
//! single allocation requested while a probe is armed, to show that a length field claiming
//! gigabytes is refused before anything of that size is allocated. Thread-safe (state is
//! thread-local); `cfg(test)` only. See docs/reliability.md ("Decoder fuzzing").

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Probe;

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

#[global_allocator]
static PROBE: Probe = Probe;

/// A proptest configuration running `cases` cases, or `PROPTEST_CASES` if that is set (an
/// explicit `with_cases` would ignore the variable).
pub(crate) fn config(cases: u32) -> proptest::test_runner::Config {
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
pub(crate) fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let was_armed = ARMED.with(|a| a.replace(true));
    let before = LARGEST.with(|l| l.replace(0));
    let out = f();
    let largest = LARGEST.with(|l| l.replace(before.max(l.get())));
    ARMED.with(|a| a.set(was_armed));
    (out, largest)
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
