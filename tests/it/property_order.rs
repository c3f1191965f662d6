//! Documents keep their shape: the order an item's properties were written in survives create,
//! replace, read, query (`SELECT *`, projections in SELECT-list order, object literals) and the
//! change feed; while equality, DISTINCT, GROUP BY and ORDER BY treat two objects with the same
//! properties in another order as one value, as the dialect says. `serde_json::Value` compares
//! objects regardless of order, so these tests compare key sequences and JSON text.

use serde_json::{json, Value};
use strata::{ChangeFeedOptions, Container, QueryOptions};

fn setup() -> (tempfile::TempDir, Container) {
    crate::common::service_container()
}

/// The top-level property names, system properties left out.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with('_'))
        .collect()
}

fn query(c: &Container, sql: &str) -> Vec<Value> {
    let opts = QueryOptions {
        max_item_count: Some(1000),
        ..QueryOptions::default()
    };
    c.query_items(sql, &[], &opts).unwrap().items
}

/// The issue's example: `{"zeta":1,"id":"x","pk":"p","alpha":{"z":1,"a":2}}` reads back as written.
#[test]
fn create_read_replace_keep_the_written_order() {
    let (_dir, c) = setup();
    let item: Value = serde_json::from_str(r#"{"zeta":1,"id":"x","pk":"p","alpha":{"z":1,"a":2}}"#).unwrap();
    c.create_item("p", &item).unwrap();
    let read = c.read_item::<Value>("p", "x").unwrap().item.unwrap();
    assert_eq!(keys(&read), ["zeta", "id", "pk", "alpha"]);
    assert_eq!(read["alpha"].to_string(), r#"{"z":1,"a":2}"#);
    // The engine's properties follow the user's, in the order it stamps them; `_lsn` is internal.
    let system: Vec<&str> = read
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| k.starts_with('_'))
        .collect();
    assert_eq!(system, ["_rid", "_self", "_etag", "_attachments", "_ts"]);

    let replaced: Value =
        serde_json::from_str(r#"{"pk":"p","id":"x","m":[{"b":1,"a":0}],"zeta":2}"#).unwrap();
    c.replace_item("p", &replaced).unwrap();
    let read = c.read_item::<Value>("p", "x").unwrap().item.unwrap();
    assert_eq!(keys(&read), ["pk", "id", "m", "zeta"]);
    assert_eq!(read["m"].to_string(), r#"[{"b":1,"a":0}]"#);

    let all = query(&c, "SELECT * FROM c");
    assert_eq!(keys(&all[0]), ["pk", "id", "m", "zeta"]);
    let feed = c.read_change_feed(&ChangeFeedOptions::default()).unwrap();
    assert_eq!(keys(&feed.items[0]), ["pk", "id", "m", "zeta"]);
}

#[test]
fn projections_follow_the_select_list() {
    let (_dir, c) = setup();
    let item: Value = serde_json::from_str(r#"{"zeta":1,"id":"x","pk":"p","alpha":{"z":1,"a":2}}"#).unwrap();
    c.create_item("p", &item).unwrap();
    let got = query(&c, "SELECT c.zeta, c.alpha FROM c");
    assert_eq!(got[0].to_string(), r#"{"zeta":1,"alpha":{"z":1,"a":2}}"#);
    let got = query(&c, "SELECT c.id AS y, c.zeta AS b, c.pk AS a FROM c");
    assert_eq!(keys(&got[0]), ["y", "b", "a"]);
    let got = query(
        &c,
        r#"SELECT VALUE {"q": c.zeta, "b": c.alpha.a, "a": c.alpha.z} FROM c"#,
    );
    assert_eq!(got[0].to_string(), r#"{"q":1,"b":2,"a":1}"#);
    let got = query(&c, "SELECT c.alpha FROM c GROUP BY c.alpha");
    assert_eq!(got[0].to_string(), r#"{"alpha":{"z":1,"a":2}}"#);
}

/// Two objects with the same properties in another order are equal, one DISTINCT value, one
/// group, and equal in ORDER BY (so the sort is stable between them).
#[test]
fn objects_compare_regardless_of_property_order() {
    let (_dir, c) = setup();
    for (id, o) in [
        ("1", r#"{"a":1,"b":2}"#),
        ("2", r#"{"b":2,"a":1}"#),
        ("3", r#"{"b":2.0,"a":1}"#),
        ("4", r#"{"a":0,"b":3}"#),
    ] {
        let o: Value = serde_json::from_str(o).unwrap();
        c.create_item("p", &json!({"id": id, "pk": "p", "o": o})).unwrap();
    }
    let ids = |sql: &str| -> Vec<Value> { query(&c, sql) };
    assert_eq!(
        ids(r#"SELECT VALUE c.id FROM c WHERE c.o = {"b": 2, "a": 1}"#),
        [json!("1"), json!("2"), json!("3")]
    );
    let distinct = ids("SELECT DISTINCT VALUE c.o FROM c");
    assert_eq!(distinct.len(), 2, "{distinct:?}");
    // The first of the equal values is the one kept, in its own order.
    assert_eq!(distinct[0].to_string(), r#"{"a":1,"b":2}"#);
    let groups = ids("SELECT VALUE COUNT(1) FROM c GROUP BY c.o");
    assert_eq!(groups, [json!(3), json!(1)]);
    // ORDER BY: the equal objects keep key order (ids 1, 2, 3) in both directions; 4 sorts apart.
    let asc = ids("SELECT VALUE c.id FROM c ORDER BY c.o");
    let desc = ids("SELECT VALUE c.id FROM c ORDER BY c.o DESC");
    let pos = |v: &[Value], id: &str| v.iter().position(|x| x == id).unwrap();
    for v in [&asc, &desc] {
        assert!(pos(v, "1") < pos(v, "2") && pos(v, "2") < pos(v, "3"), "{v:?}");
    }
    assert_eq!(
        pos(&asc, "4") < pos(&asc, "1"),
        pos(&desc, "4") > pos(&desc, "1"),
        "{asc:?} {desc:?}"
    );
}
