//! Time to live end to end: container `defaultTtl` (off, -1, seconds), item `ttl` overriding it,
//! expired items invisible to reads, replace, delete and queries and re-creatable, their removal
//! from the store by compaction, settings surviving reopen, and invalid settings (400). Time is a
//! `ManualWallClock`: no test sleeps.

use std::sync::Arc;

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, Container, ContainerOptions, Durability, Encryption, ManualWallClock,
    QueryOptions,
};

const T0: u64 = 1_700_000_000;

fn options(dir: &tempfile::TempDir, clock: &ManualWallClock) -> AccountOptions {
    AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()))
}

/// An account with one container `db/c` (partition key `/pk`) whose `defaultTtl` is `ttl`.
fn setup(ttl: Option<i64>) -> (tempfile::TempDir, ManualWallClock, Account, Container) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let account = Account::create(options(&dir, &clock), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with(
            "c",
            "/pk",
            ContainerOptions {
                default_ttl: ttl,
                ..Default::default()
            },
        )
        .unwrap();
    (dir, clock, account, c)
}

fn put(c: &Container, id: &str, ttl: Option<i64>) {
    let mut v = json!({"id": id, "pk": "p", "body": format!("body of {id}")});
    if let Some(t) = ttl {
        v["ttl"] = json!(t);
    }
    assert_eq!(c.upsert_item("p", &v).unwrap().status_code, 201);
}

fn visible(c: &Container, id: &str) -> bool {
    match c.read_item::<Value>("p", id) {
        Ok(_) => true,
        Err(e) if e.status() == 404 => false,
        Err(e) => panic!("read {id}: {e}"),
    }
}

fn ids(c: &Container) -> Vec<String> {
    let r = c
        .query_items(
            "SELECT VALUE c.id FROM c ORDER BY c.id",
            &[],
            &QueryOptions::default(),
        )
        .unwrap();
    r.items.iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn default_ttl_expires_items() {
    let (_dir, clock, _account, c) = setup(Some(10));
    assert_eq!(c.default_ttl().unwrap(), Some(10));
    put(&c, "a", None);
    clock.advance(9);
    assert!(visible(&c, "a"));
    clock.advance(1);
    assert!(!visible(&c, "a"), "expires at _ts + defaultTtl");
    // A read of an expired item costs what a miss costs.
    let expired = c.read_item::<Value>("p", "a").unwrap_err();
    let missing = c.read_item::<Value>("p", "never").unwrap_err();
    assert_eq!(expired.request_charge(), missing.request_charge());
    assert_eq!(expired.request_charge(), Some(1.0));
}

#[test]
fn item_ttl_overrides_the_default() {
    let (_dir, clock, _account, c) = setup(Some(10));
    put(&c, "default", None);
    put(&c, "longer", Some(100));
    put(&c, "shorter", Some(5));
    put(&c, "never", Some(-1));
    let all = ["default", "longer", "never", "shorter"];
    assert_eq!(ids(&c), all);
    clock.advance(4);
    assert_eq!(ids(&c), all);
    clock.advance(1);
    assert_eq!(ids(&c), ["default", "longer", "never"]);
    clock.advance(5);
    assert_eq!(ids(&c), ["longer", "never"]);
    clock.advance(89);
    assert!(visible(&c, "longer"));
    clock.advance(1);
    assert!(!visible(&c, "longer"));
    clock.advance(10_000_000);
    assert!(visible(&c, "never"));
    assert_eq!(ids(&c), ["never"]);
}

#[test]
fn ttl_on_without_default_expires_only_items_with_a_ttl() {
    let (_dir, clock, _account, c) = setup(Some(-1));
    put(&c, "plain", None);
    put(&c, "short", Some(3));
    clock.advance(3);
    assert_eq!(ids(&c), ["plain"]);
    clock.advance(10_000_000);
    assert_eq!(ids(&c), ["plain"]);
}

#[test]
fn ttl_off_ignores_item_ttl() {
    let (_dir, clock, _account, c) = setup(None);
    assert_eq!(c.default_ttl().unwrap(), None);
    put(&c, "a", Some(5));
    clock.advance(1000);
    assert!(visible(&c, "a"));
    assert_eq!(ids(&c), ["a"]);
    // Turning TTL on applies the item's ttl at once; off again, the item (not yet compacted away)
    // is back.
    c.set_default_ttl(Some(-1)).unwrap();
    assert!(!visible(&c, "a"));
    c.set_default_ttl(None).unwrap();
    assert!(visible(&c, "a"));
}

#[test]
fn expired_items_are_absent_to_every_operation() {
    let (_dir, clock, _account, c) = setup(Some(10));
    for id in ["r", "d", "c", "u"] {
        put(&c, id, None);
    }
    clock.advance(10);
    let body = |id: &str| json!({"id": id, "pk": "p", "v": 2});
    assert_eq!(c.replace_item("p", &body("r")).unwrap_err().status(), 404);
    assert_eq!(c.delete_item("p", "d").unwrap_err().status(), 404);
    assert!(ids(&c).is_empty());
    let count = c
        .query_items("SELECT VALUE COUNT(1) FROM c", &[], &QueryOptions::default())
        .unwrap();
    assert_eq!(count.items, vec![json!(0)]);
    // Re-creatable as if absent; the new item has a new _ts and lives again.
    let created = c.create_item("p", &body("c")).unwrap();
    assert_eq!(created.status_code, 201);
    assert_eq!(created.item.unwrap()["_ts"], json!(T0 + 10));
    assert_eq!(c.upsert_item("p", &body("u")).unwrap().status_code, 201);
    assert_eq!(ids(&c), ["c", "u"]);
    clock.advance(9);
    assert_eq!(c.read_item::<Value>("p", "c").unwrap().item.unwrap()["v"], 2);
    clock.advance(1);
    assert!(ids(&c).is_empty());
}

#[test]
fn compaction_removes_expired_items_and_keeps_the_rest() {
    let (_dir, clock, account, c) = setup(Some(-1));
    // Another container without TTL: its items' ttl means nothing and compaction keeps them.
    let other = account.database("db").create_container("other", "/pk").unwrap();
    for k in 0..40 {
        let ttl = if k % 2 == 0 { Some(5) } else { None };
        put(&c, &format!("i{k:02}"), ttl);
        put(&other, &format!("o{k:02}"), Some(5));
    }
    account.flush().unwrap();
    // Some expired items also sit in the memtable, shadowing nothing.
    put(&c, "mem", Some(5));
    let before = account.store_stats().unwrap();
    let bytes_before: u64 = before.bytes_per_level.iter().sum();
    assert_eq!((ids(&c).len(), ids(&other).len()), (41, 40));
    clock.advance(5);
    // Invisible at once, but still in the store until compaction: with TTL off for a moment
    // (an item's ttl means nothing then) all 41 read again.
    assert_eq!(ids(&c).len(), 20);
    c.set_default_ttl(None).unwrap();
    assert_eq!(ids(&c).len(), 41);
    c.set_default_ttl(Some(-1)).unwrap();
    // The sweep turns the expiries into recorded deletes (change feed); compaction then drops
    // the items for good.
    assert_eq!(c.remove_expired_items().unwrap(), 21);
    assert_eq!(other.remove_expired_items().unwrap(), 0, "TTL is off there");
    account.compact().unwrap();
    // The expired items' records are gone from the store, not only hidden.
    let bytes_after: u64 = account.store_stats().unwrap().bytes_per_level.iter().sum();
    assert!(bytes_after < bytes_before, "{bytes_after} >= {bytes_before}");
    let want: Vec<String> = (0..40)
        .filter(|k| k % 2 == 1)
        .map(|k| format!("i{k:02}"))
        .collect();
    assert_eq!(ids(&c), want);
    for k in (1..40).step_by(2) {
        let r = c.read_item::<Value>("p", &format!("i{k:02}")).unwrap();
        assert_eq!(r.item.unwrap()["body"], json!(format!("body of i{k:02}")));
    }
    assert_eq!(ids(&other).len(), 40);
    // Turning TTL off does not bring compacted items back; they were deleted.
    c.set_default_ttl(None).unwrap();
    assert_eq!(ids(&c), want);
}

#[test]
fn settings_survive_reopen() {
    let (dir, clock, account, c) = setup(Some(60));
    put(&c, "a", None);
    put(&c, "b", Some(-1));
    let c2 = account.database("db").create_container("c2", "/pk").unwrap();
    c2.set_default_ttl(Some(-1)).unwrap();
    drop((c, c2, account));

    let account = Account::open(options(&dir, &clock)).unwrap();
    let db = account.database("db");
    let (c, c2) = (db.container("c"), db.container("c2"));
    assert_eq!(c.default_ttl().unwrap(), Some(60));
    assert_eq!(c2.default_ttl().unwrap(), Some(-1));
    clock.advance(60);
    assert_eq!(ids(&c), ["b"]);
    // The reopened store's compaction filter knows the settings too: it drops an expired item
    // that no sweep recorded once the expiry is older than the change feed's retention.
    // What the store holds shows with TTL off for a moment (an expired item reads again).
    let stored = |c: &Container, ttl| {
        c.set_default_ttl(None).unwrap();
        let held = ids(c);
        c.set_default_ttl(Some(ttl)).unwrap();
        held
    };
    account.compact().unwrap();
    assert_eq!(
        stored(&c, 60),
        ["a", "b"],
        "within the retention, compaction leaves it to the sweep"
    );
    clock.advance(7 * 24 * 3600);
    account.compact().unwrap();
    assert_eq!(stored(&c, 120), ["b"]);
    drop((c, c2, db, account));
    let account = Account::open(options(&dir, &clock)).unwrap();
    assert_eq!(
        account.database("db").container("c").default_ttl().unwrap(),
        Some(120)
    );
}

#[test]
fn invalid_ttl_settings_are_400() {
    let (_dir, _clock, account, c) = setup(Some(10));
    let db = account.database("db");
    for bad in [0, -2, i64::MIN] {
        let opts = ContainerOptions {
            default_ttl: Some(bad),
            ..Default::default()
        };
        assert_eq!(
            db.create_container_with("x", "/pk", opts).unwrap_err().status(),
            400,
            "{bad}"
        );
        assert_eq!(c.set_default_ttl(Some(bad)).unwrap_err().status(), 400, "{bad}");
    }
    assert_eq!(db.list_containers().unwrap().len(), 1, "no container was created");
    assert_eq!(c.default_ttl().unwrap(), Some(10), "the setting is unchanged");
    assert_eq!(
        db.container("missing")
            .set_default_ttl(Some(5))
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(db.container("missing").default_ttl().unwrap_err().status(), 404);
    // Item ttl is still validated with TTL on or off.
    let e = c
        .create_item("p", &json!({"id": "z", "pk": "p", "ttl": 0}))
        .unwrap_err();
    assert_eq!(e.status(), 400);
}
