//! `strata analytics` through the real binary: enable (schema fixed), status with the catch-up
//! it did, query aggregates equal to the transactional store's, key and export; and the interop
//! check (ignored in a plain `cargo test`; scripts/test.sh runs it with STRATA_PYTHON set):
//! DuckDB and pyarrow read the CLI's export with the key the CLI printed, and their row counts
//! and aggregates equal what `strata query` says of the transactional store.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use common::Env;
use serde_json::{json, Value};

const CATS: [&str; 4] = ["books", "games", "tools", "music"];

/// 120 items in container d/c (partition key /cat), then updates and deletes.
fn loaded() -> Env {
    let env = Env::with_container("/cat");
    let mut lines = String::new();
    for i in 0..120 {
        let cat = CATS[i % 4];
        let item = json!({"id": format!("item-{i}"), "cat": cat, "qty": i % 17, "price": (i % 50) as f64 * 0.75,
                          "meta": {"rank": i % 5}, "tags": ["a", i]});
        lines.push_str(&item.to_string());
        lines.push('\n');
    }
    let file = env.path("items.jsonl");
    std::fs::write(&file, lines).unwrap();
    env.ok(&["import", "d", "c", env.arg(&file)]);
    for i in (0..120).step_by(9) {
        env.ok(&[
            "item",
            "delete",
            "d",
            "c",
            &format!("item-{i}"),
            "--pk",
            CATS[i % 4],
        ]);
    }
    for i in (1..120).step_by(8) {
        let cat = CATS[i % 4];
        let item =
            json!({"id": format!("item-{i}"), "cat": cat, "qty": 100 + i, "price": 1.5, "meta": {"rank": 3}});
        env.ok(&["item", "upsert", "d", "c", "--json", &item.to_string()]);
    }
    env
}

fn query_value(env: &Env, sql: &str) -> Value {
    env.ok(&["query", "d", "c", sql])["items"][0].clone()
}

#[test]
fn enable_status_query_key_export() {
    let env = loaded();
    let on = env.ok(&["analytics", "enable", "d", "c"]);
    assert_eq!(on["schema"], "well-defined", "{on}");
    let status = env.ok(&["analytics", "status", "d", "c"]);
    let count = query_value(&env, "SELECT VALUE COUNT(1) FROM c");
    assert_eq!(status["rows"], count, "{status}");
    assert_eq!(status["appliedNow"], 0, "enable already caught up: {status}");

    let agg = env.ok(&[
        "analytics",
        "query",
        "d",
        "c",
        "SELECT COUNT(1) AS n, SUM(c.qty) AS q FROM c WHERE c.cat = 'tools'",
    ]);
    let row = &agg["items"][0];
    assert_eq!(
        row["n"],
        query_value(&env, "SELECT VALUE COUNT(1) FROM c WHERE c.cat = 'tools'")
    );
    assert_eq!(
        row["q"],
        query_value(&env, "SELECT VALUE SUM(c.qty) FROM c WHERE c.cat = 'tools'")
    );

    // A later write shows up at the next command, which catches up first.
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"late","cat":"tools","qty":1}"#,
    ]);
    let status = env.ok(&["analytics", "status", "d", "c"]);
    assert_eq!(status["appliedNow"], 1, "{status}");

    let key = env.ok(&["analytics", "key", "d", "c"]);
    assert_eq!(
        key["key"].as_str().unwrap().len(),
        44,
        "32 bytes in base64: {key}"
    );
    let out = env.path("snap");
    let exported = env.ok(&["analytics", "export", "d", "c", env.arg(&out)]);
    assert!(std::path::Path::new(exported["file"].as_str().unwrap()).exists());

    env.run(&["analytics", "enable", "d", "c", "--schema", "full-fidelity"])
        .code(1);
    env.run(&["analytics", "enable", "d", "c", "--schema", "tabular"])
        .code(1);
    env.run(&["analytics", "query", "d", "c", "DROP TABLE c"]).code(1);
    let off = env.ok(&["analytics", "enable", "d", "c", "--ttl", "0"]);
    assert_eq!(off["analytical"], "off");
}

#[test]
#[ignore = "runs from scripts/test.sh: needs STRATA_PYTHON with pyarrow and duckdb installed"]
fn duckdb_and_pyarrow_read_the_cli_export_like_the_transactional_store() {
    let python = std::env::var("STRATA_PYTHON")
        .unwrap_or_else(|_| panic!("STRATA_PYTHON is not set: run scripts/test.sh"));
    let env = loaded();
    env.ok(&["analytics", "enable", "d", "c"]);
    let out = env.path("snap");
    let file = env.ok(&["analytics", "export", "d", "c", env.arg(&out)])["file"].clone();
    let key = env.ok(&["analytics", "key", "d", "c"])["key"].clone();

    // Expectations from the transactional store, through the CLI.
    let mut groups = BTreeMap::new();
    for cat in CATS {
        let n = query_value(
            &env,
            &format!("SELECT VALUE COUNT(1) FROM c WHERE c.cat = '{cat}'"),
        );
        groups.insert(cat.to_string(), n);
    }
    let expected = json!({
        "file": file,
        "rows": query_value(&env, "SELECT VALUE COUNT(1) FROM c"),
        "sum_qty": query_value(&env, "SELECT VALUE SUM(c.qty) FROM c"),
        "avg_price": query_value(&env, "SELECT VALUE AVG(c.price) FROM c"),
        "group_counts": groups,
        "required_columns": ["id", "_pk", "_lsn", "_ts", "cat", "qty", "price", "meta.rank"],
        "wrong_key": "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=",
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../analytical/tests/interop.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(&out)
        .arg(key.as_str().unwrap())
        .arg(expected.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "interop.py failed: {}", output.status);
}
