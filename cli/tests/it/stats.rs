//! `--stats`: after a command, the session's request units, operations and 429s go to stderr
//! (stdout keeps the command's own output).

use crate::common;

use common::Env;
use serde_json::json;

#[test]
fn stats_prints_the_session_total_on_stderr() {
    let env = Env::with_container("/tenant");
    let body = json!({"id": "1", "tenant": "a"}).to_string();
    let created = env.run(&["--stats", "item", "create", "d", "c", "--json", &body]);
    created.code(0);
    let charge = created.json()["requestCharge"].as_f64().expect("requestCharge");
    let line = created
        .stderr
        .lines()
        .find(|l| l.starts_with("session:"))
        .expect("a session line");
    assert_eq!(
        line,
        format!("session: {charge:.2} RU, 1 operations, 0 throttled (429)")
    );
    // A 404 read is charged too, and an error still prints the line.
    let missing = env.run(&["--stats", "item", "get", "d", "c", "nope", "--pk", "a"]);
    missing.code(1);
    assert!(
        missing.stderr.contains("session: 1.00 RU, 1 operations"),
        "{}",
        missing.stderr
    );
    // Without the flag, nothing is added.
    let plain = env.run(&["item", "get", "d", "c", "1", "--pk", "a"]);
    plain.code(0);
    assert!(!plain.stderr.contains("session:"), "{}", plain.stderr);
}

#[test]
fn stats_adds_up_every_session_of_each_container() {
    let env = Env::with_container("/tenant");
    let mut charged = 0.0;
    for id in ["1", "2", "3"] {
        let body = json!({"id": id, "tenant": "a"}).to_string();
        charged += env.ok(&["item", "create", "d", "c", "--json", &body])["requestCharge"]
            .as_f64()
            .expect("requestCharge");
    }
    let e = env.run(&["item", "get", "d", "c", "nope", "--pk", "a"]);
    e.code(1);
    charged += e.json()["requestCharge"].as_f64().expect("a 404 read is charged");
    let stats = env.ok_status(&["stats"], 200);
    let rows = stats["containers"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{stats}");
    assert_eq!(rows[0]["container"], "d/c");
    assert_eq!(rows[0]["operations"], 4, "{stats}");
    assert_eq!(rows[0]["throttled"], 0);
    let total = rows[0]["totalRu"].as_f64().unwrap();
    assert!((total - charged).abs() < 0.011, "{total} vs {charged}");
}
