//! Syncing two accounts (an edge replica and a central one) through their change feeds: initial
//! copy with containers created on the way, conflicting edits both ways under last-writer-wins
//! on `_ts` (a delete always wins) and on a numeric path, and under a custom policy where the
//! conflict feeds hold exactly the expected conflicts. One shared `ManualWallClock` orders the
//! edits; the two accounts share one home (service key).

use std::sync::Arc;

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, ConflictResolutionPolicy, Container, ContainerOptions, Durability, Encryption,
    ManualWallClock,
};

fn open(dir: &tempfile::TempDir, name: &str, clock: &ManualWallClock) -> Account {
    let opts = AccountOptions::new(dir.path().join(name), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()));
    Account::create(opts, name, Encryption::ServiceManaged).unwrap()
}

/// Accounts "a" and "b", with `db/c` created in "a" only (sync creates it in "b").
fn pair(policy: ConflictResolutionPolicy) -> (tempfile::TempDir, ManualWallClock, Account, Account) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let a = open(&dir, "a", &clock);
    let b = open(&dir, "b", &clock);
    a.create_database("db")
        .unwrap()
        .create_container_with(
            "c",
            "/pk",
            ContainerOptions {
                conflict_resolution: Some(policy),
                ..Default::default()
            },
        )
        .unwrap();
    (dir, clock, a, b)
}

fn c(acct: &Account) -> Container {
    acct.database("db").container("c")
}

/// Every item of the container without system properties, by id.
fn items(acct: &Account) -> Vec<Value> {
    let r = c(acct)
        .query_items(
            "SELECT c.id, c.pk, c.v FROM c ORDER BY c.id",
            &[],
            &Default::default(),
        )
        .unwrap();
    r.items
}

#[test]
fn last_writer_wins_converges_both_ways_and_records_nothing() {
    let (_d, clock, a, b) = pair(ConflictResolutionPolicy::default());
    for id in ["x", "y", "w"] {
        c(&a)
            .create_item("p", &json!({"id": id, "pk": "p", "v": 0}))
            .unwrap();
    }
    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!((ab.containers_created, ab.applied), (1, 3));
    assert_eq!(ba.applied, 0, "the copies coming back are recognised: {ba:?}");
    assert_eq!(items(&a), items(&b));
    assert_eq!(
        c(&b).conflict_resolution_policy().unwrap(),
        ConflictResolutionPolicy::default(),
        "the container was created with the source's policy"
    );

    // Conflicting edits: x edited on both (b later, so b wins); y edited on a and deleted on b
    // (the delete wins although older); w deleted on a only; z created on a only.
    clock.advance(10);
    c(&b).delete_item("p", "y").unwrap();
    clock.advance(10);
    c(&a)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": "a"}))
        .unwrap();
    c(&a)
        .upsert_item("p", &json!({"id": "y", "pk": "p", "v": "a"}))
        .unwrap();
    c(&a).delete_item("p", "w").unwrap();
    c(&a)
        .create_item("p", &json!({"id": "z", "pk": "p", "v": "a"}))
        .unwrap();
    clock.advance(10);
    c(&b)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": "b"}))
        .unwrap();

    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    let want = vec![
        json!({"id": "x", "pk": "p", "v": "b"}),
        json!({"id": "z", "pk": "p", "v": "a"}),
    ];
    assert_eq!(items(&a), want, "a→b {ab:?}, b→a {ba:?}");
    assert_eq!(items(&b), want);
    assert!(ab.conflicts_resolved >= 2 && ab.conflicts_recorded == 0, "{ab:?}");
    assert_eq!(ba.conflicts_recorded, 0);
    for acct in [&a, &b] {
        assert!(c(acct).read_conflicts().unwrap().conflicts.is_empty());
    }
    // Nothing changed since: the next round applies nothing.
    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!((ab.applied, ba.applied), (0, 0), "{ab:?} {ba:?}");
    // The replicated versions keep their _ts and _etag.
    let xa: Value = c(&a).read_item("p", "x").unwrap().item.unwrap();
    let xb: Value = c(&b).read_item("p", "x").unwrap().item.unwrap();
    assert_eq!((&xa["_etag"], &xa["_ts"]), (&xb["_etag"], &xb["_ts"]));
}

#[test]
fn last_writer_wins_on_a_numeric_path_lets_the_highest_version_win() {
    let policy = ConflictResolutionPolicy::LastWriterWins { path: "/v".into() };
    let (_d, clock, a, b) = pair(policy);
    c(&a)
        .create_item("p", &json!({"id": "x", "pk": "p", "v": 1}))
        .unwrap();
    Account::sync_both_ways(&a, &b).unwrap();
    c(&a)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": 7}))
        .unwrap();
    clock.advance(100);
    // Later in time but a lower version: loses.
    c(&b)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": 3}))
        .unwrap();
    Account::sync_both_ways(&a, &b).unwrap();
    for acct in [&a, &b] {
        assert_eq!(items(acct), vec![json!({"id": "x", "pk": "p", "v": 7})]);
    }
}

#[test]
fn custom_policy_records_exactly_the_conflicts_and_keeps_each_side() {
    let (_d, clock, a, b) = pair(ConflictResolutionPolicy::Custom);
    for id in ["x", "y", "u"] {
        c(&a)
            .create_item("p", &json!({"id": id, "pk": "p", "v": 0}))
            .unwrap();
    }
    Account::sync_both_ways(&a, &b).unwrap();
    clock.advance(5);
    c(&a)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": "a"}))
        .unwrap();
    c(&b)
        .upsert_item("p", &json!({"id": "x", "pk": "p", "v": "b"}))
        .unwrap();
    c(&a).delete_item("p", "y").unwrap();
    c(&b)
        .upsert_item("p", &json!({"id": "y", "pk": "p", "v": "b"}))
        .unwrap();
    // Not a conflict: only a changed u.
    c(&a)
        .upsert_item("p", &json!({"id": "u", "pk": "p", "v": "a"}))
        .unwrap();

    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!(
        (ab.conflicts_recorded, ba.conflicts_recorded),
        (2, 2),
        "{ab:?} {ba:?}"
    );
    let in_b = c(&b).read_conflicts().unwrap();
    let mut got: Vec<(String, String, Value)> = in_b
        .conflicts
        .iter()
        .map(|r| {
            (
                r["resourceId"].as_str().unwrap().to_string(),
                r["operationType"].as_str().unwrap().to_string(),
                r.get("content").map_or(Value::Null, |v| v["v"].clone()),
            )
        })
        .collect();
    got.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    assert_eq!(
        got,
        vec![
            ("x".to_string(), "replace".to_string(), json!("a")),
            ("y".to_string(), "delete".to_string(), Value::Null),
        ],
        "b records a's losing changes"
    );
    assert!(in_b.conflicts.iter().all(|r| r["sourceAccount"] == "a"));
    assert!(in_b.request_charge >= 2.0);
    let in_a = c(&a).read_conflicts().unwrap().conflicts;
    assert_eq!(in_a.len(), 2);
    // Each side keeps its own version; the uncontested change went through.
    let v = |acct: &Account, id: &str| -> Option<Value> {
        c(acct)
            .read_item::<Value>("p", id)
            .ok()
            .map(|r| r.item.unwrap()["v"].clone())
    };
    assert_eq!((v(&a, "x"), v(&b, "x")), (Some(json!("a")), Some(json!("b"))));
    assert_eq!((v(&a, "y"), v(&b, "y")), (None, Some(json!("b"))));
    assert_eq!((v(&a, "u"), v(&b, "u")), (Some(json!("a")), Some(json!("a"))));

    // Conflicts are deleted one by one; an unknown id is 404.
    let first = in_b.conflicts[0]["id"].as_str().unwrap().to_string();
    c(&b).delete_conflict(&first).unwrap();
    assert_eq!(c(&b).read_conflicts().unwrap().conflicts.len(), 1);
    assert_eq!(c(&b).delete_conflict(&first).unwrap_err().status(), 404);
    assert_eq!(c(&b).delete_conflict("not-a-number").unwrap_err().status(), 404);
    // A quiet round records nothing new.
    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!((ab.conflicts_recorded, ba.conflicts_recorded), (0, 0));
}

#[test]
fn mismatched_partition_keys_and_self_sync_are_refused() {
    let (_d, _clock, a, b) = pair(ConflictResolutionPolicy::default());
    b.create_database("db")
        .unwrap()
        .create_container("c", "/other")
        .unwrap();
    assert_eq!(b.sync_from(&a).unwrap_err().status(), 409);
    assert_eq!(a.sync_from(&a).unwrap_err().status(), 400);
    let bad = ConflictResolutionPolicy::LastWriterWins { path: "ts".into() };
    let err = a
        .database("db")
        .create_container_with(
            "bad",
            "/pk",
            ContainerOptions {
                conflict_resolution: Some(bad),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.status(), 400);
}

#[test]
fn a_restored_account_is_a_new_sync_peer_of_its_source() {
    let (d, _clock, a, _b) = pair(ConflictResolutionPolicy::default());
    c(&a)
        .create_item("p", &json!({"id": "before", "pk": "p", "v": 1}))
        .unwrap();
    let info = a.backup_now(&d.path().join("backups")).unwrap();
    c(&a)
        .create_item("p", &json!({"id": "after", "pk": "p", "v": 2}))
        .unwrap();
    let target = AccountOptions::new(d.path().join("restored"), d.path().join("home"));
    let r = Account::restore(&info.path, target).unwrap();
    let report = r.sync_from(&a).unwrap();
    assert_eq!(
        report.applied, 1,
        "only the change after the backup is new: {report:?}"
    );
    assert_eq!(items(&r), items(&a));
}
