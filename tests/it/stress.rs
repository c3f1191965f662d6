//! A bounded mixed workload on one account — upserts, creates, replaces, deletes, point reads and
//! partition queries on several writer threads, cross-partition queries on a reader thread, and
//! flushes and compactions on a maintenance thread — agrees at every step with a model of the
//! acknowledged operations, and again after the account is closed and reopened.
//!
//! Each writer owns one partition (single writer per key), so its model is exact: every status
//! (201/200/204/404/409), every read and every query page of its partition is checked against it
//! while the others write, flush and compact. Service-managed and customer-managed (two-layer)
//! accounts. Seeded RNG; bounded by operation counts.

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use strata::{Account, AccountOptions, Container, QueryOptions};

const WRITERS: u64 = 4;
const OPS_PER_WRITER: u64 = 1500;
const KEYS_PER_WRITER: u64 = 16;

/// id -> the `v` of its last acknowledged write (absent: deleted or never written).
type Model = BTreeMap<String, u64>;

fn body(id: &str, pk: &str, v: u64, pad: usize) -> Value {
    json!({"id": id, "pk": pk, "v": v, "echo": format!("{id}@{v}"), "pad": "s".repeat(pad)})
}

fn check_body(item: &Value, id: &str) -> u64 {
    let v = item["v"]
        .as_u64()
        .unwrap_or_else(|| panic!("{id}: no v in {item}"));
    assert_eq!(item["echo"], json!(format!("{id}@{v}")), "{id}: torn item");
    v
}

/// All ids and versions in `pk`, following continuation tokens.
fn partition_contents(c: &Container, pk: &str, page: usize) -> Model {
    let mut out = Model::new();
    let mut token = None;
    loop {
        let opts = QueryOptions {
            force_full_scan: false,
            partition_key: Some(pk.into()),
            max_item_count: Some(page),
            continuation: token,
            partition_filter: None,
        };
        let r = c
            .query_items(
                "SELECT * FROM c WHERE c.pk = @pk",
                &[("@pk".into(), json!(pk))],
                &opts,
            )
            .unwrap();
        for item in &r.items {
            let id = item["id"].as_str().unwrap().to_string();
            let v = check_body(item, &id);
            assert!(out.insert(id.clone(), v).is_none(), "{id} returned twice");
        }
        token = r.continuation;
        if token.is_none() {
            return out;
        }
    }
}

fn writer(c: Container, t: u64, ops: u64) -> (Model, BTreeMap<&'static str, u64>) {
    let mut rng = StdRng::seed_from_u64(0x5eed_0000 + t);
    let pk = format!("p{t}");
    let mut model = Model::new();
    let mut counts = BTreeMap::new();
    for step in 0..ops {
        let id = format!("t{t}-k{}", rng.gen_range(0..KEYS_PER_WRITER));
        let v = step + 1;
        let item = body(&id, &pk, v, rng.gen_range(0..1500));
        let have = model.get(&id).copied();
        let roll = rng.gen_range(0..100);
        let op = match roll {
            0..=24 => {
                let r = c.upsert_item(pk.as_str(), &item).unwrap();
                assert_eq!(r.status_code, if have.is_some() { 200 } else { 201 }, "{id}");
                model.insert(id.clone(), v);
                "upsert"
            }
            25..=39 => {
                match (c.create_item(pk.as_str(), &item), have) {
                    (Ok(r), None) => {
                        assert_eq!(r.status_code, 201);
                        model.insert(id.clone(), v);
                    }
                    (Err(e), Some(_)) => assert_eq!(e.status(), 409, "{id}: {e}"),
                    (r, have) => panic!("{id}: create with model {have:?}: {:?}", r.map(|r| r.status_code)),
                }
                "create"
            }
            40..=54 => {
                match (c.replace_item(pk.as_str(), &item), have) {
                    (Ok(r), Some(_)) => {
                        assert_eq!(r.status_code, 200);
                        model.insert(id.clone(), v);
                    }
                    (Err(e), None) => assert_eq!(e.status(), 404, "{id}: {e}"),
                    (r, have) => panic!(
                        "{id}: replace with model {have:?}: {:?}",
                        r.map(|r| r.status_code)
                    ),
                }
                "replace"
            }
            55..=69 => {
                match (c.delete_item(pk.as_str(), &id), have) {
                    (Ok(r), Some(_)) => {
                        assert_eq!(r.status_code, 204);
                        model.remove(&id);
                    }
                    (Err(e), None) => assert_eq!(e.status(), 404, "{id}: {e}"),
                    (r, have) => panic!("{id}: delete with model {have:?}: {:?}", r.map(|r| r.status_code)),
                }
                "delete"
            }
            70..=91 => {
                match (c.read_item::<Value>(pk.as_str(), &id), have) {
                    (Ok(r), Some(want)) => assert_eq!(check_body(&r.item.unwrap(), &id), want, "{id}"),
                    (Err(e), None) => assert_eq!(e.status(), 404, "{id}: {e}"),
                    (r, have) => panic!("{id}: read with model {have:?}: {:?}", r.map(|r| r.item)),
                }
                "read"
            }
            _ => {
                let page = rng.gen_range(1..8);
                assert_eq!(
                    partition_contents(&c, &pk, page),
                    model,
                    "writer {t}, step {step}"
                );
                "query"
            }
        };
        *counts.entry(op).or_insert(0) += 1;
    }
    (model, counts)
}

#[test]
fn mixed_workload_matches_the_model_live_and_after_reopen() {
    run(false, OPS_PER_WRITER);
}

/// The same with two-layer sealing under a customer-managed key (fewer operations: RSA and
/// double sealing cost more in a debug build).
#[test]
fn mixed_workload_in_a_cmk_account_matches_the_model() {
    run(true, OPS_PER_WRITER / 3);
}

fn run(cmk: bool, ops: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    opts.memtable_bytes = 32 * 1024; // many flushes (and so compactions) during the run
    let enc = common::encryption(&opts, cmk, "stress");
    let account = Account::create(opts.clone(), "acct", enc).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let c = c.clone();
            thread::spawn(move || writer(c, t, ops))
        })
        .collect();
    let maint = {
        let (account, done) = (account.clone(), done.clone());
        thread::spawn(move || {
            let mut rounds = 0u64;
            while !done.load(Ordering::Acquire) {
                account.flush().unwrap();
                if rounds.is_multiple_of(2) {
                    account.compact().unwrap();
                }
                rounds += 1;
                thread::sleep(std::time::Duration::from_millis(5));
            }
            rounds
        })
    };
    let reader = {
        let (c, done) = (c.clone(), done.clone());
        thread::spawn(move || {
            let mut queries = 0u64;
            while !done.load(Ordering::Acquire) {
                // Cross-partition: each item must be whole and owned by a known writer.
                let r = c
                    .query_items("SELECT * FROM c", &[], &QueryOptions::default())
                    .unwrap();
                for item in &r.items {
                    let id = item["id"].as_str().unwrap();
                    check_body(item, id);
                    assert!(item["pk"].as_str().unwrap().starts_with('p'));
                }
                let n = c
                    .query_items("SELECT VALUE COUNT(1) FROM c", &[], &QueryOptions::default())
                    .unwrap();
                assert!(n.items[0].as_u64().unwrap() <= WRITERS * KEYS_PER_WRITER);
                queries += 2;
            }
            queries
        })
    };

    let mut model = BTreeMap::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (t, w) in writers.into_iter().enumerate() {
        let (m, k) = w.join().unwrap();
        model.insert(format!("p{t}"), m);
        for (op, n) in k {
            *counts.entry(op).or_insert(0) += n;
        }
    }
    done.store(true, Ordering::Release);
    let rounds = maint.join().unwrap();
    let queries = reader.join().unwrap();
    eprintln!("cmk {cmk}: ops: {counts:?}; {rounds} maintenance rounds; {queries} cross-partition queries");
    let stats = account.store_stats().unwrap();
    eprintln!("store after the run: {stats:?}");

    // Close every handle, reopen, compare.
    drop((account, c));
    let account = Account::open(opts).unwrap();
    let c = account.database("db").container("c");
    let mut total = 0;
    for (pk, m) in &model {
        assert_eq!(&partition_contents(&c, pk, 100), m, "{pk} after reopen");
        for k in 0..KEYS_PER_WRITER {
            let id = format!("t{}-k{k}", &pk[1..]);
            match (c.read_item::<Value>(pk.as_str(), &id), m.get(&id)) {
                (Ok(r), Some(want)) => assert_eq!(check_body(&r.item.unwrap(), &id), *want),
                (Err(e), None) => assert_eq!(e.status(), 404, "{id}: {e}"),
                (r, want) => panic!("{id} after reopen, model {want:?}: {:?}", r.map(|r| r.item)),
            }
        }
        total += m.len();
    }
    let n = c
        .query_items("SELECT VALUE COUNT(1) FROM c", &[], &QueryOptions::default())
        .unwrap();
    assert_eq!(n.items, vec![json!(total)]);
    // And the reopened store still takes writes and compacts.
    c.upsert_item("p0", &body("t0-k0", "p0", 1_000_000, 10)).unwrap();
    account.flush().unwrap();
    account.compact().unwrap();
    assert_eq!(
        check_body(
            &c.read_item::<Value>("p0", "t0-k0").unwrap().item.unwrap(),
            "t0-k0"
        ),
        1_000_000
    );
}
