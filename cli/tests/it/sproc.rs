//! `strata sproc` through the real binary: create from --body and --file, get, list, run with a
//! partition key and arguments (JSON output: statusCode, requestCharge, body), a throw that
//! answers 400.3703 with the script's message and stores nothing, replace and delete, and bad
//! input (a body that does not compile, --args that is not an array) as 400; `strata trigger`
//! and the `--pre-trigger` / `--post-trigger` flags of item writes (a post-trigger's throw rolls
//! the delete back); `strata udf` and a query that calls one.

use crate::common;

use common::Env;
use serde_json::json;

const BULK_IMPORT: &str = r#"function bulkImport(items) {
    var c = getContext().getCollection();
    var count = 0;
    items.forEach(function (item) {
        if (c.createDocument(c.getSelfLink(), item, function (err) { if (err) throw err; })) count++;
    });
    getContext().getResponse().setBody(count);
}"#;

/// `strata sproc run d c NAME --pk a --args ARGS`.
fn run_args<'a>(name: &'a str, args: &'a str) -> [&'a str; 9] {
    ["sproc", "run", "d", "c", name, "--pk", "a", "--args", args]
}

#[test]
fn sproc_commands_store_run_and_remove_procedures() {
    let env = Env::with_container("/t");
    let file = env.path("bulkImport.js");
    std::fs::write(&file, BULK_IMPORT).unwrap();
    let created = env.ok_status(
        &[
            "sproc",
            "create",
            "d",
            "c",
            "bulkImport",
            "--file",
            env.arg(&file),
        ],
        201,
    );
    assert_eq!(
        (&created["id"], &created["body"]),
        (&json!("bulkImport"), &json!(BULK_IMPORT))
    );
    env.ok_status(
        &[
            "sproc",
            "create",
            "d",
            "c",
            "fail",
            "--body",
            "function fail(x) { throw new Error('refused: ' + x); }",
        ],
        201,
    );
    let listed = env.ok(&["sproc", "list", "d", "c"]);
    assert_eq!(
        listed["storedProcedures"],
        json!(["bulkImport", "fail"]),
        "{listed}"
    );
    assert_eq!(env.ok(&["sproc", "get", "d", "c", "fail"])["id"], "fail");

    let args = r#"[[{"id": "1", "t": "a"}, {"id": "2", "t": "a"}]]"#;
    let ran = env.ok_status(&run_args("bulkImport", args), 200);
    assert_eq!(ran["body"], 2);
    assert!(ran["requestCharge"].as_f64().unwrap() > 0.0, "{ran}");
    assert_eq!(
        env.ok(&["item", "get", "d", "c", "2", "--pk", "a"])["item"]["t"],
        "a"
    );

    let failed = env.err_status(&run_args("fail", "[\"x\"]"), 400, 3703);
    assert!(
        failed["message"].as_str().unwrap().contains("refused: x"),
        "{failed}"
    );
    // Creating an item that exists throws inside the script: nothing of the run is stored.
    let again = r#"[[{"id": "3", "t": "a"}, {"id": "1", "t": "a"}]]"#;
    env.err_status(&run_args("bulkImport", again), 400, 3703);
    env.err_status(&["item", "get", "d", "c", "3", "--pk", "a"], 404, 0);

    env.ok_status(
        &[
            "sproc",
            "replace",
            "d",
            "c",
            "fail",
            "--body",
            "function fail() { getContext().getResponse().setBody('ok'); }",
        ],
        200,
    );
    assert_eq!(
        env.ok(&["sproc", "run", "d", "c", "fail", "--pk", "a"])["body"],
        "ok"
    );
    env.ok_status(&["sproc", "delete", "d", "c", "fail"], 204);
    env.err_status(&["sproc", "get", "d", "c", "fail"], 404, 0);

    env.err_status(
        &["sproc", "create", "d", "c", "bad", "--body", "function ("],
        400,
        3703,
    );
    let r = env.run(&[
        "sproc",
        "run",
        "d",
        "c",
        "bulkImport",
        "--pk",
        "a",
        "--args",
        "{}",
    ]);
    assert_eq!(r.json()["statusCode"], 400, "{r:?}");
}

#[test]
fn trigger_commands_and_the_item_flags_that_name_them() {
    let env = Env::with_container("/t");
    let stamp = "function stamp() { var r = getContext().getRequest(); var d = r.getBody(); d.stamped = true; r.setBody(d); }";
    let created = env.ok_status(
        &[
            "trigger",
            "create",
            "d",
            "c",
            "stamp",
            "--type",
            "pre",
            "--operation",
            "all",
            "--body",
            stamp,
        ],
        201,
    );
    assert_eq!(
        (&created["triggerType"], &created["triggerOperation"]),
        (&json!("Pre"), &json!("All"))
    );
    let guard = "function guard() { throw new Error('deletes are audited: refused'); }";
    env.ok_status(
        &[
            "trigger",
            "create",
            "d",
            "c",
            "guard",
            "--type",
            "post",
            "--operation",
            "delete",
            "--body",
            guard,
        ],
        201,
    );
    let listed = env.ok(&["trigger", "list", "d", "c"]);
    assert_eq!(listed["triggers"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(env.ok(&["trigger", "get", "d", "c", "guard"])["body"], guard);

    let out = env.ok_status(
        &[
            "item",
            "create",
            "d",
            "c",
            "--json",
            r#"{"id":"1","t":"a"}"#,
            "--pre-trigger",
            "stamp",
        ],
        201,
    );
    assert_eq!(out["item"]["stamped"], true, "{out}");
    // The post-trigger throws: the delete is rolled back.
    let e = env.err_status(
        &[
            "item",
            "delete",
            "d",
            "c",
            "1",
            "--pk",
            "a",
            "--post-trigger",
            "guard",
        ],
        400,
        3703,
    );
    assert!(e["message"].as_str().unwrap().contains("refused"), "{e}");
    assert_eq!(
        env.ok(&["item", "get", "d", "c", "1", "--pk", "a"])["item"]["stamped"],
        true
    );
    // A trigger of the wrong type, or a bad --type.
    env.err_status(
        &[
            "item",
            "upsert",
            "d",
            "c",
            "--json",
            r#"{"id":"2","t":"a"}"#,
            "--pre-trigger",
            "guard",
        ],
        400,
        0,
    );
    env.err_status(
        &[
            "trigger",
            "create",
            "d",
            "c",
            "x",
            "--type",
            "during",
            "--operation",
            "all",
            "--body",
            stamp,
        ],
        400,
        0,
    );
    let replaced = env.ok_status(
        &[
            "trigger",
            "replace",
            "d",
            "c",
            "guard",
            "--type",
            "post",
            "--operation",
            "upsert",
            "--body",
            "function guard() {}",
        ],
        200,
    );
    assert_eq!(
        (&replaced["triggerType"], &replaced["triggerOperation"]),
        (&json!("Post"), &json!("Upsert"))
    );
    env.ok_status(&["trigger", "delete", "d", "c", "guard"], 204);
    env.ok_status(&["item", "delete", "d", "c", "1", "--pk", "a"], 204);
}

#[test]
fn udf_commands_and_a_query_that_calls_one() {
    let env = Env::with_container("/t");
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"1","t":"a","price":10}"#,
    ]);
    let body = "function tax(p) { if (p > 100) throw new Error('too dear'); return p * 0.2; }";
    let created = env.ok_status(&["udf", "create", "d", "c", "tax", "--body", body], 201);
    assert_eq!(created["body"], body);
    assert_eq!(
        env.ok(&["udf", "list", "d", "c"])["userDefinedFunctions"],
        json!(["tax"])
    );
    assert_eq!(env.ok(&["udf", "get", "d", "c", "tax"])["id"], "tax");
    let out = env.ok(&["query", "d", "c", "SELECT VALUE udf.tax(c.price) FROM c"]);
    assert_eq!(out["items"], json!([2]), "{out}");
    env.err_status(
        &["query", "d", "c", "SELECT VALUE udf.tax(1000) FROM c"],
        400,
        3703,
    );
    let replaced = env.ok_status(
        &[
            "udf",
            "replace",
            "d",
            "c",
            "tax",
            "--body",
            "function tax(p) { return p; }",
        ],
        200,
    );
    assert_ne!(replaced["etag"], created["etag"]);
    let out = env.ok(&["query", "d", "c", "SELECT VALUE udf.tax(c.price) FROM c"]);
    assert_eq!(out["items"], json!([10]), "the replaced body runs: {out}");
    env.err_status(
        &["udf", "replace", "d", "c", "none", "--body", "function n() {}"],
        404,
        0,
    );
    env.ok_status(&["udf", "delete", "d", "c", "tax"], 204);
    env.err_status(
        &["query", "d", "c", "SELECT VALUE udf.tax(c.price) FROM c"],
        404,
        0,
    );
}

#[test]
fn sproc_run_prints_the_script_log_on_stderr_only_with_log() {
    let env = Env::with_container("/t");
    let body = "function greet(name) { console.log('hello %s', name); console.warn({n: 2}); \
                getContext().getResponse().setBody('hi ' + name); }";
    env.ok_status(&["sproc", "create", "d", "c", "greet", "--body", body], 201);

    let mut args = run_args("greet", "[\"ada\"]").to_vec();
    args.push("--log");
    let logged = env.run(&args);
    assert_eq!(logged.code(0).json()["body"], "hi ada", "{logged:?}");
    assert!(logged.stderr.contains("hello ada\n{\"n\":2}\n"), "{logged:?}");
    assert!(!logged.stdout.contains("hello ada"), "{logged:?}");

    let quiet = env.run(&run_args("greet", "[\"ada\"]"));
    assert_eq!(quiet.code(0).json()["body"], "hi ada");
    assert!(!quiet.stderr.contains("hello"), "{quiet:?}");
}

#[test]
fn sproc_run_with_if_match_runs_only_the_body_it_names() {
    let env = Env::with_container("/pk");
    let first = env.ok_status(
        &["sproc", "create", "d", "c", "bulkImport", "--body", BULK_IMPORT],
        201,
    );
    let first_etag = first["etag"].as_str().unwrap().to_string();
    let one = r#"[[{"id": "1", "pk": "a"}]]"#;
    let mut with_etag = run_args("bulkImport", one).to_vec();
    with_etag.extend(["--if-match", &first_etag]);
    assert_eq!(env.ok_status(&with_etag, 200)["body"], json!(1));

    let replaced = env.ok_status(
        &["sproc", "replace", "d", "c", "bulkImport", "--body", BULK_IMPORT],
        200,
    );
    let two = r#"[[{"id": "2", "pk": "a"}]]"#;
    let mut stale = run_args("bulkImport", two).to_vec();
    stale.extend(["--if-match", &first_etag]);
    let refused = env.err_status(&stale, 412, 0);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains(replaced["etag"].as_str().unwrap()),
        "{refused}"
    );
    env.err_status(&["item", "get", "d", "c", "2", "--pk", "a"], 404, 0);

    let mut current = run_args("bulkImport", two).to_vec();
    current.extend(["--if-match", replaced["etag"].as_str().unwrap()]);
    assert_eq!(env.ok_status(&current, 200)["body"], json!(1));
}
