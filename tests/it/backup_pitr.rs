//! Continuous backup and point-in-time restore end to end, on a manual wall clock (no sleeps,
//! no timing asserts): a workload of creates, replaces and deletes across flushes, WAL
//! rotations, a compaction, a second base backup and a reopen; restores at many moments each
//! reproduce exactly the model of that moment; moments outside the window are refused and leave
//! nothing; `only` restores just the chosen container; under a customer key the restore needs a
//! user-assigned identity and the key version that sealed the data (403.4002, nothing left
//! behind, until it is enabled again); no id, body or key reaches the backup directory.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use strata::{
    substatus, Account, AccountOptions, Container, ContinuousPolicy, ManualWallClock, PointInTimeRestore,
    Principal, QueryOptions, WallClock,
};

const T0: u64 = 1_800_000_000;

type Model = BTreeMap<String, String>;

struct Fixture {
    tmp: tempfile::TempDir,
    clock: ManualWallClock,
    opts: AccountOptions,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let clock = ManualWallClock::at(T0);
        let mut opts =
            AccountOptions::new(tmp.path().join("data"), tmp.path().join("home")).memtable_bytes(8 << 10);
        opts.wall_clock = Arc::new(clock.clone());
        Fixture { tmp, clock, opts }
    }

    fn backups(&self) -> PathBuf {
        self.tmp.path().join("backups")
    }

    fn policy(&self) -> ContinuousPolicy {
        ContinuousPolicy::new(7, Some(self.backups())).unwrap()
    }

    fn target(&self, name: &str) -> AccountOptions {
        let mut o = self.opts.clone();
        o.data_dir = self.tmp.path().join(name);
        o
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_millis()
    }

    fn restore(&self, name: &str, at_ms: u64) -> strata::Result<Account> {
        let req = PointInTimeRestore {
            at_ms,
            ..PointInTimeRestore::default()
        };
        Account::restore_to_point(&self.backups(), self.target(name), &req)
    }

    /// Nothing named `name` (or a staging sibling of it) exists.
    fn assert_nothing_at(&self, name: &str) {
        let left: Vec<String> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(name))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn payload(id: &str, version: usize) -> String {
    format!("body of {id} v{version}")
}

fn upsert(c: &Container, model: &mut Model, id: &str, version: usize) {
    let p = payload(id, version);
    c.upsert_item("p", &json!({"id": id, "pk": "p", "payload": p}))
        .unwrap();
    model.insert(id.to_string(), p);
}

fn delete(c: &Container, model: &mut Model, id: &str) {
    c.delete_item("p", id).unwrap();
    model.remove(id);
}

/// Every item of the container as id -> payload.
fn contents(c: &Container) -> Model {
    let mut out = Model::new();
    let mut opts = QueryOptions {
        max_item_count: Some(500),
        ..QueryOptions::default()
    };
    loop {
        let page = c.query_items("SELECT * FROM c", &[], &opts).unwrap();
        for v in page.items {
            out.insert(
                v["id"].as_str().unwrap().to_string(),
                v["payload"].as_str().unwrap().to_string(),
            );
        }
        match page.continuation {
            Some(t) => opts.continuation = Some(t),
            None => break,
        }
    }
    out
}

fn container(a: &Account) -> Container {
    a.database("db").container("c")
}

/// One round of the workload at the clock's current second: new items, replacements, deletes.
fn round(c: &Container, model: &mut Model, r: usize) {
    for i in 0..25 {
        upsert(c, model, &format!("r{r}-{i}"), r);
    }
    if r > 0 {
        for i in (0..25).step_by(3) {
            upsert(c, model, &format!("r{}-{i}", r - 1), r);
        }
        for i in (1..25).step_by(5) {
            delete(c, model, &format!("r{}-{i}", r - 1));
        }
    }
}

#[test]
fn restores_at_many_moments_each_reproduce_the_model_of_that_moment() {
    let f = Fixture::new();
    let mut account = Account::create(f.opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
    let mut c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    let mut model = Model::new();
    upsert(&c, &mut model, "seed", 0);
    assert_eq!(account.set_continuous_backup(f.policy()).unwrap(), None);
    let start = account.continuous_status().unwrap().unwrap();
    assert_eq!(start.earliest_restorable_timestamp, T0 * 1000);
    let mut moments: Vec<(u64, Model)> = vec![(T0 * 1000, model.clone())];

    for r in 0..8 {
        f.clock.advance(10);
        round(&c, &mut model, r);
        // Between this round and the next nothing is written: any moment in the gap is this state.
        moments.push((f.now_ms() + 5_000, model.clone()));
        match r {
            1 => account.flush().unwrap(),
            2 => {
                account.ship_log_now().unwrap();
            }
            3 => {
                // A second base: later moments restore from it.
                account.backup_now(&f.backups()).unwrap();
            }
            4 => account.compact().unwrap(),
            5 => {
                // Close and reopen: retained WAL files are shipped by the reopened account.
                drop(c);
                drop(account);
                account = Account::open(f.opts.clone()).unwrap();
                c = container(&account);
            }
            _ => {}
        }
    }
    f.clock.advance(10);
    let shipped = account.ship_log_now().unwrap();
    // The background shipper may have shipped at this same (manual) moment just before.
    assert!(shipped.latest_restorable_timestamp >= f.now_ms());
    let status = account.continuous_status().unwrap().unwrap();
    assert!(status.latest_restorable_timestamp >= shipped.latest_restorable_timestamp);
    assert_eq!(status.last_error, None);
    // Shipping again with nothing new copies nothing.
    let again = account.ship_log_now().unwrap();
    assert_eq!(again.bytes_shipped, 0);
    let latest = again.latest_restorable_timestamp;

    for (i, (at, want)) in moments.iter().enumerate() {
        let restored = f.restore(&format!("r{i}"), *at).unwrap();
        assert_eq!(&contents(&container(&restored)), want, "moment {i} at {at}");
        // Restored accounts do not ship into the source's backup directory.
        assert!(restored.continuous_backup().unwrap().is_none());
    }
    // Just before a round's writes: the state of the moment before.
    let (at, want) = &moments[3];
    let restored = f.restore("just-before", at + 4_999).unwrap();
    assert_eq!(&contents(&container(&restored)), want);

    // Outside the window: 400, nothing restored.
    for (name, at) in [("before-start", T0 * 1000 - 1), ("after-latest", latest + 1)] {
        let e = f.restore(name, at).unwrap_err();
        assert_eq!(e.status(), 400, "{name}: {e}");
        f.assert_nothing_at(name);
    }
    assert!(f
        .restore("before-start", 0)
        .unwrap_err()
        .to_string()
        .contains("before continuous backup"));
    f.clock.advance(8 * 86_400);
    let e = f.restore("too-old", moments[1].0).unwrap_err();
    assert!(e.status() == 400 && e.to_string().contains("7-day"), "{e}");
    f.assert_nothing_at("too-old");

    // History older than the window is dropped: a base now, a week more of time, a write. The
    // next shipment moves the log's start to that base and removes the WAL files before it.
    let log_files = |dir: &Path| -> Vec<PathBuf> {
        common::files_under(&dir.join("log"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect()
    };
    let before = log_files(&f.backups());
    account.backup_now(&f.backups()).unwrap();
    let at_base = model.clone();
    f.clock.advance(8 * 86_400);
    upsert(&c, &mut model, "late", 9);
    f.clock.advance(1);
    account.ship_log_now().unwrap();
    let status = account.continuous_status().unwrap().unwrap();
    assert_eq!(status.earliest_restorable_timestamp, f.now_ms() - 7 * 86_400_000);
    let after = log_files(&f.backups());
    assert!(
        before.iter().any(|p| !after.contains(p)),
        "no shipped WAL file was dropped: {before:?} -> {after:?}"
    );
    let early = f
        .restore("window-start", status.earliest_restorable_timestamp)
        .unwrap();
    assert_eq!(contents(&container(&early)), at_base);
    let late = f.restore("latest", status.latest_restorable_timestamp).unwrap();
    assert_eq!(contents(&container(&late)), model);
}

#[test]
fn lowering_the_tier_warns_and_only_restores_the_chosen_container() {
    let f = Fixture::new();
    let account = Account::create(f.opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
    let db = account.create_database("db").unwrap();
    let c = db.create_container("c", "/pk").unwrap();
    let other = db.create_container("other", "/pk").unwrap();
    let db2 = account
        .create_database("db2")
        .unwrap()
        .create_container("x", "/pk")
        .unwrap();
    account
        .set_continuous_backup(ContinuousPolicy::new(30, Some(f.backups())).unwrap())
        .unwrap();
    let warning = account.set_continuous_backup(f.policy()).unwrap().unwrap();
    assert!(warning.contains("older than 7 days will be lost"), "{warning}");
    assert_eq!(account.continuous_backup().unwrap().unwrap().tier_days, 7);

    f.clock.advance(5);
    let (mut model, mut scratch) = (Model::new(), Model::new());
    for i in 0..20 {
        upsert(&c, &mut model, &format!("keep-{i}"), 1);
        upsert(&other, &mut scratch, &format!("drop-{i}"), 1);
        upsert(&db2, &mut scratch, &format!("drop2-{i}"), 1);
    }
    // A moment after every write so far (a shipment stamps later commits past its own time).
    let at = f.now_ms() + 2_000;
    f.clock.advance(5);
    upsert(&c, &mut model.clone(), "later", 2);
    account.ship_log_now().unwrap();

    let req = PointInTimeRestore {
        at_ms: at,
        only: vec!["db/c".into()],
        ..PointInTimeRestore::default()
    };
    let restored = Account::restore_to_point(&f.backups(), f.target("only"), &req).unwrap();
    assert_eq!(restored.list_databases().unwrap(), vec!["db".to_string()]);
    let names: Vec<String> = restored
        .database("db")
        .list_containers()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["c".to_string()]);
    assert_eq!(contents(&container(&restored)), model);
    assert_eq!(
        restored
            .database("db")
            .container("other")
            .read_item::<Value>("p", "drop-1")
            .unwrap_err()
            .status(),
        404
    );

    // An unknown scope is refused before anything is left behind.
    for (bad, status) in [("nope", 404), ("db/nope", 404), ("db/c/x", 400)] {
        let req = PointInTimeRestore {
            at_ms: at,
            only: vec![bad.into()],
            ..PointInTimeRestore::default()
        };
        let e = Account::restore_to_point(&f.backups(), f.target("bad-scope"), &req).unwrap_err();
        assert_eq!(e.status(), status, "{bad}: {e}");
        f.assert_nothing_at("bad-scope");
    }
}

#[test]
fn cmk_restore_needs_a_user_identity_and_the_key_version_that_sealed_the_data() {
    let f = Fixture::new();
    let (vault, kid, account, c) = common::cmk_account(&f.opts);
    // The first-party identity may not run continuous backup under a customer key.
    let e = account.set_continuous_backup(f.policy()).unwrap_err();
    assert!(
        e.status() == 400 && e.to_string().contains("managed identity"),
        "{e}"
    );
    assert!(account.continuous_backup().unwrap().is_none());

    let ops = common::use_user_identity(&f.opts, &vault, &account, "ops");
    account.set_continuous_backup(f.policy()).unwrap();
    f.clock.advance(5);
    let mut model = Model::new();
    for i in 0..30 {
        upsert(&c, &mut model, &format!("k{i}"), 1);
    }
    // A moment after every write so far (a shipment stamps later commits past its own time).
    let at = f.now_ms() + 2_000;
    f.clock.advance(5);
    account.ship_log_now().unwrap();
    drop((c, account));

    let req = |identity: Option<Principal>| PointInTimeRestore {
        at_ms: at,
        identity,
        ..PointInTimeRestore::default()
    };
    for who in [
        None,
        Some(Principal::FirstParty),
        Some(Principal::System("acct".into())),
    ] {
        let e = Account::restore_to_point(&f.backups(), f.target("restored"), &req(who.clone())).unwrap_err();
        assert!(
            e.status() == 400 && e.to_string().contains("user-assigned"),
            "{who:?}: {e}"
        );
        f.assert_nothing_at("restored");
    }
    let e = Account::restore_to_point(
        &f.backups(),
        f.target("restored"),
        &req(Some(Principal::User("ghost".into()))),
    )
    .unwrap_err();
    assert_eq!(e.status(), 404, "{e}");

    vault.set_enabled("cmk", kid.version(), false).unwrap();
    let e =
        Account::restore_to_point(&f.backups(), f.target("restored"), &req(Some(ops.clone()))).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    f.assert_nothing_at("restored");

    vault.set_enabled("cmk", kid.version(), true).unwrap();
    let restored =
        Account::restore_to_point(&f.backups(), f.target("restored"), &req(Some(ops.clone()))).unwrap();
    assert_eq!(restored.default_identity().unwrap(), ops);
    assert_eq!(contents(&container(&restored)), model);
}

/// Hex of `bytes`, lowercase.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_needles(home: &Path) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let smk = std::fs::read(home.join("service").join("smk")).unwrap();
    keys.push(smk[smk.len() - 32..].to_vec());
    let vault_keys = home.join("vault").join("keys");
    let vault_files = if vault_keys.exists() {
        common::files_under(&vault_keys)
    } else {
        Vec::new()
    };
    for f in vault_files {
        if f.extension().is_some_and(|e| e == "key") {
            let der = std::fs::read(&f).unwrap();
            keys.push(der[der.len() - 64..].to_vec());
        }
    }
    keys.iter()
        .flat_map(|k| [k.clone(), hex(k).into_bytes()])
        .collect()
}

#[test]
fn no_id_body_or_key_reaches_the_continuous_backup_directory() {
    for cmk in [false, true] {
        let mode = if cmk { "CMK" } else { "SMK" };
        let f = Fixture::new();
        let (account, c) = if cmk {
            let (vault, _, account, c) = common::cmk_account(&f.opts);
            common::use_user_identity(&f.opts, &vault, &account, "ops");
            (account, c)
        } else {
            common::account_with_container(f.opts.clone())
        };
        account.set_continuous_backup(f.policy()).unwrap();
        for i in 0..80 {
            let id = format!("CANARYID{mode}{i:04}");
            c.create_item(
                "p",
                &json!({"id": id, "pk": "p", "secret": format!("CANARYBODY{mode}-{i:04}")}),
            )
            .unwrap();
        }
        account.ship_log_now().unwrap();
        let files = common::files_under(&f.backups());
        assert!(
            files.iter().any(|p| p.extension().is_some_and(|e| e == "wal")),
            "no shipped WAL in {files:?}"
        );
        let mut needles = common::text_needles(&[format!("CANARYID{mode}"), format!("CANARYBODY{mode}")]);
        needles.extend(key_needles(&f.opts.home));
        assert!(common::assert_no_needle(&files, &needles, b"\"db\""));
    }
}

#[test]
fn a_base_is_taken_once_the_newest_is_older_than_the_interval() {
    let f = Fixture::new();
    let account = Account::create(f.opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    account.set_continuous_backup(f.policy()).unwrap();
    let bases = || Account::list_backups(&f.backups()).unwrap().len();
    assert_eq!(bases(), 1, "the base the log starts from");
    f.clock.advance(3 * 3600);
    upsert(&c, &mut Model::new(), "a", 1);
    assert_eq!(
        account.take_base_if_due().unwrap(),
        None,
        "not due within the 4 h interval"
    );
    assert_eq!(bases(), 1);
    f.clock.advance(2 * 3600);
    // Due: taken here or by the background shipper's tick, exactly once either way.
    account.take_base_if_due().unwrap();
    assert_eq!(bases(), 2);
    assert_eq!(account.take_base_if_due().unwrap(), None);
    assert_eq!(bases(), 2);
    let newest = Account::list_backups(&f.backups()).unwrap().pop().unwrap();
    assert!(newest.consistent_at_ms.unwrap() >= (T0 + 5 * 3600) * 1000);
}

/// A deleted container, and then a deleted database, come back into the same account as they
/// were at a chosen moment, with their settings and a working index; an existing one is a 409;
/// nothing of the scratch copy stays.
#[test]
fn deleted_containers_and_databases_come_back_into_the_account() {
    let f = Fixture::new();
    let account = Account::create(f.opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
    let db = account.create_database("db").unwrap();
    let policy = strata::IndexingPolicy::from_json(
        r#"{"includedPaths":[{"path":"/payload/?"}],"excludedPaths":[{"path":"/*"}]}"#,
    )
    .unwrap();
    let c = db
        .create_container_with(
            "c",
            "/pk",
            strata::ContainerOptions {
                indexing_policy: Some(policy.clone()),
                default_ttl: Some(-1),
                ..Default::default()
            },
        )
        .unwrap();
    let other = db.create_container("other", "/pk").unwrap();
    account.set_continuous_backup(f.policy()).unwrap();
    let (mut model, mut other_model) = (Model::new(), Model::new());
    for r in 0..3 {
        f.clock.advance(10);
        round(&c, &mut model, r);
        upsert(&other, &mut other_model, &format!("o{r}"), r);
    }
    f.clock.advance(10);
    let before = f.now_ms();
    let (want, want_other) = (model.clone(), other_model.clone());
    f.clock.advance(10);
    round(&c, &mut model, 3);
    account.ship_log_now().unwrap();

    // The container is deleted: it is gone, and its name is free.
    f.clock.advance(10);
    db.delete_container("c").unwrap();
    assert_eq!(c.read_item::<Value>("p", "r0-0").unwrap_err().status(), 404);
    assert_eq!(db.delete_container("c").unwrap_err().status(), 404);
    account.ship_log_now().unwrap();
    let report = account.restore_deleted(&f.backups(), before, "db/c").unwrap();
    assert_eq!(report.containers, vec!["db/c".to_string()]);
    assert_eq!(report.items, want.len() as u64);
    let back = container(&account);
    assert_eq!(contents(&back), want);
    assert_eq!(back.indexing_policy().unwrap(), policy);
    assert_eq!(back.default_ttl().unwrap(), Some(-1));
    let sql = "SELECT VALUE c.id FROM c WHERE c.payload = 'body of r2-0 v2'";
    let plan = back.explain_query(sql, &[], &QueryOptions::default()).unwrap();
    assert_eq!(plan["indexUsed"], true, "{plan}");
    assert_eq!(
        back.query_items(sql, &[], &QueryOptions::default())
            .unwrap()
            .items,
        vec![json!("r2-0")]
    );
    // It exists now: a second restore is refused and changes nothing.
    let e = account.restore_deleted(&f.backups(), before, "db/c").unwrap_err();
    assert_eq!(e.status(), 409, "{e}");
    assert_eq!(contents(&back), want);
    // A container that did not exist at that moment: 404, and nothing is created.
    let e = account
        .restore_deleted(&f.backups(), before, "db/never")
        .unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
    assert!(!db.list_containers().unwrap().iter().any(|i| i.name == "never"));

    // The whole database goes, and comes back with both containers.
    f.clock.advance(10);
    account.delete_database("db").unwrap();
    assert!(account.list_databases().unwrap().is_empty());
    account.ship_log_now().unwrap();
    let report = account.restore_deleted(&f.backups(), before, "db").unwrap();
    assert_eq!(
        report.containers,
        vec!["db/c".to_string(), "db/other".to_string()]
    );
    assert_eq!(contents(&container(&account)), want);
    assert_eq!(contents(&account.database("db").container("other")), want_other);
    // No scratch copy is left beside the data directory.
    let left: Vec<String> = std::fs::read_dir(f.tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("undelete"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Scheduled periodic backups: one is taken when none is newer than the interval (by the
/// account's clock), none while the newest is recent; a schedule inside the data directory is
/// refused; unscheduled, nothing more is taken.
#[test]
fn scheduled_periodic_backups_are_taken_on_the_interval() {
    let f = Fixture::new();
    let account = Account::create(f.opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    let mut model = Model::new();
    upsert(&c, &mut model, "a", 0);
    account
        .set_backup_policy(strata::BackupPolicy::new(1, 2).unwrap())
        .unwrap();
    let e = account
        .set_backup_schedule(Some(&f.opts.data_dir.join("inside")))
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(account.backup_schedule().unwrap(), None);
    let dir = f.tmp.path().join("scheduled");
    account.set_backup_schedule(Some(&dir)).unwrap();
    assert_eq!(account.backup_schedule().unwrap(), Some(dir.clone()));
    let count = || Account::list_backups(&dir).map_or(0, |b| b.len());
    // The background thread or this call takes the first one (none existed); then none is due.
    account.take_scheduled_backup_if_due().unwrap();
    assert_eq!(count(), 1);
    assert!(account.take_scheduled_backup_if_due().unwrap().is_none());
    assert_eq!(count(), 1);
    // An interval later another is due. The write comes first: once the clock passes the
    // interval the background thread may take the backup before this thread does.
    upsert(&c, &mut model, "b", 1);
    f.clock.advance(3_601);
    account.take_scheduled_backup_if_due().unwrap();
    assert_eq!(count(), 2);
    // The newest holds both items.
    let newest = Account::list_backups(&dir).unwrap().pop().unwrap();
    let restored = Account::restore(&newest.path, f.target("restored")).unwrap();
    assert_eq!(contents(&container(&restored)), model);
    // Unscheduled: nothing more, even when due.
    account.set_backup_schedule(None).unwrap();
    f.clock.advance(3_601);
    assert!(account.take_scheduled_backup_if_due().unwrap().is_none());
    assert_eq!(count(), 2);
}
