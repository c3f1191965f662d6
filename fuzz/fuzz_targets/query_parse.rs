//! Fuzz target: query preparation as every query request does it (lexer, parser, checks:
//! `strata_engine::fuzzing::PreparedQuery`) on arbitrary UTF-8 text with fixed and arbitrary
//! parameters, then, when accepted, a run over four documents. Accepted or a 400; never a panic,
//! a stack overflow or a hang. Input format: fuzz/src/lib.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use strata_engine::fuzzing::PreparedQuery;

fn params(extra: &[u8]) -> Vec<(String, Value)> {
    let mut p = vec![
        ("@p".to_string(), json!(["x", 1])),
        ("n".to_string(), json!(i64::MIN)),
        ("@f".to_string(), json!(-0.5)),
        ("@s".to_string(), json!("a")),
        ("@o".to_string(), json!({"a": [1, {"b": null}]})),
        ("@k".to_string(), json!(2)),
    ];
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(extra) {
        p.extend(m);
    }
    p
}

fn docs() -> Vec<Value> {
    vec![
        json!({"id": "1", "a": 1, "tags": ["x", 2, null], "x": {"y": {"z": true}}}),
        json!({"id": "2", "a": "s", "tags": "no", "pk": "p"}),
        json!({"id": "3", "a": [1, {"b": 2}], "tags": [], "n": -0.0}),
        json!({"id": "4", "a": i64::MIN, "tags": [i64::MAX, -0.5, u64::MAX], "s": "é\u{0}"}),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((text, extra)) = strata_fuzz::query::decode(data) else {
        return;
    };
    match PreparedQuery::new(text, &params(extra)) {
        Ok(q) => {
            if let Err(e) = q.run(docs()) {
                assert_eq!(e.status(), 400, "{text:?}: {e}");
            }
        }
        Err(e) => assert_eq!(e.status(), 400, "{text:?}: {e}"),
    }
});
