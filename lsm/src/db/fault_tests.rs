//! The fault-injection sweep of the key-value store (docs/reliability.md, "Fault injection"):
//! a workload (recovery at open, synced and buffered writes, deletes, flushes, a compaction, so
//! WAL rotations and manifest switches) runs once per I/O call it makes, with that call failing.
//! Each run must report the failure as an error, refuse every later write (503.1001, never an
//! fsync retried into a false success), and reopen to exactly the acknowledged writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::cipher::CipherSuite;
use crate::db::Durability;
use crate::db::{Db, DbOptions};
use crate::error::{substatus, Result};
use crate::kv::WriteBatch;
use strata_base::fault_plan::{inject, sweep_every_kind};
use strata_base::faults::FaultKind;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;
/// A write to a key: its new value, `None` for a delete.
type KeyWrite = (Vec<u8>, Option<Vec<u8>>);

fn opts() -> DbOptions {
    DbOptions {
        // Large enough that no write freezes the memtable by itself: every flush is explicit,
        // so all I/O happens on the test's thread, in a fixed order.
        memtable_bytes: 1 << 20,
        background_compaction: false,
        ..DbOptions::default()
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:02}").into_bytes()
}

/// One step of the workload.
#[derive(Clone, Debug)]
enum Step {
    Put(usize, &'static str),
    Delete(usize),
    /// A `Durability::Buffered` write: acknowledged, durable only after the next `Sync`.
    Buffered(usize, &'static str),
    Sync,
    Flush,
    Compact,
}

const WORKLOAD: &[Step] = &[
    Step::Put(0, "a1"),
    Step::Put(1, "b1"),
    Step::Delete(2),
    Step::Put(8, "i1"),
    Step::Flush,
    Step::Put(3, "d1"),
    Step::Put(0, "a2"),
    Step::Buffered(9, "j1"),
    Step::Sync,
    Step::Compact,
    Step::Put(4, "e1"),
    Step::Delete(0),
    Step::Flush,
    Step::Put(5, "f1"),
];

/// Writes the state the workload starts from (no faults): five keys in a segment, three more only
/// in the WAL, so the workload's open has a log to recover.
fn seed(dir: &Path, suite: &Arc<CipherSuite>) -> Model {
    let db = Db::open(dir, opts(), suite.clone()).unwrap();
    let mut model = Model::new();
    let mut batch = WriteBatch::new();
    for i in 0..8 {
        let v = format!("seed-{i}").into_bytes();
        batch.put(key(i), v.clone());
        model.insert(key(i), v);
        if i == 4 {
            db.write(std::mem::take(&mut batch), Durability::Sync).unwrap();
            db.flush().unwrap();
        }
    }
    db.write(batch, Durability::Sync).unwrap();
    model
}

/// What a run leaves: the acknowledged state, and writes whose outcome is unknown (each key may
/// hold its old value or the one given).
struct Outcome {
    model: Model,
    uncertain: Vec<KeyWrite>,
    /// The first error, and the step that returned it (`None`: the open).
    failed: Option<(Option<usize>, crate::error::Error)>,
    /// The store, if it opened.
    db: Option<Db>,
}

/// Runs the workload until a step fails. `fired` says whether the injected fault has fired: a
/// step that succeeds although the fault fired during it swallowed the fault (a bug).
fn run(dir: &Path, suite: &Arc<CipherSuite>, mut model: Model, fired: &dyn Fn() -> bool) -> Outcome {
    let mut out = Outcome {
        model: Model::new(),
        uncertain: Vec::new(),
        failed: None,
        db: None,
    };
    let db = match Db::open(dir, opts(), suite.clone()) {
        Ok(db) => {
            assert!(!fired(), "the open succeeded although an I/O call of it failed");
            db
        }
        Err(e) => {
            out.model = model;
            out.failed = Some((None, e));
            return out;
        }
    };
    let mut buffered: Vec<KeyWrite> = Vec::new();
    for (i, step) in WORKLOAD.iter().enumerate() {
        let (r, write): (Result<()>, Option<KeyWrite>) = match step {
            Step::Put(k, v) => (
                db.put(&key(*k), v.as_bytes()).map(drop),
                Some((key(*k), Some(v.as_bytes().to_vec()))),
            ),
            Step::Delete(k) => (db.delete(&key(*k)).map(drop), Some((key(*k), None))),
            Step::Buffered(k, v) => {
                let mut b = WriteBatch::new();
                b.put(key(*k), v.as_bytes());
                (
                    db.write(b, Durability::Buffered).map(drop),
                    Some((key(*k), Some(v.as_bytes().to_vec()))),
                )
            }
            Step::Sync => (db.sync(), None),
            Step::Flush => (db.flush(), None),
            Step::Compact => (db.compact(), None),
        };
        if r.is_ok() {
            assert!(
                !fired(),
                "step {i} ({step:?}) succeeded although an I/O call of it failed"
            );
        }
        match (r, write) {
            (Ok(()), Some(w)) if matches!(step, Step::Buffered(..)) => buffered.push(w),
            (Ok(()), Some((k, v))) => apply(&mut model, k, v),
            (Ok(()), None) => {
                if matches!(step, Step::Sync) {
                    for (k, v) in buffered.drain(..) {
                        apply(&mut model, k, v);
                    }
                }
            }
            (Err(e), w) => {
                out.uncertain.extend(w);
                out.failed = Some((Some(i), e));
                break;
            }
        }
    }
    // Buffered writes never made durable by a successful sync may be lost or kept.
    out.uncertain.extend(buffered);
    out.model = model;
    out.db = Some(db);
    out
}

fn apply(model: &mut Model, k: Vec<u8>, v: Option<Vec<u8>>) {
    match v {
        Some(v) => model.insert(k, v),
        None => model.remove(&k),
    };
}

/// The store's contents equal the model, but for uncertain keys, which may hold either value.
fn check_contents(db: &Db, out: &Outcome, what: &str) {
    let got: Model = db.scan_prefix(b"").unwrap().into_iter().collect();
    let mut want = out.model.clone();
    for (k, v) in &out.uncertain {
        if got.get(k) == v.as_ref() {
            apply(&mut want, k.clone(), v.clone());
        }
    }
    assert_eq!(got, want, "{what}: contents after reopen differ from the model");
}

/// Applicable I/O calls of the workload (seeded store, open included, close excluded).
fn count_calls(kind: FaultKind) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(false));
    let model = seed(dir.path(), &suite);
    let plan = inject(dir.path(), kind, None);
    let out = run(dir.path(), &suite, model, &|| false);
    assert!(
        out.failed.is_none(),
        "workload fails without faults: {:?}",
        out.failed
    );
    let n = plan.calls();
    drop(out.db);
    n
}

fn sweep(kind: FaultKind) {
    let total = count_calls(kind);
    assert!(total >= 10, "{kind:?}: only {total} calls counted");
    eprintln!("db fault sweep, {kind:?}: {total} injection points");
    for n in 1..=total {
        let dir = tempfile::tempdir().unwrap();
        let suite = Arc::new(CipherSuite::ephemeral(false));
        let seeded = seed(dir.path(), &suite);
        let plan = inject(dir.path(), kind, Some(n));
        let mut out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(dir.path(), &suite, seeded, &|| plan.fired().is_some())
        }))
        .unwrap_or_else(|_| panic!("{kind:?} at call {n}/{total}: {:?}", plan.fired()));
        let fired = plan.fired();
        let what = format!(
            "{kind:?} at call {n}/{total} ({})",
            fired.as_deref().unwrap_or("-")
        );
        assert!(fired.is_some(), "{what}: the fault did not fire");
        let Some((step, err)) = &out.failed else {
            panic!("{what}: the injected fault was swallowed; every step succeeded");
        };
        if let Some(db) = &out.db {
            // Fsyncgate: after a failed write, fsync, flush or compaction, nothing more is
            // acknowledged until the store is reopened.
            let poisoned =
                |e: &crate::error::Error| (e.status(), e.substatus()) == (503, substatus::POISONED);
            let after = db.put(b"written-after-the-fault", b"x");
            assert!(
                after.as_ref().is_err_and(poisoned),
                "{what}: step {step:?} failed with {err}, then a write got {after:?}"
            );
            assert!(
                db.sync().is_err_and(|e| poisoned(&e)),
                "{what}: sync after the fault"
            );
            assert!(
                db.flush().is_err_and(|e| poisoned(&e)),
                "{what}: flush after the fault"
            );
        }
        drop(out.db.take());
        drop(plan);
        let db = Db::open(dir.path(), opts(), suite.clone())
            .unwrap_or_else(|e| panic!("{what}: reopen after the fault cleared failed: {e}"));
        check_contents(&db, &out, &what);
        // The reopened store takes writes again.
        db.put(b"written-after-reopen", b"y").unwrap();
    }
}

#[test]
fn fault_sweep_of_the_store_every_kind() {
    sweep_every_kind(sweep);
}

/// Power loss at every I/O call of the workload (docs/reliability.md, "Power loss"): the power
/// goes off at call n (it and every later call fail), the store is closed, the directory is cut
/// back to what fsyncs made durable (unsynced tails, undurable creates and renames lost), and the
/// reopened store must hold every write acknowledged as durable before the cut. Unlike the fault
/// sweep, this tells a missing fsync (of a file or of its directory) from a present one.
#[test]
fn power_loss_at_every_io_call_keeps_every_durable_write() {
    use strata_base::power_loss::record;
    let total = {
        let dir = tempfile::tempdir().unwrap();
        let suite = Arc::new(CipherSuite::ephemeral(false));
        let model = seed(dir.path(), &suite);
        let rec = record(dir.path(), None);
        let out = run(dir.path(), &suite, model, &|| false);
        assert!(
            out.failed.is_none(),
            "workload fails without a cut: {:?}",
            out.failed
        );
        let n = rec.calls();
        drop(out.db);
        n
    };
    assert!(total >= 20, "only {total} calls recorded");
    eprintln!("db power-loss sweep: {total} cut points");
    for n in 1..=total {
        let dir = tempfile::tempdir().unwrap();
        let suite = Arc::new(CipherSuite::ephemeral(false));
        let seeded = seed(dir.path(), &suite);
        let rec = record(dir.path(), Some(n));
        let mut out = run(dir.path(), &suite, seeded, &|| false);
        let what = format!(
            "power cut at call {n}/{total} ({})",
            rec.cut_call().unwrap_or_default()
        );
        assert!(rec.cut_call().is_some(), "{what}: the cut did not happen");
        assert!(
            out.failed.is_some(),
            "{what}: every step succeeded with the power off"
        );
        drop(out.db.take());
        rec.apply()
            .unwrap_or_else(|e| panic!("{what}: applying the power loss: {e}"));
        drop(rec);
        let db = Db::open(dir.path(), opts(), suite.clone())
            .unwrap_or_else(|e| panic!("{what}: reopen after the power loss failed: {e}"));
        check_contents(&db, &out, &what);
        db.put(b"written-after-reopen", b"y").unwrap();
    }
}
