//! Query paging, partition scoping and charges through `Container::query_items`: pages never
//! exceed the limit and concatenate to the full result; continuation tokens are bound to their
//! query; a partition key (given, or pinned by WHERE) scans one partition; the RU charge follows
//! docs/ru-model.md (about 1 RU per 1 KB item returned, +15 % with a customer-managed key).

use crate::common;

use serde_json::{json, Value};
use strata::{Account, AccountOptions, Container, Encryption, PartitionKey, QueryOptions};

fn account(cmk: bool) -> (tempfile::TempDir, Account) {
    let dir = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    let enc = if cmk {
        common::encryption(&opts, true, "qkey")
    } else {
        Encryption::ServiceManaged
    };
    let account = Account::create(opts, "acct", enc).unwrap();
    (dir, account)
}

/// An empty container `db/c` partitioned on `/pk`, default indexing policy.
fn empty() -> (tempfile::TempDir, Container) {
    let (dir, account) = account(false);
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    (dir, c)
}

/// `n` items `{"id": "i0007", "pk": "p<k % 5>", "n": k}` in five partitions.
fn filled(n: usize) -> (tempfile::TempDir, Container) {
    let (dir, c) = empty();
    for k in 0..n {
        let pk = format!("p{}", k % 5);
        c.create_item(pk.as_str(), &json!({"id": format!("i{k:04}"), "pk": pk, "n": k}))
            .unwrap();
    }
    (dir, c)
}

/// Query parameters as `query_items` takes them.
type Params = Vec<(String, Value)>;

fn opts(max: Option<usize>, continuation: Option<String>) -> QueryOptions {
    QueryOptions {
        max_item_count: max,
        continuation,
        ..QueryOptions::default()
    }
}

/// Every page of `sql`, following continuations.
fn pages(c: &Container, sql: &str, params: &[(String, Value)], max: Option<usize>) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = c.query_items(sql, params, &opts(max, token)).unwrap();
        assert_eq!(r.status_code, 200);
        out.push(r.items);
        match r.continuation {
            Some(t) => token = Some(t),
            None => return out,
        }
        assert!(out.len() < 1000, "paging does not end");
    }
}

#[test]
fn pages_respect_the_limit_and_concatenate() {
    let (_dir, c) = filled(250);
    for (sql, max) in [
        ("SELECT * FROM c", Some(100)),
        ("SELECT VALUE c.n FROM c ORDER BY c.n DESC", Some(7)),
        ("SELECT c.id FROM c WHERE c.n % 3 = 0", Some(1)),
        ("SELECT DISTINCT VALUE c.pk FROM c", Some(2)),
        ("SELECT c.pk, COUNT(1) AS n FROM c GROUP BY c.pk", Some(3)),
        (
            "SELECT VALUE c.n FROM c ORDER BY c.n OFFSET 10 LIMIT 45",
            Some(10),
        ),
    ] {
        let whole = c.query_items(sql, &[], &opts(Some(10_000), None)).unwrap();
        assert!(whole.continuation.is_none());
        let got = pages(&c, sql, &[], max);
        let limit = max.unwrap_or(100);
        assert!(got.iter().all(|p| p.len() <= limit), "{sql}");
        assert!(
            got.iter().rev().skip(1).all(|p| p.len() == limit),
            "{sql}: only the last page is short"
        );
        let joined: Vec<Value> = got.into_iter().flatten().collect();
        assert_eq!(joined, whole.items, "{sql}");
    }
    assert_eq!(
        pages(&c, "SELECT * FROM c", &[], Some(100))
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        [100, 100, 50]
    );
    assert_eq!(
        pages(&c, "SELECT VALUE c.n FROM c ORDER BY c.n", &[], Some(1000))[0].len(),
        250
    );
}

#[test]
fn default_page_is_100_and_empty_results_have_no_token() {
    let (_dir, c) = filled(150);
    let r = c
        .query_items("SELECT * FROM c", &[], &QueryOptions::default())
        .unwrap();
    assert_eq!(r.items.len(), strata::DEFAULT_MAX_ITEM_COUNT);
    assert!(r.continuation.is_some());
    let r = c
        .query_items("SELECT * FROM c WHERE c.n > 1000", &[], &QueryOptions::default())
        .unwrap();
    assert!(r.items.is_empty() && r.continuation.is_none());
    // An exact multiple ends without an empty extra page.
    assert_eq!(pages(&c, "SELECT * FROM c", &[], Some(50)).len(), 3);
}

#[test]
fn bad_continuations_are_400() {
    let (dir, c) = filled(30);
    let first = c
        .query_items("SELECT * FROM c", &[], &opts(Some(10), None))
        .unwrap();
    let token = first.continuation.unwrap();
    let p = |k: &str, v: Value| vec![(k.to_string(), v)];
    let second = c
        .query_items("SELECT * FROM c", &[], &opts(Some(10), Some(token.clone())))
        .unwrap();
    assert_eq!(second.items.len(), 10);
    // The page size may change between pages.
    let bigger = c
        .query_items("SELECT * FROM c", &[], &opts(Some(100), Some(token.clone())))
        .unwrap();
    assert_eq!(bigger.items.len(), 20);
    let bad: Vec<(&str, Params, QueryOptions)> = vec![
        ("SELECT * FROM c", vec![], opts(None, Some("garbage".into()))),
        ("SELECT * FROM c", vec![], opts(None, Some("7b7d".into()))),
        ("SELECT * FROM c", vec![], opts(None, Some(String::new()))),
        ("SELECT * FROM c", vec![], opts(None, Some(format!("{token}00")))),
        (
            "SELECT * FROM c WHERE true",
            vec![],
            opts(None, Some(token.clone())),
        ),
        (
            "SELECT * FROM c WHERE c.n >= @n",
            p("@n", json!(0)),
            opts(None, Some(token.clone())),
        ),
        (
            "SELECT * FROM c",
            vec![],
            QueryOptions {
                partition_key: Some("p1".into()),
                continuation: Some(token.clone()),
                ..QueryOptions::default()
            },
        ),
        ("SELECT * FROM c", vec![], opts(Some(0), None)),
    ];
    for (sql, params, o) in bad {
        let e = c.query_items(sql, &params, &o).unwrap_err();
        assert_eq!(e.status(), 400, "{sql} {o:?}: {e}");
    }
    // A query computed whole (DISTINCT) pages from its spill: the data shrinking since does
    // not change its pages. Once its spill is gone, its token is an offset into the result
    // computed again, and an offset past the end (the data shrank since) is a 400 that says
    // to start again; a position token resumes at its key whatever happened, here on an empty
    // last page.
    let sorted = "SELECT DISTINCT VALUE c.n FROM c";
    let offset_token = c
        .query_items(sorted, &[], &opts(Some(10), None))
        .unwrap()
        .continuation
        .unwrap();
    for k in 0..30 {
        c.delete_item(format!("p{}", k % 5), &format!("i{k:04}")).unwrap();
    }
    let snapshot = c
        .query_items(sorted, &[], &opts(Some(10), Some(offset_token.clone())))
        .unwrap();
    assert_eq!(snapshot.items.len(), 10, "the first page's snapshot");
    for spill in std::fs::read_dir(dir.path().join("data/tmp/query")).unwrap() {
        std::fs::remove_file(spill.unwrap().path()).unwrap();
    }
    let e = c
        .query_items(sorted, &[], &opts(Some(10), snapshot.continuation))
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("again"), "{e}");
    let after = c
        .query_items("SELECT * FROM c", &[], &opts(Some(10), Some(token)))
        .unwrap();
    assert!(after.items.is_empty() && after.continuation.is_none());
}

#[test]
fn partition_key_scopes_the_scan() {
    let (_dir, c) = filled(100);
    let with_pk = QueryOptions {
        partition_key: Some(PartitionKey::from("p2")),
        max_item_count: Some(1000),
        ..QueryOptions::default()
    };
    let scoped = c.query_items("SELECT VALUE c.n FROM c", &[], &with_pk).unwrap();
    let mut ns: Vec<u64> = scoped.items.iter().filter_map(Value::as_u64).collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..100).filter(|k| k % 5 == 2).collect::<Vec<u64>>());
    // The WHERE clause pins the same partition (by literal or parameter): same items, same charge.
    let full = opts(Some(1000), None);
    let pinned = c
        .query_items("SELECT VALUE c.n FROM c WHERE c.pk = 'p2'", &[], &full)
        .unwrap();
    let by_param = c
        .query_items(
            "SELECT VALUE c.n FROM c WHERE c.n >= 0 AND c.pk = @p",
            &[("@p".to_string(), json!("p2"))],
            &full,
        )
        .unwrap();
    let unpinned = c
        .query_items(
            "SELECT VALUE c.n FROM c WHERE c.pk = 'p2' OR c.pk = 'none'",
            &[],
            &QueryOptions {
                force_full_scan: true,
                ..full.clone()
            },
        )
        .unwrap();
    assert_eq!(pinned.items, scoped.items);
    assert_eq!(by_param.items, scoped.items);
    // Through the index, the pinned query also pays for the 20 entries of /pk = "p2" it reads.
    assert_eq!(pinned.request_charge, round2(scoped.request_charge + 20.0 * 0.01));
    let mut a = unpinned.items.clone();
    a.sort_by_key(Value::to_string);
    let mut b = scoped.items.clone();
    b.sort_by_key(Value::to_string);
    assert_eq!(a, b);
    // Only one partition was loaded: a fifth of the full scan's load charge.
    assert!(
        unpinned.request_charge > pinned.request_charge + 10.0,
        "{} vs {}",
        unpinned.request_charge,
        pinned.request_charge
    );
    // A partition key and a WHERE clause for another partition: nothing.
    let other = c
        .query_items("SELECT * FROM c WHERE c.pk = 'p3'", &[], &with_pk)
        .unwrap();
    assert!(other.items.is_empty());
    // A partition that does not exist: empty, 200.
    let none = QueryOptions {
        partition_key: Some(PartitionKey::from("nope")),
        ..QueryOptions::default()
    };
    let r = c.query_items("SELECT * FROM c", &[], &none).unwrap();
    assert_eq!((r.status_code, r.items.len()), (200, 0));
}

/// A 1,000-item container whose stored items are 1,024 bytes each (system properties included).
fn kilobyte_items(cmk: bool) -> (tempfile::TempDir, Container) {
    let (dir, account) = account(cmk);
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    let probe = c
        .create_item("p", &json!({"id": "probe", "pk": "p", "pad": ""}))
        .unwrap()
        .item
        .unwrap();
    let overhead = serde_json::to_vec(&probe).unwrap().len() - "probe".len();
    c.delete_item("p", "probe").unwrap();
    for k in 0..1000 {
        let id = format!("k{k:04}");
        let pad = "x".repeat(1024 - overhead - id.len());
        let stored = c
            .create_item("p", &json!({"id": id, "pk": "p", "pad": pad}))
            .unwrap()
            .item
            .unwrap();
        assert_eq!(serde_json::to_vec(&stored).unwrap().len(), 1024);
    }
    (dir, c)
}

#[test]
fn charges_about_one_ru_per_kilobyte_item() {
    let (_dir, c) = kilobyte_items(false);
    let all = c
        .query_items("SELECT * FROM c", &[], &opts(Some(1000), None))
        .unwrap();
    assert_eq!(all.items.len(), 1000);
    // 2.3 + 1000 × 0.5 (load) + 1000 × 0.5 (1 KiB returned each).
    assert_eq!(all.request_charge, 1002.3);
    // Paged: the load is shared among the pages; each page adds the base charge.
    let paged: f64 = (0..10)
        .scan(None, |token: &mut Option<String>, _| {
            let r = c
                .query_items("SELECT * FROM c", &[], &opts(Some(100), token.clone()))
                .unwrap();
            *token = r.continuation;
            Some(r.request_charge)
        })
        .sum();
    assert!((paged - (1000.0 + 10.0 * 2.3)).abs() < 0.1, "{paged}");
    // A filter that returns nothing still pays for loading every item it reads: all of them
    // in a full scan, none when the index answers (no entry matches).
    let none = |force_full_scan| {
        c.query_items(
            "SELECT * FROM c WHERE c.id = 'nope'",
            &[],
            &QueryOptions {
                force_full_scan,
                ..QueryOptions::default()
            },
        )
        .unwrap()
        .request_charge
    };
    assert_eq!(none(true), 502.3);
    assert_eq!(none(false), 2.3);
    // Small projections cost less than whole items.
    let ids = c
        .query_items("SELECT VALUE c.id FROM c", &[], &opts(Some(1000), None))
        .unwrap();
    assert!(ids.request_charge < 520.0, "{}", ids.request_charge);
    // Deterministic.
    let again = c
        .query_items("SELECT * FROM c", &[], &opts(Some(1000), None))
        .unwrap();
    assert_eq!(again.request_charge, all.request_charge);
}

#[test]
fn customer_managed_key_adds_fifteen_percent() {
    let (_dir, c) = kilobyte_items(true);
    let all = c
        .query_items("SELECT * FROM c", &[], &opts(Some(1000), None))
        .unwrap();
    assert_eq!(all.items.len(), 1000);
    assert!(
        (all.request_charge - 1002.3 * 1.15).abs() < 0.01,
        "{}",
        all.request_charge
    );
}

#[test]
fn pinned_scans_return_what_full_scans_return() {
    let (_dir, account) = account(false);
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    // Every kind of partition-key value, including none (the path missing).
    let values = [
        json!("a"),
        json!("b"),
        json!(1),
        json!(1.5),
        json!(true),
        json!(false),
        json!(null),
    ];
    for k in 0..40 {
        let id = format!("d{k}");
        let n = k % 7;
        match values.get(k % 8) {
            Some(v) => {
                let pk = PartitionKey::from_json(v).unwrap();
                c.create_item(pk, &json!({"id": id, "pk": v, "n": n})).unwrap();
            }
            None => {
                c.create_item(PartitionKey::None, &json!({"id": id, "n": n}))
                    .unwrap();
            }
        };
    }
    let all = opts(Some(1000), None);
    let literals = [
        "'a'", "'b'", "1", "1.0", "1.5", "true", "false", "null", "'zzz'", "[1]",
    ];
    let mut pinned_any = false;
    for lit in literals {
        for extra in ["", " AND c.n > 2", " AND c.n < 0"] {
            let pinned = format!("SELECT VALUE c.id FROM c WHERE c.pk = {lit}{extra}");
            // The same condition behind `OR false` is not pinned: a cross-partition scan.
            let full = format!("SELECT VALUE c.id FROM c WHERE (c.pk = {lit} OR false){extra}");
            let a = c.query_items(&pinned, &[], &all).unwrap();
            let b = c.query_items(&full, &[], &all).unwrap();
            let mut x = a.items.clone();
            let mut y = b.items.clone();
            x.sort_by_key(Value::to_string);
            y.sort_by_key(Value::to_string);
            assert_eq!(x, y, "{pinned}");
            pinned_any |= a.request_charge < b.request_charge;
        }
    }
    assert!(pinned_any, "no query was served by a partition scan");
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[test]
fn a_page_never_holds_more_than_four_mebibytes_of_results() {
    let (_dir, c) = filled(0);
    for k in 0..3 {
        let item = json!({"id": format!("big{k}"), "pk": "p0", "n": k, "blob": "z".repeat(1_500_000)});
        c.create_item("p0", &item).unwrap();
    }
    let first = c
        .query_items("SELECT * FROM c WHERE c.n >= 0", &[], &opts(Some(100), None))
        .unwrap();
    let bytes: usize = first.items.iter().map(|v| v.to_string().len()).sum();
    assert_eq!(first.items.len(), 2, "a third 1.5 MB item would pass 4 MiB");
    assert!(bytes <= strata::MAX_PAGE_BYTES, "{bytes}");
    let second = c
        .query_items(
            "SELECT * FROM c WHERE c.n >= 0",
            &[],
            &opts(Some(100), first.continuation),
        )
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert!(second.continuation.is_none());
}

/// A change made between two pages of the model test.
#[derive(Clone, Debug)]
enum Change {
    Create(u16),
    Delete(usize),
    Replace(usize),
}

/// Items whose sort value `v` exercises the index's encoding: undefined, null, booleans, numbers
/// that share a double (beyond 2^53) or a key (0 and -0), strings longer than the 512 bytes an
/// entry keeps, arrays and objects (indexed by their type alone); and JOIN rows.
fn tricky_values() -> (tempfile::TempDir, Container) {
    let (dir, c) = empty();
    let long = "x".repeat(600);
    let values = [
        None,
        Some(json!(null)),
        Some(json!(false)),
        Some(json!(true)),
        Some(json!(9_007_199_254_740_993u64)),
        Some(json!(9_007_199_254_740_992u64)),
        Some(json!(-0.0)),
        Some(json!(0)),
        Some(json!(2.5)),
        Some(json!(-7)),
        Some(json!(format!("{long}b"))),
        Some(json!(format!("{long}a"))),
        Some(json!("b")),
        Some(json!("")),
        Some(json!("x")),
        Some(json!([2, 1])),
        Some(json!([1])),
        Some(json!({"z": 1})),
        Some(json!({"a": 2})),
    ];
    for k in 0..57usize {
        let pk = format!("p{}", k % 3);
        let mut item = json!({"id": format!("i{k:03}"), "pk": pk, "k": k % 4,
                              "tags": (0..k % 3).map(|t| format!("t{t}")).collect::<Vec<_>>()});
        if let Some(v) = &values[(k * 7) % values.len()] {
            item["v"] = v.clone();
        }
        c.create_item(pk.as_str(), &item).unwrap();
    }
    (dir, c)
}

/// ORDER BY on an indexed path is read in index order a page at a time; at every page size its
/// pages concatenate to the unpaged result of a full scan sorted in memory, whatever the types,
/// including values the index cannot tell apart, and items without the path.
#[test]
fn ordered_pages_equal_the_sorted_full_scan() {
    let (_dir, c) = tricky_values();
    let streamed = [
        "SELECT c.id, c.v FROM c ORDER BY c.v",
        "SELECT c.id, c.v FROM c ORDER BY c.v DESC",
        "SELECT VALUE c.id FROM c ORDER BY c.v DESC OFFSET 5 LIMIT 20",
        "SELECT TOP 13 c.id FROM c ORDER BY c.v",
        "SELECT c.id, t FROM c JOIN t IN c.tags ORDER BY c.v DESC",
        "SELECT c.id, t FROM c JOIN t IN c.tags WHERE t != 't0' ORDER BY c.v",
        "SELECT VALUE c.id FROM c WHERE c.v > 0 ORDER BY c.v DESC",
        "SELECT VALUE c.id FROM c WHERE c.v IN (0, 'b', true, 'x') ORDER BY c.v",
        "SELECT VALUE c.id FROM c WHERE STARTSWITH(c.v, 'x') ORDER BY c.v DESC",
        "SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.v) ORDER BY c.v",
        "SELECT VALUE c.id FROM c WHERE c.id != 'i004' ORDER BY c.id DESC",
    ];
    // A lookup on another path (the partition key's too) is used, and its items sorted.
    let in_memory = [
        "SELECT VALUE [c.id, c.v] FROM c WHERE c.pk = 'p1' ORDER BY c.v",
        "SELECT VALUE c.id FROM c WHERE c.k = 3 ORDER BY c.v",
        "SELECT DISTINCT VALUE c.k FROM c ORDER BY c.k",
        "SELECT VALUE c.id FROM c ORDER BY c.tags[0]",
    ];
    for sql in streamed.iter().chain(&in_memory) {
        let plan = c.explain_query(sql, &[], &QueryOptions::default()).unwrap();
        assert_eq!(
            plan["orderStreamed"],
            json!(streamed.contains(sql)),
            "{sql}: {plan}"
        );
        let full = QueryOptions {
            max_item_count: Some(10_000),
            force_full_scan: true,
            ..QueryOptions::default()
        };
        let whole = c.query_items(sql, &[], &full).unwrap();
        assert!(whole.continuation.is_none());
        assert!(!whole.items.is_empty(), "{sql}: the case should return something");
        for max in [1, 3, 7, 1000] {
            let joined: Vec<Value> = pages(&c, sql, &[], Some(max)).into_iter().flatten().collect();
            assert_eq!(joined, whole.items, "{sql} at {max} a page");
        }
    }
}

/// Through the index, every full page of an ordered query reads the same (the page's items and
/// its entry, and one entry more): page 50 costs what page 1 costs (to the item sizes). Without a condition on the sort path, the
/// items that lack it are found by a scan of the scope: on page 1 ascending (they sort first),
/// after the last value descending (here an extra, empty page).
#[test]
fn ordered_pages_cost_the_same_deep_in_the_result() {
    let (_dir, c) = filled(250);
    let charges = |sql: &str| -> Vec<f64> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let r = c.query_items(sql, &[], &opts(Some(5), token)).unwrap();
            out.push(r.request_charge);
            match r.continuation {
                Some(t) => token = Some(t),
                None => return out,
            }
        }
    };
    for sql in [
        "SELECT * FROM c WHERE IS_DEFINED(c.n) ORDER BY c.n",
        "SELECT * FROM c WHERE c.n >= 0 ORDER BY c.n",
        "SELECT * FROM c WHERE c.n >= 0 ORDER BY c.n DESC",
    ] {
        let got = charges(sql);
        assert_eq!(got.len(), 50, "{sql}");
        assert!(got.iter().all(|x| (x - got[0]).abs() < 0.025), "{sql}: {got:?}");
    }
    let desc = charges("SELECT * FROM c ORDER BY c.n DESC");
    assert_eq!(desc.len(), 51);
    assert!(desc[..50].iter().all(|x| (x - desc[0]).abs() < 0.025), "{desc:?}");
    assert!(desc[50] > desc[0], "the scan for undefined values: {desc:?}");
    let asc = charges("SELECT * FROM c ORDER BY c.n");
    assert_eq!(asc.len(), 50);
    assert!(asc[49] <= asc[0] && asc[1] < asc[0], "{asc:?}");
    assert!(asc[1..].iter().all(|x| (x - asc[1]).abs() < 0.025), "{asc:?}");
}

/// Equality lookups are read as the page pulls: a TOP or a page over many matches reads and
/// pays for what it returns (to one entry of look-ahead), whatever the number of matches, and
/// page 40 costs what page 1 costs. The pages, with and without a partition key, with an `IN`
/// list and with an array that holds two of the values (proposed once), equal a full scan's.
/// The charges of `top3` and of `top300` (the same query with TOP 300): they return 3 and 300
/// items, and the larger costs more than twenty times the smaller (each reads what it returns).
fn top_charges(c: &Container, top3: &str, top300: &str) -> f64 {
    let charge = |sql: &str| {
        let r = c.query_items(sql, &[], &opts(Some(1000), None)).unwrap();
        (r.request_charge, r.items.len())
    };
    let ((small, n), (large, m)) = (charge(top3), charge(top300));
    assert_eq!((n, m), (3, 300));
    assert!(
        large > 20.0 * small,
        "TOP 300 {large} RU against TOP 3 {small} RU"
    );
    small
}

/// The charges of the first 40 pages of 10 of `sql`, each full; it returns the last page's
/// token too. They are all the same: a deep page costs what the first costs.
fn forty_page_charges(c: &Container, sql: &str) -> (Vec<f64>, Option<String>) {
    let mut token = None;
    let mut costs = Vec::new();
    for _ in 0..40 {
        let r = c.query_items(sql, &[], &opts(Some(10), token)).unwrap();
        assert_eq!(r.items.len(), 10);
        costs.push(r.request_charge);
        token = r.continuation;
    }
    assert!(costs.iter().all(|x| (x - costs[0]).abs() < 0.05), "{costs:?}");
    (costs, token)
}

#[test]
fn equality_lookups_stream_and_charge_per_page() {
    let (_dir, c) = empty();
    for k in 0..2000usize {
        let pk = format!("p{}", k % 5);
        let carrier = ["UA", "AA", "DL", "WN"][k % 4];
        let tags = match k % 3 {
            0 => json!(["a", "b"]),
            1 => json!(["b"]),
            _ => json!(["c"]),
        };
        c.create_item(
            pk.as_str(),
            &json!({"id": format!("i{k:04}"), "pk": pk, "carrier": carrier, "tags": tags, "n": k}),
        )
        .unwrap();
    }
    // 500 items match; TOP 3 reads 3 of them (and one entry more), not 500.
    let top3 = top_charges(
        &c,
        "SELECT TOP 3 c.id FROM c WHERE c.carrier = 'UA'",
        "SELECT TOP 300 c.id FROM c WHERE c.carrier = 'UA'",
    );
    assert!(top3 < 5.0, "TOP 3 of 500 matches is charged {top3} RU");
    // Page 40 of 10 costs what page 1 costs.
    forty_page_charges(&c, "SELECT * FROM c WHERE c.carrier = 'AA'");
    let full = |sql: &str, pk: Option<&str>| full_scan(&c, sql, pk);
    for sql in [
        "SELECT c.id FROM c WHERE c.carrier = 'DL'",
        "SELECT c.id FROM c WHERE c.carrier IN ('DL', 'WN', 'XX')",
        "SELECT c.id FROM c WHERE c.carrier = 'UA' OR c.carrier = 'AA'",
        "SELECT c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 'a') OR ARRAY_CONTAINS(c.tags, 'b')",
        "SELECT VALUE COUNT(1) FROM c WHERE c.carrier = 'WN'",
    ] {
        for pk in [None, Some("p3")] {
            let want = full(sql, pk);
            assert!(!want.is_empty(), "{sql}");
            for max in [1, 7, 1000] {
                assert_eq!(all_pages(&c, sql, pk, max), want, "{sql} {pk:?} pages of {max}");
            }
        }
    }
}

/// The whole result of `sql` (in partition `pk` when given) read as a full scan, in one page.
fn full_scan(c: &Container, sql: &str, pk: Option<&str>) -> Vec<Value> {
    let o = QueryOptions {
        force_full_scan: true,
        partition_key: pk.map(PartitionKey::from),
        max_item_count: Some(5000),
        ..QueryOptions::default()
    };
    c.query_items(sql, &[], &o).unwrap().items
}

/// Every page of `sql` at `max` a page (in partition `pk` when given), concatenated.
fn all_pages(c: &Container, sql: &str, pk: Option<&str>, max: usize) -> Vec<Value> {
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let o = QueryOptions {
            partition_key: pk.map(PartitionKey::from),
            ..opts(Some(max), token)
        };
        let r = c.query_items(sql, &[], &o).unwrap();
        assert!(r.items.len() <= max, "{sql}");
        got.extend(r.items);
        match r.continuation {
            Some(t) => token = Some(t),
            None => return got,
        }
    }
}

fn multiset(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(Value::to_string);
    v
}

/// Range, prefix and `IS_DEFINED` lookups (and ORs of them on one path, and `IN` lists too long
/// to merge in key order) stream in index order: a TOP reads about its matches, a deep page
/// costs what the first costs, and pages, in the container or one partition, at any size,
/// concatenate to the one-page result, which holds the full scan's items (each item once, also
/// through a path under arrays that gives an item several matching entries).
#[test]
fn range_lookups_stream_in_index_order() {
    let (_dir, c) = empty();
    for k in 0..2000usize {
        let pk = format!("p{}", k % 5);
        let mut item = json!({
            "id": format!("i{k:04}"), "pk": pk, "n": (k * 7919) % 2000,
            "s": format!("s{:03}", k % 300), "tags": [k % 10, (k + 3) % 10, 20],
        });
        if k % 2 == 0 {
            item["o"] = json!({"x": k});
        }
        c.create_item(pk.as_str(), &item).unwrap();
    }
    // 1,899 items match; TOP 3 reads three entries and items (and one entry more), where
    // reading every matching entry alone would be 19 RU.
    let top3 = top_charges(
        &c,
        "SELECT TOP 3 c.id FROM c WHERE c.n > 100",
        "SELECT TOP 300 c.id FROM c WHERE c.n > 100",
    );
    assert!(top3 < 6.0, "TOP 3 of 1,899 range matches is charged {top3} RU");
    // Page 40 of 10 costs what page 1 costs, and that is not the 20 RU of reading every entry.
    let (costs, token) = forty_page_charges(&c, "SELECT * FROM c WHERE c.n >= 0");
    assert!(costs[0] < 10.0, "{costs:?}");
    // EXPLAIN tells index order from key order.
    let index_order =
        |sql: &str| c.explain_query(sql, &[], &QueryOptions::default()).unwrap()["indexOrder"].clone();
    assert_eq!(index_order("SELECT * FROM c WHERE c.n >= 0"), json!(true));
    assert_eq!(
        index_order("SELECT * FROM c WHERE c.n = 3 OR c.n > 7"),
        json!(true)
    );
    for key_order in [
        "SELECT * FROM c WHERE c.n = 3",
        "SELECT * FROM c WHERE c.n > 3 OR c.s = 'x'",
        "SELECT * FROM c WHERE c.n > 3 ORDER BY c.n",
        "SELECT * FROM c",
    ] {
        assert_eq!(index_order(key_order), json!(false), "{key_order}");
    }
    // An index-order token is refused by the same query run as a full scan.
    let forced = QueryOptions {
        force_full_scan: true,
        ..opts(Some(10), token)
    };
    let e = c
        .query_items("SELECT * FROM c WHERE c.n >= 0", &[], &forced)
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("again from the start"), "{e}");

    let full = |sql: &str, pk: Option<&str>| full_scan(&c, sql, pk);
    let long_in = (0..80)
        .map(|i| (i * 3).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let long_in = format!("SELECT c.id FROM c WHERE c.n IN ({long_in})");
    for sql in [
        "SELECT c.id FROM c WHERE c.n >= 1500",
        "SELECT c.id FROM c WHERE c.n BETWEEN 10 AND 400 OR c.n > 1900 OR c.n = 1000",
        "SELECT c.id FROM c WHERE STARTSWITH(c.s, 's1')",
        "SELECT c.id FROM c WHERE c.s LIKE 's2%'",
        "SELECT c.id FROM c WHERE IS_DEFINED(c.o)",
        "SELECT c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t >= 5)",
        "SELECT c.id, t FROM c JOIN t IN c.tags WHERE t > 7",
        "SELECT VALUE COUNT(1) FROM c WHERE c.n > 1000",
        long_in.as_str(),
    ] {
        for pk in [None, Some("p3")] {
            let want = full(sql, pk);
            assert!(!want.is_empty(), "{sql}");
            let whole = all_pages(&c, sql, pk, 5000);
            assert_eq!(multiset(whole.clone()), multiset(want), "{sql} {pk:?}");
            for max in [1, 7, 1000] {
                assert_eq!(all_pages(&c, sql, pk, max), whole, "{sql} {pk:?} pages of {max}");
            }
        }
    }
    // TOP and OFFSET/LIMIT without ORDER BY: any of the matches, the same at every page size.
    for (sql, all, n) in [
        (
            "SELECT TOP 50 c.id FROM c WHERE c.n < 500",
            "SELECT c.id FROM c WHERE c.n < 500",
            50,
        ),
        (
            "SELECT c.id FROM c WHERE c.n > 100 OFFSET 10 LIMIT 30",
            "SELECT c.id FROM c WHERE c.n > 100",
            30,
        ),
    ] {
        let whole = all_pages(&c, sql, None, 5000);
        assert_eq!(whole.len(), n, "{sql}");
        let every = full(all, None);
        assert!(whole.iter().all(|v| every.contains(v)), "{sql}");
        assert_eq!(
            multiset(whole.clone())
                .windows(2)
                .filter(|w| w[0] == w[1])
                .count(),
            0
        );
        for max in [1, 7] {
            assert_eq!(all_pages(&c, sql, None, max), whole, "{sql} pages of {max}");
        }
    }
}

/// GROUP BY and DISTINCT (computed whole per page) pull their lookup as they read instead of
/// holding every candidate key: in index order without ORDER BY, so a DISTINCT TOP over a range
/// stops after a few entries; in key order for equalities and for a range under ORDER BY (whose
/// ties keep key order). Results equal the full scan's (as multisets where no ORDER BY fixes
/// the order), and pages of them concatenate to the whole.
#[test]
fn computed_queries_pull_their_lookup() {
    let (_dir, c) = filled(3000);
    // Index order is by n: p0, p1 after two entries. Reading every entry would be 30 RU.
    let r = c
        .query_items(
            "SELECT DISTINCT TOP 2 VALUE c.pk FROM c WHERE c.n >= 0",
            &[],
            &opts(Some(100), None),
        )
        .unwrap();
    assert_eq!(r.items, vec![json!("p0"), json!("p1")]);
    assert!(r.request_charge < 5.0, "{}", r.request_charge);
    for (sql, ordered) in [
        (
            "SELECT c.pk, COUNT(1) AS n FROM c WHERE c.n >= 100 GROUP BY c.pk",
            false,
        ),
        (
            "SELECT DISTINCT VALUE c.pk FROM c WHERE c.n BETWEEN 10 AND 20",
            false,
        ),
        (
            "SELECT c.pk, SUM(c.n) AS s FROM c WHERE c.n > 2990 OR c.n < 5 GROUP BY c.pk",
            false,
        ),
        (
            "SELECT c.pk, COUNT(1) AS n FROM c WHERE c.n IN (1, 2, 3, 8) GROUP BY c.pk",
            true,
        ),
        ("SELECT VALUE c.id FROM c WHERE c.n >= 2900 ORDER BY c.pk", true),
    ] {
        let want = full_scan(&c, sql, None);
        let whole = all_pages(&c, sql, None, 5000);
        if ordered {
            assert_eq!(whole, want, "{sql}");
        } else {
            assert_eq!(multiset(whole.clone()), multiset(want), "{sql}");
        }
        assert_eq!(all_pages(&c, sql, None, 1), whole, "{sql} one a page");
    }
}

/// An ORDER BY sorted in memory (the lookup is on another path than the sort key, or the sort
/// has several keys) pulls its range, prefix or `IS_DEFINED` lookup in index order instead of
/// holding every candidate key; ties in the sort go by item key, so its results equal the full
/// scan's exactly, in the container and in one partition, and pages of 1, 7 and 1,000 (the
/// later ones read from the spill) concatenate to them.
#[test]
fn sorted_in_memory_pulls_its_lookup_and_equals_the_full_scan() {
    let (dir, account) = account(false);
    let c = common::container_with_policy(
        &account,
        "c",
        "/pk",
        r#"{"includedPaths": [{"path": "/*"}],
            "compositeIndexes": [[{"path": "/g"}, {"path": "/n", "order": "descending"}]]}"#,
    );
    for k in 0..1500usize {
        let pk = format!("p{}", k % 5);
        let mut item = json!({
            "id": format!("i{k:04}"), "pk": pk, "n": (k * 7919) % 1500, "g": k % 4,
            "s": format!("s{:03}", k % 300), "tags": [k % 10, (k + 3) % 10],
        });
        if k % 3 == 0 {
            item["o"] = json!({"x": k});
        }
        c.create_item(pk.as_str(), &item).unwrap();
    }
    let explain = |sql: &str| c.explain_query(sql, &[], &QueryOptions::default()).unwrap();
    let plan = explain("SELECT c.id FROM c WHERE c.n >= 0 ORDER BY c.g");
    assert_eq!(plan["indexOrder"], json!(true), "{plan}");
    assert_eq!(plan["orderStreamed"], json!(false), "{plan}");
    for sql in [
        "SELECT c.id, c.g FROM c WHERE c.n >= 0 ORDER BY c.g",
        "SELECT VALUE c.id FROM c WHERE c.n BETWEEN 100 AND 1200 ORDER BY c.g DESC",
        "SELECT c.id FROM c WHERE STARTSWITH(c.s, 's1') ORDER BY c.g, c.n DESC",
        "SELECT c.id, t FROM c JOIN t IN c.tags WHERE t > 5 ORDER BY c.g",
        "SELECT c.id FROM c WHERE IS_DEFINED(c.o) ORDER BY c.g DESC",
        "SELECT DISTINCT VALUE c.s FROM c WHERE c.n > 700 ORDER BY c.g",
        "SELECT TOP 25 c.id FROM c WHERE c.n > 100 ORDER BY c.g",
        "SELECT c.id FROM c WHERE c.n > 100 ORDER BY c.g DESC OFFSET 30 LIMIT 40",
    ] {
        for pk in [None, Some("p3")] {
            let want = full_scan(&c, sql, pk);
            assert!(!want.is_empty(), "{sql}");
            assert_eq!(all_pages(&c, sql, pk, 5000), want, "{sql} {pk:?}");
            for max in [1, 7, 1000] {
                assert_eq!(all_pages(&c, sql, pk, max), want, "{sql} {pk:?} pages of {max}");
            }
        }
    }
    // A result whose first page is its last leaves no spill behind.
    let r = c
        .query_items(
            "SELECT c.id FROM c WHERE c.n > 1400 ORDER BY c.g",
            &[],
            &opts(Some(1000), None),
        )
        .unwrap();
    assert_eq!((r.items.len(), r.continuation), (99, None));
    let spills = std::fs::read_dir(dir.path().join("data/tmp/query"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(spills, 0);
}

/// An ordered token is bound to its query and scope, and a query that is no longer read in
/// index order (here: forced to a full scan) refuses it with 400 rather than guessing.
#[test]
fn ordered_tokens_are_refused_elsewhere() {
    let (_dir, c) = filled(40);
    let sql = "SELECT * FROM c ORDER BY c.n DESC";
    let token = c
        .query_items(sql, &[], &opts(Some(10), None))
        .unwrap()
        .continuation
        .unwrap();
    let full = QueryOptions {
        force_full_scan: true,
        ..opts(Some(10), Some(token.clone()))
    };
    let e = c.query_items(sql, &[], &full).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("again from the start"), "{e}");
    for other in ["SELECT * FROM c ORDER BY c.n", "SELECT * FROM c"] {
        let e = c
            .query_items(other, &[], &opts(Some(10), Some(token.clone())))
            .unwrap_err();
        assert_eq!(e.status(), 400, "{other}");
    }
    let scoped = QueryOptions {
        partition_key: Some("p1".into()),
        ..opts(Some(10), Some(token))
    };
    assert_eq!(c.query_items(sql, &[], &scoped).unwrap_err().status(), 400);
}

use proptest::prelude::*;

proptest::proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Creates, deletes and replaces between pages never make an item that was not changed
    /// appear twice or go missing, through a full scan, an index lookup, and ORDER BY read from
    /// the index; no item appears twice at all (a position in key or sort order never moves
    /// back).
    #[test]
    fn changes_between_pages_neither_repeat_nor_lose_unchanged_items(
        initial in 0usize..40,
        page in 1usize..9,
        changes in proptest::collection::vec(
            proptest::prop_oneof![
                (0u16..200).prop_map(Change::Create),
                (0usize..1000).prop_map(Change::Delete),
                (0usize..1000).prop_map(Change::Replace),
            ],
            0..30,
        ),
        mode in 0usize..6,
    ) {
        let (_dir, c) = empty();
        // Items have tags under an array: several entries of one item match the last query.
        let tags = |k: usize| json!([k % 7, (k + 2) % 7]);
        for k in 0..initial {
            let pk = format!("p{}", k % 5);
            c.create_item(pk.as_str(), &json!({"id": format!("i{k:04}"), "pk": pk, "n": k, "tags": tags(k)}))
                .unwrap();
        }
        // Key order (scan, index lookup), and sort order read from the index (both directions,
        // with and without items lacking the sort path); results are [id, pk, n].
        let sql = [
            "SELECT VALUE [c.id, c.pk, c.n] FROM c",
            "SELECT VALUE [c.id, c.pk, c.n] FROM c WHERE c.n >= 0",
            "SELECT VALUE [c.id, c.pk, c.n] FROM c ORDER BY c.n",
            "SELECT VALUE [c.id, c.pk, c.n] FROM c ORDER BY c.n DESC",
            "SELECT VALUE [c.id, c.pk, c.n] FROM c WHERE c.n >= 0 ORDER BY c.n DESC",
            "SELECT VALUE [c.id, c.pk, c.n] FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t >= 3)",
        ][mode];
        // Range lookups without ORDER BY are read in index order: a changed item may move in it.
        let in_index_order = mode == 1 || mode == 5;
        let descending = sql.ends_with("DESC");
        let mut live: Vec<(String, String)> = (0..initial)
            .map(|k| (format!("p{}", k % 5), format!("i{k:04}")))
            .collect();
        let mut touched = std::collections::BTreeSet::new();
        let mut seen: Vec<String> = Vec::new();
        // (n, pk, id): the sort value, then the item key's order.
        let mut sort_keys: Vec<(Option<i64>, String, String)> = Vec::new();
        let mut token = None;
        let mut changes = changes.into_iter();
        loop {
            let r = c.query_items(sql, &[], &opts(Some(page), token)).unwrap();
            prop_assert!(r.items.len() <= page);
            for v in &r.items {
                let id = v[0].as_str().unwrap().to_string();
                let pk = v[1].as_str().unwrap().to_string();
                sort_keys.push((v.get(2).and_then(Value::as_i64), pk, id.clone()));
                seen.push(id);
            }
            token = r.continuation;
            if token.is_none() {
                break;
            }
            // One change between two pages, while there are changes left.
            match changes.next() {
                Some(Change::Create(k)) => {
                    let (pk, id) = (format!("p{}", k % 5), format!("new{k:04}"));
                    if !live.iter().any(|(_, i)| *i == id) {
                        // Some new items lack the sort path (undefined sorts first).
                        let item = if k % 4 == 0 {
                            json!({"id": id, "pk": pk})
                        } else {
                            json!({"id": id, "pk": pk, "n": 1000 + k, "tags": tags(k.into())})
                        };
                        c.create_item(pk.as_str(), &item).unwrap();
                        touched.insert(id.clone());
                        live.push((pk, id));
                    }
                }
                Some(Change::Delete(i)) if !live.is_empty() => {
                    let (pk, id) = live.remove(i % live.len());
                    c.delete_item(pk, &id).unwrap();
                    touched.insert(id);
                }
                Some(Change::Replace(i)) if !live.is_empty() => {
                    let (pk, id) = live[i % live.len()].clone();
                    let item = if i % 3 == 0 {
                        json!({"id": id, "pk": pk})
                    } else {
                        json!({"id": id, "pk": pk, "n": 5000 - i, "tags": tags(i)})
                    };
                    c.replace_item(pk.as_str(), &item).unwrap();
                    touched.insert(id);
                }
                _ => {}
            }
        }
        // In key order no item is returned twice at all; in sort or index order an item a change
        // moved past the position is met again there, so only unchanged ones must not repeat.
        let ordered = sql.contains("ORDER BY");
        let moves = ordered || in_index_order;
        let mut unique: Vec<&String> = seen.iter().filter(|id| !moves || !touched.contains(*id)).collect();
        let counted = unique.len();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), counted, "an item was returned twice: {:?}", seen);
        // Initial items whose tags are all below 3 do not match the last query.
        let matches = |id: &str| mode != 5 || id[1..].parse::<usize>().map_or(true, |k| k % 7 != 0);
        for (_, id) in live.iter().filter(|(_, id)| !touched.contains(id) && matches(id)) {
            prop_assert!(seen.contains(id), "unchanged item {} went missing", id);
        }
        // A position in sort order never moves back: the values returned are in order across
        // pages (undefined first, ties by id), whatever changed between them.
        if ordered {
            let mut want = sort_keys.clone();
            want.sort_by(|a, b| {
                let by_value = if descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) };
                by_value.then((&a.1, &a.2).cmp(&(&b.1, &b.2)))
            });
            prop_assert_eq!(&sort_keys, &want, "{}", sql);
        }
    }
}

/// A key-order page ends short of full once it has read 10,000 items (docs/query.md, "Paging"):
/// a filter that matches little answers in pages of bounded work, each with a token, and the
/// pages still concatenate to the whole result. Aggregates keep their one page.
#[test]
fn a_page_ends_after_its_read_budget() {
    let (_dir, c) = filled(21_000);
    let sql = "SELECT VALUE c.id FROM c WHERE c.n % 1000 = 7";
    let whole = c.query_items(sql, &[], &opts(Some(10_000), None)).unwrap();
    assert!(whole.continuation.is_none(), "10,000 a page reads 100,000 items");
    assert_eq!(whole.items.len(), 21);
    let mut got = Vec::new();
    let mut charges = Vec::new();
    let mut token = None;
    loop {
        let r = c.query_items(sql, &[], &opts(Some(100), token)).unwrap();
        got.extend(r.items);
        charges.push(r.request_charge);
        match r.continuation {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    // 21,000 items read 10,000 a page: three pages, the last one 1,000 items.
    assert_eq!(charges.len(), 3, "{charges:?}");
    assert_eq!(got, whole.items);
    assert!((charges[0] - charges[1]).abs() < 0.5, "{charges:?}");
    assert!(charges[2] < charges[0] / 5.0, "{charges:?}");
    assert!(
        charges[0] < whole.request_charge * 0.6,
        "{charges:?} vs {}",
        whole.request_charge
    );

    // Through a range lookup (every item matches `c.n >= 0`), read in index order: a page reads
    // at most its budget of items, not all 21,000, and ends after the last one it read.
    let sql = "SELECT VALUE c.id FROM c WHERE c.n >= 0 AND c.n % 1000 = 7";
    let whole_range = c.query_items(sql, &[], &opts(Some(10_000), None)).unwrap();
    assert!(whole_range.continuation.is_none());
    // Read in index order (by n), not key order: the same items.
    assert_eq!(multiset(whole_range.items.clone()), multiset(whole.items.clone()));
    let paged = pages(&c, sql, &[], Some(100));
    assert_eq!(paged.len(), 3, "{paged:?}");
    assert_eq!(paged.concat(), whole_range.items);

    // Nothing matches: empty pages with tokens, then the end.
    let sql = "SELECT VALUE c.id FROM c WHERE c.n * 2 < 0";
    let all = pages(&c, sql, &[], Some(100));
    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), vec![0, 0, 0]);

    // Aggregates read everything in their one page.
    let r = c
        .query_items(
            "SELECT VALUE COUNT(1) FROM c WHERE c.n % 1000 = 7",
            &[],
            &opts(Some(100), None),
        )
        .unwrap();
    assert_eq!((r.items, r.continuation), (vec![json!(21)], None));
}
