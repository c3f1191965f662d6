//! End-to-end tests of the key-vault commands of the `strata` binary: identities, access
//! policies, the audit log, key rotation and key checks. Each runs the built executable with
//! `--output json` against a fresh --data and --home and asserts on the JSON it prints.

use crate::common;

use common::Env;
use serde_json::Value;

fn create_key(env: &Env, name: &str) -> String {
    let v = env.ok_status(&["vault", "key", "create", name, "--size", "2048"], 201);
    assert!(v["warning"].as_str().is_some_and(|w| w.contains("3072")), "{v}");
    v["keyUri"].as_str().expect("keyUri").to_string()
}

fn versionless(uri: &str) -> String {
    uri.rsplit_once('/').expect("versioned").0.to_string()
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

#[test]
fn identities_policies_and_audit() {
    let env = Env::new();
    let uri = create_key(&env, "cmk");
    let big = env.ok_status(&["vault", "key", "create", "big", "--size", "3072"], 201);
    assert!(big.get("warning").is_none(), "{big}");

    env.err_status(
        &[
            "init",
            "--account",
            "acct",
            "--cmk",
            &uri,
            "--identity",
            "user:ops",
        ],
        404,
        0,
    );
    assert_eq!(
        env.ok_status(&["identity", "create", "ops"], 201)["principal"],
        "user:ops"
    );
    env.err_status(&["identity", "create", "ops"], 409, 0);
    let refused = env.err_status(
        &[
            "init",
            "--account",
            "acct",
            "--cmk",
            &uri,
            "--identity",
            "user:ops",
        ],
        403,
        4002,
    );
    assert!(
        message(&refused).contains("strata vault policy set user:ops --permissions wrapKey"),
        "{refused}"
    );

    let set = env.ok_status(
        &[
            "vault",
            "policy",
            "set",
            "user:ops",
            "--permissions",
            "unwrapKey,get,wrapKey",
        ],
        200,
    );
    assert_eq!(set["permissions"], "get,wrapKey,unwrapKey");
    let init = env.ok_status(
        &[
            "init",
            "--account",
            "acct",
            "--cmk",
            &uri,
            "--identity",
            "user:ops",
        ],
        201,
    );
    assert_eq!(init["identity"], "user:ops");

    // `system` means the account in --data.
    assert_eq!(
        env.ok_status(&["vault", "policy", "set", "system", "--permissions", "get"], 200)["principal"],
        "system:acct"
    );
    env.err_status(
        &["vault", "policy", "set", "root", "--permissions", "get"],
        400,
        0,
    );
    env.err_status(
        &["vault", "policy", "set", "user:ops", "--permissions", "sign"],
        400,
        0,
    );
    let list = env.ok_status(&["vault", "policy", "list"], 200);
    let principals: Vec<&str> = list["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["principal"].as_str())
        .collect();
    assert_eq!(principals, vec!["first-party", "system:acct", "user:ops"]);

    let audit = env.ok_status(&["vault", "audit", "--key", "cmk"], 200);
    let rows: Vec<(String, String, u64)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["caller"].as_str().unwrap_or_default().to_string(),
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let want: Vec<(String, String, u64)> = [
        ("owner", "create", 201),
        ("user:ops", "wrapKey", 403),
        ("user:ops", "wrapKey", 200),
    ]
    .iter()
    .map(|(c, o, s)| (c.to_string(), o.to_string(), *s))
    .collect();
    assert_eq!(rows, want);
    let none = env.ok_status(&["vault", "audit", "--since", "4000000000"], 200);
    assert_eq!(none["entries"], Value::Array(Vec::new()));

    env.ok_status(&["vault", "policy", "remove", "user:ops"], 200);
    let e = env.err_status(&["db", "list"], 403, 4002);
    assert!(message(&e).contains("unwrapKey permission"), "{e}");
    env.err_status(&["vault", "policy", "remove", "user:ops"], 404, 0);
}

#[test]
fn rotate_check_and_status() {
    let env = Env::new();
    let v1 = create_key(&env, "cmk");
    env.ok_status(&["init", "--account", "acct", "--cmk", &versionless(&v1)], 201);
    env.ok_status(&["db", "create", "d"], 201);
    env.ok_status(&["container", "create", "d", "c", "--pk", "/pk"], 201);
    env.ok_status(
        &[
            "item",
            "create",
            "d",
            "c",
            "--json",
            r#"{"id":"1","pk":"a","v":7}"#,
        ],
        201,
    );

    let status = env.ok_status(&["key", "status"], 200);
    assert_eq!(
        (status["kid"].as_str(), status["state"].as_str()),
        (Some(v1.as_str()), Some("active"))
    );
    assert_eq!(status["identity"], "first-party");

    let v2 = env.ok_status(&["vault", "key", "rotate", "cmk"], 201)["keyUri"]
        .as_str()
        .expect("keyUri")
        .to_string();
    assert_ne!(v2, v1);
    let rotated = env.ok_status(&["key", "rotate"], 200);
    assert_eq!(
        (rotated["previousKid"].as_str(), rotated["kid"].as_str()),
        (Some(v1.as_str()), Some(v2.as_str()))
    );

    let other = create_key(&env, "cmk2");
    let to = env.ok_status(&["key", "rotate", "--to", &versionless(&other)], 200);
    assert_eq!(to["kid"].as_str(), Some(other.as_str()));
    env.ok_status(&["vault", "key", "disable", "cmk"], 200);
    assert_eq!(
        env.ok_status(&["item", "get", "d", "c", "1", "--pk", "a"], 200)["item"]["v"],
        7
    );
    assert_eq!(env.ok_status(&["key", "check"], 200)["state"], "active");

    env.ok_status(&["vault", "key", "disable", "cmk2"], 200);
    let e = env.err_status(&["key", "check"], 403, 4002);
    assert!(message(&e).contains("strata vault key enable cmk2"), "{e}");
    env.ok_status(&["vault", "key", "enable", "cmk2"], 200);
    assert_eq!(
        env.ok_status(&["key", "check"], 200)["kid"].as_str(),
        Some(other.as_str())
    );
    env.err_status(&["key", "rotate", "--to", "nope"], 400, 0);
}

#[test]
fn set_identity_unlocks_an_account_whose_identity_lost_access() {
    let env = Env::new();
    let uri = create_key(&env, "cmk");
    env.ok_status(&["init", "--account", "acct", "--cmk", &uri], 201);
    env.ok_status(&["db", "create", "d"], 201);
    env.ok_status(&["vault", "policy", "remove", "first-party"], 200);
    env.err_status(&["db", "list"], 403, 4002);

    env.err_status(&["account", "set-identity", "system"], 403, 4002);
    env.err_status(&["account", "set-identity", "system:other"], 400, 0);
    env.ok_status(
        &["vault", "policy", "set", "system", "--permissions", "unwrapKey"],
        200,
    );
    let set = env.ok_status(&["account", "set-identity", "system"], 200);
    assert_eq!(set["identity"], "system:acct");
    assert_eq!(
        env.ok_status(&["db", "list"], 200)["databases"],
        serde_json::json!(["d"])
    );
    assert_eq!(env.ok_status(&["key", "status"], 200)["identity"], "system:acct");
}

#[test]
fn enable_cmk_on_an_smk_account_then_status() {
    let env = Env::with_container("/pk");
    for i in 0..3 {
        let item = format!(r#"{{"id":"{i}","pk":"a","v":{i}}}"#);
        env.ok_status(&["item", "create", "d", "c", "--json", &item], 201);
    }
    let before = env.ok_status(&["key", "status"], 200);
    assert_eq!(before["encryption"], "service-managed");
    assert!(before.get("migration").is_none(), "{before}");

    let uri = create_key(&env, "cmk");
    let enabled = env.ok_status(&["key", "enable-cmk", &versionless(&uri)], 200);
    assert_eq!(enabled["encryption"], "customer-managed");
    assert_eq!(enabled["kid"].as_str(), Some(uri.as_str()));
    let status = env.ok_status(&["key", "status"], 200);
    let m = &status["migration"];
    assert_eq!(m["state"], "complete", "{status}");
    assert!(m["segmentsTotal"].as_u64().is_some_and(|n| n > 0), "{status}");
    assert_eq!(m["segmentsTotal"], m["segmentsDoubleSealed"], "{status}");
    assert_eq!(m["bytesTotal"], m["bytesDoubleSealed"], "{status}");
    assert_eq!(
        env.ok_status(&["item", "get", "d", "c", "2", "--pk", "a"], 200)["item"]["v"],
        2
    );
    env.err_status(&["key", "enable-cmk", &uri], 409, 0);
    // The data now depends on the customer key.
    env.ok_status(&["vault", "key", "disable", "cmk"], 200);
    env.err_status(&["item", "get", "d", "c", "2", "--pk", "a"], 403, 4002);
}
