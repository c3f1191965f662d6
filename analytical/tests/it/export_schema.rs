//! Export snapshots and schema behaviour through the store (both modes, growth across files).

use crate::common;

use arrow_array::{Array, Float64Array};
use common::{ints, key, read_external, strings, up};
use serde_json::json;
use strata_analytical::{AnalyticalStore, AnalyticalTtl, SchemaMode, EXPORT_FILE};

#[test]
fn export_is_a_compacted_encrypted_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(5),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    s.apply(&[
        up("a", "p", 1, 1, json!({"v": 1})),
        up("b", "p", 2, 1, json!({"v": 2})),
    ])
    .expect("apply");
    s.apply(&[
        up("a", "p", 3, 2, json!({"v": 10, "w": "new"})),
        common::del("b", "p", 4, 2),
    ])
    .expect("apply");
    let path = s.export(out.path().join("snap"), 10).expect("export");
    assert_eq!(path.file_name().and_then(|n| n.to_str()), Some(EXPORT_FILE));
    let batches = read_external(&path, &key(5)).expect("read with the key");
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(strings(b, "id"), vec![Some("a".into())]);
    assert_eq!(ints(b, "v"), vec![Some(10)]);
    assert_eq!(strings(b, "w"), vec![Some("new".into())]);
    assert!(b.column_by_name("_deleted").is_none());
    assert_eq!(b, &s.scan(10).expect("scan"));
    assert!(read_external(&path, &key(6)).is_err());
    // An empty store still exports a readable file with the schema.
    let empty_dir = tempfile::tempdir().expect("tempdir");
    let e = AnalyticalStore::create(
        empty_dir.path(),
        key(5),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    let p = e.export(out.path().join("empty"), 10).expect("export");
    let rows: usize = read_external(&p, &key(5))
        .expect("read")
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 0);
}

#[test]
fn well_defined_schema_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(5),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    let r = s
        .apply(&[up("a", "p", 1, 1, json!({"Price": 3, "name": "x"}))])
        .expect("apply");
    assert_eq!(r.dropped_values, 0);
    let r = s
        .apply(&[up(
            "b",
            "p",
            2,
            1,
            json!({"price": 2.5, "NAME": 7, "extra": [1, {"k": 2}]}),
        )])
        .expect("apply");
    assert_eq!(r.dropped_values, 1, "NAME as a number conflicts with string");
    let rows = s.scan(5).expect("scan");
    let price = rows.column_by_name("Price").expect("first spelling wins");
    let price = price
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("promoted to float64");
    assert_eq!((price.value(0), price.value(1)), (3.0, 2.5));
    assert_eq!(strings(&rows, "name"), vec![Some("x".into()), None]);
    assert_eq!(strings(&rows, "extra"), vec![None, Some(r#"[1,{"k":2}]"#.into())]);
    drop(s);
    let s = AnalyticalStore::open(dir.path(), key(5)).expect("schema persisted");
    let names: Vec<&str> = s.schema().columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Price", "name", "extra"]);
}

#[test]
fn full_fidelity_keeps_every_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(5),
        SchemaMode::FullFidelity,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    s.apply(&[up("a", "p", 1, 1, json!({"price": 3}))])
        .expect("apply");
    let r = s
        .apply(&[
            up("b", "p", 2, 1, json!({"price": "n/a"})),
            up("c", "p", 3, 1, json!({"price": 1.5})),
        ])
        .expect("apply");
    assert_eq!(r.dropped_values, 0);
    let rows = s.scan(5).expect("scan");
    assert_eq!(ints(&rows, "price.int64"), vec![Some(3), None, None]);
    assert_eq!(
        strings(&rows, "price.string"),
        vec![None, Some("n/a".into()), None]
    );
    let f = rows.column_by_name("price.float64").expect("float column");
    assert!(f.is_null(0) && f.is_null(1) && !f.is_null(2));
    // The query layer reads a path across its typed columns.
    let q = s.query("SELECT c.id, c.price FROM c", 5).expect("query");
    let prices: Vec<_> = q.rows.iter().map(|r| r["price"].clone()).collect();
    assert_eq!(prices, vec![json!(3), json!("n/a"), json!(1.5)]);
}
