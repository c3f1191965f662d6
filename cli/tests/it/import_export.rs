//! `strata import` and `strata export` through the real binary: per-line errors with line numbers
//! while the good lines are imported and bad ones leave nothing, --stop-on-error, stdin and JSON
//! arrays, and the export -> import round trip (with and without --query).

use crate::common;

use common::{all_items, Env};
use serde_json::{json, Value};

/// Seven lines: good, blank, not JSON, not an object, good, duplicate id, bad partition key.
const MIXED: &str = concat!(
    "{\"id\":\"1\",\"t\":\"a\",\"q\":1}\n",
    "\n",
    "{\"id\":\"x\",\"t\":\"a\",\n",
    "[1,2]\n",
    "{\"id\":\"2\",\"t\":\"b\",\"n\":{\"deep\":[1,{\"k\":null}]}}\n",
    "{\"id\":\"1\",\"t\":\"a\",\"q\":99}\n",
    "{\"id\":\"3\",\"t\":{\"not\":\"a key\"}}\n",
);

fn error_lines(summary: &Value) -> Vec<(u64, u64)> {
    summary["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["statusCode"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn bad_lines_are_reported_by_line_and_good_lines_imported() {
    let env = Env::with_container("/t");
    let file = env.path("mixed.jsonl");
    std::fs::write(&file, MIXED).expect("write input");
    let run = env.run(&["import", "d", "c", env.arg(&file)]);
    let summary = run.code(1).json();
    assert_eq!(summary["statusCode"], 207, "{summary}");
    assert_eq!(summary["itemsOk"], 2);
    assert_eq!(summary["itemsFailed"], 4);
    // Every line's bytes but the blank line's.
    assert_eq!(summary["bytes"], MIXED.len() as u64 - 1);
    assert!(
        summary["requestCharge"].as_f64().is_some_and(|c| c > 0.0),
        "{summary}"
    );
    assert!(summary["elapsedMs"].is_u64(), "{summary}");
    assert_eq!(
        error_lines(&summary),
        vec![(3, 400), (4, 400), (6, 409), (7, 400)]
    );
    // Only the good lines are stored, exactly as given: the duplicate did not overwrite item 1
    // and no failed line left anything behind.
    assert_eq!(
        all_items(&env, "c"),
        vec![
            json!({"id": "1", "t": "a", "q": 1}),
            json!({"id": "2", "t": "b", "n": {"deep": [1, {"k": null}]}}),
        ]
    );
}

#[test]
fn table_mode_prints_line_errors_on_stderr() {
    let env = Env::with_container("/t");
    let run = env.run_with_stdin(&["--output", "table", "import", "d", "c", "-"], MIXED);
    run.code(1);
    for line in [3, 4, 6, 7] {
        assert!(run.stderr.contains(&format!("line {line}: ")), "{run:?}");
    }
    assert!(!run.stderr.contains("line 1:"), "{run:?}");
    assert!(
        run.stdout.contains("itemsOk") && run.stdout.contains("207"),
        "{run:?}"
    );
}

#[test]
fn stop_on_error_stops_at_the_first_failure() {
    let env = Env::with_container("/t");
    let run = env.run_with_stdin(&["import", "d", "c", "-", "--stop-on-error"], MIXED);
    let summary = run.code(1).json();
    assert_eq!(summary["itemsOk"], 1);
    assert_eq!(summary["itemsFailed"], 1);
    assert_eq!(summary["stoppedAtLine"], 3);
    assert_eq!(all_items(&env, "c"), vec![json!({"id": "1", "t": "a", "q": 1})]);
}

/// 700 items (22 chunks of the default 32), with a duplicate of line 5 at line 300 and a line that is not
/// JSON at line 520.
fn many_lines() -> String {
    (1..=700)
        .map(|line| match line {
            300 => "{\"id\":\"i5\",\"t\":\"t0\"}\n".to_string(),
            520 => "{\"id\":\n".to_string(),
            _ => format!("{{\"id\":\"i{line}\",\"t\":\"t{}\"}}\n", line % 5),
        })
        .collect()
}

fn stored_count(env: &Env) -> usize {
    all_items(env, "c").len()
}

#[test]
fn bad_lines_across_chunks_keep_their_line_numbers() {
    for chunk in ["32", "1", "1000"] {
        let env = Env::with_container("/t");
        let summary = env
            .run_with_stdin(&["import", "d", "c", "-", "--chunk-items", chunk], &many_lines())
            .code(1)
            .json();
        assert_eq!(
            (&summary["itemsOk"], &summary["itemsFailed"]),
            (&json!(698), &json!(2)),
            "chunks of {chunk}"
        );
        assert_eq!(error_lines(&summary), vec![(300, 409), (520, 400)]);
        assert_eq!(stored_count(&env), 698);
    }
}

#[test]
fn stop_on_error_in_a_later_chunk_writes_exactly_the_lines_before_it() {
    let env = Env::with_container("/t");
    let summary = env
        .run_with_stdin(&["import", "d", "c", "-", "--stop-on-error"], &many_lines())
        .code(1)
        .json();
    assert_eq!(
        (&summary["itemsOk"], &summary["itemsFailed"]),
        (&json!(299), &json!(1))
    );
    assert_eq!(summary["stoppedAtLine"], 300);
    let mut ids: Vec<String> = all_items(&env, "c")
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort_by_key(|id| id[1..].parse::<u32>().unwrap_or(0));
    let expected: Vec<String> = (1..300).map(|k| format!("i{k}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn json_arrays_from_stdin_with_upsert() {
    let env = Env::with_container("/t");
    let array = "[\n  {\"id\":\"1\",\"t\":\"a\"},\n  {\"id\":\"2\",\n   \"t\":\"b\"},\n  7,\n  {\"id\":\"1\",\"t\":\"a\",\"v\":2}\n]\n";
    let summary = env
        .run_with_stdin(&["import", "d", "c", "-", "--upsert"], array)
        .code(1)
        .json();
    assert_eq!(summary["itemsOk"], 3, "{summary}");
    assert_eq!(error_lines(&summary), vec![(5, 400)]);
    assert_eq!(
        all_items(&env, "c"),
        vec![json!({"id": "1", "t": "a", "v": 2}), json!({"id": "2", "t": "b"})]
    );
    // A clean import exits 0 with status 200 and an empty error list.
    let clean = env
        .run_with_stdin(&["import", "d", "c", "-"], "{\"id\":\"9\",\"t\":\"z\"}\n")
        .code(0)
        .json();
    assert_eq!(clean["statusCode"], 200);
    assert_eq!(clean["errors"], json!([]));
}

#[test]
fn missing_input_is_a_usage_error_and_missing_container_a_404() {
    let env = Env::with_container("/t");
    let v = env
        .run(&["import", "d", "c", "no-such-file.jsonl"])
        .code(2)
        .json();
    assert_eq!(v["statusCode"], 400);
    let v = env
        .run_with_stdin(&["import", "d", "nope", "-"], "{}\n")
        .code(1)
        .json();
    assert_eq!(v["statusCode"], 404);
}

#[test]
fn export_import_round_trip() {
    let env = Env::with_container("/t");
    env.ok(&["container", "create", "d", "copy", "--pk", "/t"]);
    let mut input = String::new();
    for i in 0..1500 {
        let item = json!({"id": format!("i{i:04}"), "t": format!("p{}", i % 7), "n": i,
                          "nested": {"a": [i, "x,\"y\""], "b": null}});
        input.push_str(&format!("{item}\n"));
    }
    let imported = env
        .run_with_stdin(&["import", "d", "c", "-"], &input)
        .code(0)
        .json();
    assert_eq!(imported["itemsOk"], 1500);

    // To a file: a summary on stdout, no system properties in the file.
    let file = env.path("export.jsonl");
    let summary = env.ok(&["export", "d", "c", env.arg(&file)]);
    assert_eq!(summary["items"], 1500);
    let text = std::fs::read_to_string(&file).expect("read export");
    assert_eq!(summary["bytes"], text.len() as u64);
    assert_eq!(text.lines().count(), 1500);
    assert!(!text.contains("\"_rid\"") && !text.contains("\"_etag\"") && !text.contains("\"_lsn\""));

    let again = env.ok(&["import", "d", "copy", env.arg(&file)]);
    assert_eq!(again["itemsOk"], 1500);
    let original = all_items(&env, "c");
    assert_eq!(original.len(), 1500);
    assert_eq!(all_items(&env, "copy"), original);

    // To stdout, filtered, with system properties.
    let run = env.run(&[
        "export",
        "d",
        "c",
        "--query",
        "SELECT * FROM c WHERE c.t = 'p3'",
        "--with-system-properties",
    ]);
    let lines = run.code(0).lines();
    assert_eq!(lines.len(), (0..1500).filter(|i| i % 7 == 3).count());
    assert!(
        lines.iter().all(|l| l["t"] == "p3" && l["_etag"].is_string()),
        "{run:?}"
    );
}
