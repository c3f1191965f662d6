//! End-to-end tests of `strata vault create|show|update`, `--vault NAME`, `vault key
//! set-attributes` and `vault key purge`: each refusal exits with its status and substatus, and
//! the default vault keeps working for `init --cmk`.

use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

struct Env {
    dir: TempDir,
}

impl Env {
    /// Exit code and the JSON object printed, for the account in `<tmp>/<data>`.
    fn run(&self, data: &str, args: &[&str]) -> (i32, Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("--data")
            .arg(self.dir.path().join(data))
            .arg("--home")
            .arg(self.dir.path().join("home"))
            .args(["--output", "json"])
            .env_remove("STRATA_HOME")
            .args(args)
            .output()
            .expect("run strata");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not one JSON object ({e}): {stdout} / {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }

    fn ok(&self, args: &[&str], status: u64) -> Value {
        let (code, v) = self.run("data", args);
        assert_eq!(
            (code, v["statusCode"].as_u64()),
            (0, Some(status)),
            "{args:?}: {v}"
        );
        v
    }

    /// Expects `status`.`sub` with a message containing `needle`.
    fn err_in(&self, data: &str, args: &[&str], status: u64, sub: u64, needle: &str) -> Value {
        let (code, v) = self.run(data, args);
        assert_eq!(code, if status == 403 { 3 } else { 1 }, "{args:?}: {v}");
        assert_eq!(
            (v["statusCode"].as_u64(), v["subStatus"].as_u64().unwrap_or(0)),
            (Some(status), sub),
            "{args:?}: {v}"
        );
        assert!(v.to_string().contains(needle), "{args:?}: {v}");
        v
    }

    fn key(&self, vault: &str) -> String {
        let v = self.ok(
            &[
                "--vault", vault, "vault", "key", "create", "cmk", "--size", "2048",
            ],
            201,
        );
        v["keyUri"].as_str().expect("keyUri").to_string()
    }
}

#[test]
fn vault_properties_and_the_account_rules() {
    let env = Env {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let shown = env.ok(&["vault", "show"], 200);
    assert_eq!(
        (&shown["name"], &shown["purgeProtection"], &shown["retentionDays"]),
        (&Value::from("local"), &Value::from(true), &Value::from(90)),
        "{shown}"
    );
    let tenant = shown["tenantId"].as_str().expect("tenantId").to_string();

    let create = ["vault", "create", "prod", "--tenant", &tenant];
    env.err_in(
        "data",
        &[&create[..], &["--retention-days", "6"]].concat(),
        400,
        0,
        "7 to 90",
    );
    env.err_in(
        "data",
        &[&create[..], &["--network", "open"]].concat(),
        400,
        0,
        "network",
    );
    let prod = env.ok(&create, 201);
    assert_eq!(prod["purgeProtection"], false, "{prod}");
    env.err_in("data", &create, 409, 0, "exists");
    env.err_in(
        "data",
        &["--vault", "nope", "vault", "show"],
        404,
        0,
        "vault create nope",
    );

    // Without purge protection the vault is refused; turning it on is for good.
    let uri = env.key("prod");
    assert!(uri.starts_with("https://prod.vault.local/keys/cmk/"), "{uri}");
    let init = ["init", "--account", "a", "--cmk", &uri];
    env.err_in("a", &init, 403, 4002, "purge protection");
    env.err_in("data", &["--vault", "prod", "vault", "update"], 400, 0, "purge");
    let updated = env.ok(&["--vault", "prod", "vault", "update", "--purge-protection"], 200);
    assert_eq!(updated["purgeProtection"], true, "{updated}");
    let (code, v) = env.run("a", &init);
    assert_eq!((code, v["statusCode"].as_u64()), (0, Some(201)), "{v}");

    // Another tenant, and a private endpoint, are refused.
    env.ok(&["vault", "create", "other", "--purge-protection"], 201);
    let other = env.key("other");
    env.err_in(
        "b",
        &["init", "--account", "b", "--cmk", &other],
        403,
        4002,
        "tenant",
    );
    let private = [
        "vault",
        "create",
        "private",
        "--purge-protection",
        "--tenant",
        &tenant,
        "--network",
        "private-endpoint-only",
    ];
    env.ok(&private, 201);
    let p = env.key("private");
    env.err_in(
        "c",
        &["init", "--account", "c", "--cmk", &p],
        403,
        4002,
        "private-endpoint",
    );

    // An expired key version cannot wrap a new account's key.
    let expired = env.ok(
        &[
            "--vault",
            "prod",
            "vault",
            "key",
            "set-attributes",
            "cmk",
            "--exp",
            "1",
        ],
        200,
    );
    assert_eq!(expired["exp"], 1, "{expired}");
    env.err_in(
        "d",
        &["init", "--account", "d", "--cmk", &uri],
        403,
        4002,
        "expired at 1",
    );

    // Purge: refused while purge protection holds the deleted key.
    env.ok(&["--vault", "prod", "vault", "key", "delete", "cmk"], 200);
    env.err_in(
        "data",
        &["--vault", "prod", "vault", "key", "purge", "cmk"],
        409,
        0,
        "purge protection",
    );
    let log = env.ok(&["--vault", "prod", "vault", "audit"], 200).to_string();
    for op in ["enablePurgeProtection", "setAttributes", "purge"] {
        assert!(log.contains(&format!("\"{op}\"")), "{op}: {log}");
    }

    // The default flow is untouched.
    let default_uri = env.key("local");
    let (code, v) = env.run("e", &["init", "--account", "e", "--cmk", &default_uri]);
    assert_eq!((code, v["statusCode"].as_u64()), (0, Some(201)), "{v}");
}

#[test]
fn key_backup_restores_into_a_vault_of_the_same_tenant() {
    let env = Env {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    env.key("local");
    let tenant = env.ok(&["vault", "show"], 200)["tenantId"]
        .as_str()
        .expect("tenantId")
        .to_string();
    let file = env.dir.path().join("cmk.backup");
    let file = file.to_str().expect("utf-8 path");
    env.ok(&["vault", "key", "backup", "cmk", "--out", file], 200);
    env.err_in(
        "data",
        &["vault", "key", "backup", "cmk", "--out", file],
        409,
        0,
        "exists",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).expect("backup file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    env.ok(
        &[
            "vault",
            "create",
            "twin",
            "--tenant",
            &tenant,
            "--purge-protection",
        ],
        201,
    );
    let restored = env.ok(&["--vault", "twin", "vault", "key", "restore", file], 201);
    assert_eq!(
        restored["keyUri"], "https://twin.vault.local/keys/cmk",
        "{restored}"
    );
    env.err_in(
        "data",
        &["--vault", "twin", "vault", "key", "restore", file],
        409,
        0,
        "exists",
    );
    env.err_in("data", &["vault", "key", "restore", file], 409, 0, "exists");

    env.ok(&["vault", "create", "foreign", "--purge-protection"], 201);
    env.err_in(
        "data",
        &["--vault", "foreign", "vault", "key", "restore", file],
        403,
        4002,
        "tenant",
    );
}
