//! `Container::bulk_write` (bulk.rs, docs/bulk.md): per-operation results equal to single
//! writes, failures that write nothing, repeats on one item in order, the change feed and the
//! index seeing every write, throttling, no deadlock between overlapping calls, and power loss
//! leaving each commit whole or absent.

use std::sync::Arc;

use serde_json::{json, Value};

use super::batch::{BatchOperation, BatchOperationResult};
use super::batch_power_tests::power_sweep;
use super::bulk::{BulkOperation, BulkOptions};
use super::feed::{ChangeFeedMode, ChangeFeedOptions};
use super::handle::{Account, Encryption};
use super::query::QueryOptions;
use super::Container;
use crate::metering::{ManualClock, RetryPolicy};
use crate::options::{AccountOptions, Durability};
use crate::ItemOptions;

fn options(dir: &std::path::Path) -> AccountOptions {
    AccountOptions::new(dir.join("data"), dir.join("home"))
}

fn container(account: &Account, name: &str) -> Container {
    let db = match account.create_database("db") {
        Ok(db) => db,
        Err(_) => account.database("db"),
    };
    db.create_container(name, "/pk").unwrap()
}

fn item(k: usize) -> Value {
    json!({"id": format!("i{k}"), "pk": format!("p{}", k % 3), "n": k, "tag": "bulk"})
}

fn create(v: Value) -> BulkOperation {
    let pk = v["pk"].as_str().unwrap_or_default().to_string();
    BulkOperation::new(pk, BatchOperation::create(v))
}

fn statuses(results: &[BatchOperationResult]) -> Vec<u16> {
    results.iter().map(|r| r.status_code).collect()
}

fn ids(c: &Container, sql: &str) -> Vec<Value> {
    c.query_items(sql, &[], &QueryOptions::default()).unwrap().items
}

#[test]
fn failed_operations_write_nothing_and_the_rest_equal_single_writes() {
    let dir = tempfile::tempdir().unwrap();
    let account = Account::create(options(dir.path()), "a", Encryption::ServiceManaged).unwrap();
    let bulk = container(&account, "bulk");
    let single = container(&account, "single");
    for c in [&bulk, &single] {
        c.create_item("p1", &item(1)).unwrap();
    }
    let ops = vec![
        create(item(0)),
        create(item(1)),                           // 409: exists
        create(json!({"pk": "p0", "n": "no id"})), // 400: no id
        create(json!({"id": "x", "pk": "p2", "_rid": "a", "n": 1})),
        BulkOperation::new("p1", BatchOperation::create(item(2))), // 400: wrong partition key
        create(json!({"id": "big", "pk": "p0", "s": "x".repeat(2 * 1024 * 1024)})), // 413
        create(item(3)),
        BulkOperation::new("p1", BatchOperation::replace(json!({"id": "gone", "pk": "p1"}))), // 404
        BulkOperation::new("p0", BatchOperation::upsert(item(6))),
    ];
    let results = bulk.bulk_write(ops.clone(), &BulkOptions::default()).unwrap();
    assert_eq!(
        statuses(&results),
        [201, 409, 400, 201, 400, 413, 201, 404, 201],
        "{results:?}"
    );
    // The same operations one by one, on an identical container.
    for (op, got) in ops.into_iter().zip(&results) {
        let body = op.operation.resource_body.clone().unwrap();
        let one = match op.operation.operation_type {
            super::BatchOperationType::Upsert => {
                single.upsert_item_value(op.partition_key, body, &ItemOptions::default())
            }
            super::BatchOperationType::Replace => single
                .replace_item_with(op.partition_key, &body, &ItemOptions::default())
                .map(|r| crate::ItemResponse {
                    item: None,
                    status_code: r.status_code,
                    etag: r.etag,
                    request_charge: r.request_charge,
                }),
            _ => single.create_item_value(op.partition_key, body, &ItemOptions::default()),
        };
        match one {
            Ok(r) => {
                assert_eq!(
                    (r.status_code, r.request_charge),
                    (got.status_code, got.request_charge)
                );
                assert!(got.etag.is_some() && got.resource_body.is_none());
            }
            Err(e) => {
                assert_eq!(
                    (e.status(), e.substatus()),
                    (got.status_code, got.sub_status),
                    "{got:?}"
                );
                assert_eq!(got.request_charge, 0.0);
                assert!(got.message.as_deref().is_some_and(|m| !m.is_empty()));
            }
        }
    }
    let sql = "SELECT VALUE c.id FROM c WHERE c.tag = 'bulk' ORDER BY c.id";
    assert_eq!(ids(&bulk, sql), ["i0", "i1", "i3", "i6"]);
    assert_eq!(ids(&bulk, sql), ids(&single, sql));
    assert_eq!(ids(&bulk, "SELECT VALUE c.id FROM c WHERE c.id = 'x'"), ["x"]);
    // Every write is in the change feed, in the order of the calls.
    let feed = |c: &Container| -> Vec<Value> {
        c.read_change_feed(&ChangeFeedOptions {
            mode: ChangeFeedMode::AllVersionsAndDeletes,
            max_item_count: 100,
            ..Default::default()
        })
        .unwrap()
        .items
        .iter()
        .map(|v| v["current"]["id"].clone())
        .collect()
    };
    assert_eq!(feed(&bulk), ["i1", "i0", "x", "i3", "i6"]);
    assert_eq!(feed(&bulk), feed(&single));
}

#[test]
fn system_properties_are_refused_under_a_customer_key() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path());
    let vault = strata_vault::LocalVault::open(&opts.vault_dir()).unwrap();
    let kid = vault.create_key("cmk", 2048).unwrap();
    let enc = Encryption::CustomerManaged {
        key_uri: kid.without_version().to_string(),
    };
    let account = Account::create(opts, "a", enc).unwrap();
    let c = container(&account, "c");
    let results = c
        .bulk_write(
            vec![
                create(json!({"id": "x", "pk": "p", "_etag": "\"e\""})),
                create(item(1)),
            ],
            &BulkOptions::default(),
        )
        .unwrap();
    assert_eq!(statuses(&results), [400, 201]);
}

#[test]
fn operations_on_one_item_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let account = Account::create(options(dir.path()), "a", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c");
    let ops = vec![
        BulkOperation::new("p", BatchOperation::create(json!({"id": "a", "pk": "p", "n": 1}))),
        BulkOperation::new("p", BatchOperation::create(json!({"id": "a", "pk": "p", "n": 2}))),
        BulkOperation::new(
            "p",
            BatchOperation::replace(json!({"id": "a", "pk": "p", "n": 3})),
        ),
        BulkOperation::new("p", BatchOperation::read("a")),
        BulkOperation::new("p", BatchOperation::delete("a")),
        BulkOperation::new("p", BatchOperation::delete("a")),
        BulkOperation::new("p", BatchOperation::upsert(json!({"id": "a", "pk": "p", "n": 4}))),
    ];
    let opts = BulkOptions {
        content_response: true,
        ..Default::default()
    };
    let results = c.bulk_write(ops, &opts).unwrap();
    assert_eq!(statuses(&results), [201, 409, 200, 200, 204, 404, 201]);
    assert_eq!(results[3].resource_body.as_ref().unwrap()["n"], 3);
    assert_eq!(results[3].etag, results[2].etag);
    assert!(results[3].resource_body.as_ref().unwrap().get("_lsn").is_none());
    let read = c.read_item::<Value>("p", "a").unwrap();
    assert_eq!(read.item.unwrap()["n"], 4);
    assert_eq!(read.etag, results[6].etag);
}

#[test]
fn stop_on_error_stores_what_came_before_and_runs_nothing_after() {
    let dir = tempfile::tempdir().unwrap();
    let account = Account::create(options(dir.path()), "a", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c");
    let stop = BulkOptions {
        stop_on_error: true,
        ..Default::default()
    };
    let ops = vec![
        create(item(0)),
        create(item(1)),
        create(item(0)),
        create(json!({"pk": "p0"})),
        create(item(2)),
    ];
    let results = c.bulk_write(ops, &stop).unwrap();
    assert_eq!(statuses(&results), [201, 201, 409, 424, 424]);
    let ops = vec![create(item(3)), create(json!({"pk": "p0"})), create(item(4))];
    let results = c.bulk_write(ops, &stop).unwrap();
    assert_eq!(statuses(&results), [201, 400, 424]);
    let sql = "SELECT VALUE c.id FROM c ORDER BY c.id";
    assert_eq!(ids(&c, sql), ["i0", "i1", "i3"]);
}

#[test]
fn a_throttled_operation_and_those_after_it_answer_429_unrun() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let opts = options(dir.path())
        .clock(Arc::new(clock.clone()))
        .retry_policy(RetryPolicy::none());
    let account = Account::create(opts, "a", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c");
    c.set_throughput(Some(400)).unwrap();
    let ops: Vec<_> = (0..400).map(|k| create(item(k))).collect();
    let results = c.bulk_write(ops, &BulkOptions::default()).unwrap();
    let ok = results.iter().take_while(|r| r.status_code == 201).count();
    assert!(ok > 0 && ok < 400, "{ok} written");
    assert!(results[ok..]
        .iter()
        .all(|r| r.status_code == 429 && r.sub_status > 0));
    // With stop_on_error, those after the throttled one are unrun because it failed: 424.
    let stop = BulkOptions {
        stop_on_error: true,
        ..Default::default()
    };
    let ops = (500..503).map(|k| create(item(k))).collect();
    assert_eq!(statuses(&c.bulk_write(ops, &stop).unwrap()), [429, 424, 424]);
    clock.advance(std::time::Duration::from_secs(60));
    let count = ids(&c, "SELECT VALUE COUNT(1) FROM c");
    assert_eq!(count, [json!(ok)]);

    // With retries allowed (as single writes), the call waits and finishes the rest.
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path())
        .clock(Arc::new(clock.clone()))
        .retry_policy(RetryPolicy {
            max_attempts: 1000,
            max_wait: std::time::Duration::from_secs(3600),
        });
    let account = Account::create(opts, "a", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c");
    c.set_throughput(Some(400)).unwrap();
    let ops: Vec<_> = (0..400).map(|k| create(item(k))).collect();
    let retrying = BulkOptions {
        retry_throttled: true,
        ..Default::default()
    };
    let results = c.bulk_write(ops, &retrying).unwrap();
    assert!(results.iter().all(|r| r.status_code == 201));
    assert_eq!(ids(&c, "SELECT VALUE COUNT(1) FROM c"), [json!(400)]);
    // Operations that carry no item (patch, read, delete) are retried as they were given.
    let ops = (0..400)
        .map(|k| {
            let pk = item(k)["pk"].as_str().unwrap_or_default().to_string();
            let id = format!("i{k}");
            let op = match k % 3 {
                0 => BatchOperation::patch(&id, vec![crate::PatchOperation::incr("/n", 1)]),
                1 => BatchOperation::read(&id),
                _ => BatchOperation::delete(&id),
            };
            BulkOperation::new(pk, op)
        })
        .collect();
    let results = c.bulk_write(ops, &retrying).unwrap();
    let expected: Vec<u16> = (0..400).map(|k| [200, 200, 204][k % 3]).collect();
    assert_eq!(statuses(&results), expected);
    assert_eq!(ids(&c, "SELECT VALUE COUNT(1) FROM c"), [json!(267)]);
}

#[test]
fn overlapping_concurrent_calls_do_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let account = Account::create(options(dir.path()), "a", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for round in 0..20 {
                    let mut ks: Vec<usize> = (0..150).collect();
                    if (t + round) % 2 == 1 {
                        ks.reverse();
                    }
                    let ops = ks
                        .into_iter()
                        .map(|k| {
                            let v = json!({"id": format!("i{k}"), "pk": "p", "t": t});
                            BulkOperation::new("p", BatchOperation::upsert(v))
                        })
                        .collect();
                    let results = c.bulk_write(ops, &BulkOptions::default()).unwrap();
                    assert!(results.iter().all(|r| r.status_code < 300));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(ids(&c, "SELECT VALUE COUNT(1) FROM c"), [json!(150)]);
}

/// Bulk calls in the power-loss sweep, each of three creates (and a repeat that fails).
const CALLS: i64 = 3;

/// The number of calls the reopened account holds, each checked to be whole.
fn calls_held(dir: &std::path::Path, what: &str) -> i64 {
    let account = Account::open(sync_options(dir)).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    let c = account.database("db").container("c");
    let found = ids(&c, "SELECT VALUE c.id FROM c WHERE c.tag = 'bulk' ORDER BY c.id");
    let held = found.len() as i64 / 3;
    let expected: Vec<Value> = (0..held)
        .flat_map(|k| (0..3).map(move |j| json!(format!("k{k}-{j}"))))
        .collect();
    assert_eq!(found, expected, "{what}: a call survived in part");
    for id in &expected {
        let id = id.as_str().unwrap();
        assert!(
            c.read_item::<Value>("p", id).is_ok(),
            "{what}: {id} indexed but absent"
        );
    }
    let feed = c
        .read_change_feed(&ChangeFeedOptions {
            mode: ChangeFeedMode::AllVersionsAndDeletes,
            max_item_count: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(feed.items.len(), found.len(), "{what}: the feed disagrees");
    held
}

fn sync_options(dir: &std::path::Path) -> AccountOptions {
    let mut opts = options(dir);
    opts.durability = Durability::Sync;
    opts
}

fn seed(dir: &std::path::Path) {
    let account = Account::create(sync_options(dir), "acct", Encryption::ServiceManaged).unwrap();
    drop(container(&account, "c"));
    account.close().unwrap();
}

#[test]
fn power_loss_during_bulk_calls_keeps_each_commit_whole() {
    let run = |c: &Container| -> i64 {
        for k in 0..CALLS {
            let ops = (0..3)
                .map(|j| create(json!({"id": format!("k{k}-{j}"), "pk": "p", "tag": "bulk"})))
                .chain([create(json!({"id": "k0-0", "pk": "p"}))]) // 409 after the first call
                .collect();
            if c.bulk_write(ops, &BulkOptions::default()).is_err() {
                return k;
            }
        }
        CALLS
    };
    power_sweep("bulk", sync_options, seed, run, calls_held);
}
