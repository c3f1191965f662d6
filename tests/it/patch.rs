//! Patch of one item: the operations as the managed service documents them, conditions (filter
//! predicate, If-Match), errors that leave no trace (item, etag, index, change feed), the charge
//! of a replace, and a counter incremented by patch from 4 threads that ends exact.

use std::sync::Arc;
use std::thread;

use serde_json::{json, Value};
use strata::{
    Account, ChangeFeedMode, ChangeFeedOptions, Container, ItemOptions, PatchOperation as Op, PatchOptions,
    QueryOptions,
};

use crate::common::plain_container;

fn setup() -> (tempfile::TempDir, Account, Container) {
    let dir = tempfile::tempdir().unwrap();
    let (account, c) = plain_container(dir.path());
    (dir, account, c)
}

fn read(c: &Container, id: &str) -> Value {
    c.read_item::<Value>("p", id).unwrap().item.unwrap()
}

/// Ids the query returns, through the index and through a full scan (which must agree).
fn ids(c: &Container, sql: &str) -> Vec<Value> {
    let run = |force_full_scan| {
        let o = QueryOptions {
            force_full_scan,
            ..QueryOptions::default()
        };
        c.query_items(sql, &[], &o).unwrap().items
    };
    let indexed = run(false);
    assert_eq!(indexed, run(true), "{sql}");
    indexed
}

/// Every change recorded so far, as (operationType, id).
fn feed(c: &Container) -> Vec<(String, String)> {
    let o = ChangeFeedOptions {
        mode: ChangeFeedMode::AllVersionsAndDeletes,
        max_item_count: 1000,
        ..Default::default()
    };
    c.read_change_feed(&o)
        .unwrap()
        .items
        .iter()
        .map(|r| {
            let m = &r["metadata"];
            (
                m["operationType"].as_str().unwrap().to_string(),
                m["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn doc() -> Value {
    json!({"id": "1", "pk": "p", "n": 4, "colour": "red", "tags": ["a"], "o": {"x": 1}})
}

#[test]
fn patch_applies_in_order_and_is_written_as_a_replace() {
    let (_dir, _account, c) = setup();
    let created = c.create_item("p", &doc()).unwrap();
    let ops = [
        Op::incr("/n", 3),
        Op::set("/colour", json!("blue")),
        Op::add("/tags/-", json!("b")),
        Op::replace("/o/x", json!(2)),
        Op::move_to("/o", "/moved"),
        Op::remove("/tags/0"),
    ];
    let r = c.patch_item("p", "1", &ops, &PatchOptions::default()).unwrap();
    assert_eq!(r.status_code, 200);
    assert_ne!(r.etag, created.etag);
    let item = r.item.unwrap();
    assert_eq!(
        (
            &item["n"],
            &item["colour"],
            &item["tags"],
            &item["moved"],
            item.get("o")
        ),
        (&json!(7), &json!("blue"), &json!(["b"]), &json!({"x": 2}), None)
    );
    assert!(item.get("_lsn").is_none(), "{item}");
    let stored = read(&c, "1");
    assert_eq!(stored, item);
    assert_eq!(
        stored["_rid"],
        created.item.unwrap()["_rid"],
        "a patch keeps the item's _rid"
    );
    // The index follows: the old value is gone, the new one found.
    assert!(ids(&c, "SELECT VALUE c.id FROM c WHERE c.colour = 'red'").is_empty());
    assert_eq!(
        ids(&c, "SELECT VALUE c.id FROM c WHERE c.colour = 'blue'"),
        vec![json!("1")]
    );
    assert_eq!(
        ids(&c, "SELECT VALUE c.id FROM c WHERE c.moved.x = 2"),
        vec![json!("1")]
    );
    assert_eq!(
        feed(&c),
        vec![
            ("create".to_string(), "1".to_string()),
            ("replace".to_string(), "1".to_string())
        ]
    );
}

#[test]
fn conditions_decide_and_a_failed_patch_leaves_no_trace() {
    let (_dir, _account, c) = setup();
    let etag = c.create_item("p", &doc()).unwrap().etag.unwrap();
    let before = read(&c, "1");
    let incr = [Op::incr("/n", 1)];
    let with = |filter: Option<&str>, if_match: Option<&str>| PatchOptions {
        filter_predicate: filter.map(str::to_string),
        if_match: if_match.map(str::to_string),
        ..PatchOptions::default()
    };
    let eleven = vec![Op::incr("/n", 1); 11];
    let (bad_path, id, pk) = (
        [Op::incr("/n", 1), Op::replace("/nope", json!(1))],
        [Op::set("/id", json!("2"))],
        [Op::set("/pk", json!("q"))],
    );
    let big = [Op::set("/big", json!("x".repeat(2 * 1024 * 1024)))];
    let failures: Vec<(&[Op], PatchOptions, &str, u16)> = vec![
        (&incr, with(Some("FROM c WHERE c.n > 4"), None), "1", 412),
        (&incr, with(None, Some("\"not-the-etag\"")), "1", 412),
        (&incr, with(Some("FROM c WHERE c.n >"), None), "1", 400),
        (&incr, with(Some("SELECT * FROM c"), None), "1", 400),
        (&incr, PatchOptions::default(), "absent", 404),
        (&eleven, PatchOptions::default(), "1", 400),
        (&[], PatchOptions::default(), "1", 400),
        (&bad_path, PatchOptions::default(), "1", 400),
        (&id, PatchOptions::default(), "1", 400),
        (&pk, PatchOptions::default(), "1", 400),
        (&big, PatchOptions::default(), "1", 413),
    ];
    for (ops, opts, id, status) in failures {
        let e = c.patch_item("p", id, ops, &opts).unwrap_err();
        assert_eq!(e.status(), status, "{ops:?} {opts:?}: {e}");
        assert_eq!(read(&c, "1"), before, "{ops:?} {opts:?} changed the item");
    }
    assert_eq!(feed(&c).len(), 1, "only the create is in the feed");
    assert!(ids(&c, "SELECT VALUE c.id FROM c WHERE c.n = 5").is_empty());
    // The conditions that hold let it through.
    let ok = with(Some("from c where c.n = 4 and c.colour = 'red'"), Some(&etag));
    assert_eq!(c.patch_item("p", "1", &incr, &ok).unwrap().item.unwrap()["n"], 5);
    assert_eq!(
        ids(&c, "SELECT VALUE c.id FROM c WHERE c.n = 5"),
        vec![json!("1")]
    );
    // The etag it had is spent.
    assert_eq!(
        c.patch_item("p", "1", &incr, &with(None, Some(&etag)))
            .unwrap_err()
            .status(),
        412
    );
}

#[test]
fn a_patch_is_charged_as_the_replace_it_amounts_to() {
    let (_dir, _account, c) = setup();
    c.create_item("p", &doc()).unwrap();
    let patched = c
        .patch_item(
            "p",
            "1",
            &[Op::set("/colour", json!("green"))],
            &PatchOptions::default(),
        )
        .unwrap();
    let mut same = patched.item.unwrap();
    for k in ["_rid", "_self", "_etag", "_attachments", "_ts"] {
        same.as_object_mut().unwrap().remove(k);
    }
    let replaced = c.replace_item_with("p", &same, &ItemOptions::default()).unwrap();
    assert!(patched.request_charge > 0.0);
    assert_eq!(patched.request_charge, replaced.request_charge);
}

#[test]
fn a_counter_incremented_by_patch_from_4_threads_ends_exact() {
    const THREADS: usize = 4;
    const EACH: i64 = 100;
    let (_dir, _account, c) = setup();
    c.create_item("p", &json!({"id": "counter", "pk": "p", "n": 0, "by": {}}))
        .unwrap();
    let c = Arc::new(c);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = c.clone();
            thread::spawn(move || {
                for i in 0..EACH {
                    let ops = [Op::incr("/n", 1), Op::incr(&format!("/by/t{t}"), 1)];
                    let r = c
                        .patch_item("p", "counter", &ops, &PatchOptions::default())
                        .unwrap();
                    assert!(r.item.unwrap()["by"][format!("t{t}")].as_i64().unwrap() == i + 1);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let item = read(&c, "counter");
    assert_eq!(item["n"], json!(THREADS as i64 * EACH));
    for t in 0..THREADS {
        assert_eq!(item["by"][format!("t{t}")], json!(EACH));
    }
    assert_eq!(feed(&c).len(), 1 + THREADS * EACH as usize);
}

#[test]
fn the_patched_item_obeys_the_item_rules_and_cmk_accounts_patch_alike() {
    let dir = tempfile::tempdir().unwrap();
    let opts = strata::AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    let (_vault, _kid, _account, c) = crate::common::cmk_account(&opts);
    c.create_item("p", &doc()).unwrap();
    let before = read(&c, "1");
    let mut deep = json!(1);
    for _ in 0..130 {
        deep = json!([deep]);
    }
    for (op, want) in [
        (Op::set("/ttl", json!("soon")), "ttl"),
        (Op::add("/__sys_x", json!(1)), "reserved"),
        (Op::set("/deep", deep), "128"),
    ] {
        let e = c
            .patch_item("p", "1", std::slice::from_ref(&op), &PatchOptions::default())
            .unwrap_err();
        assert_eq!(e.status(), 400, "{op:?}: {e}");
        assert!(e.to_string().contains(want), "{op:?}: {e}");
    }
    assert_eq!(read(&c, "1"), before);
    // In a CMK account the stored system properties are not "supplied" by the patch.
    let r = c
        .patch_item("p", "1", &[Op::incr("/n", 1)], &PatchOptions::default())
        .unwrap();
    assert_eq!(r.item.unwrap()["n"], 5);
    let b = c
        .execute_batch(
            "p",
            &[strata::BatchOperation::patch("1", vec![Op::incr("/n", 1)])],
        )
        .unwrap();
    assert_eq!(b.results[0].resource_body.as_ref().unwrap()["n"], 6);
}

#[test]
fn a_patched_ttl_expires_the_item_and_an_expired_item_cannot_be_patched() {
    let dir = tempfile::tempdir().unwrap();
    let clock = strata::ManualWallClock::at(1_800_000_000);
    let opts = strata::AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .wall_clock(Arc::new(clock.clone()));
    let (_account, c) = crate::common::account_with_container(opts);
    c.set_default_ttl(Some(-1)).unwrap();
    c.create_item("p", &doc()).unwrap();
    let r = c
        .patch_item("p", "1", &[Op::set("/ttl", json!(10))], &PatchOptions::default())
        .unwrap();
    assert_eq!(r.item.unwrap()["ttl"], 10);
    clock.advance(9);
    assert_eq!(read(&c, "1")["n"], 4);
    clock.advance(1);
    assert_eq!(c.read_item::<Value>("p", "1").unwrap_err().status(), 404);
    let e = c
        .patch_item("p", "1", &[Op::incr("/n", 1)], &PatchOptions::default())
        .unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
}
