//! The change feed end to end: ordering, paging with continuation tokens, 304 on an empty read,
//! feed ranges per partition key, latest-version vs all-versions-and-deletes (TTL deletes
//! included), start from a time or from now, retention, LSNs that survive a reopen, concurrent
//! writers never skipped by a token, and charges. Wall clock is a `ManualWallClock`.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, ChangeFeedMode, ChangeFeedOptions, ChangeFeedStart, Container, ContainerOptions,
    Durability, ManualWallClock,
};

const T0: u64 = 1_800_000_000;

fn options(dir: &tempfile::TempDir, clock: &ManualWallClock) -> AccountOptions {
    AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()))
}

fn setup(ttl: Option<i64>, cmk: bool) -> (tempfile::TempDir, ManualWallClock, Account, Container) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let opts = options(&dir, &clock);
    let enc = common::encryption(&opts, cmk, "feedkey");
    let account = Account::create(opts, "acct", enc).unwrap();
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

fn opts(mode: ChangeFeedMode, start: ChangeFeedStart) -> ChangeFeedOptions {
    ChangeFeedOptions {
        mode,
        start,
        ..Default::default()
    }
}

/// Reads the feed to its end from `start`, page by page; returns the items and the final token.
fn drain(c: &Container, mut o: ChangeFeedOptions) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    loop {
        let page = c.read_change_feed(&o).unwrap();
        if page.status_code == 304 {
            assert!(page.items.is_empty());
            return (all, page.continuation);
        }
        assert_eq!(page.status_code, 200);
        assert!(!page.items.is_empty() && page.items.len() <= o.max_item_count);
        all.extend(page.items);
        o.start = ChangeFeedStart::Continuation(page.continuation);
    }
}

fn lsns(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .map(|v| {
            v.get("_lsn")
                .or_else(|| v["metadata"].get("lsn"))
                .and_then(Value::as_u64)
                .expect("an lsn")
        })
        .collect()
}

#[test]
fn latest_version_mode_orders_pages_and_answers_304_with_the_same_token() {
    let (_d, _clock, _a, c) = setup(None, false);
    for i in 0..25 {
        c.create_item(
            format!("p{}", i % 3),
            &json!({"id": format!("i{i}"), "pk": format!("p{}", i % 3), "v": 0}),
        )
        .unwrap();
    }
    // Update some items: they move to the end of the latest-version feed and appear once.
    for i in [3, 7] {
        c.upsert_item(
            format!("p{}", i % 3),
            &json!({"id": format!("i{i}"), "pk": format!("p{}", i % 3), "v": 1}),
        )
        .unwrap();
    }
    c.delete_item("p0", "i0").unwrap();

    let mut o = opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning);
    o.max_item_count = 4;
    let (items, token) = drain(&c, o.clone());
    let ids: Vec<&str> = items.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let mut want: Vec<String> = (1..25)
        .filter(|i| *i != 3 && *i != 7)
        .map(|i| format!("i{i}"))
        .collect();
    want.push("i3".into());
    want.push("i7".into());
    assert_eq!(
        ids, want,
        "each live item once, in LSN order, updated ones at their new place"
    );
    let l = lsns(&items);
    assert!(l.windows(2).all(|w| w[0] < w[1]), "LSNs increase: {l:?}");
    assert_eq!(items.last().unwrap()["v"], 1);

    // An empty read: 304, the same continuation, and a 1 RU charge.
    o.start = ChangeFeedStart::Continuation(token.clone());
    let empty = c.read_change_feed(&o).unwrap();
    assert_eq!(
        (empty.status_code, empty.continuation.as_str()),
        (304, token.as_str())
    );
    assert_eq!(empty.request_charge, 1.0);

    // New writes show up after the token, and only them.
    c.create_item("p1", &json!({"id": "late", "pk": "p1"})).unwrap();
    let page = c.read_change_feed(&o).unwrap();
    assert_eq!(page.status_code, 200);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["id"], "late");
}

#[test]
fn all_versions_mode_shows_every_change_with_metadata_and_feed_ranges_split_by_partition_key() {
    let (_d, _clock, _a, c) = setup(None, false);
    c.create_item("a", &json!({"id": "x", "pk": "a", "n": 1}))
        .unwrap();
    c.create_item("b", &json!({"id": "y", "pk": "b", "n": 1}))
        .unwrap();
    c.replace_item("a", &json!({"id": "x", "pk": "a", "n": 2}))
        .unwrap();
    c.delete_item("a", "x").unwrap();
    c.upsert_item("a", &json!({"id": "x", "pk": "a", "n": 3}))
        .unwrap();

    let (all, _) = drain(
        &c,
        opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
    );
    let ops: Vec<(&str, &str)> = all
        .iter()
        .map(|r| {
            (
                r["metadata"]["operationType"].as_str().unwrap(),
                r["metadata"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            ("create", "x"),
            ("create", "y"),
            ("replace", "x"),
            ("delete", "x"),
            ("create", "x")
        ]
    );
    let l = lsns(&all);
    assert!(l.windows(2).all(|w| w[0] < w[1]));
    // previousImageLSN links each replace/delete to the version it replaced.
    assert_eq!(all[2]["metadata"]["previousImageLSN"], l[0]);
    assert_eq!(all[3]["metadata"]["previousImageLSN"], l[2]);
    assert!(all[3].get("current").is_none(), "a delete has no current image");
    assert!(
        all[4]["metadata"].get("previousImageLSN").is_none(),
        "a re-create has no previous image"
    );
    assert_eq!(all[2]["current"]["n"], 2);
    assert_eq!(all[0]["metadata"]["crts"], T0);

    // Feed ranges: the partition "a" alone, in both modes.
    let mut o = opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning);
    o.partition_key = Some("a".into());
    let (only_a, token_a) = drain(&c, o.clone());
    assert_eq!(only_a.len(), 4);
    assert!(only_a.iter().all(|r| r["metadata"]["partitionKey"] == "a"));
    o.mode = ChangeFeedMode::LatestVersion;
    let (latest_a, _) = drain(&c, o.clone());
    assert_eq!(latest_a.len(), 1);
    assert_eq!(latest_a[0]["n"], 3);

    // A token is bound to its mode, container range and format.
    o.start = ChangeFeedStart::Continuation(token_a.clone());
    let err = c.read_change_feed(&o).unwrap_err();
    assert_eq!(err.status(), 400, "{err}");
    o.mode = ChangeFeedMode::AllVersionsAndDeletes;
    o.partition_key = Some("b".into());
    assert_eq!(c.read_change_feed(&o).unwrap_err().status(), 400);
    o.partition_key = None;
    o.start = ChangeFeedStart::Continuation("garbage".into());
    assert_eq!(c.read_change_feed(&o).unwrap_err().status(), 400);
    o.start = ChangeFeedStart::Beginning;
    o.max_item_count = 0;
    assert_eq!(c.read_change_feed(&o).unwrap_err().status(), 400);
}

#[test]
fn ttl_expiries_appear_as_deletes_once_and_leave_the_latest_feed() {
    let (_d, clock, _a, c) = setup(Some(100), false);
    c.create_item("p", &json!({"id": "short", "pk": "p", "ttl": 10}))
        .unwrap();
    c.create_item("p", &json!({"id": "long", "pk": "p"})).unwrap();
    clock.advance(11);
    let (latest, _) = drain(
        &c,
        opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning),
    );
    assert_eq!(
        latest.len(),
        1,
        "an expired item is absent from the latest-version feed"
    );
    assert_eq!(latest[0]["id"], "long");

    let (all, token) = drain(
        &c,
        opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
    );
    let deletes: Vec<&Value> = all
        .iter()
        .filter(|r| r["metadata"]["operationType"] == "delete")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0]["metadata"]["id"], "short");
    assert_eq!(deletes[0]["metadata"]["timeToLiveExpired"], true);
    // Reading again later records nothing new for the same expiry.
    clock.advance(5);
    let mut o = opts(
        ChangeFeedMode::AllVersionsAndDeletes,
        ChangeFeedStart::Continuation(token),
    );
    assert_eq!(c.read_change_feed(&o).unwrap().status_code, 304);
    // The other item expires by the default TTL.
    clock.advance(100);
    assert_eq!(c.remove_expired_items().unwrap(), 1);
    let page = c.read_change_feed(&o).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["metadata"]["id"], "long");
    assert_eq!(page.items[0]["metadata"]["timeToLiveExpired"], true);
    o.start = ChangeFeedStart::Continuation(page.continuation);
    assert_eq!(c.read_change_feed(&o).unwrap().status_code, 304);
}

/// A page is one lazy scan of the feed (and a TTL sweep one of the container): across a flushed
/// segment and the memtable, beside another container's feed, each page still stops at the right
/// record, a start from a time finds the first record at that time, and the sweep finds every
/// expired item, none of the other container's.
#[test]
fn streamed_pages_and_sweeps_span_segments_and_stop_at_the_container() {
    let (_d, clock, account, c) = setup(Some(1000), false);
    let other = account
        .database("db")
        .create_container_with(
            "other",
            "/pk",
            ContainerOptions {
                default_ttl: Some(1000),
                ..Default::default()
            },
        )
        .unwrap();
    let item = |i: u32| {
        let mut v = json!({"id": format!("i{i:03}"), "pk": format!("p{}", i % 5), "n": i});
        if i.is_multiple_of(3) {
            v["ttl"] = json!(100);
        }
        v
    };
    for i in 0..300 {
        let v = item(i);
        c.create_item(v["pk"].as_str().unwrap(), &v).unwrap();
        other.create_item(v["pk"].as_str().unwrap(), &v).unwrap();
    }
    account.flush().unwrap();
    clock.advance(60);
    for i in 300..600 {
        let v = item(i);
        c.create_item(v["pk"].as_str().unwrap(), &v).unwrap();
    }
    // Replace a few of the flushed items: their pointers move to the memtable.
    for i in (1..300).step_by(30) {
        let mut v = item(i);
        v["n"] = json!(i + 1000);
        c.upsert_item(v["pk"].as_str().unwrap(), &v).unwrap();
    }

    let mut o = opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning);
    o.max_item_count = 7;
    let (latest, _) = drain(&c, o);
    assert_eq!(
        latest.len(),
        600,
        "every item once, none of the other container's"
    );
    let l = lsns(&latest);
    assert!(l.windows(2).all(|w| w[0] < w[1]), "in LSN order across pages");
    let ids: std::collections::BTreeSet<&str> = latest.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 600);
    let replaced = latest.iter().filter(|v| v["n"].as_u64().unwrap() >= 1000).count();
    assert_eq!(replaced, 10, "replaced items at their newest version");

    let from_time = c
        .read_change_feed(&opts(
            ChangeFeedMode::AllVersionsAndDeletes,
            ChangeFeedStart::Time(T0 + 60),
        ))
        .unwrap();
    assert_eq!(from_time.items[0]["metadata"]["id"], "i300");
    assert_eq!(from_time.items[0]["metadata"]["lsn"], 301);

    assert_eq!(from_time.items[1]["metadata"]["id"], "i301");

    // Every third item expires, at T0 + 100 or T0 + 160 (none had for the reads above).
    clock.advance(101);
    assert_eq!(c.remove_expired_items().unwrap(), 200);
    assert_eq!(
        c.remove_expired_items().unwrap(),
        0,
        "each expiry is recorded once"
    );
    let (latest, _) = drain(
        &c,
        opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning),
    );
    assert_eq!(latest.len(), 400);
    assert!(latest
        .iter()
        .all(|v| v["n"].as_u64().unwrap() % 3 != 0 || v["n"].as_u64().unwrap() >= 1000));
    // The other container's items created at T0 with a ttl expired as well, and are its own.
    assert_eq!(other.remove_expired_items().unwrap(), 100);
}

#[test]
fn start_from_now_from_a_time_and_retention() {
    let (dir, clock, account, c) = setup(None, false);
    c.create_item("p", &json!({"id": "old", "pk": "p"})).unwrap();
    let now = c
        .read_change_feed(&opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Now))
        .unwrap();
    assert_eq!(now.status_code, 304);
    clock.advance(3600);
    c.create_item("p", &json!({"id": "new", "pk": "p"})).unwrap();
    let after_now = c
        .read_change_feed(&opts(
            ChangeFeedMode::LatestVersion,
            ChangeFeedStart::Continuation(now.continuation),
        ))
        .unwrap();
    assert_eq!(after_now.items.len(), 1);
    assert_eq!(after_now.items[0]["id"], "new");
    let from_time = c
        .read_change_feed(&opts(
            ChangeFeedMode::AllVersionsAndDeletes,
            ChangeFeedStart::Time(T0 + 60),
        ))
        .unwrap();
    assert_eq!(from_time.items.len(), 1);
    assert_eq!(from_time.items[0]["metadata"]["id"], "new");

    // Past the retention window the all-versions record of "old" is gone; the latest-version
    // feed still has the item (it is current), and compaction drops the old record for good.
    clock.advance(7 * 24 * 3600);
    let (all, _) = drain(
        &c,
        opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
    );
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["metadata"]["id"], "new");
    let (latest, _) = drain(
        &c,
        opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning),
    );
    assert_eq!(latest.len(), 2);
    account.compact().unwrap();
    let (all, _) = drain(
        &c,
        opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
    );
    assert_eq!(all.len(), 1);
    drop((c, account));

    // LSNs carry on after a reopen: a new write gets a larger LSN than any before.
    let account = Account::open(options(&dir, &clock)).unwrap();
    let c = account.database("db").container("c");
    let before = lsns(&latest).into_iter().max().unwrap();
    let r = c.create_item("p", &json!({"id": "reopened", "pk": "p"})).unwrap();
    assert!(
        r.item.unwrap().get("_lsn").is_none(),
        "_lsn is the feed's, not the item API's"
    );
    let (latest, _) = drain(
        &c,
        opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning),
    );
    assert_eq!(latest.last().unwrap()["id"], "reopened");
    assert!(lsns(&latest).into_iter().max().unwrap() > before);
}

#[test]
fn concurrent_writers_are_never_skipped_by_a_reader_that_tails_the_feed() {
    let (_d, _clock, _a, c) = setup(None, false);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..150 {
                    let pk = format!("w{w}");
                    c.upsert_item(
                        pk.clone(),
                        &json!({"id": format!("{w}-{}", i % 40), "pk": pk, "i": i}),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    // Tail the all-versions feed while the writers run; every record must arrive exactly once.
    let mut seen: BTreeMap<u64, Value> = BTreeMap::new();
    let mut o = opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning);
    o.max_item_count = 7;
    let mut done = false;
    loop {
        let finished = writers.iter().all(|w| w.is_finished());
        let page = c.read_change_feed(&o).unwrap();
        for r in &page.items {
            let lsn = r["metadata"]["lsn"].as_u64().unwrap();
            assert!(seen.insert(lsn, r.clone()).is_none(), "lsn {lsn} returned twice");
        }
        o.start = ChangeFeedStart::Continuation(page.continuation);
        if done && page.status_code == 304 {
            break;
        }
        done = finished;
    }
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(seen.len(), 4 * 150, "every write reached the tailing reader");
}

#[test]
fn customer_key_accounts_charge_the_feed_surcharge() {
    let (_d1, _c1, _a1, smk) = setup(None, false);
    let (_d2, _c2, _a2, cmk) = setup(None, true);
    for c in [&smk, &cmk] {
        for i in 0..10 {
            c.create_item(
                "p",
                &json!({"id": format!("i{i}"), "pk": "p", "pad": "x".repeat(300)}),
            )
            .unwrap();
        }
    }
    let read = |c: &Container| {
        c.read_change_feed(&opts(ChangeFeedMode::LatestVersion, ChangeFeedStart::Beginning))
            .unwrap()
            .request_charge
    };
    assert_eq!(read(&smk), 10.0, "ten items under 1 KB: ten point reads");
    assert_eq!(read(&cmk), 11.5, "+15% with a customer key");
}

/// Every version's image in the all-versions feed, while it is the newest (read from the item),
/// once superseded by a replace or a delete (read from its image key), across a compaction and a
/// reopen; in SMK and CMK accounts.
#[test]
fn every_version_keeps_its_image_after_replaces_deletes_compaction_and_reopen() {
    for cmk in [false, true] {
        let (dir, clock, account, c) = setup(None, cmk);
        let body = |id: &str, v: u64| json!({"id": id, "pk": "p", "v": v, "text": format!("{id}-{v}")});
        // a: created, replaced twice, deleted. b: created only. c: created, replaced.
        c.create_item("p", &body("a", 1)).unwrap();
        c.create_item("p", &body("b", 1)).unwrap();
        c.replace_item("p", &body("a", 2)).unwrap();
        c.create_item("p", &body("c", 1)).unwrap();
        account.flush().unwrap();
        c.replace_item("p", &body("a", 3)).unwrap();
        c.replace_item("p", &body("c", 2)).unwrap();
        c.delete_item("p", "a").unwrap();
        let expected = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("a", 3), ("c", 2)];
        let check = |c: &Container, when: &str| {
            let (all, _) = drain(
                c,
                opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
            );
            let images: Vec<(String, u64)> = all
                .iter()
                .filter(|r| r["metadata"]["operationType"] != "delete")
                .map(|r| {
                    let cur = &r["current"];
                    assert_eq!(
                        cur["_lsn"], r["metadata"]["lsn"],
                        "{when}: the image is of that version"
                    );
                    (
                        cur["id"].as_str().unwrap().to_string(),
                        cur["v"].as_u64().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(String, u64)> = expected.iter().map(|(i, v)| (i.to_string(), *v)).collect();
            assert_eq!(images, want, "{when} (cmk {cmk})");
            assert_eq!(all.len(), 7, "{when}: six versions and one delete");
            assert!(all[6].get("current").is_none());
        };
        check(&c, "before compaction");
        account.compact().unwrap();
        check(&c, "after compaction");
        drop((c, account));
        let account = Account::open(options(&dir, &clock)).unwrap();
        let c = account.database("db").container("c");
        check(&c, "after reopen");
        // Past the retention window the superseded images go with their records.
        clock.advance(7 * 24 * 3600 + 1);
        account.compact().unwrap();
        let (all, _) = drain(
            &c,
            opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning),
        );
        assert!(all.is_empty(), "{all:?}");
        assert_eq!(c.read_item::<Value>("p", "b").unwrap().item.unwrap()["v"], 1);
    }
}

/// A reader of the all-versions feed racing writers that replace the same items: every create
/// and replace record comes with the image of its own version, even when a replace supersedes
/// it between the read of the record and the read of the item.
#[test]
fn a_reader_racing_replaces_always_gets_the_image_of_each_version() {
    let (_d, _clock, _a, c) = setup(None, false);
    for i in 0..8 {
        c.create_item("p", &json!({"id": format!("i{i}"), "pk": "p", "v": 0}))
            .unwrap();
    }
    let writer = {
        let c = c.clone();
        std::thread::spawn(move || {
            for v in 1..=150u64 {
                for i in 0..8 {
                    c.replace_item("p", &json!({"id": format!("i{i}"), "pk": "p", "v": v}))
                        .unwrap();
                }
            }
        })
    };
    let mut seen = 0;
    let mut o = opts(ChangeFeedMode::AllVersionsAndDeletes, ChangeFeedStart::Beginning);
    o.max_item_count = 7;
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let done = writer.is_finished();
        let page = c.read_change_feed(&o).unwrap();
        for r in &page.items {
            let cur = &r["current"];
            assert_eq!(cur["_lsn"], r["metadata"]["lsn"], "{r}");
            let id = cur["id"].as_str().unwrap().to_string();
            let v = cur["v"].as_u64().unwrap();
            // Versions of one item come in order, each once.
            let last = versions.insert(id, v);
            assert!(last.is_none_or(|l| l + 1 == v), "{last:?} then {v}");
            seen += 1;
        }
        o.start = ChangeFeedStart::Continuation(page.continuation);
        if done && page.status_code == 304 {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(seen, 8 * 151);
}

/// Creates store each body once (the all-versions record holds metadata; the item's key holds
/// the image until a write supersedes it): incompressible 8 KiB bodies take about their own
/// size on disk after a full compaction, not twice.
#[test]
fn a_create_stores_its_body_once() {
    let (dir, _clock, account, c) = setup(None, false);
    let n = 300usize;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        let noise: String = (0..8192)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'!' + (seed % 90) as u8)
            })
            .collect();
        c.create_item("p", &json!({"id": format!("n{i}"), "pk": "p", "noise": noise}))
            .unwrap();
    }
    account.compact().unwrap();
    let seg_bytes: u64 = common::files_under(&dir.path().join("data"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let body_bytes = (n * 8192) as u64;
    assert!(
        seg_bytes < body_bytes * 13 / 10,
        "segments hold {seg_bytes} bytes for {body_bytes} bytes of bodies"
    );
    assert!(
        seg_bytes > body_bytes * 7 / 10,
        "{seg_bytes}: the bodies are incompressible"
    );
}
