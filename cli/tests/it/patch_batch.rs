//! `strata item patch` and `strata batch` through the real binary: JSON output (statusCode,
//! requestCharge, the item or one result per operation), conditions, a failed batch that
//! prints every operation's status, exits 1 and stores nothing, and bad or hostile input as 400.

use crate::common;

use common::Env;
use serde_json::{json, Value};

/// `strata item patch d c 1 --pk a --ops OPS EXTRA…`.
fn patch(env: &Env, ops: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["item", "patch", "d", "c", "1", "--pk", "a", "--ops", ops];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Creates `item` in container `d/c`.
fn create(env: &Env, item: &str) {
    env.ok(&["item", "create", "d", "c", "--json", item]);
}

#[test]
fn item_patch_applies_operations_and_honours_its_conditions() {
    let env = Env::with_container("/t");
    create(&env, r#"{"id":"1","t":"a","qty":4,"tags":[]}"#);
    let ops = r#"[{"op":"incr","path":"/qty","value":2},{"op":"add","path":"/tags/-","value":"x"}]"#;
    let out = patch(&env, ops, &["--filter", "FROM c WHERE c.qty < 10"])
        .code(0)
        .json();
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(
        (&out["item"]["qty"], &out["item"]["tags"]),
        (&json!(6), &json!(["x"]))
    );
    assert!(out["requestCharge"].as_f64().unwrap() > 0.0);
    let etag = out["etag"].as_str().unwrap().to_string();
    let incr = r#"[{"op":"incr","path":"/qty","value":1}]"#;
    let base = ["item", "patch", "d", "c", "1", "--pk", "a", "--ops", incr];
    let with = |extra: [&'static str; 2]| -> Vec<&str> { base.iter().copied().chain(extra).collect() };
    env.err_status(&with(["--filter", "FROM c WHERE c.qty > 6"]), 412, 0);
    env.err_status(&with(["--if-match", "\"stale\""]), 412, 0);
    env.err_status(&with(["--filter", "SELECT * FROM c"]), 400, 0);
    let mut good = base.to_vec();
    good.extend(["--if-match", etag.as_str()]);
    assert_eq!(env.ok_status(&good, 200)["item"]["qty"], 7);
    for ops in [
        "{}",
        "[{\"op\":\"copy\",\"path\":\"/a\"}]",
        "[{\"op\":\"set\",\"path\":\"/t\",\"value\":1}]",
    ] {
        env.err_status(
            &["item", "patch", "d", "c", "1", "--pk", "a", "--ops", ops],
            400,
            0,
        );
    }
    // Input that is not JSON at all is a usage error (exit 2), as for --json.
    let r = env.run(&["item", "patch", "d", "c", "1", "--pk", "a", "--ops", "not json"]);
    assert_eq!((r.code, r.json()["statusCode"].as_u64()), (2, Some(400)), "{r:?}");
    env.err_status(
        &["item", "patch", "d", "c", "nope", "--pk", "a", "--ops", incr],
        404,
        0,
    );
}

fn batch(env: &Env, ops: &Value) -> common::Run {
    let file = env.path("ops.json");
    std::fs::write(&file, ops.to_string()).unwrap();
    env.run(&["batch", "d", "c", "--pk", "a", "--file", env.arg(&file)])
}

#[test]
fn batch_runs_all_or_nothing_and_prints_each_operation() {
    let env = Env::with_container("/t");
    create(&env, r#"{"id":"1","t":"a","qty":1}"#);
    let ok = batch(
        &env,
        &json!([
            {"operationType": "Create", "resourceBody": {"id": "2", "t": "a"}},
            {"operationType": "Patch", "id": "1", "patchOperations": [{"op": "incr", "path": "/qty", "value": 1}]},
            {"operationType": "Read", "id": "2"}
        ]),
    );
    let out = ok.code(0).json();
    assert_eq!(out["statusCode"], 200, "{out}");
    let results = out["results"].as_array().unwrap();
    let statuses: Vec<&Value> = results.iter().map(|r| &r["statusCode"]).collect();
    assert_eq!(statuses, vec![&json!(201), &json!(200), &json!(200)]);
    assert_eq!(results[1]["resourceBody"]["qty"], 2);
    assert!(out["requestCharge"].as_f64().unwrap() > 0.0);

    let failed = batch(
        &env,
        &json!([
            {"operationType": "Upsert", "resourceBody": {"id": "3", "t": "a"}},
            {"operationType": "Create", "resourceBody": {"id": "1", "t": "a"}}
        ]),
    );
    let out = failed.code(1).json();
    assert_eq!(out["statusCode"], 409, "{out}");
    let statuses: Vec<&Value> = out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["statusCode"])
        .collect();
    assert_eq!(statuses, vec![&json!(424), &json!(409)]);
    env.err_status(&["item", "get", "d", "c", "3", "--pk", "a"], 404, 0);

    for (bad, status) in [
        (json!({"operationType": "Read"}), 400),
        (json!([]), 400),
        (
            json!([{"operationType": "Read", "id": "1", "partitionKey": "b"}]),
            400,
        ),
        (
            json!([{"operationType": "Create", "resourceBody": {"id": "9", "t": "b"}}]),
            400,
        ),
    ] {
        let r = batch(&env, &bad);
        assert_eq!(
            (r.code, r.json()["statusCode"].as_u64()),
            (1, Some(status)),
            "{bad}: {r:?}"
        );
    }
    let missing = env.run(&["batch", "d", "c", "--pk", "a", "--file", "no-such.json"]);
    assert_eq!(
        (missing.code, missing.json()["statusCode"].as_u64()),
        (2, Some(400)),
        "{missing:?}"
    );
}

#[test]
fn hostile_ops_and_batch_files_are_400_not_a_crash() {
    let env = Env::with_container("/t");
    create(&env, r#"{"id":"1","t":"a"}"#);
    // Deep enough to overflow a recursive parser's stack, short enough for one argument.
    let deep = "[".repeat(50_000) + &"]".repeat(50_000);
    let r = env.run(&["item", "patch", "d", "c", "1", "--pk", "a", "--ops", &deep]);
    assert_eq!((r.code, r.json()["statusCode"].as_u64()), (2, Some(400)), "{r:?}");
    let file = env.path("deep.json");
    std::fs::write(&file, &deep).unwrap();
    let r = env.run(&["batch", "d", "c", "--pk", "a", "--file", env.arg(&file)]);
    assert_eq!((r.code, r.json()["statusCode"].as_u64()), (2, Some(400)), "{r:?}");
    let ops: Vec<Value> = (0..101)
        .map(|i| json!({"operationType": "Read", "id": format!("i{i}")}))
        .collect();
    let r = batch(&env, &Value::Array(ops));
    assert_eq!((r.code, r.json()["statusCode"].as_u64()), (1, Some(400)), "{r:?}");
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"op": "incr", "path": "/n", "value": 1}))
        .collect();
    let r = patch(&env, &Value::Array(eleven).to_string(), &[]);
    assert_eq!((r.code, r.json()["statusCode"].as_u64()), (1, Some(400)), "{r:?}");
    assert_eq!(
        env.ok(&["item", "get", "d", "c", "1", "--pk", "a"])["item"]["id"],
        "1"
    );
}

#[test]
fn the_shell_patches_too() {
    let env = Env::with_container("/t");
    create(&env, r#"{"id":"1","t":"a","qty":1}"#);
    let script = "use d/c\npatch 1 a [{\"op\": \"incr\", \"path\": \"/qty\", \"value\": 4}]\npatch 1 a [{\"op\": \"remove\", \"path\": \"/nope\"}]\n";
    let r = env.run_with_stdin(&["shell"], script);
    let lines = r.lines();
    assert_eq!(r.code, 1, "the failed patch fails the piped session: {r:?}");
    assert_eq!(lines[1]["statusCode"], 200, "{r:?}");
    assert_eq!(lines[1]["item"]["qty"], 5, "{r:?}");
    assert_eq!(lines[2]["statusCode"], 400, "{r:?}");
}
