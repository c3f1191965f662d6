//! End-to-end tests of `strata vault update --permission-model`, `strata vault role
//! assign|remove|list` and `strata vault key rotation-policy|show`: each runs the built executable
//! with `--output json` against a fresh --data and --home and asserts on the JSON it prints.

use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

const CRYPTO: &str = "Key Vault Crypto Service Encryption User";

struct Env {
    dir: TempDir,
}

struct Run {
    code: i32,
    json: Value,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("--data")
            .arg(self.dir.path().join("data"))
            .arg("--home")
            .arg(self.dir.path().join("home"))
            .args(["--output", "json"])
            .env_remove("STRATA_HOME")
            .args(args)
            .output()
            .expect("run strata")
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args);
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON object ({e}): {stdout} / {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        Run {
            code: out.status.code().unwrap_or(-1),
            json,
        }
    }

    fn ok(&self, args: &[&str], status: u64) -> Value {
        let r = self.run(args);
        assert_eq!(
            (r.code, r.json["statusCode"].as_u64()),
            (0, Some(status)),
            "{args:?}: {}",
            r.json
        );
        r.json
    }

    fn err(&self, args: &[&str], status: u64, sub: u64) -> Value {
        let r = self.run(args);
        let code = if matches!(status, 403 | 423 | 503) { 3 } else { 1 };
        assert_eq!(r.code, code, "{args:?}: {}", r.json);
        assert_eq!(
            (r.json["statusCode"].as_u64(), r.json["subStatus"].as_u64()),
            (Some(status), Some(sub)),
            "{args:?}: {}",
            r.json
        );
        r.json
    }
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

#[test]
fn rbac_model_switch_role_assignments_and_revocation() {
    let env = Env::new();
    let key = env.ok(&["vault", "key", "create", "cmk", "--size", "2048"], 201);
    let uri = key["keyUri"].as_str().expect("keyUri");
    let versionless = uri.rsplit_once('/').expect("versioned").0.to_string();

    assert_eq!(
        env.ok(&["vault", "show"], 200)["permissionModel"],
        "access-policy"
    );
    let refused = env.err(&["vault", "role", "assign", CRYPTO, "first-party"], 400, 0);
    assert!(message(&refused).contains("--permission-model rbac"), "{refused}");
    env.err(&["vault", "update"], 400, 0);
    env.err(&["vault", "update", "--permission-model", "roles"], 400, 0);

    let updated = env.ok(&["vault", "update", "--permission-model", "rbac"], 200);
    assert_eq!(updated["permissionModel"], "rbac");
    assert!(
        updated["warning"]
            .as_str()
            .is_some_and(|w| w.contains("no role assignment")),
        "{updated}"
    );
    let refused = env.err(
        &["vault", "policy", "set", "first-party", "--permissions", "get"],
        400,
        0,
    );
    assert!(message(&refused).contains("rbac permission model"), "{refused}");

    // No role yet: the account cannot be created, and the message says how to fix it.
    let refused = env.err(&["init", "--account", "acct", "--cmk", &versionless], 403, 4002);
    assert!(
        message(&refused).contains(&format!("strata vault role assign \"{CRYPTO}\" first-party")),
        "{refused}"
    );
    env.err(&["vault", "role", "assign", "Owner", "first-party"], 400, 0);
    env.err(&["vault", "role", "assign", CRYPTO, "user:ghost"], 404, 0);

    let assigned = env.ok(&["vault", "role", "assign", CRYPTO, "first-party"], 200);
    assert_eq!(
        (&assigned["role"], &assigned["scope"], &assigned["permissions"]),
        (
            &Value::from(CRYPTO),
            &Value::from("/"),
            &Value::from("get,wrapKey,unwrapKey")
        )
    );
    env.err(&["vault", "role", "assign", CRYPTO, "first-party"], 409, 0);
    env.ok(&["init", "--account", "acct", "--cmk", &versionless], 201);
    let list = env.ok(&["vault", "role", "list"], 200);
    assert_eq!(list["permissionModel"], "rbac");
    let rows: Vec<(String, String)> = list["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| {
            (
                a["principal"].as_str().unwrap_or_default().to_string(),
                a["scope"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(rows, vec![("first-party".to_string(), "/".to_string())]);

    env.ok(&["vault", "role", "remove", CRYPTO, "first-party"], 200);
    env.err(&["vault", "role", "remove", CRYPTO, "first-party"], 404, 0);
    env.err(&["key", "check"], 403, 4002);
    env.ok(
        &["vault", "role", "assign", CRYPTO, "first-party", "--key", "cmk"],
        200,
    );
    assert_eq!(env.ok(&["key", "check"], 200)["state"], "active");

    for sub in [
        &["vault", "role", "assign", "--help"][..],
        &["vault", "key", "rotation-policy", "--help"],
        &["vault", "update", "--help"],
    ] {
        let out = env.command(sub);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{sub:?}: {help}");
    }
}

#[test]
fn rotation_policy_is_set_shown_and_removed() {
    let env = Env::new();
    env.ok(&["vault", "key", "create", "cmk", "--size", "2048"], 201);
    env.err(
        &["vault", "key", "rotation-policy", "cmk", "--every-days", "6"],
        400,
        0,
    );
    env.err(
        &["vault", "key", "rotation-policy", "nope", "--every-days", "30"],
        404,
        0,
    );
    let set = env.ok(
        &["vault", "key", "rotation-policy", "cmk", "--every-days", "30"],
        200,
    );
    assert_eq!(set["rotationEveryDays"], 30);
    let show = env.ok(&["vault", "key", "show", "cmk"], 200);
    assert_eq!(show["rotationEveryDays"], 30);
    let versions = show["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1);
    let created = versions[0]["created"].as_u64().expect("created");
    assert_eq!(show["nextRotation"].as_u64(), Some(created + 30 * 86_400));
    assert_eq!(show["newestVersion"], versions[0]["version"]);

    let off = env.ok(&["vault", "key", "rotation-policy", "cmk", "--off"], 200);
    assert_eq!(off["rotationEveryDays"], Value::Null);
    let show = env.ok(&["vault", "key", "show", "cmk"], 200);
    assert!(show.get("rotationEveryDays").is_none_or(Value::is_null), "{show}");
    env.err(&["vault", "key", "show", "nope"], 404, 0);
}
