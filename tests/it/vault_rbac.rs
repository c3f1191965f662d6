//! Role-based access control of the key vault: one permission model active per vault (access
//! policies or roles), each model's rules refused under the other with a 400 naming the active
//! model, the two built-in roles granting exactly their permissions (at vault or key scope),
//! denials under rbac as 403.4002 naming the role and the command that grants it, the audit log,
//! backward compatibility of vault.json and access.json, and a customer-managed-key account whose
//! identity holds the Crypto Service Encryption User role: it works, and removing the role
//! revokes it at the next key check.

use serde_json::json;
use strata::{
    substatus, Account, AccountOptions, AuditFilter, Encryption, Identities, KeyUri, LocalVault, Permission,
    PermissionModel, Principal, Role,
};

const DEK: [u8; 32] = [9u8; 32];
const CRYPTO: Role = Role::CryptoServiceEncryptionUser;
const ADMIN: Role = Role::Administrator;

fn setup() -> (tempfile::TempDir, AccountOptions, LocalVault, KeyUri) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let uri = vault.create_key("cmk", 2048).unwrap();
    (tmp, opts, vault, uri)
}

fn user(name: &str) -> Principal {
    Principal::User(name.into())
}

/// A 403.4002 under rbac: names the permission, the model and the role-assign command.
fn assert_rbac_denied(e: &strata::Error, perm: &str, role: &str, who: &str) {
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains(&format!("the {perm} permission")), "{msg}");
    assert!(msg.contains("role-based access control"), "{msg}");
    assert!(
        msg.contains(&format!("strata vault role assign \"{role}\" {who}")),
        "{msg}"
    );
}

fn assert_400(e: &strata::Error, needles: &[&str]) {
    assert_eq!(e.status(), 400, "{e}");
    for n in needles {
        assert!(e.to_string().contains(n), "{n:?} missing in: {e}");
    }
}

/// Which of get, list, wrapKey, unwrapKey `who` may use on key `uri`.
fn granted(vault: &LocalVault, who: &Principal, uri: &KeyUri, wrapped: &[u8]) -> Vec<Permission> {
    let mut out = Vec::new();
    if vault.get_key(who, uri).is_ok() {
        out.push(Permission::Get);
    }
    if vault.list_keys_as(who).is_ok() {
        out.push(Permission::List);
    }
    if vault.wrap_key(who, uri, &DEK).is_ok() {
        out.push(Permission::WrapKey);
    }
    if vault.unwrap_key(who, uri, wrapped).is_ok() {
        out.push(Permission::UnwrapKey);
    }
    out
}

#[test]
fn a_vault_without_the_new_fields_reads_as_the_access_policy_model() {
    let (_tmp, _opts, vault, _uri) = setup();
    assert_eq!(vault.permission_model().unwrap(), PermissionModel::AccessPolicy);
    // A vault.json written before the model existed: no permission_model field.
    let path = vault.dir().join("vault.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(meta["permission_model"], "access-policy");
    meta.as_object_mut().unwrap().remove("permission_model");
    std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let reopened = LocalVault::open(vault.dir()).unwrap();
    assert_eq!(
        reopened.permission_model().unwrap(),
        PermissionModel::AccessPolicy
    );
    assert!(reopened.role_assignments().unwrap().is_empty());

    // access.json keeps its old shape until a role is assigned.
    let acl = vault.dir().join("access.json");
    let has_roles = || {
        let bytes = std::fs::read(&acl).unwrap();
        bytes.windows(15).any(|w| w == b"roleAssignments")
    };
    assert!(!has_roles());
    reopened.set_permission_model(PermissionModel::Rbac).unwrap();
    reopened.assign_role(CRYPTO, &user("app"), None).unwrap();
    assert!(has_roles());
    // The other handle sees the switch at once (the model is read on every check).
    assert_eq!(vault.permission_model().unwrap(), PermissionModel::Rbac);
}

#[test]
fn each_model_refuses_the_other_models_rules_with_a_400_naming_the_active_model() {
    let (_tmp, _opts, vault, _uri) = setup();
    let fp = Principal::FirstParty;
    let e = vault.assign_role(CRYPTO, &fp, None).unwrap_err();
    assert_400(
        &strata::Error::from(e),
        &["access-policy permission model", "--permission-model rbac"],
    );
    assert_eq!(vault.remove_role(CRYPTO, &fp, None).unwrap_err().status(), 400);

    vault.set_permission_model(PermissionModel::Rbac).unwrap();
    let e = vault.set_policy(&fp, &[Permission::Get]).unwrap_err();
    assert_400(
        &strata::Error::from(e),
        &[
            "rbac permission model",
            "access policies are ignored",
            "strata vault role assign",
        ],
    );
    let e = vault.remove_policy(&fp).unwrap_err();
    assert_400(
        &strata::Error::from(e),
        &["rbac", "--permission-model access-policy"],
    );
    // The policies are still there, unused.
    assert_eq!(vault.policies().unwrap().len(), 1);

    vault.assign_role(CRYPTO, &fp, None).unwrap();
    assert_eq!(vault.assign_role(CRYPTO, &fp, None).unwrap_err().status(), 409);
    let e = vault.remove_role(ADMIN, &fp, None).unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
    assert!(e.to_string().contains("strata vault role list"), "{e}");
    assert_eq!(
        vault.remove_role(CRYPTO, &fp, Some("cmk")).unwrap_err().status(),
        404,
        "a vault-wide assignment is not removed by naming a key scope"
    );
    assert_eq!(
        vault
            .assign_role(CRYPTO, &fp, Some("bad name"))
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(Role::parse("Owner").unwrap_err().status(), 400);
    assert_eq!(PermissionModel::parse("both").unwrap_err().status(), 400);
}

#[test]
fn under_rbac_access_policies_are_ignored_and_denials_name_the_role() {
    let (_tmp, _opts, vault, uri) = setup();
    let fp = Principal::FirstParty;
    let (kid, wrapped) = vault.wrap_key(&fp, &uri, &DEK).unwrap();
    vault.set_permission_model(PermissionModel::Rbac).unwrap();

    // first-party still has its access policy, but no role: every data-plane call is refused.
    let crypto = "Key Vault Crypto Service Encryption User";
    assert_rbac_denied(
        &strata::Error::from(vault.get_key(&fp, &uri).unwrap_err()),
        "get",
        crypto,
        "first-party",
    );
    assert_rbac_denied(
        &strata::Error::from(vault.wrap_key(&fp, &uri, &DEK).unwrap_err()),
        "wrapKey",
        crypto,
        "first-party",
    );
    assert_rbac_denied(
        &strata::Error::from(vault.unwrap_key(&fp, &kid, &wrapped).unwrap_err()),
        "unwrapKey",
        crypto,
        "first-party",
    );
    assert_rbac_denied(
        &strata::Error::from(vault.list_keys_as(&fp).unwrap_err()),
        "list",
        "Key Vault Administrator",
        "first-party",
    );

    // Every denial is in the audit log, as the caller, with its substatus.
    let denied: Vec<_> = vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.caller == "first-party" && e.status == 403)
        .map(|e| (e.operation, e.sub_status))
        .collect();
    assert_eq!(
        denied,
        vec![
            ("get".to_string(), 4002),
            ("wrapKey".to_string(), 4002),
            ("unwrapKey".to_string(), 4002),
            ("list".to_string(), 4002),
        ]
    );

    vault.assign_role(CRYPTO, &fp, None).unwrap();
    assert_eq!(&vault.unwrap_key(&fp, &kid, &wrapped).unwrap()[..], &DEK[..]);
    let ops: Vec<_> = vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .rev()
        .take(2)
        .map(|e| (e.caller, e.operation, e.status))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("first-party".to_string(), "unwrapKey".to_string(), 200),
            ("owner".to_string(), "assignRole".to_string(), 200),
        ]
    );
}

#[test]
fn the_two_roles_grant_exactly_their_permissions_at_their_scope() {
    let (_tmp, _opts, vault, uri) = setup();
    let other = vault.create_key("other", 2048).unwrap();
    let (kid, wrapped) = vault.wrap_key(&Principal::FirstParty, &uri, &DEK).unwrap();
    let (other_kid, other_wrapped) = vault.wrap_key(&Principal::FirstParty, &other, &DEK).unwrap();
    vault.set_permission_model(PermissionModel::Rbac).unwrap();
    vault.assign_role(ADMIN, &user("admin"), None).unwrap();
    vault.assign_role(CRYPTO, &user("crypto"), None).unwrap();
    vault.assign_role(CRYPTO, &user("scoped"), Some("cmk")).unwrap();

    use Permission::*;
    let uri = uri.without_version();
    let kid_for = |u: &KeyUri| {
        if u.name() == "cmk" {
            kid.clone()
        } else {
            other_kid.clone()
        }
    };
    let wrapped_for = |u: &KeyUri| {
        if u.name() == "cmk" {
            wrapped.clone()
        } else {
            other_wrapped.clone()
        }
    };
    for (who, key, want) in [
        ("admin", &uri, vec![Get, List, WrapKey, UnwrapKey]),
        ("admin", &other, vec![Get, List, WrapKey, UnwrapKey]),
        ("crypto", &uri, vec![Get, WrapKey, UnwrapKey]),
        ("crypto", &other, vec![Get, WrapKey, UnwrapKey]),
        ("scoped", &uri, vec![Get, WrapKey, UnwrapKey]),
        ("scoped", &other, vec![]),
        ("nobody", &uri, vec![]),
    ] {
        // get and wrap take the URI; unwrap needs the version that wrapped.
        let mut got = granted(&vault, &user(who), key, &wrapped_for(key));
        got.retain(|p| *p != UnwrapKey);
        if vault
            .unwrap_key(&user(who), &kid_for(key), &wrapped_for(key))
            .is_ok()
        {
            got.push(UnwrapKey);
        }
        assert_eq!(got, want, "{who} on {key}");
    }
    let e = vault.wrap_key(&user("scoped"), &other, &DEK).unwrap_err();
    assert!(e.to_string().contains("for key other"), "{e}");

    let scopes: Vec<_> = vault
        .role_assignments()
        .unwrap()
        .into_iter()
        .map(|a| (a.principal.to_string(), a.role, a.scope()))
        .collect();
    assert_eq!(
        scopes,
        vec![
            ("user:admin".to_string(), ADMIN, "/".to_string()),
            ("user:crypto".to_string(), CRYPTO, "/".to_string()),
            ("user:scoped".to_string(), CRYPTO, "/keys/cmk".to_string()),
        ]
    );
}

#[test]
fn switching_models_is_explicit_and_keeps_each_models_rules() {
    let (_tmp, _opts, vault, uri) = setup();
    let fp = Principal::FirstParty;
    let ops = user("ops");
    vault.get_key(&fp, &uri).unwrap();

    vault.set_permission_model(PermissionModel::Rbac).unwrap();
    assert!(vault.get_key(&fp, &uri).is_err(), "the policy is ignored");
    vault.assign_role(CRYPTO, &ops, None).unwrap();
    vault.get_key(&ops, &uri).unwrap();

    vault.set_permission_model(PermissionModel::AccessPolicy).unwrap();
    vault.get_key(&fp, &uri).unwrap();
    let e = vault.get_key(&ops, &uri).unwrap_err();
    assert_eq!(e.substatus(), substatus::KEY_VAULT_ACCESS);
    assert!(
        e.to_string().contains("strata vault policy set user:ops"),
        "under access policies the hint is the policy command: {e}"
    );
    assert_eq!(vault.role_assignments().unwrap().len(), 1, "kept, unused");

    // Setting the active model again is harmless; every switch is audited.
    vault.set_permission_model(PermissionModel::AccessPolicy).unwrap();
    let switches: Vec<_> = vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.operation == "setPermissionModel")
        .map(|e| (e.caller, e.key))
        .collect();
    assert_eq!(
        switches,
        vec![
            ("owner".to_string(), Some("rbac".to_string())),
            ("owner".to_string(), Some("access-policy".to_string())),
            ("owner".to_string(), Some("access-policy".to_string())),
        ]
    );
}

fn write_one(account: &Account) {
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    c.create_item("p", &json!({"id": "1", "pk": "p", "v": 42}))
        .unwrap();
}

fn read_one(account: &Account) -> strata::Result<i64> {
    let r = account
        .database("db")
        .container("c")
        .read_item::<serde_json::Value>("p", "1")?;
    Ok(r.item.unwrap()["v"].as_i64().unwrap())
}

#[test]
fn a_cmk_account_whose_identity_has_the_crypto_role_works_until_the_role_is_removed() {
    let (_tmp, opts, vault, uri) = setup();
    let app = user("app");
    Identities::new(&opts.home).create("app").unwrap();
    vault.set_permission_model(PermissionModel::Rbac).unwrap();
    let enc = Encryption::CustomerManaged {
        key_uri: uri.without_version().to_string(),
    };

    // Without a role, creation is refused with the role hint.
    let e = Account::create_with_identity(opts.clone(), "acct", enc.clone(), app.clone()).unwrap_err();
    assert_rbac_denied(
        &e,
        "wrapKey",
        "Key Vault Crypto Service Encryption User",
        "user:app",
    );

    vault.assign_role(CRYPTO, &app, Some("cmk")).unwrap();
    let account = Account::create_with_identity(opts.clone(), "acct", enc, app.clone()).unwrap();
    write_one(&account);
    drop(account);
    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(read_one(&account).unwrap(), 42);

    // Removing the role revokes at the next key check.
    vault.remove_role(CRYPTO, &app, Some("cmk")).unwrap();
    let e = account.check_key().unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("strata vault role assign \"Key Vault Crypto Service Encryption User\" user:app"),
        "{e}"
    );
    let e = read_one(&account).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert_eq!(account.key_status().unwrap().state, "revoked");

    // The access policy that would allow it does not help under rbac; a role does.
    vault.set_permission_model(PermissionModel::AccessPolicy).unwrap();
    vault
        .set_policy(&app, &[Permission::Get, Permission::UnwrapKey])
        .unwrap();
    vault.set_permission_model(PermissionModel::Rbac).unwrap();
    assert!(account.check_key().is_err());
    vault.assign_role(CRYPTO, &app, None).unwrap();
    assert_eq!(account.check_key().unwrap().state, "active");
    assert_eq!(read_one(&account).unwrap(), 42);
}
