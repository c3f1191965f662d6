//! Optimistic concurrency under contention: threads that increment one counter item by read +
//! replace or upsert with If-Match (retrying on 412) lose no update — the final value is exactly
//! the number of acknowledged increments, also after a reopen — while readers never see a torn
//! item (every body carries the counter three times, consistently, and a reader never sees the
//! counter go backwards) and another thread keeps flushing and compacting. Also: racing creates
//! of one id yield exactly one 201, and racing If-Match deletes exactly one 204. Bounded by
//! operation counts, not time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use serde_json::{json, Value};
use strata::{Account, AccountOptions, Container, Encryption, ItemOptions};

const WRITERS: usize = 4;
const INCREMENTS_PER_WRITER: u64 = 150;
const READERS: usize = 2;
const PK: &str = "p";

fn setup() -> (tempfile::TempDir, Account, Container) {
    let tmp = tempfile::tempdir().unwrap();
    let account = Account::create(opts_in(tmp.path()), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    (tmp, account, c)
}

fn opts_in(dir: &std::path::Path) -> AccountOptions {
    let mut opts = AccountOptions::new(dir.join("data"), dir.join("home"));
    // A small memtable so that the run spans several flushes by itself as well.
    opts.memtable_bytes = 64 * 1024;
    opts
}

fn counter_doc(n: u64) -> Value {
    // The counter three times over, and some padding so the item spans more than a few bytes.
    json!({"id": "counter", "pk": PK, "n": n, "copy": n, "text": format!("count={n};"), "pad": "z".repeat(300)})
}

/// The counter of a consistent body; panics on a torn one.
fn check(v: &Value) -> u64 {
    let n = v["n"].as_u64().unwrap_or_else(|| panic!("no counter: {v}"));
    assert_eq!(v["copy"].as_u64(), Some(n), "torn item: {v}");
    assert_eq!(v["text"], json!(format!("count={n};")), "torn item: {v}");
    assert_eq!(v["pad"].as_str().map(str::len), Some(300), "torn item: {v}");
    assert_eq!(v["id"], "counter");
    assert!(v["_etag"].is_string(), "no etag: {v}");
    n
}

#[test]
fn if_match_counter_loses_no_update_and_readers_see_no_torn_item() {
    let (tmp, account, c) = setup();
    c.create_item(PK, &counter_doc(0)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let conflicts = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(WRITERS + READERS + 1));

    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (c, conflicts, start) = (c.clone(), conflicts.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..INCREMENTS_PER_WRITER {
                    loop {
                        let r = c.read_item::<Value>(PK, "counter").unwrap();
                        let cur = r.item.unwrap();
                        let n = check(&cur);
                        assert_eq!(cur["_etag"].as_str(), r.etag.as_deref());
                        let opts = ItemOptions {
                            if_match: r.etag.clone(),
                            ..ItemOptions::default()
                        };
                        // Replace and upsert honour If-Match alike.
                        let res = if i.is_multiple_of(2) {
                            c.replace_item_with(PK, &counter_doc(n + 1), &opts)
                        } else {
                            c.upsert_item_with(PK, &counter_doc(n + 1), &opts)
                        };
                        match res {
                            Ok(w) => {
                                assert_eq!(w.status_code, 200);
                                assert_ne!(w.etag, r.etag, "a replace must change the etag");
                                break;
                            }
                            Err(e) if e.status() == 412 => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("increment failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (c, done, start) = (c.clone(), done.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let (mut last, mut reads) = (0u64, 0u64);
                // Query reads too: the page must hold exactly one consistent item.
                while !done.load(Ordering::Acquire) {
                    let v = c.read_item::<Value>(PK, "counter").unwrap().item.unwrap();
                    let n = check(&v);
                    assert!(n >= last, "the counter went back from {last} to {n}");
                    last = n;
                    let page = c
                        .query_items("SELECT * FROM c WHERE c.id = 'counter'", &[], &Default::default())
                        .unwrap();
                    assert_eq!(page.items.len(), 1, "{:?}", page.items);
                    let n = check(&page.items[0]);
                    assert!(n >= last, "the counter went back from {last} to {n} (query)");
                    last = n;
                    reads += 2;
                }
                reads
            })
        })
        .collect();

    let maint = {
        let (account, done) = (account.clone(), done.clone());
        thread::spawn(move || {
            let mut rounds = 0u64;
            while !done.load(Ordering::Acquire) {
                account.flush().unwrap();
                account.compact().unwrap();
                rounds += 1;
            }
            rounds
        })
    };

    start.wait();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let rounds = maint.join().unwrap();

    let total = WRITERS as u64 * INCREMENTS_PER_WRITER;
    let v = c.read_item::<Value>(PK, "counter").unwrap().item.unwrap();
    assert_eq!(check(&v), total, "lost updates");
    eprintln!(
        "{total} increments, {} conflicts retried, {reads} consistent reads, {rounds} flush+compact rounds",
        conflicts.load(Ordering::Relaxed)
    );
    // And the exact count survives a close and reopen.
    drop((account, c));
    let account = Account::open(opts_in(tmp.path())).unwrap();
    let c = account.database("db").container("c");
    let v = c.read_item::<Value>(PK, "counter").unwrap().item.unwrap();
    assert_eq!(check(&v), total, "after reopen");
}

#[test]
fn racing_creates_and_if_match_deletes_have_exactly_one_winner() {
    let (_tmp, _account, c) = setup();
    const RACERS: usize = 6;
    for round in 0..10 {
        let id = format!("race-{round}");
        let start = Arc::new(Barrier::new(RACERS));
        let created: Vec<_> = (0..RACERS)
            .map(|t| {
                let (c, id, start) = (c.clone(), id.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    match c.create_item(PK, &json!({"id": id, "pk": PK, "by": t})) {
                        Ok(r) => {
                            assert_eq!(r.status_code, 201);
                            Some((t, r.etag.unwrap()))
                        }
                        Err(e) if e.status() == 409 => None,
                        Err(e) => panic!("create: {e}"),
                    }
                })
            })
            .collect();
        let winners: Vec<(usize, String)> = created.into_iter().filter_map(|h| h.join().unwrap()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let (by, etag) = winners[0].clone();
        let stored = c.read_item::<Value>(PK, &id).unwrap();
        assert_eq!(
            stored.item.unwrap()["by"],
            by,
            "the stored item is not the winner's"
        );
        assert_eq!(stored.etag.as_deref(), Some(etag.as_str()));

        let start = Arc::new(Barrier::new(RACERS));
        let deleted: Vec<_> = (0..RACERS)
            .map(|_| {
                let (c, id, etag, start) = (c.clone(), id.clone(), etag.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    let opts = ItemOptions {
                        if_match: Some(etag),
                        ..ItemOptions::default()
                    };
                    match c.delete_item_with(PK, &id, &opts) {
                        Ok(r) => {
                            assert_eq!(r.status_code, 204);
                            true
                        }
                        Err(e) if e.status() == 404 || e.status() == 412 => false,
                        Err(e) => panic!("delete: {e}"),
                    }
                })
            })
            .collect();
        let n = deleted
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(n, 1, "round {round}: {n} deletes succeeded");
        assert_eq!(c.read_item::<Value>(PK, &id).unwrap_err().status(), 404);
    }
}
