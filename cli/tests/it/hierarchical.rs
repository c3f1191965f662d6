//! Hierarchical partition keys through the real binary: `container create --pk /t --pk /u`,
//! item commands addressed with `--pk-json '["t1","u1"]'` (the key of a written item taken from
//! the item itself), a wrong number of levels as a 400, `query` and `feed` scoped to a prefix
//! with `--pk-json '["t1"]'`, a batch in one full key, and export then import into another
//! hierarchical container.

use crate::common;

use common::Env;
use serde_json::{json, Value};

fn env() -> Env {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    env.ok(&["db", "create", "d"]);
    let made = env.ok_status(
        &["container", "create", "d", "h", "--pk", "/t", "--pk", "/u"],
        201,
    );
    assert_eq!(made["partitionKeyPath"], json!(["/t", "/u"]));
    for (t, u, id) in [
        ("t1", "u1", "a"),
        ("t1", "u2", "b"),
        ("t10", "u1", "c"),
        ("t2", "u1", "d"),
    ] {
        let item = json!({"id": id, "t": t, "u": u, "n": 1}).to_string();
        env.ok_status(&["item", "create", "d", "h", "--json", &item], 201);
    }
    env
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn items_are_addressed_by_the_full_key() {
    let env = env();
    let listed = env.ok(&["container", "list", "d"]);
    assert_eq!(
        listed["containers"][0]["partitionKeyPath"],
        json!(["/t", "/u"]),
        "{listed}"
    );
    let got = env.ok_status(
        &["item", "get", "d", "h", "a", "--pk-json", r#"["t1","u1"]"#],
        200,
    );
    assert_eq!(got["item"]["u"], "u1");
    env.err_status(
        &["item", "get", "d", "h", "a", "--pk-json", r#"["t1","u2"]"#],
        404,
        0,
    );
    // Too few levels, too many, or a single value: 400, saying how many levels it takes.
    for bad in [r#"["t1"]"#, r#"["t1","u1","s1"]"#] {
        let e = env.err_status(&["item", "get", "d", "h", "a", "--pk-json", bad], 400, 0);
        assert!(e.to_string().contains("level"), "{e}");
    }
    env.err_status(&["item", "delete", "d", "h", "a", "--pk", "t1"], 400, 0);
    // Not JSON at all is a usage error.
    let r = env.run(&["item", "get", "d", "h", "a", "--pk-json", "[t1"]);
    assert_eq!(r.code, 2, "{r:?}");

    let replaced = json!({"id": "a", "t": "t1", "u": "u1", "n": 2}).to_string();
    env.ok_status(&["item", "replace", "d", "h", "--json", &replaced], 200);
    let patch = |ops: &str| -> Vec<String> {
        [
            "item",
            "patch",
            "d",
            "h",
            "a",
            "--pk-json",
            r#"["t1","u1"]"#,
            "--ops",
            ops,
        ]
        .map(String::from)
        .to_vec()
    };
    let args = patch(r#"[{"op":"incr","path":"/n","value":5}]"#);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(env.ok_status(&args, 200)["item"]["n"], 7);
    let args = patch(r#"[{"op":"set","path":"/u","value":"x"}]"#);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.err_status(&args, 400, 0);
    // An item without the second path is stored under the none component ({}).
    env.ok_status(
        &["item", "create", "d", "h", "--json", r#"{"id":"e","t":"t1"}"#],
        201,
    );
    env.ok_status(&["item", "get", "d", "h", "e", "--pk-json", r#"["t1",{}]"#], 200);
    env.ok_status(
        &["item", "delete", "d", "h", "e", "--pk-json", r#"["t1",{}]"#],
        204,
    );

    let file = env.path("ops.json");
    std::fs::write(
        &file,
        json!([
            {"operationType": "Create", "resourceBody": {"id": "f", "t": "t1", "u": "u1"}},
            {"operationType": "Read", "id": "a"}
        ])
        .to_string(),
    )
    .unwrap();
    let file = env.arg(&file).to_string();
    let batch = env.ok_status(
        &["batch", "d", "h", "--pk-json", r#"["t1","u1"]"#, "--file", &file],
        200,
    );
    assert_eq!(batch["results"][1]["resourceBody"]["n"], 7, "{batch}");
    env.err_status(
        &["batch", "d", "h", "--pk-json", r#"["t1"]"#, "--file", &file],
        400,
        0,
    );
}

#[test]
fn queries_feeds_and_exports_take_a_prefix() {
    let env = env();
    let all = "SELECT * FROM c";
    let q = |pk: &str| env.ok(&["query", "d", "h", all, "--pk-json", pk]);
    assert_eq!(ids(&q(r#"["t1"]"#)), ["a", "b"]);
    assert_eq!(ids(&q(r#"["t1","u2"]"#)), ["b"]);
    assert_eq!(ids(&env.ok(&["query", "d", "h", all, "--pk", "t10"])), ["c"]);
    assert_eq!(ids(&env.ok(&["query", "d", "h", all])), ["a", "b", "c", "d"]);
    env.err_status(
        &["query", "d", "h", all, "--pk-json", r#"["t1","u1","x"]"#],
        400,
        0,
    );
    let plan = env.ok(&[
        "query",
        "d",
        "h",
        "SELECT * FROM c WHERE c.t = 't1' AND c.u = 'u1'",
        "--explain",
    ]);
    assert_eq!(plan["plan"]["scope"], r#"partition ["t1","u1"]"#, "{plan}");

    let feed = env.ok(&["feed", "d", "h", "--pk-json", r#"["t1"]"#]);
    assert_eq!(ids(&feed), ["a", "b"]);
    let feed = env.ok(&["feed", "d", "h", "--mode", "all", "--pk-json", r#"["t2","u1"]"#]);
    let records = feed["items"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{feed}");
    assert_eq!(records[0]["metadata"]["partitionKey"], json!(["t2", "u1"]));

    // Export, then import into another hierarchical container: the keys come from the items.
    let out = env.path("h.json");
    let out = env.arg(&out).to_string();
    env.ok(&["export", "d", "h", &out]);
    env.ok_status(
        &["container", "create", "d", "h2", "--pk", "/t", "--pk", "/u"],
        201,
    );
    env.ok_status(&["import", "d", "h2", &out], 200);
    assert_eq!(common::all_items(&env, "h"), common::all_items(&env, "h2"));
    env.ok_status(
        &["item", "get", "d", "h2", "c", "--pk-json", r#"["t10","u1"]"#],
        200,
    );

    // More than three paths is a 400, nothing created.
    env.err_status(
        &[
            "container",
            "create",
            "d",
            "h4",
            "--pk",
            "/a",
            "--pk",
            "/b",
            "--pk",
            "/c",
            "--pk",
            "/d",
        ],
        400,
        0,
    );
}
