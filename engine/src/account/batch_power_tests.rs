//! Power loss during transactional batches (docs/batch.md, docs/reliability.md "Power loss"):
//! the power goes off at every I/O call of a run of batches, and the reopened account holds each
//! batch whole or not at all — items, index entries and change feed — and every batch that was
//! acknowledged.

use serde_json::{json, Value};

use super::batch::BatchOperation;
use super::feed::{ChangeFeedMode, ChangeFeedOptions};
use super::handle::{Account, Encryption};
use super::query::QueryOptions;
use super::Container;
use crate::document::PatchOperation;
use crate::options::{AccountOptions, Durability};
use strata_base::power_loss::record;

const BATCHES: i64 = 4;

fn options(dir: &std::path::Path) -> AccountOptions {
    let mut opts = AccountOptions::new(dir.join("data"), dir.join("home"));
    opts.durability = Durability::Sync;
    opts
}

/// A new account with `a` and `b` at 0, everything durable.
fn seed(dir: &std::path::Path) {
    let account = Account::create(options(dir), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    for id in ["a", "b"] {
        c.create_item("p", &json!({"id": id, "pk": "p", "n": 0})).unwrap();
    }
    drop(c);
    account.close().unwrap();
}

/// Runs the batches until one fails; how many were acknowledged.
fn run(c: &Container) -> i64 {
    for k in 0..BATCHES {
        let ops = [
            BatchOperation::patch("a", vec![PatchOperation::incr("/n", 1)]),
            BatchOperation::create(json!({"id": format!("k{k}"), "pk": "p", "tag": "new"})),
            BatchOperation::patch("b", vec![PatchOperation::incr("/n", 1)]),
        ];
        if c.execute_batch("p", &ops).is_err() {
            return k;
        }
    }
    BATCHES
}

/// The number of batches the reopened account holds, checked to be whole.
fn batches_held(dir: &std::path::Path, what: &str) -> i64 {
    let account = Account::open(options(dir)).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    let c = account.database("db").container("c");
    let n = |id: &str| {
        c.read_item::<Value>("p", id).unwrap().item.unwrap()["n"]
            .as_i64()
            .unwrap()
    };
    let held = n("a");
    assert_eq!(n("b"), held, "{what}: half a batch survived");
    let tagged = c
        .query_items(
            "SELECT VALUE c.id FROM c WHERE c.tag = 'new'",
            &[],
            &QueryOptions::default(),
        )
        .unwrap()
        .items;
    let expected: Vec<Value> = (0..held).map(|k| json!(format!("k{k}"))).collect();
    assert_eq!(tagged, expected, "{what}: the index disagrees with the items");
    let feed = c
        .read_change_feed(&ChangeFeedOptions {
            mode: ChangeFeedMode::AllVersionsAndDeletes,
            max_item_count: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        feed.items.len() as i64,
        2 + 3 * held,
        "{what}: the feed disagrees"
    );
    held
}

#[test]
fn power_loss_during_batches_keeps_each_batch_whole() {
    power_sweep("batch", options, seed, run, batches_held);
}

/// Runs `run` (which answers how many units of work were acknowledged) on an account made by
/// `seed` and recorded; then, for every I/O call of that run, runs it again with the power cut
/// at that call, and checks with `held` (which answers how many units the reopened account
/// holds, each checked whole) that every acknowledged unit survived, and at most one more.
pub(super) fn power_sweep(
    label: &str,
    options: fn(&std::path::Path) -> AccountOptions,
    seed: fn(&std::path::Path),
    run: fn(&Container) -> i64,
    held: fn(&std::path::Path, &str) -> i64,
) {
    let total = {
        let tmp = tempfile::tempdir().unwrap();
        seed(tmp.path());
        let account = Account::open(options(tmp.path())).unwrap();
        let rec = record(&tmp.path().join("data"), None);
        run(&account.database("db").container("c"));
        rec.calls()
    };
    assert!(total > 0, "no calls recorded");
    eprintln!("{label} power-loss sweep: {total} cut points");
    for n in 1..=total {
        let tmp = tempfile::tempdir().unwrap();
        seed(tmp.path());
        let account = Account::open(options(tmp.path())).unwrap();
        let rec = record(&tmp.path().join("data"), Some(n));
        let acked = run(&account.database("db").container("c"));
        let what = format!(
            "power cut at call {n}/{total} ({}) after {acked} acknowledged {label} calls",
            rec.cut_call().unwrap_or_default()
        );
        drop(account);
        rec.apply()
            .unwrap_or_else(|e| panic!("{what}: applying the power loss: {e}"));
        drop(rec);
        let held = held(tmp.path(), &what);
        assert!(held == acked || held == acked + 1, "{what}: {held} survived");
    }
}
