//! End-to-end tests of `strata vault update --permission-model`, `strata vault role
//! assign|remove|list` and `strata vault key rotation-policy|show`: each runs the built executable
//! with `--output json` against a fresh --data and --home and asserts on the JSON it prints.

use crate::common;

use common::Env;
use serde_json::Value;

const CRYPTO: &str = "Key Vault Crypto Service Encryption User";

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

#[test]
fn rbac_model_switch_role_assignments_and_revocation() {
    let env = Env::new();
    let key = env.ok_status(&["vault", "key", "create", "cmk", "--size", "2048"], 201);
    let uri = key["keyUri"].as_str().expect("keyUri");
    let versionless = uri.rsplit_once('/').expect("versioned").0.to_string();

    assert_eq!(
        env.ok_status(&["vault", "show"], 200)["permissionModel"],
        "access-policy"
    );
    let refused = env.err_status(&["vault", "role", "assign", CRYPTO, "first-party"], 400, 0);
    assert!(message(&refused).contains("--permission-model rbac"), "{refused}");
    env.err_status(&["vault", "update"], 400, 0);
    env.err_status(&["vault", "update", "--permission-model", "roles"], 400, 0);

    let updated = env.ok_status(&["vault", "update", "--permission-model", "rbac"], 200);
    assert_eq!(updated["permissionModel"], "rbac");
    assert!(
        updated["warning"]
            .as_str()
            .is_some_and(|w| w.contains("no role assignment")),
        "{updated}"
    );
    let refused = env.err_status(
        &["vault", "policy", "set", "first-party", "--permissions", "get"],
        400,
        0,
    );
    assert!(message(&refused).contains("rbac permission model"), "{refused}");

    // No role yet: the account cannot be created, and the message says how to fix it.
    let refused = env.err_status(&["init", "--account", "acct", "--cmk", &versionless], 403, 4002);
    assert!(
        message(&refused).contains(&format!("strata vault role assign \"{CRYPTO}\" first-party")),
        "{refused}"
    );
    env.err_status(&["vault", "role", "assign", "Owner", "first-party"], 400, 0);
    env.err_status(&["vault", "role", "assign", CRYPTO, "user:ghost"], 404, 0);

    let assigned = env.ok_status(&["vault", "role", "assign", CRYPTO, "first-party"], 200);
    assert_eq!(
        (&assigned["role"], &assigned["scope"], &assigned["permissions"]),
        (
            &Value::from(CRYPTO),
            &Value::from("/"),
            &Value::from("get,wrapKey,unwrapKey")
        )
    );
    env.err_status(&["vault", "role", "assign", CRYPTO, "first-party"], 409, 0);
    env.ok_status(&["init", "--account", "acct", "--cmk", &versionless], 201);
    let list = env.ok_status(&["vault", "role", "list"], 200);
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

    env.ok_status(&["vault", "role", "remove", CRYPTO, "first-party"], 200);
    env.err_status(&["vault", "role", "remove", CRYPTO, "first-party"], 404, 0);
    env.err_status(&["key", "check"], 403, 4002);
    env.ok_status(
        &["vault", "role", "assign", CRYPTO, "first-party", "--key", "cmk"],
        200,
    );
    assert_eq!(env.ok_status(&["key", "check"], 200)["state"], "active");

    for sub in [
        &["vault", "role", "assign", "--help"][..],
        &["vault", "key", "rotation-policy", "--help"],
        &["vault", "update", "--help"],
    ] {
        let out = env.bare().args(sub).output().expect("run strata");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{sub:?}: {help}");
    }
}

#[test]
fn rotation_policy_is_set_shown_and_removed() {
    let env = Env::new();
    env.ok_status(&["vault", "key", "create", "cmk", "--size", "2048"], 201);
    env.err_status(
        &["vault", "key", "rotation-policy", "cmk", "--every-days", "6"],
        400,
        0,
    );
    env.err_status(
        &["vault", "key", "rotation-policy", "nope", "--every-days", "30"],
        404,
        0,
    );
    let set = env.ok_status(
        &["vault", "key", "rotation-policy", "cmk", "--every-days", "30"],
        200,
    );
    assert_eq!(set["rotationEveryDays"], 30);
    let show = env.ok_status(&["vault", "key", "show", "cmk"], 200);
    assert_eq!(show["rotationEveryDays"], 30);
    let versions = show["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1);
    let created = versions[0]["created"].as_u64().expect("created");
    assert_eq!(show["nextRotation"].as_u64(), Some(created + 30 * 86_400));
    assert_eq!(show["newestVersion"], versions[0]["version"]);

    let off = env.ok_status(&["vault", "key", "rotation-policy", "cmk", "--off"], 200);
    assert_eq!(off["rotationEveryDays"], Value::Null);
    let show = env.ok_status(&["vault", "key", "show", "cmk"], 200);
    assert!(show.get("rotationEveryDays").is_none_or(Value::is_null), "{show}");
    env.err_status(&["vault", "key", "show", "nope"], 404, 0);
}
