//! Progress of the long backup operations (taking a backup, verifying one, restoring), for a
//! caller that shows it (the CLI draws a bar): the bytes planned and the bytes done so far,
//! read from another thread while the operation runs. The operation reports to the observer
//! set on its own thread by `observe_progress`; without one, reporting costs a thread-local
//! read. Counts only; it never changes what an operation does.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes to process and processed so far; shared between the operation and its observer.
#[derive(Debug, Default)]
pub struct Progress {
    total: AtomicU64,
    done: AtomicU64,
}

impl Progress {
    /// Bytes the operation has planned to read or copy so far (it may plan in steps).
    pub fn total_bytes(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Bytes read or copied so far.
    pub fn done_bytes(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Progress>>> = const { RefCell::new(None) };
}

/// Runs `f` with `progress` receiving the reports of the backup, verify and restore calls it
/// makes on this thread (`Account::backup_now`, `verify_backup`, `restore`, `restore_to_point`,
/// `restore_deleted`).
pub fn observe_progress<T>(progress: &Arc<Progress>, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(Some(progress.clone())));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = previous);
    out
}

fn with(f: impl FnOnce(&Progress)) {
    CURRENT.with(|c| {
        if let Some(p) = c.borrow().as_ref() {
            f(p);
        }
    });
}

/// The operation will process `bytes` more.
pub(crate) fn plan(bytes: u64) {
    with(|p| {
        p.total.fetch_add(bytes, Ordering::Relaxed);
    });
}

/// The operation processed `bytes`.
pub(crate) fn advance(bytes: u64) {
    with(|p| {
        p.done.fetch_add(bytes, Ordering::Relaxed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_reach_only_the_observer_of_this_thread() {
        let p = Arc::new(Progress::default());
        plan(5); // no observer: nothing happens
        observe_progress(&p, || {
            plan(10);
            advance(4);
            std::thread::spawn(|| advance(100)).join().unwrap();
        });
        advance(1);
        assert_eq!((p.total_bytes(), p.done_bytes()), (10, 4));
    }
}
