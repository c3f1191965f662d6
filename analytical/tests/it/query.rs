//! The query subset against values computed independently from the generated changes.

use crate::common;

use std::collections::BTreeMap;

use common::{key, up};
use serde_json::{json, Value};
use strata_analytical::{AnalyticalStore, AnalyticalTtl, SchemaMode};

struct Item {
    n: i64,
    cat: &'static str,
    price: f64,
    qty: i64,
    active: bool,
}

/// 60 items; every 7th deleted afterwards; every 5th updated (qty doubled).
fn build(mode: SchemaMode) -> (tempfile::TempDir, AnalyticalStore, Vec<Item>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(dir.path(), key(4), mode, AnalyticalTtl::Forever).expect("create");
    let cats = ["books", "games", "tools"];
    let mut live = BTreeMap::new();
    let mut changes = Vec::new();
    let mut lsn = 0;
    for i in 0..60i64 {
        lsn += 1;
        let item = Item {
            n: i,
            cat: cats[(i % 3) as usize],
            price: i as f64 * 1.25,
            qty: i,
            active: i % 2 == 0,
        };
        changes.push(up(
            &format!("i{i}"),
            item.cat,
            lsn,
            1000,
            json!({"cat": item.cat, "price": item.price, "qty": item.qty, "active": item.active, "meta": {"rank": i % 4}}),
        ));
        live.insert(i, item);
    }
    s.apply(&changes).expect("apply");
    let mut changes = Vec::new();
    for i in 0..60i64 {
        lsn += 1;
        if i % 7 == 0 {
            let cat = live[&i].cat;
            changes.push(common::del(&format!("i{i}"), cat, lsn, 1001));
            live.remove(&i);
        } else if i % 5 == 0 {
            let it = live.get_mut(&i).expect("live");
            it.qty *= 2;
            changes.push(up(
                &format!("i{i}"),
                it.cat,
                lsn,
                1001,
                json!({"cat": it.cat, "price": it.price, "qty": it.qty, "active": it.active, "meta": {"rank": i % 4}}),
            ));
        }
    }
    s.apply(&changes).expect("apply");
    (dir, s, live.into_values().collect())
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

#[test]
fn aggregates_match_independent_computation() {
    for mode in [SchemaMode::WellDefined, SchemaMode::FullFidelity] {
        let (_dir, s, items) = build(mode);
        let r = s
            .query(
                "SELECT COUNT(1) AS n, COUNT(c.qty) AS nq, SUM(c.qty) AS total, AVG(c.price) AS avgp, \
                 MIN(c.price) AS lo, MAX(c.qty) AS hi FROM c",
                2000,
            )
            .expect("query");
        assert_eq!(r.columns, vec!["n", "nq", "total", "avgp", "lo", "hi"]);
        assert_eq!(r.rows.len(), 1);
        let row = &r.rows[0];
        assert_eq!(row["n"], json!(items.len()));
        assert_eq!(row["nq"], json!(items.len()));
        assert_eq!(row["total"], json!(items.iter().map(|i| i.qty).sum::<i64>()));
        let avg = items.iter().map(|i| i.price).sum::<f64>() / items.len() as f64;
        assert!((f(&row["avgp"]) - avg).abs() < 1e-9, "{mode:?}");
        let lo = items.iter().map(|i| i.price).fold(f64::INFINITY, f64::min);
        assert_eq!(f(&row["lo"]), lo);
        assert_eq!(row["hi"], json!(items.iter().map(|i| i.qty).max()));
    }
}

#[test]
fn group_by_with_filter() {
    let (_dir, s, items) = build(SchemaMode::WellDefined);
    let r = s
        .query(
            "SELECT c.cat, COUNT(1) AS n, SUM(c.price) AS revenue FROM c \
             WHERE (c.qty >= 10 AND c.active = true) OR NOT (c.meta.rank != 3) GROUP BY c.cat",
            2000,
        )
        .expect("query");
    let mut expected: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for it in &items {
        if (it.qty >= 10 && it.active) || it.n % 4 == 3 {
            let e = expected.entry(it.cat).or_default();
            e.0 += 1;
            e.1 += it.price;
        }
    }
    assert_eq!(r.columns, vec!["cat", "n", "revenue"]);
    assert_eq!(r.rows.len(), expected.len());
    for (row, (cat, (n, revenue))) in r.rows.iter().zip(&expected) {
        assert_eq!(row["cat"], json!(cat));
        assert_eq!(row["n"], json!(n));
        assert!((f(&row["revenue"]) - revenue).abs() < 1e-9);
    }
}

#[test]
fn projection_and_comparisons() {
    let (_dir, s, items) = build(SchemaMode::FullFidelity);
    let r = s
        .query(
            "select c.id, c.qty, c.Meta.Rank from c where c.cat = 'games' and c.qty < 20",
            2000,
        )
        .expect("q");
    let mut expected: Vec<(String, i64)> = items
        .iter()
        .filter(|i| i.cat == "games" && i.qty < 20)
        .map(|i| (format!("i{}", i.n), i.qty))
        .collect();
    expected.sort();
    let mut got: Vec<(String, i64)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row["id"].as_str().expect("id").to_string(),
                row["qty"].as_i64().expect("qty"),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(r.columns, vec!["id", "qty", "Rank"]);
    // Cross-type comparison is undefined: no rows; `!= null` tests presence.
    assert!(s
        .query("SELECT c.id FROM c WHERE c.cat > 5", 2000)
        .expect("q")
        .rows
        .is_empty());
    let present = s
        .query("SELECT COUNT(1) FROM c WHERE c.missing = null", 2000)
        .expect("q");
    assert_eq!(present.rows[0]["$1"], json!(items.len()));
    // SELECT * returns every column, the partition key as JSON.
    let all = s.query("SELECT * FROM c WHERE c.id = 'i1'", 2000).expect("q");
    assert_eq!(all.rows.len(), 1);
    assert_eq!(all.rows[0]["_pk"], json!("games"));
    assert_eq!(all.rows[0]["qty.int64"], json!(1));
}

#[test]
fn query_errors_are_400() {
    let (_dir, s, _) = build(SchemaMode::WellDefined);
    for sql in [
        "SELECT c.cat, COUNT(1) FROM c",
        "SELECT c.qty FROM c GROUP BY c.cat",
        "SELECT c.meta FROM c",
        "SELECT COUNT(1), COUNT(1) FROM c WHERE",
        "SELECT c.a AS x, c.b AS x FROM c",
        "DELETE FROM c",
    ] {
        let err = s.query(sql, 2000).expect_err(sql);
        assert_eq!(err.status(), 400, "{sql}: {err}");
    }
    // Empty groups: aggregates over no rows.
    let r = s
        .query(
            "SELECT COUNT(1) AS n, SUM(c.qty) AS s, AVG(c.qty) AS a FROM c WHERE c.qty > 100000",
            2000,
        )
        .expect("q");
    assert_eq!(r.rows[0]["n"], json!(0));
    assert_eq!(r.rows[0]["s"], json!(0));
    assert_eq!(r.rows[0]["a"], Value::Null);
    let r = s
        .query(
            "SELECT c.cat, COUNT(1) FROM c WHERE c.qty > 100000 GROUP BY c.cat",
            2000,
        )
        .expect("q");
    assert!(r.rows.is_empty());
}
