//! Interop: files exported by the tier are read by DuckDB and pyarrow with the raw key, and both
//! reject a wrong key. Needs a Python with pyarrow and duckdb, so it runs from scripts/test.sh,
//! which sets STRATA_PYTHON to its venv.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use common::{del, up};
use serde_json::json;
use strata_analytical::{AnalyticalKey, AnalyticalStore, AnalyticalTtl, SchemaMode};

#[test]
#[ignore = "runs from scripts/test.sh: needs STRATA_PYTHON with pyarrow and duckdb installed"]
fn duckdb_and_pyarrow_read_the_export() {
    let python = std::env::var("STRATA_PYTHON").unwrap_or_else(|_| {
        panic!(
            "STRATA_PYTHON is not set: run scripts/test.sh, or point it at a python with pyarrow and duckdb"
        )
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let key = AnalyticalKey::generate();
    let mut store = AnalyticalStore::create(
        dir.path(),
        key.clone(),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");

    // 300 creates, then updates of every 4th and deletes of every 9th, in several apply calls.
    let cats = ["books", "games", "tools", "music"];
    let mut live: BTreeMap<u64, (String, i64, f64)> = BTreeMap::new();
    let mut lsn = 0;
    for chunk in 0..3u64 {
        let mut changes = Vec::new();
        for i in chunk * 100..(chunk + 1) * 100 {
            lsn += 1;
            let cat = cats[(i % 4) as usize].to_string();
            let (qty, price) = (i as i64 % 17, (i % 50) as f64 * 0.75);
            changes.push(up(
                &format!("item-{i}"),
                &cat,
                lsn,
                1_700_000_000,
                json!({"cat": cat, "qty": qty, "price": price, "meta": {"rank": i % 5}, "tags": ["a", i]}),
            ));
            live.insert(i, (cat, qty, price));
        }
        store.apply(&changes).expect("apply");
    }
    let mut changes = Vec::new();
    for i in 0..300u64 {
        lsn += 1;
        if i % 9 == 0 {
            let cat = live[&i].0.clone();
            changes.push(del(&format!("item-{i}"), &cat, lsn, 1_700_000_100));
            live.remove(&i);
        } else if i % 4 == 0 {
            let entry = live.get_mut(&i).expect("live");
            entry.1 += 100;
            changes.push(up(
                &format!("item-{i}"),
                &entry.0,
                lsn,
                1_700_000_100,
                json!({"cat": entry.0, "qty": entry.1, "price": entry.2, "meta": {"rank": i % 5}, "tags": ["a", i]}),
            ));
        }
    }
    store.apply(&changes).expect("apply");
    let path = store.export(out.path(), 1_700_000_200).expect("export");

    let mut groups: BTreeMap<String, u64> = BTreeMap::new();
    for (cat, _, _) in live.values() {
        *groups.entry(cat.clone()).or_default() += 1;
    }
    let expected = json!({
        "file": path,
        "rows": live.len(),
        "sum_qty": live.values().map(|v| v.1).sum::<i64>(),
        "avg_price": live.values().map(|v| v.2).sum::<f64>() / live.len() as f64,
        "group_counts": groups,
        "columns": store.arrow_schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>(),
        "wrong_key": base64::engine::general_purpose::STANDARD.encode([0x5au8; 32]),
    });
    // The tier's own executor agrees with the same expectations.
    let own = store
        .query("SELECT COUNT(1) AS n, SUM(c.qty) AS s FROM c", 1_700_000_200)
        .expect("query");
    assert_eq!(own.rows[0]["n"], expected["rows"]);
    assert_eq!(own.rows[0]["s"], expected["sum_qty"]);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(out.path())
        .arg(base64::engine::general_purpose::STANDARD.encode(key.as_bytes()))
        .arg(expected.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "interop.py failed: {}", output.status);
}
