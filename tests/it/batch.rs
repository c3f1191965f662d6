//! Transactional batch: every operation type in one batch, all or nothing (a failing operation
//! leaves no trace in items, indexes or the change feed, and the others answer 424), the limits
//! and the one-partition rule (400 with nothing done), and batches racing on the same items from
//! 4 threads while a reader's batch reads always see both counters equal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use serde_json::{json, Value};
use strata::{
    parse_batch_operations, BatchOperation as B, Container, PatchOperation, FAILED_DEPENDENCY,
    MAX_BATCH_OPERATIONS,
};

use crate::common::{self, plain_container};

fn item(id: &str, n: i64) -> Value {
    json!({"id": id, "pk": "p", "n": n, "colour": "red"})
}

fn feed_len(c: &Container) -> usize {
    common::feed_len(c)
}

/// Everything an observer can see: the items (by query, indexed and scanned) and the feed.
fn state(c: &Container) -> (Vec<Value>, Vec<Value>, usize) {
    common::visible_state(c, "SELECT VALUE c.id FROM c WHERE c.colour = 'red'")
}

#[test]
fn every_operation_type_commits_together() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    for id in ["r", "d", "x", "u"] {
        c.create_item("p", &item(id, 1)).unwrap();
    }
    let etag = c.read_item::<Value>("p", "d").unwrap().etag.unwrap();
    let ops = [
        B::create(item("new", 1)),
        B::upsert(item("u", 2)),
        B::replace(item("r", 3)),
        B::read("x"),
        B::delete("d").with_if_match(etag),
        B::patch("x", vec![PatchOperation::incr("/n", 41)]).with_filter("FROM c WHERE c.n = 1"),
    ];
    let feed_before = feed_len(&c);
    let r = c.execute_batch("p", &ops).unwrap();
    assert!(r.is_success(), "{r:?}");
    let statuses: Vec<u16> = r.results.iter().map(|o| o.status_code).collect();
    assert_eq!(statuses, vec![201, 200, 200, 200, 204, 200]);
    let per_op: f64 = r.results.iter().map(|o| o.request_charge).sum();
    assert!(r.request_charge > 0.0 && (r.request_charge - per_op).abs() < 1e-9);
    assert_eq!(r.results[3].resource_body.as_ref().unwrap()["id"], "x");
    assert_eq!(r.results[5].resource_body.as_ref().unwrap()["n"], 42);
    assert!(r.results[4].resource_body.is_none());
    let n = |id: &str| c.read_item::<Value>("p", id).unwrap().item.unwrap()["n"].clone();
    assert_eq!(
        (n("new"), n("u"), n("r"), n("x")),
        (json!(1), json!(2), json!(3), json!(42))
    );
    assert_eq!(
        r.results[3].resource_body.as_ref().unwrap()["n"],
        1,
        "the read came before the patch"
    );
    assert_eq!(c.read_item::<Value>("p", "d").unwrap_err().status(), 404);
    assert_eq!(
        feed_len(&c),
        feed_before + 5,
        "one feed record per write, none for the read"
    );
    assert_eq!(
        r.results[1].etag,
        c.read_item::<Value>("p", "u").unwrap().etag,
        "the etag returned is the stored one"
    );
}

#[test]
fn later_operations_see_what_earlier_ones_did_to_the_same_item() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let ops = [
        B::create(item("y", 1)),
        B::patch("y", vec![PatchOperation::set("/colour", json!("blue"))]),
        B::read("y"),
        B::delete("y"),
        B::create(json!({"id": "y", "pk": "p", "n": 5, "colour": "red"})),
        B::replace(item("y", 6)),
    ];
    let r = c.execute_batch("p", &ops).unwrap();
    let statuses: Vec<u16> = r.results.iter().map(|o| o.status_code).collect();
    assert_eq!(statuses, vec![201, 200, 200, 204, 201, 200], "{r:?}");
    assert_eq!(r.results[2].resource_body.as_ref().unwrap()["colour"], "blue");
    let (all, red, feed) = state(&c);
    assert_eq!(
        (all.len(), &all[0]["n"], red, feed),
        (1, &json!(6), vec![json!("y")], 5)
    );
    // Deleting what the batch created, then failing: nothing of either is left.
    let ops = [B::create(item("z", 1)), B::delete("z"), B::read("z")];
    let r = c.execute_batch("p", &ops).unwrap();
    assert_eq!(r.status_code, 404);
    assert_eq!(state(&c).2, 5);
}

#[test]
fn a_failing_operation_leaves_no_trace_and_the_others_answer_424() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    for id in ["a", "b"] {
        c.create_item("p", &item(id, 1)).unwrap();
    }
    let before = state(&c);
    let failing: Vec<(B, u16)> = vec![
        (B::create(item("b", 9)), 409),
        (B::replace(item("nope", 9)), 404),
        (B::read("nope"), 404),
        (B::delete("b").with_if_match("\"stale\""), 412),
        (
            B::patch("b", vec![PatchOperation::incr("/n", 1)]).with_filter("FROM c WHERE c.n = 7"),
            412,
        ),
        (B::patch("b", vec![PatchOperation::remove("/missing")]), 400),
    ];
    for (bad, status) in failing {
        let ops = vec![
            B::create(json!({"id": "c", "pk": "p", "colour": "red"})),
            B::upsert(item("a", 5)),
            bad.clone(),
            B::patch("z", vec![PatchOperation::set("/colour", json!("red"))]),
        ];
        c.create_item("p", &json!({"id": "z", "pk": "p", "colour": "blue"}))
            .unwrap();
        let before_z = state(&c);
        let r = c.execute_batch("p", &ops).unwrap();
        assert_eq!(r.status_code, status, "{bad:?}: {r:?}");
        assert!(!r.is_success());
        let statuses: Vec<u16> = r.results.iter().map(|o| o.status_code).collect();
        assert_eq!(
            statuses,
            vec![FAILED_DEPENDENCY, FAILED_DEPENDENCY, status, FAILED_DEPENDENCY],
            "{bad:?}"
        );
        assert!(r.results[2].message.as_deref().is_some_and(|m| !m.is_empty()));
        assert_eq!(state(&c), before_z, "{bad:?} left a trace");
        c.delete_item("p", "z").unwrap();
    }
    assert_eq!(state(&c).0, before.0);
    assert_eq!(state(&c).1, before.1);
}

#[test]
fn malformed_batches_are_400_with_nothing_done() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let many: Vec<B> = (0..=MAX_BATCH_OPERATIONS)
        .map(|i| B::create(item(&format!("i{i}"), 1)))
        .collect();
    let full = &many[..MAX_BATCH_OPERATIONS];
    let other_pk = json!({"id": "o", "pk": "q"});
    let cases: Vec<(Vec<B>, &str)> = vec![
        (many.clone(), "1 to 100"),
        (vec![], "1 to 100"),
        (
            vec![B::create(item("a", 1)), B::create(other_pk)],
            "does not match",
        ),
        (
            vec![B {
                partition_key: Some(json!("q")),
                ..B::read("a")
            }],
            "one partition",
        ),
        (vec![B::read("a").with_if_match("\"e\"")], "takes no ifMatch"),
        (
            vec![B {
                id: None,
                ..B::read("a")
            }],
            "needs the item's id",
        ),
        (vec![B::patch("a", vec![])], "1 to 10"),
    ];
    for (ops, want) in cases {
        let e = c.execute_batch("p", &ops).unwrap_err();
        assert_eq!(e.status(), 400, "{want}: {e}");
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
    let big = B::upsert(json!({"id": "big", "pk": "p", "s": "x".repeat(2 * 1024 * 1024)}));
    let e = c.execute_batch("p", &[B::read("a"), big]).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
    assert!(state(&c).0.is_empty() && feed_len(&c) == 0);
    // 100 operations are fine.
    let r = c.execute_batch("p", full).unwrap();
    assert_eq!(r.results.len(), MAX_BATCH_OPERATIONS);
    assert_eq!(state(&c).0.len(), MAX_BATCH_OPERATIONS);
}

#[test]
fn the_batch_format_of_the_managed_service_parses() {
    let ops = parse_batch_operations(&json!([
        {"operationType": "Create", "resourceBody": {"id": "a", "pk": "p"}},
        {"operationType": "patch", "id": "a", "ifMatch": "\"e\"",
         "patchOperations": [{"op": "incr", "path": "/n", "value": 1}]},
        {"operationType": "Read", "id": "a", "partitionKey": "p"}
    ]))
    .unwrap();
    assert_eq!(
        ops[1],
        B::patch("a", vec![PatchOperation::incr("/n", 1)]).with_if_match("\"e\"")
    );
    for bad in [
        json!({}),
        json!([{"operationType": "Copy"}]),
        json!([{"operationType": "Read", "x": 1}]),
    ] {
        assert_eq!(parse_batch_operations(&bad).unwrap_err().status(), 400, "{bad}");
    }
    // The partition key of an operation, in each form the REST format writes it.
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let ops = parse_batch_operations(&json!([
        {"operationType": "Create", "resourceBody": {"id": "a", "pk": "p"}, "partitionKey": "[\"p\"]"},
        {"operationType": "Read", "id": "a", "partitionKey": ["p"]},
        {"operationType": "Read", "id": "a", "partitionKey": "p"}
    ]))
    .unwrap();
    assert!(c.execute_batch("p", &ops).unwrap().is_success());
    for other in [json!("[\"q\"]"), json!(["q"]), json!("q"), json!(["p", "q"])] {
        let op = B {
            partition_key: Some(other.clone()),
            ..B::read("a")
        };
        assert_eq!(c.execute_batch("p", &[op]).unwrap_err().status(), 400, "{other}");
    }
}

#[test]
fn racing_batches_are_atomic_to_each_other_and_to_readers() {
    const THREADS: usize = 4;
    const EACH: i64 = 60;
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    for id in ["a", "b"] {
        c.create_item("p", &item(id, 0)).unwrap();
    }
    let c = Arc::new(c);
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (c, done) = (c.clone(), done.clone());
        thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) || reads == 0 {
                let r = c.execute_batch("p", &[B::read("b"), B::read("a")]).unwrap();
                let n = |i: usize| {
                    r.results[i].resource_body.as_ref().unwrap()["n"]
                        .as_i64()
                        .unwrap()
                };
                assert_eq!(n(0), n(1), "a batch read saw half a batch");
                reads += 1;
            }
        })
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = c.clone();
            thread::spawn(move || {
                for i in 0..EACH {
                    // Opposite orders of the same items in different threads: the locks are
                    // taken in one global order, so no deadlock.
                    let mut ops = vec![
                        B::patch("a", vec![PatchOperation::incr("/n", 1)]),
                        B::patch("b", vec![PatchOperation::incr("/n", 1)]),
                    ];
                    if t % 2 == 1 {
                        ops.reverse();
                    }
                    ops.push(B::create(item(&format!("t{t}-{i}"), i)));
                    assert!(c.execute_batch("p", &ops).unwrap().is_success());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    reader.join().unwrap();
    let total = THREADS as i64 * EACH;
    for id in ["a", "b"] {
        assert_eq!(
            c.read_item::<Value>("p", id).unwrap().item.unwrap()["n"],
            json!(total)
        );
    }
    assert_eq!(state(&c).0.len(), 2 + total as usize);
}

#[test]
fn a_batch_costs_what_its_operations_cost_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (account, alone) = plain_container(dir.path());
    let batched = account.database("db").create_container("c2", "/pk").unwrap();
    for c in [&alone, &batched] {
        c.create_item("p", &item("old", 1)).unwrap();
    }
    let ops = [
        B::create(item("a", 1)),
        B::upsert(item("old", 2)),
        B::read("old"),
        B::patch("a", vec![PatchOperation::set("/colour", json!("blue"))]),
        B::delete("old"),
    ];
    let singles = [
        alone.create_item("p", &item("a", 1)).unwrap().request_charge,
        alone.upsert_item("p", &item("old", 2)).unwrap().request_charge,
        alone.read_item::<Value>("p", "old").unwrap().request_charge,
        alone
            .patch_item(
                "p",
                "a",
                &[PatchOperation::set("/colour", json!("blue"))],
                &Default::default(),
            )
            .unwrap()
            .request_charge,
        alone.delete_item("p", "old").unwrap().request_charge,
    ];
    let r = batched.execute_batch("p", &ops).unwrap();
    let per_op: Vec<f64> = r.results.iter().map(|o| o.request_charge).collect();
    assert_eq!(per_op, singles);
    assert!((r.request_charge - singles.iter().sum::<f64>()).abs() < 1e-9);
}

#[test]
fn a_throttled_batch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = strata::ManualClock::new();
    let opts = strata::AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .clock(Arc::new(clock.clone()))
        .retry_policy(strata::RetryPolicy::none());
    let (_account, c) = crate::common::account_with_container(opts);
    c.set_throughput(Some(400)).unwrap();
    let big = |k: usize| B::create(json!({"id": format!("b{k}"), "pk": "p", "s": "x".repeat(15_000)}));
    // One batch above the burst passes on a full bucket and leaves it in debt; the next is 429.
    let first: Vec<B> = (0..60).map(big).collect();
    let r = c.execute_batch("p", &first).unwrap();
    assert!(r.is_success() && r.request_charge > 400.0, "{}", r.request_charge);
    let e = c.execute_batch("p", &[big(100), big(101)]).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (429, strata::substatus::THROUGHPUT_EXCEEDED)
    );
    // Time enough to repay the debt and refill the bucket.
    clock.advance(std::time::Duration::from_secs_f64(r.request_charge / 400.0 + 2.0));
    assert_eq!(feed_len(&c), 60, "only the first batch is in the feed");
    assert_eq!(
        c.read_item::<Value>("p", "b100")
            .map(|_| ())
            .unwrap_err()
            .status(),
        404
    );
}
