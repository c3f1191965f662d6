//! Item operations through the account API, in both encryption modes: status codes, etags,
//! charges, conditional writes, validation errors, and survival across a reopen.

use crate::common;

use serde_json::{json, Value};
use strata::{Account, AccountOptions, Encryption, ItemOptions, PartitionKey};

fn setup(cmk: bool) -> (tempfile::TempDir, AccountOptions, Encryption) {
    let dir = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    let enc = common::encryption(&opts, cmk, "cmk");
    (dir, opts, enc)
}

#[test]
fn item_lifecycle_in_both_modes() {
    for cmk in [false, true] {
        let (_dir, opts, enc) = setup(cmk);
        let account = Account::create(opts.clone(), "acct", enc.clone()).unwrap();
        assert_eq!(account.encryption(), enc);
        let db = account.create_database("db").unwrap();
        assert_eq!(account.create_database("db").unwrap_err().status(), 409);
        // Unindexed, so that the write costs the reference charge of its size alone (indexed
        // terms add 0.2 RU each; tests/it/indexing.rs checks those).
        let unindexed = strata::ContainerOptions {
            indexing_policy: Some(strata::IndexingPolicy::from_json(r#"{"indexingMode":"none"}"#).unwrap()),
            ..Default::default()
        };
        let c = db
            .create_container_with("orders", "/customer", unindexed)
            .unwrap();
        assert_eq!(
            db.create_container("orders", "/customer").unwrap_err().status(),
            409
        );

        let item = json!({"id": "o1", "customer": "alice", "total": 42});
        let created = c.create_item("alice", &item).unwrap();
        assert_eq!(created.status_code, 201);
        let expect_charge = if cmk { 5.2 } else { 4.95 };
        assert!(
            (created.request_charge - expect_charge).abs() < 0.06,
            "{}",
            created.request_charge
        );
        let etag = created.etag.clone().unwrap();
        assert_eq!(c.create_item("alice", &item).unwrap_err().status(), 409);

        let read = c.read_item::<Value>("alice", "o1").unwrap();
        assert_eq!(read.status_code, 200);
        assert_eq!(read.etag.as_deref(), Some(etag.as_str()));
        let body = read.item.unwrap();
        assert_eq!(body["total"], 42);
        assert!(body["_ts"].as_u64().unwrap() > 0);
        assert_eq!(read.request_charge, if cmk { 1.05 } else { 1.0 });

        let missing = c.read_item::<Value>("bob", "o1").unwrap_err();
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.request_charge(), Some(if cmk { 1.05 } else { 1.0 }));

        let newer = json!({"id": "o1", "customer": "alice", "total": 43});
        let replaced = c
            .replace_item_with("alice", &newer, &ItemOptions::if_match(etag.clone()))
            .unwrap();
        assert_eq!(replaced.status_code, 200);
        assert_ne!(replaced.etag.as_deref(), Some(etag.as_str()));
        let stale = c
            .replace_item_with("alice", &newer, &ItemOptions::if_match(etag.clone()))
            .unwrap_err();
        assert_eq!(stale.status(), 412);
        assert_eq!(
            c.replace_item("alice", &json!({"id": "nope", "customer": "alice"}))
                .unwrap_err()
                .status(),
            404
        );

        let up = c
            .upsert_item("alice", &json!({"id": "o2", "customer": "alice"}))
            .unwrap();
        assert_eq!(up.status_code, 201);
        let up2 = c
            .upsert_item("alice", &json!({"id": "o2", "customer": "alice", "x": 1}))
            .unwrap();
        assert_eq!(up2.status_code, 200);

        assert_eq!(
            c.delete_item_with("alice", "o2", &ItemOptions::if_match("\"wrong\""))
                .unwrap_err()
                .status(),
            412
        );
        assert_eq!(c.delete_item("alice", "o2").unwrap().status_code, 204);
        assert_eq!(c.delete_item("alice", "o2").unwrap_err().status(), 404);

        // Partition key given must match the item's.
        assert_eq!(
            c.create_item("bob", &json!({"id": "o3", "customer": "alice"}))
                .unwrap_err()
                .status(),
            400
        );
        // Missing partition-key path is the "none" key.
        c.create_item(PartitionKey::None, &json!({"id": "o4"})).unwrap();
        assert_eq!(
            c.read_item::<Value>(PartitionKey::None, "o4")
                .unwrap()
                .status_code,
            200
        );
        // Numbers are values: 7 and 7.0 are one key.
        let n = db.create_container("numbers", "/n").unwrap();
        n.create_item(7i64, &json!({"id": "a", "n": 7})).unwrap();
        assert_eq!(n.read_item::<Value>(7.0, "a").unwrap().status_code, 200);

        // Oversized items are 413; CMK rejects client system properties.
        let big = json!({"id": "big", "customer": "alice", "blob": "x".repeat(2 * 1024 * 1024)});
        assert_eq!(c.create_item("alice", &big).unwrap_err().status(), 413);
        let sys = c.create_item("alice", &json!({"id": "s", "customer": "alice", "_etag": "x"}));
        assert_eq!(sys.is_err(), cmk);

        drop((c, n, db, account));
        let account = Account::open(opts.clone()).unwrap();
        let c = account.database("db").container("orders");
        assert_eq!(
            c.read_item::<Value>("alice", "o1").unwrap().item.unwrap()["total"],
            43
        );
        assert_eq!(c.read_item::<Value>("alice", "o2").unwrap_err().status(), 404);
        assert_eq!(
            account
                .database("nope")
                .container("x")
                .read_item::<Value>("a", "b")
                .unwrap_err()
                .status(),
            404
        );
    }
}

#[test]
fn open_errors_are_clear() {
    let (_dir, opts, _) = setup(false);
    assert_eq!(Account::open(opts.clone()).unwrap_err().status(), 404);
    let a = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let err = Account::open(opts.clone()).unwrap_err();
    assert_eq!((err.status(), err.substatus()), (423, 1003));
    drop(a);
    assert_eq!(
        Account::create(opts.clone(), "acct", Encryption::ServiceManaged)
            .unwrap_err()
            .status(),
        409
    );
    // Wrong home: the service key is not there.
    let wrong = AccountOptions::new(opts.data_dir.clone(), opts.home.join("elsewhere"));
    let err = Account::open(wrong).unwrap_err();
    assert_eq!((err.status(), err.substatus()), (403, 4003));
}

#[test]
fn create_succeeds_after_an_interrupted_create() {
    let (_dir, opts, _) = setup(false);
    let a = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    drop(a);
    // A create that died before writing its catalog leaves a keyring and an empty store.
    std::fs::remove_file(opts.data_dir.join("CATALOG")).unwrap();
    assert_eq!(Account::open(opts.clone()).unwrap_err().status(), 404);
    let a = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let c = a
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    c.create_item("p", &json!({"id": "x", "pk": "p"})).unwrap();
    drop((c, a));
    Account::open(opts).unwrap();
}

#[test]
fn a_lost_catalog_never_leads_to_wiping_the_data() {
    let (_dir, opts, _) = setup(false);
    let a = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let c = a
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    c.create_item("p", &json!({"id": "x", "pk": "p"})).unwrap();
    drop((c, a));
    let catalog = opts.data_dir.join("CATALOG");
    let saved = std::fs::read(&catalog).unwrap();
    std::fs::remove_file(&catalog).unwrap();
    let open = Account::open(opts.clone()).unwrap_err();
    assert!(open.is_corruption(), "{open}");
    let create = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap_err();
    assert!(create.is_corruption(), "{create}");
    std::fs::write(&catalog, saved).unwrap();
    let a = Account::open(opts).unwrap();
    let item = a
        .database("db")
        .container("c")
        .read_item::<Value>("p", "x")
        .unwrap();
    assert_eq!(item.status_code, 200);
}
