//! Fault plans for the I/O seam (`faults.rs`): a plan covers every path under one directory,
//! counts the calls its fault kind applies to, and fails the n-th of them once. Plans are keyed
//! by directory, not by thread, so the store's background threads are covered and tests running in
//! parallel on other directories are not touched. Compiled only for tests and the
//! `fault-injection` feature; never consulted in a default release build. Thread-safe.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::fault_kind::{FaultKind, Op};

/// Every plan in force. Short critical sections; a poisoned lock injects nothing.
static PLANS: Mutex<Vec<Arc<FaultPlan>>> = Mutex::new(Vec::new());

/// One plan: `kind` at the `fail_at`-th applicable call under `root` (`None`: only count).
#[derive(Debug)]
pub struct FaultPlan {
    root: PathBuf,
    kind: FaultKind,
    fail_at: Option<u64>,
    calls: AtomicU64,
    /// What the injected fault hit (`"<op> <path>"`), once it fired.
    fired: Mutex<Option<String>>,
}

impl FaultPlan {
    /// Applicable calls seen so far (including the failed one).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The call the fault hit, once it has fired.
    pub fn fired(&self) -> Option<String> {
        self.fired.lock().ok().and_then(|g| g.clone())
    }
}

/// Keeps a plan in force; dropping it clears the fault.
#[must_use = "the plan is removed when the guard is dropped"]
pub struct FaultGuard(Arc<FaultPlan>);

impl std::ops::Deref for FaultGuard {
    type Target = FaultPlan;
    fn deref(&self) -> &FaultPlan {
        &self.0
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        if let Ok(mut plans) = PLANS.lock() {
            plans.retain(|p| !Arc::ptr_eq(p, &self.0));
        }
    }
}

/// Puts a plan in force for every path under `root`: the `fail_at`-th call (counting from 1) that
/// `kind` applies to fails with `kind`; later calls succeed. `fail_at = None` only counts.
pub fn inject(root: &Path, kind: FaultKind, fail_at: Option<u64>) -> FaultGuard {
    let plan = Arc::new(FaultPlan {
        root: root.to_path_buf(),
        kind,
        fail_at,
        calls: AtomicU64::new(0),
        fired: Mutex::new(None),
    });
    if let Ok(mut plans) = PLANS.lock() {
        plans.push(plan.clone());
    }
    FaultGuard(plan)
}

/// Counts this call against every plan covering `path`; the fault to inject, if one is due.
pub fn check(op: Op, path: &Path) -> Option<FaultKind> {
    let plans = PLANS.lock().ok()?;
    let mut hit = None;
    for p in plans.iter() {
        if !path.starts_with(&p.root) || !p.kind.applies_to(op) {
            continue;
        }
        let n = p.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if p.fail_at == Some(n) {
            if let Ok(mut f) = p.fired.lock() {
                *f = Some(format!("{op:?} {}", path.display()));
            }
            hit = Some(p.kind);
        }
    }
    hit
}

/// Runs `sweep` for every fault kind, each on its own thread (the sweeps touch disjoint
/// directories); a failure of any fails the caller.
pub fn sweep_every_kind(sweep: fn(FaultKind)) {
    std::thread::scope(|s| {
        for kind in FaultKind::ALL {
            s.spawn(move || sweep(kind));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults;

    #[test]
    fn fails_the_nth_applicable_call_under_its_root_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let outside = dir.path().join("b");
        let plan = inject(dir.path(), FaultKind::FsyncFail, Some(2));
        std::fs::write(&a, b"x").unwrap();
        let f = std::fs::File::open(&a).unwrap();
        assert!(faults::read(&a).is_ok(), "reads are not fsyncs: not counted");
        assert!(faults::sync_all(&f, &a).is_ok());
        assert!(faults::sync_data(&f, &a).is_err(), "the 2nd fsync fails");
        assert!(faults::sync_all(&f, &a).is_ok(), "once only");
        assert_eq!(plan.calls(), 3);
        assert!(plan.fired().unwrap().starts_with("Sync "));
        drop(plan);
        let plan = inject(&a, FaultKind::ShortWrite, Some(1));
        let mut buf = Vec::new();
        assert!(
            faults::write_all(&mut buf, b"abcd", &outside).is_ok(),
            "other paths untouched"
        );
        assert!(faults::write_all(&mut buf, b"efgh", &a).is_err());
        assert_eq!(buf, b"abcdef", "a short write stores half its bytes");
        assert_eq!(plan.calls(), 1);
    }
}
