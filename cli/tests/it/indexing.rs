//! End-to-end tests of indexing through the CLI: `container create --index-policy FILE`,
//! `container set-index-policy` (waits for the rebuild), `container index-status`, and
//! `query --explain`; bad policy files are 400 and change nothing.

use crate::common;

use common::Env;
use serde_json::json;

fn env_with_items() -> Env {
    let env = Env::with_container("/tenant");
    for (id, tenant, qty) in [("1", "a", 5), ("2", "a", 10), ("3", "b", 1), ("4", "b", 20)] {
        let body = json!({"id": id, "tenant": tenant, "qty": qty});
        env.ok(&["item", "create", "d", "c", "--json", &body.to_string()]);
    }
    env
}

#[test]
fn explain_prints_the_plan_and_runs_nothing() {
    let env = env_with_items();
    let out = env.ok_status(
        &[
            "query",
            "d",
            "c",
            "SELECT * FROM c WHERE c.qty > @q",
            "--param",
            "@q=4",
            "--explain",
        ],
        200,
    );
    let plan = &out["plan"];
    assert_eq!(plan["indexUsed"], true, "{out}");
    assert_eq!(plan["lookups"], json!(["/\"qty\" >= 4"]));
    assert!(out.get("items").is_none(), "{out}");
    let scan = env.ok_status(
        &[
            "query",
            "d",
            "c",
            "SELECT * FROM c WHERE c.qty * 2 > 4",
            "--explain",
        ],
        200,
    );
    assert_eq!(scan["plan"]["indexUsed"], false);
    assert_eq!(scan["plan"]["strategy"], "fullScan");
}

#[test]
fn policies_are_set_at_creation_and_changed_with_a_rebuild() {
    let env = env_with_items();
    let policy = env.path("policy.json");
    std::fs::write(
        &policy,
        r#"{"includedPaths": [{"path": "/id/?"}], "excludedPaths": [{"path": "/*"}]}"#,
    )
    .unwrap();
    let created = env.ok_status(
        &[
            "container",
            "create",
            "d",
            "narrow",
            "--pk",
            "/tenant",
            "--index-policy",
            env.arg(&policy),
        ],
        201,
    );
    assert_eq!(created["indexingPolicy"]["excludedPaths"][0]["path"], "/*");
    // The default container: everything indexed; narrowing it rebuilds, and the command waits.
    let set = env.ok_status(
        &["container", "set-index-policy", "d", "c", env.arg(&policy)],
        200,
    );
    assert_eq!(
        (set["ready"].clone(), set["generation"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(set["itemsIndexed"], 4);
    let plan = env.ok(&["query", "d", "c", "SELECT * FROM c WHERE c.qty > 4", "--explain"]);
    assert_eq!(plan["plan"]["indexUsed"], false);
    let q = env.ok(&["query", "d", "c", "SELECT VALUE c.id FROM c WHERE c.qty > 4"]);
    assert_eq!(q["items"], json!(["1", "2", "4"]));
    // Sorting on an excluded path is refused.
    env.err_status(&["query", "d", "c", "SELECT * FROM c ORDER BY c.qty"], 400, 0);
    let status = env.ok_status(&["container", "index-status", "d", "c"], 200);
    assert_eq!(status["ready"], true);
    assert_eq!(status["indexingPolicy"]["includedPaths"][0]["path"], "/id/?");
    // A bad policy file is a 400 naming the file (exit 2, bad input, as a bad item file is),
    // and the policy stays.
    let bad_input = |args: &[&str]| {
        let e = env.run(args).code(2).json();
        assert_eq!(e["statusCode"], 400, "{e}");
        assert!(
            e["message"].as_str().unwrap_or_default().contains("policy.json"),
            "{e}"
        );
    };
    std::fs::write(&policy, r#"{"includedPaths": [{"path": "/a/?"}]}"#).unwrap();
    bad_input(&["container", "set-index-policy", "d", "c", env.arg(&policy)]);
    std::fs::write(&policy, "not json").unwrap();
    bad_input(&[
        "container",
        "create",
        "d",
        "other",
        "--pk",
        "/x",
        "--index-policy",
        env.arg(&policy),
    ]);
    let status = env.ok(&["container", "index-status", "d", "c"]);
    assert_eq!(status["generation"], 1);
    let listed = env.ok(&["container", "list", "d"]);
    assert_eq!(listed["containers"].as_array().map(Vec::len), Some(2), "{listed}");
}

/// A spatial index set through the CLI: the policy round-trips in `index-status`, a distance
/// filter uses it, and an unknown geometry type is a 400 naming the file.
#[test]
fn spatial_indexes_are_set_and_used_by_spatial_filters() {
    let env = Env::with_container("/tenant");
    // (2.35, 48.85) and a point 0.01° east of it (734 m away at this latitude).
    for (id, x) in [("near", 2.35), ("far", 2.36)] {
        let body = json!({"id": id, "tenant": "a", "loc": {"type": "Point", "coordinates": [x, 48.85]}});
        env.ok(&["item", "create", "d", "c", "--json", &body.to_string()]);
    }
    let policy = env.path("spatial.json");
    std::fs::write(
        &policy,
        r#"{"includedPaths": [{"path": "/*"}],
            "spatialIndexes": [{"path": "/loc/?", "types": ["Point", "Polygon"]}]}"#,
    )
    .unwrap();
    let set = env.ok_status(
        &["container", "set-index-policy", "d", "c", env.arg(&policy)],
        200,
    );
    assert_eq!(set["ready"], true);
    let status = env.ok(&["container", "index-status", "d", "c"]);
    assert_eq!(
        status["indexingPolicy"]["spatialIndexes"],
        json!([{"path": "/loc/?", "types": ["Point", "Polygon"]}])
    );
    let sql = "SELECT VALUE c.id FROM c WHERE ST_DISTANCE(c.loc, {'type': 'Point', 'coordinates': [2.35, 48.85]}) < 500";
    let plan = env.ok(&["query", "d", "c", sql, "--explain"]);
    assert_eq!(plan["plan"]["indexUsed"], true, "{plan}");
    assert!(
        plan["plan"]["lookups"][0]
            .as_str()
            .unwrap_or_default()
            .contains("spatial index"),
        "{plan}"
    );
    assert_eq!(env.ok(&["query", "d", "c", sql])["items"], json!(["near"]));
    std::fs::write(
        &policy,
        r#"{"includedPaths": [{"path": "/*"}], "spatialIndexes": [{"path": "/loc/?", "types": ["Circle"]}]}"#,
    )
    .unwrap();
    let e = env
        .run(&["container", "set-index-policy", "d", "c", env.arg(&policy)])
        .code(2)
        .json();
    assert_eq!(e["statusCode"], 400, "{e}");
    let message = e["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("spatial.json") && message.contains("Circle"),
        "{e}"
    );
}
