//! User-defined functions in queries: `udf.name(args)` in WHERE and SELECT (and ORDER BY), with
//! parameters; a UDF that throws makes the query 400.3703 with its message, an endless one
//! 408.3701; a missing one is 404; filter predicates refuse them; the resource operations.

use serde_json::{json, Value};
use strata::{substatus, Container, PatchOperation, PatchOptions, QueryOptions};

use crate::common::plain_container;

fn query(c: &Container, sql: &str, params: &[(String, Value)]) -> strata::Result<Vec<Value>> {
    let o = QueryOptions {
        max_item_count: Some(1000),
        ..QueryOptions::default()
    };
    c.query_items(sql, params, &o).map(|r| r.items)
}

fn filled() -> (tempfile::TempDir, strata::Account, Container) {
    let dir = tempfile::tempdir().unwrap();
    let (account, c) = plain_container(dir.path());
    for (id, price) in [("a", 3), ("b", 10), ("c", 25)] {
        c.create_item("p", &json!({"id": id, "pk": "p", "price": price}))
            .unwrap();
    }
    c.create_user_defined_function(
        "tax",
        "function tax(price, rate) { return price * (rate || 0.2); }",
    )
    .unwrap();
    c.create_user_defined_function(
        "label",
        "function label(doc) { if (doc.price > 20) throw new Error('no label for ' + doc.id); return doc.id.toUpperCase(); }",
    )
    .unwrap();
    (dir, account, c)
}

#[test]
fn udfs_in_where_select_and_order_by() {
    let (_dir, _account, c) = filled();
    let rows = query(
        &c,
        "SELECT c.id, udf.tax(c.price) AS tax FROM c WHERE udf.tax(c.price, @rate) > 0.5 ORDER BY c.id",
        &[("@rate".into(), json!(0.1))],
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![json!({"id": "b", "tax": 2}), json!({"id": "c", "tax": 5})]
    );
    let labels = query(&c, "SELECT VALUE udf.label(c) FROM c WHERE c.price < 20", &[]).unwrap();
    let mut labels: Vec<String> = labels
        .into_iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    labels.sort();
    assert_eq!(labels, vec!["A", "B"]);
    let ordered = query(&c, "SELECT VALUE c.id FROM c ORDER BY c.price DESC", &[]).unwrap();
    assert_eq!(ordered, vec![json!("c"), json!("b"), json!("a")]);
}

#[test]
fn a_page_pays_for_its_udfs_running_time() {
    let (_dir, _account, c) = filled();
    c.create_user_defined_function(
        "busy",
        "function busy(n) { var s = 0; for (var i = 0; i < 200000; i++) s += i % 7; return n; }",
    )
    .unwrap();
    let charge = |sql: &str| {
        c.query_items(sql, &[], &QueryOptions::default())
            .unwrap()
            .request_charge
    };
    let plain = charge("SELECT VALUE c.price FROM c");
    let with_udf = charge("SELECT VALUE udf.busy(c.price) FROM c");
    assert!(with_udf > plain, "{with_udf} <= {plain}");
}

#[test]
fn a_throwing_udf_fails_the_query() {
    let (_dir, _account, c) = filled();
    let e = query(&c, "SELECT VALUE udf.label(c) FROM c", &[]).unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR), "{e}");
    assert!(e.to_string().contains("no label for c"), "{e}");
    c.create_user_defined_function("spin", "function spin() { while (true) {} }")
        .unwrap();
    let e = query(&c, "SELECT VALUE udf.spin() FROM c", &[]).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (408, substatus::SCRIPT_TIME_BUDGET),
        "{e}"
    );
    let e = query(&c, "SELECT VALUE udf.nope(c.price) FROM c", &[]).unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
    assert!(e.to_string().contains("udf.nope"), "{e}");
    let e = c
        .patch_item(
            "p",
            "a",
            &[PatchOperation::incr("/price", 1)],
            &PatchOptions {
                filter_predicate: Some("FROM c WHERE udf.tax(c.price) > 0".into()),
                ..PatchOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    // The store goes on.
    assert_eq!(
        query(&c, "SELECT VALUE COUNT(1) FROM c", &[]).unwrap(),
        vec![json!(3)]
    );
}

#[test]
fn udfs_are_resources() {
    let (_dir, _account, c) = filled();
    let names: Vec<String> = c
        .list_user_defined_functions()
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(names, vec!["label", "tax"]);
    assert!(c
        .user_defined_function("tax")
        .unwrap()
        .body
        .contains("rate || 0.2"));
    let status = |r: strata::Result<strata::UserDefinedFunction>| r.unwrap_err().status();
    assert_eq!(
        status(c.create_user_defined_function("tax", "function t() {}")),
        409
    );
    assert_eq!(status(c.create_user_defined_function("bad", "function (")), 400);
    let before = c.user_defined_function("tax").unwrap();
    let after = c
        .replace_user_defined_function("tax", "function tax(x) { return 'new'; }")
        .unwrap();
    assert_ne!(after.etag, before.etag);
    let called = query(&c, "SELECT VALUE udf.tax(1) FROM c OFFSET 0 LIMIT 1", &[]).unwrap();
    assert_eq!(called, [json!("new")], "queries call the replaced body");
    assert_eq!(
        status(c.replace_user_defined_function("none", "function n() {}")),
        404
    );
    assert_eq!(
        status(c.replace_user_defined_function("tax", "not a function")),
        400
    );
    c.delete_user_defined_function("tax").unwrap();
    assert_eq!(c.delete_user_defined_function("tax").unwrap_err().status(), 404);
    assert_eq!(status(c.user_defined_function("tax")), 404);
}
