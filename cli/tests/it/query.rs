//! End-to-end tests of `strata query`: runs the built binary with `--output json` against a fresh
//! --data and --home, and checks the printed page (statusCode, requestCharge, items,
//! continuation), parameters, --pk, paging and the 400 of a malformed query.

use std::process::Command;

use serde_json::{json, Value};
use tempfile::TempDir;

struct Env {
    dir: TempDir,
}

impl Env {
    /// An account with database `d` and container `c` (partition key /tenant) holding 5 items.
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        env.ok(&["init", "--account", "acct"]);
        env.ok(&["db", "create", "d"]);
        env.ok(&["container", "create", "d", "c", "--pk", "/tenant"]);
        for (id, tenant, qty) in [
            ("1", "a", 5),
            ("2", "a", 10),
            ("3", "b", 1),
            ("4", "b", 20),
            ("5", "c", 7),
        ] {
            let body = json!({"id": id, "tenant": tenant, "qty": qty, "name": format!("item {id}")});
            env.ok(&["item", "create", "d", "c", "--json", &body.to_string()]);
        }
        env
    }

    /// Exit code and the one JSON object printed.
    fn run(&self, args: &[&str]) -> (i32, Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("--data")
            .arg(self.dir.path().join("data"))
            .arg("--home")
            .arg(self.dir.path().join("home"))
            .args(["--output", "json"])
            .args(args)
            .env_remove("STRATA_HOME")
            .current_dir(self.dir.path())
            .output()
            .expect("run strata");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            1,
            "{args:?}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = serde_json::from_str(lines[0]).expect("JSON line");
        (out.status.code().unwrap_or(-1), v)
    }

    fn ok(&self, args: &[&str]) -> Value {
        let (code, v) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {v}");
        v
    }
}

#[test]
fn query_prints_a_page_in_json() {
    let env = Env::new();
    let v = env.ok(&[
        "query",
        "d",
        "c",
        "SELECT c.id, c.qty FROM c WHERE c.qty > @min ORDER BY c.qty DESC",
        "--param",
        "@min=6",
    ]);
    assert_eq!(v["statusCode"], 200);
    assert!(v["requestCharge"].as_f64().is_some_and(|c| c >= 2.3), "{v}");
    assert_eq!(
        v["items"],
        json!([{"id": "4", "qty": 20}, {"id": "2", "qty": 10}, {"id": "5", "qty": 7}])
    );
    assert_eq!(v["continuation"], Value::Null);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{v}");

    // A string parameter (not JSON) and --pk scoping.
    let v = env.ok(&[
        "query",
        "d",
        "c",
        "SELECT VALUE c.id FROM c WHERE c.name = @n",
        "--param",
        "@n=item 3",
    ]);
    assert_eq!(v["items"], json!(["3"]));
    let v = env.ok(&[
        "query",
        "d",
        "c",
        "SELECT VALUE c.id FROM c ORDER BY c.id",
        "--pk",
        "b",
    ]);
    assert_eq!(v["items"], json!(["3", "4"]));
    let v = env.ok(&["query", "d", "c", "SELECT VALUE COUNT(1) FROM c"]);
    assert_eq!(v["items"], json!([5]));
}

#[test]
fn query_pages_with_continuation() {
    let env = Env::new();
    let sql = "SELECT VALUE c.id FROM c ORDER BY c.id";
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = vec!["query", "d", "c", sql, "--max-items", "2"];
        if let Some(t) = &token {
            args.extend(["--continuation", t.as_str()]);
        }
        let v = env.ok(&args);
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        ids.extend(items.iter().cloned());
        token = v["continuation"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(Value::Array(ids), json!(["1", "2", "3", "4", "5"]));

    // A GROUP BY pages by offset, one process a page, without writing a spill that the next
    // process would remove unread.
    let sql = "SELECT c.tenant, COUNT(1) AS n FROM c GROUP BY c.tenant";
    let first = env.ok(&["query", "d", "c", sql, "--max-items", "1"]);
    let token = first["continuation"].as_str().expect("a token").to_string();
    assert!(!env.dir.path().join("data/tmp/query").exists());
    let second = env.ok(&[
        "query",
        "d",
        "c",
        sql,
        "--max-items",
        "5",
        "--continuation",
        &token,
    ]);
    assert_eq!(second["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(second["continuation"], Value::Null);
}

#[test]
fn query_errors_are_400_with_position() {
    let env = Env::new();
    let (code, v) = env.run(&["query", "d", "c", "SELECT * FROM c WHERE"]);
    assert_eq!(code, 1);
    assert_eq!(v["statusCode"], 400);
    assert!(
        v["message"].as_str().unwrap().contains("line 1, column 22"),
        "{v}"
    );
    let (code, v) = env.run(&["query", "d", "c", "SELECT * FROM c", "--continuation", "nope"]);
    assert_eq!((code, v["statusCode"].clone()), (1, json!(400)));
    let (code, v) = env.run(&["query", "d", "c", "SELECT VALUE @p", "--param", "p=1"]);
    assert_eq!((code, v["statusCode"].clone()), (2, json!(400)));
    let (code, v) = env.run(&["query", "d", "nope", "SELECT * FROM c"]);
    assert_eq!((code, v["statusCode"].clone()), (1, json!(404)));
}
