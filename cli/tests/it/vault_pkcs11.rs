//! The `strata` binary with a vault whose keys live in a PKCS#11 token (SoftHSM2): `vault create
//! --pkcs11-module`, a 3072-bit key made in the token, `init --cmk` and `key enable-cmk` on it,
//! revocation through the token, the other `vault` commands, and a leak scan of the token's
//! files. Ignored in a plain `cargo test`; scripts/test.sh runs them with `--ignored` (they fail
//! without the module).

use std::process::Stdio;

use crate::common::{self, Env};
use strata_vault::SoftToken;

const CANARY: &str = "pkcs11-canary-7f3a";

/// One token test at a time: SoftHSM2's file store does not like one process initialising a
/// token while another reads the token directory.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn token_vault(env: &Env, token: &SoftToken) {
    let module = token.config.module.display().to_string();
    let v = env.ok_status(
        &[
            "vault",
            "create",
            "hsm",
            "--pkcs11-module",
            &module,
            "--token",
            &token.label,
            "--pin-env",
            &token.config.pin_env,
            "--purge-protection",
        ],
        201,
    );
    assert_eq!(v["keyHolder"], "pkcs11", "{v}");
    assert_eq!(v["token"], token.label.as_str(), "{v}");
}

/// Runs `args` with the token's PIN variable removed from the environment; the JSON printed.
fn without_pin(env: &Env, token: &SoftToken, args: &[&str]) -> serde_json::Value {
    let r = env
        .bare()
        .env_remove(&token.config.pin_env)
        .args(["--output", "json"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run strata");
    serde_json::from_slice(&r.stdout).expect("JSON")
}

fn versionless(uri: &str) -> &str {
    uri.rsplit_once('/').expect("versioned").0
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn a_token_key_protects_an_account_and_its_revocation_holds() {
    let _one = serial();
    let token = SoftToken::create();
    let env = Env::new();
    token_vault(&env, &token);
    let key = env.ok_status(
        &[
            "--vault", "hsm", "vault", "key", "create", "cmk", "--size", "3072",
        ],
        201,
    );
    let uri = key["keyUri"].as_str().expect("keyUri").to_string();
    assert!(uri.starts_with("https://hsm.vault.local/keys/cmk/"), "{key}");
    env.ok_status(&["init", "--account", "acct", "--cmk", &uri], 201);
    env.ok(&["db", "create", "d"]);
    env.ok(&["container", "create", "d", "c", "--pk", "/pk"]);
    let item = format!(r#"{{"id":"1","pk":"a","secret":"{CANARY}"}}"#);
    env.ok_status(&["item", "create", "d", "c", "--json", &item], 201);
    assert_eq!(
        env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200)["item"]["secret"],
        CANARY
    );

    // Disabled in the vault (and so in the token): the data is refused.
    env.ok_status(&["--vault", "hsm", "vault", "key", "disable", "cmk"], 200);
    env.err_status(&["item", "get", "d", "c", "1", "--pk", "a"], 403, 4002);
    env.ok_status(&["--vault", "hsm", "vault", "key", "enable", "cmk"], 200);
    env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200);

    // A new version in the token; the account follows with `key rotate`.
    let rotated = env.ok_status(&["--vault", "hsm", "vault", "key", "rotate", "cmk"], 201);
    let list = env.ok_status(&["--vault", "hsm", "vault", "key", "list"], 200);
    assert_eq!(list["keys"].as_array().map(Vec::len), Some(2), "{list}");
    assert!(rotated["keyUri"].as_str().is_some_and(|u| u != uri), "{rotated}");
    let show = env.ok_status(&["--vault", "hsm", "vault", "show"], 200);
    assert_eq!(show["pinEnv"], token.config.pin_env.as_str(), "{show}");
    // Token keys cannot be exported.
    let out = env.path("cmk.backup");
    let out = out.to_str().expect("utf-8 path");
    env.err_status(
        &["--vault", "hsm", "vault", "key", "backup", "cmk", "--out", out],
        409,
        0,
    );

    // Without the PIN in the environment the token, and so the data, is out of reach.
    let json = without_pin(&env, &token, &["item", "get", "d", "c", "1", "--pk", "a"]);
    assert_eq!(
        (json["statusCode"].as_u64(), json["subStatus"].as_u64()),
        (Some(403), Some(4002)),
        "{json}"
    );
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains(&token.config.pin_env)),
        "{json}"
    );

    // Neither the token's files nor the vault's hold the data or a PKCS#8 private key.
    let mut scanned = 0;
    for root in [SoftToken::token_dir().to_path_buf(), env.path("home")] {
        for f in common::files_under(&root) {
            let bytes = std::fs::read(&f).expect("read");
            scanned += 1;
            assert!(
                !contains(&bytes, CANARY.as_bytes()),
                "{} holds plaintext",
                f.display()
            );
            // PKCS#8 RSA private keys start with this sequence and rsaEncryption OID.
            assert!(
                !contains(
                    &bytes,
                    &[0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48]
                ),
                "{} holds a PKCS#8 key",
                f.display()
            );
        }
    }
    assert!(scanned > 5, "the scan saw the files");
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn an_existing_account_moves_onto_a_token_key() {
    let _one = serial();
    let token = SoftToken::create();
    let env = Env::with_container("/pk");
    env.ok_status(
        &[
            "item",
            "create",
            "d",
            "c",
            "--json",
            r#"{"id":"1","pk":"a","v":1}"#,
        ],
        201,
    );
    token_vault(&env, &token);
    let key = env.ok_status(
        &[
            "--vault", "hsm", "vault", "key", "create", "cmk", "--size", "2048",
        ],
        201,
    );
    let uri = key["keyUri"].as_str().expect("keyUri");
    let enabled = env.ok_status(&["key", "enable-cmk", versionless(uri)], 200);
    assert_eq!(enabled["encryption"], "customer-managed", "{enabled}");
    env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200);
    env.ok_status(&["--vault", "hsm", "vault", "key", "delete", "cmk"], 200);
    env.err_status(&["item", "get", "d", "c", "1", "--pk", "a"], 403, 4003);
    env.ok_status(&["--vault", "hsm", "vault", "key", "recover", "cmk"], 200);
    env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200);
    // Access policies, activation windows and the audit log work as on a file vault.
    env.ok_status(&["identity", "create", "ops"], 201);
    env.ok_status(
        &[
            "--vault",
            "hsm",
            "vault",
            "policy",
            "set",
            "user:ops",
            "--permissions",
            "get,wrapKey,unwrapKey",
        ],
        200,
    );
    let policies = env.ok_status(&["--vault", "hsm", "vault", "policy", "list"], 200);
    assert!(policies.to_string().contains("user:ops"), "{policies}");
    env.ok_status(&["account", "set-identity", "user:ops"], 200);
    env.ok_status(&["key", "check"], 200);
    env.ok_status(&["--vault", "hsm", "vault", "policy", "remove", "user:ops"], 200);
    env.err_status(&["key", "check"], 403, 4002);
    env.ok_status(&["account", "set-identity", "first-party"], 200);
    env.ok_status(
        &[
            "--vault",
            "hsm",
            "vault",
            "key",
            "set-attributes",
            "cmk",
            "--exp",
            "4000000000",
        ],
        200,
    );
    let audit = env.ok_status(&["--vault", "hsm", "vault", "audit", "--key", "cmk"], 200);
    let ops: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["operation"].as_str())
        .collect();
    for op in [
        "create",
        "wrapKey",
        "unwrapKey",
        "delete",
        "recover",
        "setAttributes",
    ] {
        assert!(ops.contains(&op), "{op} in {ops:?}");
    }
    // Under purge protection a deleted key stays for the retention period.
    env.ok_status(&["--vault", "hsm", "vault", "key", "delete", "cmk"], 200);
    env.err_status(&["--vault", "hsm", "vault", "key", "purge", "cmk"], 409, 0);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn the_service_key_can_be_kept_under_the_token() {
    let _one = serial();
    let token = SoftToken::create();
    let env = Env::new();
    token_vault(&env, &token);
    let init = env.ok_status(&["init", "--account", "acct", "--smk-pkcs11-vault", "hsm"], 201);
    assert_eq!(init["serviceKeyVault"], "hsm", "{init}");
    assert_eq!(init["encryption"], "service-managed", "{init}");
    env.ok(&["db", "create", "d"]);
    env.ok(&["container", "create", "d", "c", "--pk", "/pk"]);
    env.ok_status(
        &["item", "create", "d", "c", "--json", r#"{"id":"1","pk":"a"}"#],
        201,
    );
    // Without the PIN even a service-managed account stays closed: its service key is locked.
    let json = without_pin(&env, &token, &["item", "get", "d", "c", "1", "--pk", "a"]);
    assert_eq!(
        (json["statusCode"].as_u64(), json["subStatus"].as_u64()),
        (Some(403), Some(4002)),
        "{json}"
    );
    env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200);
    // A file vault cannot hold it.
    let other = Env::new();
    other.ok_status(&["vault", "create", "files"], 201);
    other.err_status(&["init", "--account", "x", "--smk-pkcs11-vault", "files"], 400, 0);
}
