//! Secondary indexes end to end: a query returns the same items through the index as through a
//! full scan (a property test over random documents and random predicates, and a fixed set of
//! queries after updates, deletes, TTL expiry, compaction and reopen); the planner's EXPLAIN;
//! indexing policies (excluded paths, composite indexes, `indexingMode: none`) and their
//! changes, rebuilt in the background while queries keep working; and the charges of indexed
//! terms. Time is a `ManualWallClock` where TTL matters; no test asserts a duration.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;

use proptest::prelude::*;
use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, Container, ContainerOptions, Durability, Encryption, IndexingPolicy,
    ManualWallClock, QueryOptions,
};

const T0: u64 = 1_700_000_000;

fn options(dir: &tempfile::TempDir, clock: &ManualWallClock) -> AccountOptions {
    AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()))
}

fn container(account: &Account, name: &str, opts: ContainerOptions) -> Container {
    let db = match account.create_database("db") {
        Ok(db) => db,
        Err(e) if e.status() == 409 => account.database("db"),
        Err(e) => panic!("{e}"),
    };
    db.create_container_with(name, "/pk", opts).unwrap()
}

fn policy(json: &str) -> Option<IndexingPolicy> {
    Some(IndexingPolicy::from_json(json).unwrap())
}

/// A fresh account (time stands at `T0`) with container `db/c` created with `opts`.
fn setup(opts: ContainerOptions) -> (tempfile::TempDir, ManualWallClock, Account, Container) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let account = Account::create(options(&dir, &clock), "acct", Encryption::ServiceManaged).unwrap();
    let c = container(&account, "c", opts);
    (dir, clock, account, c)
}

/// Container options with this indexing policy.
fn with_policy(json: &str) -> ContainerOptions {
    ContainerOptions {
        indexing_policy: policy(json),
        ..Default::default()
    }
}

/// Every result of the query, as one page; `force` reads every item.
fn run(c: &Container, sql: &str, force: bool) -> strata::Result<Vec<Value>> {
    let opts = QueryOptions {
        max_item_count: Some(100_000),
        force_full_scan: force,
        ..QueryOptions::default()
    };
    let r = c.query_items(sql, &[], &opts)?;
    assert!(r.continuation.is_none());
    Ok(r.items)
}

fn explain(c: &Container, sql: &str) -> Value {
    c.explain_query(sql, &[], &QueryOptions::default()).unwrap()
}

/// Waits (without a deadline that could fail a slow machine before a minute) for the index to
/// be ready.
fn wait_ready(c: &Container) {
    let start = Instant::now();
    while !c.index_status().unwrap().ready {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the index rebuild never finished"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Queries over the fields `doc` makes, each checked index-vs-scan by `same`.
const QUERIES: &[&str] = &[
    "SELECT VALUE c.id FROM c WHERE c.a = 1",
    "SELECT VALUE c.id FROM c WHERE c.a = 'x'",
    "SELECT VALUE c.id FROM c WHERE c.a > 1",
    "SELECT VALUE c.id FROM c WHERE c.a <= 'm'",
    "SELECT VALUE c.id FROM c WHERE c.a BETWEEN 0 AND 3",
    "SELECT VALUE c.id FROM c WHERE c.a IN (1, 'x', true, null)",
    "SELECT VALUE c.id FROM c WHERE STARTSWITH(c.b, 'b')",
    "SELECT VALUE c.id FROM c WHERE c.b LIKE 'b%'",
    "SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = 'red')",
    "SELECT VALUE o.x FROM c.o o WHERE o.x >= 2",
    "SELECT VALUE t FROM t IN c.tags WHERE t = 'red'",
    "SELECT VALUE c.id FROM c WHERE c.b LIKE 'bb'",
    "SELECT c.id, c.b FROM c WHERE c.b LIKE 'b_' ORDER BY c.b DESC",
    "SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.a)",
    "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 'red')",
    "SELECT VALUE c.id FROM c JOIN t IN c.tags WHERE t = 2",
    "SELECT VALUE c.id FROM c WHERE c.o.x >= 2 AND c.b != 'a'",
    "SELECT VALUE c.id FROM c WHERE c.a = 1 OR c.b = 'c'",
    "SELECT VALUE c.id FROM c WHERE c.id = 'd3'",
    "SELECT VALUE c.id FROM c WHERE c.a = false",
    "SELECT c.id, c.a FROM c WHERE c.a >= 0 ORDER BY c.a DESC",
];

/// Asserts the query gives the same items through the index and through a full scan.
fn same(c: &Container, sql: &str) -> Vec<Value> {
    let indexed = run(c, sql, false).unwrap();
    let scanned = run(c, sql, true).unwrap();
    assert_eq!(
        result_order(sql, indexed.clone()),
        result_order(sql, scanned),
        "{sql}"
    );
    indexed
}

/// Results as far as their order is defined: a query without ORDER BY has none (a range
/// lookup returns its items in index order, a full scan in key order), so those are sorted
/// and compared as multisets; ORDER BY results keep their order.
fn result_order(sql: &str, mut items: Vec<Value>) -> Vec<Value> {
    if !sql.contains("ORDER BY") {
        items.sort_by_key(Value::to_string);
    }
    items
}

#[test]
fn index_answers_survive_updates_deletes_ttl_compaction_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let account = Account::create(options(&dir, &clock), "acct", Encryption::ServiceManaged).unwrap();
    let c = container(
        &account,
        "c",
        ContainerOptions {
            default_ttl: Some(-1),
            ..Default::default()
        },
    );
    let values = [
        json!(1),
        json!(2.5),
        json!("x"),
        json!("m"),
        json!(true),
        json!(null),
        json!(false),
    ];
    for i in 0..40 {
        let (a, b, colour) = (
            values[i % values.len()].clone(),
            ["a", "b", "bb", "c"][i % 4],
            ["red", "blue"][i % 2],
        );
        let mut doc = json!({"id": format!("d{i}"), "pk": format!("p{}", i % 3),
            "a": a, "b": b, "tags": [colour, i % 4], "o": {"x": i % 5}});
        if i % 9 == 0 {
            doc.as_object_mut().unwrap().remove("a");
        }
        if i % 10 == 7 {
            doc["ttl"] = json!(60);
        }
        c.create_item(doc["pk"].clone().as_str().unwrap().to_string(), &doc)
            .unwrap();
    }
    let check = |c: &Container, stage: &str| {
        for sql in QUERIES {
            same(c, sql);
        }
        assert_eq!(
            explain(c, "SELECT * FROM c WHERE c.a = 1")["indexUsed"],
            true,
            "{stage}"
        );
    };
    check(&c, "after loading");
    // a = 1 for every 7th item, but d0 has no `a`.
    let mut ones = same(&c, "SELECT VALUE c.id FROM c WHERE c.a = 1");
    ones.sort_by_key(|v| v.as_str().map(|s| s[1..].parse::<u32>().unwrap()));
    assert_eq!(
        ones,
        vec![
            json!("d7"),
            json!("d14"),
            json!("d21"),
            json!("d28"),
            json!("d35")
        ]
    );
    // Updates move items between index values; deletes remove them.
    for i in (0..40).step_by(3) {
        let pk = format!("p{}", i % 3);
        let id = format!("d{i}");
        let mut doc: Value = c.read_item(pk.clone(), &id).unwrap().item.unwrap();
        doc["a"] = json!("moved");
        doc["tags"] = json!(["green"]);
        c.replace_item(pk, &doc).unwrap();
    }
    for i in (1..40).step_by(5) {
        c.delete_item(format!("p{}", i % 3), &format!("d{i}")).unwrap();
    }
    check(&c, "after updates and deletes");
    // 14 moved, 3 of them (d6, d21, d36) deleted since.
    assert_eq!(
        same(&c, "SELECT VALUE COUNT(1) FROM c WHERE c.a = 'moved'"),
        vec![json!(11)]
    );
    assert_eq!(
        same(
            &c,
            "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 'red') AND c.a = 'moved'"
        ),
        Vec::<Value>::new()
    );
    // TTL: expired items vanish from index answers at once.
    let before = same(&c, "SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.b)").len();
    clock.advance(120);
    let after = same(&c, "SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.b)").len();
    assert!(after < before, "{after} < {before}");
    check(&c, "after TTL expiry");
    account.flush().unwrap();
    account.compact().unwrap();
    check(&c, "after compaction");
    drop(c);
    drop(account);
    let account = Account::open(options(&dir, &clock)).unwrap();
    let c = account.database("db").container("c");
    assert!(c.index_status().unwrap().ready);
    check(&c, "after reopen");
}

#[test]
fn explain_shows_the_plan() {
    let (_dir, _clock, _account, c) = setup(ContainerOptions::default());
    let p = explain(&c, "SELECT * FROM c WHERE c.kind = 'fruit' AND c.qty > 3");
    assert_eq!(p["indexUsed"], true);
    assert_eq!(p["strategy"], "index");
    assert_eq!(p["lookups"], json!(["/\"kind\" = \"fruit\""]));
    assert_eq!(p["scope"], "container");
    let p = explain(&c, "SELECT * FROM c WHERE c.pk = 'p1' AND LOWER(c.name) = 'x'");
    assert_eq!(p["indexUsed"], true);
    assert_eq!(p["scope"], "partition \"p1\"");
    let p = explain(&c, "SELECT * FROM c WHERE c.name LIKE 'ab%c'");
    assert_eq!(p["lookups"], json!(["/\"name\" STARTSWITH \"ab\""]));
    let p = explain(&c, "SELECT * FROM c WHERE c.name LIKE '%c'");
    assert_eq!(p["indexUsed"], false);
    let p = explain(&c, "SELECT * FROM c WHERE LOWER(c.name) = 'x'");
    assert_eq!(p["indexUsed"], false);
    assert_eq!(p["strategy"], "fullScan");
    let forced = c
        .explain_query(
            "SELECT * FROM c WHERE c.kind = 'x'",
            &[],
            &QueryOptions {
                force_full_scan: true,
                ..QueryOptions::default()
            },
        )
        .unwrap();
    assert_eq!(forced["indexUsed"], false);
    let p = explain(&c, "SELECT * FROM c ORDER BY c.qty DESC");
    assert_eq!(p["orderBy"], "range index on /\"qty\" DESC");
}

#[test]
fn policies_exclude_paths_require_composites_and_mode_none_refuses_filters() {
    let (_dir, _clock, account, c) = setup(with_policy(
        r#"{"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/secret/*"}],
                    "compositeIndexes":[[{"path":"/a"},{"path":"/b","order":"descending"}]]}"#,
    ));
    for i in 0..10 {
        c.create_item(
            "p",
            &json!({"id": format!("i{i}"), "pk": "p", "a": i % 3, "b": i, "secret": {"s": i}}),
        )
        .unwrap();
    }
    // An excluded path is answered by a scan, and cannot be sorted on.
    assert_eq!(
        explain(&c, "SELECT * FROM c WHERE c.secret.s = 3")["indexUsed"],
        false
    );
    assert_eq!(
        same(&c, "SELECT VALUE c.id FROM c WHERE c.secret.s = 3"),
        vec![json!("i3")]
    );
    let e = run(&c, "SELECT * FROM c ORDER BY c.secret.s", false).unwrap_err();
    assert_eq!(e.status(), 400);
    // Two sort keys need the composite index, in its directions or all reversed.
    let ordered = same(&c, "SELECT VALUE c.b FROM c ORDER BY c.a, c.b DESC");
    assert_eq!(
        ordered,
        json!([9, 6, 3, 0, 7, 4, 1, 8, 5, 2]).as_array().unwrap().clone()
    );
    assert!(run(&c, "SELECT * FROM c ORDER BY c.a DESC, c.b", false).is_ok());
    assert_eq!(
        run(&c, "SELECT * FROM c ORDER BY c.a, c.b", false)
            .unwrap_err()
            .status(),
        400
    );
    // indexingMode none: a key-value container.
    let kv = container(
        &account,
        "kv",
        ContainerOptions {
            indexing_policy: policy(r#"{"indexingMode":"none"}"#),
            ..Default::default()
        },
    );
    kv.create_item("p", &json!({"id": "k", "pk": "p", "n": 1}))
        .unwrap();
    assert_eq!(
        run(&kv, "SELECT VALUE c.n FROM c WHERE c.id = 'k'", false).unwrap(),
        vec![json!(1)]
    );
    assert_eq!(
        run(&kv, "SELECT VALUE c.id FROM c", false).unwrap(),
        vec![json!("k")]
    );
    let e = run(&kv, "SELECT * FROM c WHERE c.n = 1", false).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("indexing mode is none"), "{e}");
    // Invalid policies are refused at creation and change, and change nothing.
    let e = IndexingPolicy::from_json(r#"{"includedPaths":[{"path":"/a/?"}]}"#).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("/*"), "{e}");
    let bad = IndexingPolicy {
        included_paths: vec![],
        ..IndexingPolicy::default()
    };
    let e = c
        .set_indexing_policy(IndexingPolicy {
            excluded_paths: vec![],
            ..bad
        })
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(c.index_status().unwrap().generation, 0);
}

#[test]
fn a_policy_change_rebuilds_in_the_background_and_queries_keep_working() {
    let (dir, clock, account, c) = setup(with_policy(
        r#"{"includedPaths":[{"path":"/id/?"}],"excludedPaths":[{"path":"/*"}]}"#,
    ));
    for i in 0..1500 {
        c.create_item(
            format!("p{}", i % 10),
            &json!({"id": format!("i{i:04}"), "pk": format!("p{}", i % 10), "n": i % 50}),
        )
        .unwrap();
    }
    let sql = "SELECT VALUE c.id FROM c WHERE c.n = 7";
    assert_eq!(explain(&c, sql)["indexUsed"], false, "/n is not indexed yet");
    let want = run(&c, sql, true).unwrap();
    assert_eq!(want.len(), 30);
    let status = c
        .set_indexing_policy(IndexingPolicy::from_json(r#"{"includedPaths":[{"path":"/*"}]}"#).unwrap())
        .unwrap();
    assert_eq!(status.generation, 1);
    // Meanwhile (ready or not), queries answer the same; writes go on.
    let mut polls = 0;
    while !c.index_status().unwrap().ready {
        assert_eq!(run(&c, sql, false).unwrap(), want);
        polls += 1;
        assert!(polls < 100_000, "the index rebuild never finished");
    }
    assert_eq!(explain(&c, sql)["indexUsed"], true);
    assert_eq!(run(&c, sql, false).unwrap(), want);
    let status = c.index_status().unwrap();
    assert_eq!(status.items_indexed, 1500);
    // Changing it back drops /n again, and a reopen mid-rebuild carries the rebuild on.
    c.set_indexing_policy(
        IndexingPolicy::from_json(r#"{"includedPaths":[{"path":"/id/?"}],"excludedPaths":[{"path":"/*"}]}"#)
            .unwrap(),
    )
    .unwrap();
    // The container handle is the last one: its drop closes the account at once, even mid-rebuild.
    drop(account);
    drop(c);
    let account = Account::open(options(&dir, &clock)).unwrap();
    let c = account.database("db").container("c");
    wait_ready(&c);
    assert_eq!(c.index_status().unwrap().generation, 2);
    assert_eq!(explain(&c, sql)["indexUsed"], false);
    assert_eq!(run(&c, sql, false).unwrap(), want);
    assert_eq!(
        explain(&c, "SELECT * FROM c WHERE c.id = 'i0007'")["indexUsed"],
        true
    );
    assert_eq!(
        run(&c, "SELECT VALUE c.n FROM c WHERE c.id = 'i0007'", false).unwrap(),
        vec![json!(7)]
    );
}

#[test]
fn writes_are_charged_for_their_indexed_terms() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    for cmk in [false, true] {
        let sub = dir.path().join(if cmk { "cmk" } else { "smk" });
        let opts =
            AccountOptions::new(sub.join("data"), sub.join("home")).wall_clock(Arc::new(clock.clone()));
        let enc = common::encryption(&opts, cmk, "k");
        let account = Account::create(opts, "acct", enc).unwrap();
        let plain = container(
            &account,
            "none",
            ContainerOptions {
                indexing_policy: policy(r#"{"indexingMode":"none"}"#),
                ..Default::default()
            },
        );
        let indexed = container(&account, "all", ContainerOptions::default());
        let doc = json!({"id": "a", "pk": "p", "n": 1, "tags": ["x", "y"]});
        let base = plain.create_item("p", &doc).unwrap().request_charge;
        assert_eq!(base, if cmk { 5.25 } else { 4.95 });
        let with = indexed.create_item("p", &doc).unwrap().request_charge;
        // Per term: 0.2 RU, and under CMK 0.2 × 1.06 + 0.06.
        let per_term = if cmk { 0.2 * 1.06 + 0.06 } else { 0.2 };
        let terms = (with - base) / per_term;
        assert!(
            (terms - terms.round()).abs() < 0.05,
            "{with} - {base}: {terms} terms"
        );
        let terms = terms.round();
        // id, pk, n, tags (its type), tags/[] "x" and "y", and _ts (_etag is excluded by
        // default; _rid, _self, _attachments and _lsn are never indexed).
        assert_eq!(terms, 7.0, "{with}");
        // A replace pays for the old terms and the new; a delete for the old.
        let replaced = indexed.replace_item("p", &doc).unwrap().request_charge;
        assert!(
            (replaced - (base + 2.0 * terms * per_term)).abs() < 0.02,
            "{replaced}"
        );
        let deleted = indexed.delete_item("p", "a").unwrap().request_charge;
        assert!((deleted - with).abs() < 0.02, "{deleted} vs {with}");
    }
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        (-3i64..4).prop_map(|n| json!(n as f64 + 0.5)),
        prop::sample::select(vec!["", "a", "ab", "b", "ba", "c", "é"]).prop_map(Value::from),
    ]
}

fn doc_strategy() -> impl Strategy<Value = Value> {
    (
        prop::option::of(value_strategy()),
        prop::option::of(value_strategy()),
        prop::collection::vec(value_strategy(), 0..3),
        prop::option::of(value_strategy()),
    )
        .prop_map(|(a, b, tags, x)| {
            let mut d = json!({"tags": tags});
            if let Some(a) = a {
                d["a"] = a;
            }
            if let Some(b) = b {
                d["b"] = b;
            }
            if let Some(x) = x {
                d["o"] = json!({"x": x});
            }
            d
        })
}

fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn atom_strategy() -> impl Strategy<Value = String> {
    let path = prop::sample::select(vec!["c.a", "c.b", "c.o.x", "c.id"]);
    prop_oneof![
        (
            path.clone(),
            prop::sample::select(vec!["=", "<", "<=", ">", ">=", "!="]),
            value_strategy()
        )
            .prop_map(|(p, op, v)| format!("{p} {op} {}", literal(&v))),
        (path.clone(), value_strategy(), value_strategy()).prop_map(|(p, a, b)| format!(
            "{p} BETWEEN {} AND {}",
            literal(&a),
            literal(&b)
        )),
        (path.clone(), prop::collection::vec(value_strategy(), 1..4)).prop_map(|(p, vs)| format!(
            "{p} IN ({})",
            vs.iter().map(literal).collect::<Vec<_>>().join(", ")
        )),
        (path.clone(), prop::sample::select(vec!["", "a", "b", "é"]))
            .prop_map(|(p, s)| format!("STARTSWITH({p}, '{s}')")),
        (
            path.clone(),
            prop::sample::select(vec!["'a%'", "'b_'", "'bb'", "'%'", "'é%'", "'x!%%' ESCAPE '!'"])
        )
            .prop_map(|(p, s)| format!("{p} LIKE {s}")),
        path.clone().prop_map(|p| format!("IS_DEFINED({p})")),
        value_strategy().prop_map(|v| format!("ARRAY_CONTAINS(c.tags, {})", literal(&v))),
    ]
}

fn predicate_strategy() -> impl Strategy<Value = String> {
    atom_strategy().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The index only proposes candidates: for any documents and any predicate, a query gives
    /// exactly what a full scan gives.
    #[test]
    fn indexed_and_scanned_queries_agree(
        docs in prop::collection::vec(doc_strategy(), 1..30),
        preds in prop::collection::vec(predicate_strategy(), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualWallClock::at(T0);
        let account = Account::create(options(&dir, &clock), "acct", Encryption::ServiceManaged).unwrap();
        let c = container(&account, "c", ContainerOptions::default());
        for (i, mut d) in docs.into_iter().enumerate() {
            d["id"] = json!(format!("d{i}"));
            d["pk"] = json!(format!("p{}", i % 3));
            c.create_item(format!("p{}", i % 3), &d).unwrap();
        }
        for p in &preds {
            for sql in [
                format!("SELECT VALUE c.id FROM c WHERE {p}"),
                format!("SELECT VALUE [c.id, t] FROM c JOIN t IN c.tags WHERE {p} OR t = 1"),
                format!("SELECT VALUE c.id FROM c WHERE {p} AND c.pk = 'p1'"),
            ] {
                let indexed = run(&c, &sql, false);
                let scanned = run(&c, &sql, true);
                match (indexed, scanned) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(result_order(&sql, a), result_order(&sql, b), "{}", sql),
                    (Err(a), Err(b)) => prop_assert_eq!(a.status(), b.status(), "{}", sql),
                    (a, b) => prop_assert!(false, "{sql}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}
