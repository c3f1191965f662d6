//! End-to-end tests of the `strata` binary: each runs the built executable with `--output json`
//! against a fresh temporary --data and --home, and asserts on the parsed JSON it prints.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};
use tempfile::TempDir;

/// A scratch place with its own data directory and home.
struct Env {
    dir: TempDir,
}

/// What one run printed: exit code and the JSON objects on stdout, one per line.
struct Run {
    code: i32,
    lines: Vec<Value>,
    stderr: String,
}

impl Run {
    /// The single JSON object a non-demo command prints.
    fn json(&self) -> &Value {
        assert_eq!(
            self.lines.len(),
            1,
            "expected one JSON object, got {:?} (stderr: {})",
            self.lines,
            self.stderr
        );
        &self.lines[0]
    }

    fn status(&self) -> u64 {
        self.json()["statusCode"]
            .as_u64()
            .unwrap_or_else(|| panic!("no statusCode in {}", self.json()))
    }

    /// Asserts success with this status and returns the object.
    fn ok(&self, status: u64) -> &Value {
        assert_eq!(self.code, 0, "exit code; output {:?} {}", self.lines, self.stderr);
        assert_eq!(self.status(), status, "{}", self.json());
        self.json()
    }

    /// Asserts failure with this status, the error shape and its exit code (3 for 403/423/503,
    /// else 1), and returns the object.
    fn err(&self, status: u64) -> &Value {
        let code = if matches!(status, 403 | 423 | 503) { 3 } else { 1 };
        self.err_exit(status, code)
    }

    /// Asserts a usage error (400, exit 2) and returns the object.
    fn usage(&self) -> &Value {
        self.err_exit(400, 2)
    }

    fn err_exit(&self, status: u64, code: i32) -> &Value {
        assert_eq!(
            self.code, code,
            "exit code; output {:?} {}",
            self.lines, self.stderr
        );
        let v = self.json();
        assert_eq!(v["statusCode"], json!(status), "{v}");
        assert!(v["subStatus"].is_u64(), "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        v
    }
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.arg("--data")
            .arg(self.data())
            .arg("--home")
            .arg(self.home())
            .args(["--output", "json"])
            .env_remove("STRATA_HOME")
            .current_dir(self.dir.path());
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command().args(args).output().expect("run strata");
        parse(out)
    }

    /// `init` + `db create d` + `container create d c --pk PATH`.
    fn smk_with_container(pk_path: &str) -> Env {
        let env = Env::new();
        env.run(&["init", "--account", "acct"]).ok(201);
        env.run(&["db", "create", "d"]).ok(201);
        env.run(&["container", "create", "d", "c", "--pk", pk_path])
            .ok(201);
        env
    }
}

fn parse(out: Output) -> Run {
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let lines = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn etag(v: &Value) -> String {
    v["etag"]
        .as_str()
        .unwrap_or_else(|| panic!("no etag in {v}"))
        .to_string()
}

#[test]
fn smk_full_flow() {
    let env = Env::new();
    let init = env.run(&["init", "--account", "acct"]);
    let v = init.ok(201);
    assert_eq!(v["account"], "acct");
    assert_eq!(v["encryption"], "service-managed");

    assert_eq!(env.run(&["db", "create", "shop"]).ok(201)["database"], "shop");
    assert_eq!(env.run(&["db", "list"]).ok(200)["databases"], json!(["shop"]));
    env.run(&["container", "create", "shop", "orders", "--pk", "/tenant"])
        .ok(201);
    assert_eq!(
        env.run(&["container", "list", "shop"]).ok(200)["containers"],
        json!([{ "name": "orders", "partitionKeyPath": "/tenant", "customerKey": "account" }])
    );

    let created = env.run(&[
        "item",
        "create",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o1","tenant":"acme","qty":1}"#,
    ]);
    let v = created.ok(201);
    assert!(v["requestCharge"].as_f64().is_some_and(|c| c > 0.0), "{v}");
    assert_eq!(v["item"]["qty"], 1);
    let first_etag = etag(v);

    // Same id again: 409.
    env.run(&[
        "item",
        "create",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o1","tenant":"acme","qty":9}"#,
    ])
    .err(409);

    let got = env.run(&["item", "get", "shop", "orders", "o1", "--pk", "acme"]);
    let v = got.ok(200);
    assert_eq!(v["item"]["id"], "o1");
    assert_eq!(v["item"]["tenant"], "acme");
    assert_eq!(etag(v), first_etag);
    assert!(v["requestCharge"].as_f64().is_some_and(|c| c > 0.0), "{v}");

    let replaced = env.run(&[
        "item",
        "replace",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o1","tenant":"acme","qty":2}"#,
        "--if-match",
        &first_etag,
    ]);
    let v = replaced.ok(200);
    assert_eq!(v["item"]["qty"], 2);
    let second_etag = etag(v);
    assert_ne!(second_etag, first_etag);

    // The first etag is stale now.
    env.run(&[
        "item",
        "replace",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o1","tenant":"acme","qty":3}"#,
        "--if-match",
        &first_etag,
    ])
    .err(412);
    env.run(&[
        "item",
        "delete",
        "shop",
        "orders",
        "o1",
        "--pk",
        "acme",
        "--if-match",
        &first_etag,
    ])
    .err(412);

    let got = env.run(&["item", "get", "shop", "orders", "o1", "--pk", "acme"]);
    assert_eq!(got.ok(200)["item"]["qty"], 2);

    // Upsert: new item 201, existing 200.
    env.run(&[
        "item",
        "upsert",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o2","tenant":"acme"}"#,
    ])
    .ok(201);
    env.run(&[
        "item",
        "upsert",
        "shop",
        "orders",
        "--json",
        r#"{"id":"o2","tenant":"acme","x":1}"#,
    ])
    .ok(200);

    let deleted = env.run(&[
        "item",
        "delete",
        "shop",
        "orders",
        "o1",
        "--pk",
        "acme",
        "--if-match",
        &second_etag,
    ]);
    let v = deleted.ok(204);
    assert!(v["requestCharge"].is_number(), "{v}");

    env.run(&["item", "get", "shop", "orders", "o1", "--pk", "acme"])
        .err(404);
    env.run(&["item", "delete", "shop", "orders", "o1", "--pk", "acme"])
        .err(404);
}

#[test]
fn cmk_flow() {
    let env = Env::new();
    // The vault is found through $STRATA_HOME when --home is not given.
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["--output", "json", "--data"])
        .arg(env.data())
        .args(["vault", "key", "create", "cmk1", "--size", "2048"])
        .env("STRATA_HOME", env.home())
        .output()
        .expect("run strata");
    let created = parse(out);
    let v = created.ok(201);
    let uri = v["keyUri"].as_str().expect("keyUri").to_string();
    assert!(uri.starts_with("https://"), "{uri}");
    assert!(uri.contains("/keys/cmk1/"), "{uri}");

    let keys = env.run(&["vault", "key", "list"]);
    let list = keys.ok(200)["keys"].as_array().expect("keys").clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "cmk1");
    assert_eq!(list[0]["bits"], 2048);
    assert_eq!(list[0]["enabled"], true);

    let v = env.run(&["init", "--account", "acct", "--cmk", &uri]);
    let v = v.ok(201);
    assert_eq!(v["encryption"], "customer-managed");
    assert!(v["keyUri"].as_str().is_some_and(|k| k.contains("cmk1")), "{v}");

    env.run(&["db", "create", "d"]).ok(201);
    env.run(&["container", "create", "d", "c", "--pk", "/a/b"])
        .ok(201);
    env.run(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"x","a":{"b":"deep"},"secret":"s3"}"#,
    ])
    .ok(201);
    let got = env.run(&["item", "get", "d", "c", "x", "--pk", "deep"]);
    assert_eq!(got.ok(200)["item"]["secret"], "s3");

    // Disabling the key makes the account unusable with a 403 from the vault.
    env.run(&["vault", "key", "disable", "cmk1"]).ok(200);
    let denied = env.run(&["item", "get", "d", "c", "x", "--pk", "deep"]);
    assert_eq!(denied.err(403)["subStatus"], 4002);
    env.run(&["vault", "key", "enable", "cmk1"]).ok(200);
    env.run(&["item", "get", "d", "c", "x", "--pk", "deep"]).ok(200);
}

#[test]
fn partition_key_flags() {
    let env = Env::smk_with_container("/k");
    let create = |body: &str| {
        env.run(&["item", "create", "d", "c", "--json", body])
            .ok(201)
            .clone()
    };
    create(r#"{"id":"num","k":5}"#);
    create(r#"{"id":"str","k":"123"}"#);
    create(r#"{"id":"bool","k":true}"#);
    create(r#"{"id":"none"}"#);
    create(r#"{"id":"txt","k":"abc"}"#);

    let get = |args: &[&str]| {
        let mut all = vec!["item", "get", "d", "c"];
        all.extend_from_slice(args);
        env.run(&all)
    };
    // A number-looking --pk is a number.
    assert_eq!(get(&["num", "--pk", "5"]).ok(200)["item"]["k"], 5);
    get(&["num", "--pk-json", "\"5\""]).err(404);
    // The string "123" needs --pk-json.
    get(&["str", "--pk", "123"]).err(404);
    assert_eq!(get(&["str", "--pk-json", "\"123\""]).ok(200)["item"]["k"], "123");
    assert_eq!(get(&["bool", "--pk", "true"]).ok(200)["item"]["k"], true);
    assert_eq!(get(&["txt", "--pk", "abc"]).ok(200)["item"]["id"], "txt");
    // An item without the path has no partition-key value.
    assert_eq!(get(&["none", "--pk-none"]).ok(200)["item"]["id"], "none");
    // A malformed --pk-json is bad input.
    get(&["str", "--pk-json", "123abc"]).usage();
}

#[test]
fn bad_input_is_400() {
    let env = Env::smk_with_container("/k");
    env.run(&["item", "create", "d", "c", "--json", r#"{"id":"1","k":"#])
        .usage();
    env.run(&["item", "create", "d", "c", "--json", "[1,2]"]).usage();
    let missing = env.dir.path().join("nope.json");
    let missing = missing.to_str().expect("utf-8 path");
    env.run(&["item", "upsert", "d", "c", "--file", missing]).usage();
    // An item from a file works.
    let file = env.dir.path().join("item.json");
    std::fs::write(&file, r#"{"id":"f","k":"v"}"#).expect("write item file");
    env.run(&[
        "item",
        "create",
        "d",
        "c",
        "--file",
        file.to_str().expect("utf-8 path"),
    ])
    .ok(201);
    // Unparseable command lines are 400s in the same shape (exit 2).
    env.run(&["item", "get", "d", "c", "f"]).usage();
    env.run(&["db", "frobnicate"]).usage();
    env.run(&["vault", "key", "create", "k", "--size", "1000"])
        .usage();
    // A value the engine rejects is a request error (exit 1).
    env.run(&["init", "--account", "a2", "--cmk", "not-a-uri"])
        .err(400);
}

#[test]
fn second_init_is_409_and_no_account_is_404() {
    let env = Env::new();
    env.run(&["db", "list"]).err(404);
    env.run(&["init", "--account", "acct"]).ok(201);
    env.run(&["init", "--account", "acct"]).err(409);
    env.run(&["init", "--account", "other"]).err(409);
    env.run(&["db", "create", "d"]).ok(201);
    env.run(&["db", "create", "d"]).err(409);
    env.run(&["container", "create", "nodb", "c", "--pk", "/k"])
        .err(404);
    env.run(&["item", "create", "d", "missing", "--json", r#"{"id":"1"}"#])
        .err(404);
}

#[test]
fn buffered_durability_flag() {
    let env = Env::smk_with_container("/k");
    env.run(&[
        "--durability",
        "buffered",
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"1","k":1}"#,
    ])
    .ok(201);
    env.run(&["item", "get", "d", "c", "1", "--pk", "1"]).ok(200);
}

#[test]
fn demo_runs_and_finds_no_plaintext() {
    let env = Env::new();
    let out = env.command().arg("demo").output().expect("run demo");
    let run = parse(out);
    assert_eq!(run.code, 0, "{:?} {}", run.lines, run.stderr);
    let steps: Vec<&Value> = run.lines.iter().filter(|l| l["event"] == "step").collect();
    let status_of = |prefix: &str| -> Vec<u64> {
        steps
            .iter()
            .filter(|s| s["operation"].as_str().is_some_and(|o| o.starts_with(prefix)))
            .filter_map(|s| s["statusCode"].as_u64())
            .collect()
    };
    assert!(status_of("replace").contains(&412), "{steps:?}");
    assert!(status_of("read").contains(&404), "{steps:?}");
    assert_eq!(status_of("create").iter().filter(|s| **s == 201).count(), 6);
    assert_eq!(status_of("read all 2000 bulk items back"), vec![200]);
    assert!(status_of("close and reopen").contains(&200), "{steps:?}");
    assert_eq!(status_of("query status shipped or paid (indexed)"), vec![200]);

    let summary = run
        .lines
        .iter()
        .find(|l| l["event"] == "summary")
        .expect("summary line");
    assert_eq!(summary["statusCode"], 200);
    assert_eq!(summary["filesWithId"], 0);
    assert_eq!(summary["filesWithBodyString"], 0);
    assert!(
        summary["filesScanned"].as_u64().is_some_and(|n| n > 0),
        "{summary}"
    );
    let total = summary["totalRequestCharge"].as_f64().expect("total RU");
    let sum: f64 = steps.iter().filter_map(|s| s["requestCharge"].as_f64()).sum();
    assert!((total - sum).abs() < 0.05, "total {total} vs sum {sum}");

    // The temporary directory is gone afterwards.
    let start = run
        .lines
        .iter()
        .find(|l| l["event"] == "start")
        .expect("start line");
    let dir = PathBuf::from(start["dir"].as_str().expect("dir"));
    assert!(!dir.exists(), "{} should have been removed", dir.display());
}

#[test]
fn throughput_flags() {
    let env = Env::new();
    env.run(&["init", "--account", "acct"]).ok(201);
    let e = env
        .run(&["db", "create", "d", "--throughput", "450"])
        .err(400)
        .clone();
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("at least 400 RU/s"),
        "{e}"
    );
    let db = env
        .run(&["db", "create", "d", "--throughput", "400"])
        .ok(201)
        .clone();
    assert_eq!(db["throughput"], json!(400));
    env.run(&[
        "container",
        "create",
        "d",
        "c",
        "--pk",
        "/k",
        "--throughput",
        "300",
    ])
    .err(400);
    let c = env
        .run(&[
            "container",
            "create",
            "d",
            "c",
            "--pk",
            "/k",
            "--throughput",
            "1000",
        ])
        .ok(201)
        .clone();
    assert_eq!(c["throughput"], json!(1000));
    let shared = env
        .run(&["container", "create", "d", "s", "--pk", "/k"])
        .ok(201)
        .clone();
    assert!(shared.get("throughput").is_none(), "{shared}");
    env.run(&["item", "create", "d", "c", "--json", r#"{"id":"1","k":"v"}"#])
        .ok(201);
}
