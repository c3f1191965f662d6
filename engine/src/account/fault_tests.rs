//! The fault-injection sweep at the account level (docs/reliability.md, "Fault injection"): a
//! customer-managed account is opened and runs item writes, a container creation (CATALOG), a
//! flush, a key rotation (KEYRING) and a backup, once per I/O call under its data and backup
//! directories, with that call failing. Each run must report the failure, refuse item writes
//! after a failed store write (503.1001), and reopen with every acknowledged item intact, the
//! catalog and key as acknowledged, and any acknowledged backup verifying.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::account::{Account, Encryption};
use crate::error::{substatus, Error, Result};
use crate::options::AccountOptions;
use strata_base::fault_plan::{inject, sweep_every_kind};
use strata_base::faults::FaultKind;
use strata_vault::{KeyUri, LocalVault};

const DB: &str = "d";

/// The shared key holders (one vault: RSA keys are slow to make) and the key versions.
struct Keys {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    v1: KeyUri,
    v2: KeyUri,
}

fn keys() -> Keys {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let vault = LocalVault::open(&AccountOptions::new(tmp.path().join("x"), &home).vault_dir()).unwrap();
    let v1 = vault.create_key("k", 2048).unwrap();
    let v2 = vault.create_key("k", 2048).unwrap();
    Keys {
        _tmp: tmp,
        home,
        v1,
        v2,
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Item(&'static str, &'static str),
    CreateContainer(&'static str),
    Flush,
    Rotate,
    Backup,
}

const WORKLOAD: &[Step] = &[
    Step::Item("c", "i1"),
    Step::CreateContainer("c2"),
    Step::Item("c2", "j1"),
    Step::Flush,
    Step::Rotate,
    Step::Item("c", "i2"),
    Step::Backup,
    Step::Item("c2", "j2"),
];

fn body(id: &str) -> Value {
    json!({"id": id, "pk": "p", "body": format!("contents of {id}")})
}

/// What a run acknowledged, and what it attempted without an answer.
#[derive(Default)]
struct Outcome {
    items: Vec<(&'static str, &'static str)>,
    uncertain_items: Vec<(&'static str, &'static str)>,
    containers: Vec<&'static str>,
    /// `Some(true)` acknowledged, `Some(false)` not attempted, `None` failed (either key).
    rotated: Option<bool>,
    backup: Option<PathBuf>,
    failed: Option<(Option<Step>, Error)>,
    account: Option<Account>,
}

/// An account with container `c` and item `i0`, closed.
fn seed(opts: &AccountOptions, keys: &Keys) {
    let enc = Encryption::CustomerManaged {
        key_uri: keys.v2.to_string(),
    };
    let a = Account::create(opts.clone(), "acct", enc).unwrap();
    let c = a
        .create_database(DB)
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    c.create_item("p", &body("i0")).unwrap();
}

fn step(a: &Account, s: Step, keys: &Keys, backups: &Path) -> Result<Option<PathBuf>> {
    let db = a.database(DB);
    match s {
        Step::Item(c, id) => db.container(c).create_item("p", &body(id)).map(|_| None),
        Step::CreateContainer(c) => db.create_container(c, "/pk").map(|_| None),
        Step::Flush => a.flush().map(|_| None),
        Step::Rotate => a.rotate_customer_key(Some(&keys.v1.to_string())).map(|_| None),
        Step::Backup => a.backup_now(backups).map(|i| Some(i.path)),
    }
}

/// Runs the workload until a step fails. `fired` names the call the fault hit, once it has: a
/// step that succeeds although the fault hit one of its calls swallowed it — except a backup's
/// pruning, which by design passes over a backup whose BACKUP file it cannot read (it neither
/// deletes it nor collects pool files), after the new backup is already durable.
fn run(opts: &AccountOptions, keys: &Keys, backups: &Path, fired: &dyn Fn() -> Option<String>) -> Outcome {
    let mut out = Outcome {
        items: vec![("c", "i0")],
        containers: vec!["c"],
        rotated: Some(false),
        ..Outcome::default()
    };
    let a = match Account::open(opts.clone()) {
        Ok(a) => a,
        Err(e) => {
            out.failed = Some((None, e));
            return out;
        }
    };
    assert_eq!(
        fired(),
        None,
        "the open succeeded although an I/O call of it failed"
    );
    for s in WORKLOAD {
        let before = fired();
        match step(&a, *s, keys, backups) {
            Ok(path) => {
                let pruning = |f: &String| f.starts_with("Read ") && f.ends_with("/BACKUP");
                let here = fired().filter(|_| before.is_none());
                if !(matches!(s, Step::Backup) && here.as_ref().is_some_and(pruning)) {
                    assert_eq!(here, None, "{s:?} succeeded although an I/O call of it failed");
                }
                match s {
                    Step::Item(c, id) => out.items.push((c, id)),
                    Step::CreateContainer(c) => out.containers.push(c),
                    Step::Rotate => out.rotated = Some(true),
                    Step::Backup => out.backup = path,
                    Step::Flush => {}
                }
            }
            Err(e) => {
                match s {
                    Step::Item(c, id) => out.uncertain_items.push((c, id)),
                    Step::Rotate => out.rotated = None,
                    _ => {}
                }
                out.failed = Some((Some(*s), e));
                break;
            }
        }
    }
    out.account = Some(a);
    out
}

fn kid_of(data: &Path) -> String {
    let bytes = std::fs::read(data.join("KEYRING")).unwrap();
    let ring: Value = serde_json::from_slice(&bytes[20..]).unwrap();
    ring["customer"]["kid"].as_str().unwrap().to_string()
}

fn check(opts: &AccountOptions, keys: &Keys, out: &Outcome, what: &str) {
    let a = Account::open(opts.clone())
        .unwrap_or_else(|e| panic!("{what}: reopen after the fault cleared failed: {e}"));
    let db = a.database(DB);
    for (c, id) in &out.items {
        let got: Value = db
            .container(c)
            .read_item("p", id)
            .unwrap_or_else(|e| panic!("{what}: acknowledged item {c}/{id} lost: {e}"))
            .item
            .unwrap();
        assert_eq!(got["body"], body(id)["body"], "{what}: {c}/{id}");
    }
    let names: Vec<String> = db
        .list_containers()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    for c in &out.containers {
        assert!(
            names.iter().any(|n| n == c),
            "{what}: acknowledged container {c} lost"
        );
    }
    for name in &names {
        let c = db.container(name);
        let count = c.stats().unwrap().item_count as usize;
        let acked = out.items.iter().filter(|(x, _)| x == name).count();
        let maybe = out.uncertain_items.iter().filter(|(x, _)| x == name).count();
        assert!(
            (acked..=acked + maybe).contains(&count),
            "{what}: {name} holds {count} items, acknowledged {acked} (+{maybe} uncertain)"
        );
    }
    let kid = kid_of(&opts.data_dir);
    match out.rotated {
        Some(true) => assert_eq!(kid, keys.v1.to_string(), "{what}: acknowledged rotation lost"),
        Some(false) => assert_eq!(kid, keys.v2.to_string(), "{what}: key changed without a rotation"),
        None => assert!(
            [keys.v1.to_string(), keys.v2.to_string()].contains(&kid),
            "{what}"
        ),
    }
    if let Some(b) = &out.backup {
        Account::verify_backup(opts, b).unwrap_or_else(|e| panic!("{what}: acknowledged backup: {e}"));
    }
    // The reopened account takes writes again.
    db.container("c").create_item("p", &body("after-reopen")).unwrap();
}

/// A fresh seeded account under `tmp/store` (data and backups); the plan covers `store`.
fn fresh(keys: &Keys) -> (tempfile::TempDir, PathBuf, AccountOptions, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let opts = AccountOptions::new(store.join("data"), &keys.home);
    seed(&opts, keys);
    let backups = store.join("backups");
    (tmp, store, opts, backups)
}

fn sweep(kind: FaultKind) {
    let keys = keys();
    let total = {
        let (_tmp, store, opts, backups) = fresh(&keys);
        let plan = inject(&store, kind, None);
        let out = run(&opts, &keys, &backups, &|| None);
        assert!(
            out.failed.is_none(),
            "workload fails without faults: {:?}",
            out.failed
        );
        plan.calls()
    };
    assert!(total >= 5, "{kind:?}: only {total} calls counted");
    eprintln!("account fault sweep, {kind:?}: {total} injection points");
    for n in 1..=total {
        let (_tmp, store, opts, backups) = fresh(&keys);
        let plan = inject(&store, kind, Some(n));
        let mut out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&opts, &keys, &backups, &|| plan.fired())
        }))
        .unwrap_or_else(|_| panic!("{kind:?} at call {n}/{total}: {:?}", plan.fired()));
        let what = format!(
            "{kind:?} at call {n}/{total} ({})",
            plan.fired().unwrap_or_default()
        );
        assert!(plan.fired().is_some(), "{what}: the fault did not fire");
        let Some((failed, err)) = &out.failed else {
            assert!(
                what.ends_with("/BACKUP)"),
                "{what}: the fault was swallowed; every step succeeded"
            );
            drop(out.account.take());
            drop(plan);
            check(&opts, &keys, &out, &what);
            continue;
        };
        if let (Some(a), Some(Step::Item(..) | Step::Flush)) = (&out.account, failed) {
            // Fsyncgate: a failed store write or flush poisons the store until reopened.
            let after = a
                .database(DB)
                .container("c")
                .create_item("p", &body("after-the-fault"))
                .map(|r| r.status_code);
            assert!(
                after
                    .as_ref()
                    .is_err_and(|e| (e.status(), e.substatus()) == (503, substatus::POISONED)),
                "{what}: {failed:?} failed with {err}, then a write got {after:?}"
            );
        }
        drop(out.account.take());
        drop(plan);
        check(&opts, &keys, &out, &what);
    }
}

#[test]
fn fault_sweep_of_an_account_every_kind() {
    sweep_every_kind(sweep);
}

/// Power loss at every I/O call of the account workload (docs/reliability.md, "Power loss"):
/// the power goes off at call n under the data and backup directories, the account is closed,
/// both are cut back to what fsyncs made durable, and the reopened account must hold every
/// acknowledged item, container and key rotation, and every acknowledged backup must verify.
#[test]
fn power_loss_at_every_io_call_of_an_account() {
    use strata_base::power_loss::record;
    let keys = keys();
    let total = {
        let (_tmp, store, opts, backups) = fresh(&keys);
        let rec = record(&store, None);
        let out = run(&opts, &keys, &backups, &|| None);
        assert!(
            out.failed.is_none(),
            "workload fails without a cut: {:?}",
            out.failed
        );
        rec.calls()
    };
    assert!(total >= 20, "only {total} calls recorded");
    eprintln!("account power-loss sweep: {total} cut points");
    for n in 1..=total {
        let (_tmp, store, opts, backups) = fresh(&keys);
        let rec = record(&store, Some(n));
        let mut out = run(&opts, &keys, &backups, &|| None);
        let what = format!(
            "power cut at call {n}/{total} ({})",
            rec.cut_call().unwrap_or_default()
        );
        assert!(rec.cut_call().is_some(), "{what}: the cut did not happen");
        drop(out.account.take());
        rec.apply()
            .unwrap_or_else(|e| panic!("{what}: applying the power loss: {e}"));
        drop(rec);
        check(&opts, &keys, &out, &what);
    }
}
