//! Access to the customer key goes through identities and the vault's access policies, and every
//! vault operation lands in the audit log. Covers: a new vault's first-party grant; removing it
//! (403.4002 naming the permission and the command that grants it); user-assigned and
//! system-assigned default identities stored in the catalog; changing the default identity (open
//! or closed) as a way out of a revocation; the get permission; the audit log's fields, filters
//! and checksum.

use serde_json::json;

use crate::common::Backend;
use strata::{
    substatus, Account, AccountOptions, AuditFilter, Encryption, Identities, KeyUri, LocalVault, Permission,
    Principal,
};

fn setup() -> (tempfile::TempDir, AccountOptions, LocalVault, KeyUri) {
    setup_on(Backend::Files)
}

fn setup_on(backend: Backend) -> (tempfile::TempDir, AccountOptions, LocalVault, KeyUri) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = crate::common::backend_vault(&opts, backend);
    let uri = vault.create_key("cmk", 2048).unwrap();
    (tmp, opts, vault, uri)
}

fn cmk(uri: &KeyUri) -> Encryption {
    Encryption::CustomerManaged {
        key_uri: uri.without_version().to_string(),
    }
}

fn assert_4002(e: &strata::Error, perm: &str, who: &str) {
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains(&format!("{perm} permission")), "{msg}");
    assert!(
        msg.contains(&format!("strata vault policy set {who} --permissions")),
        "{msg}"
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

fn read_one(account: &Account) -> i64 {
    let r = account
        .database("db")
        .container("c")
        .read_item::<serde_json::Value>("p", "1")
        .unwrap();
    r.item.unwrap()["v"].as_i64().unwrap()
}

#[test]
fn a_new_vault_grants_first_party_and_removing_it_revokes() {
    a_new_vault_grants_first_party_and_removing_it_revokes_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn a_new_vault_grants_first_party_and_removing_it_revokes_pkcs11() {
    a_new_vault_grants_first_party_and_removing_it_revokes_on(Backend::Token);
}

fn a_new_vault_grants_first_party_and_removing_it_revokes_on(backend: Backend) {
    let (_tmp, opts, vault, uri) = setup_on(backend);
    let fp = Principal::FirstParty;
    assert_eq!(
        vault.policies().unwrap(),
        vec![(
            fp.clone(),
            vec![Permission::Get, Permission::WrapKey, Permission::UnwrapKey]
        )]
    );
    let account = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap();
    assert_eq!(account.default_identity().unwrap(), fp);
    write_one(&account);
    drop(account);

    vault.remove_policy(&fp).unwrap();
    assert_eq!(vault.remove_policy(&fp).unwrap_err().status(), 404);
    let e = Account::open(opts.clone()).unwrap_err();
    assert_4002(&e, "unwrapKey", "first-party");

    vault
        .set_policy(&fp, &[Permission::Get, Permission::UnwrapKey])
        .unwrap();
    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(read_one(&account), 42);
    drop(account);

    // A principal without a policy cannot even get the key; first-party can.
    assert_4002(
        &strata::Error::from(
            vault
                .get_key(&Principal::User("nobody".into()), &uri)
                .unwrap_err(),
        ),
        "get",
        "user:nobody",
    );
    assert_eq!(vault.get_key(&fp, &uri.without_version()).unwrap().uri, uri);
    assert_eq!(
        vault.set_policy(&fp, &[]).unwrap_err().status(),
        400,
        "an empty permission list is refused"
    );
}

#[test]
fn user_assigned_identity_needs_to_exist_and_be_granted() {
    user_assigned_identity_needs_to_exist_and_be_granted_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn user_assigned_identity_needs_to_exist_and_be_granted_pkcs11() {
    user_assigned_identity_needs_to_exist_and_be_granted_on(Backend::Token);
}

fn user_assigned_identity_needs_to_exist_and_be_granted_on(backend: Backend) {
    let (_tmp, opts, vault, uri) = setup_on(backend);
    let ops = Principal::User("ops".into());
    let e = Account::create_with_identity(opts.clone(), "acct", cmk(&uri), ops.clone()).unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
    assert!(e.to_string().contains("strata identity create ops"), "{e}");

    Identities::new(&opts.home).create("ops").unwrap();
    let e = Account::create_with_identity(opts.clone(), "acct", cmk(&uri), ops.clone()).unwrap_err();
    assert_4002(&e, "wrapKey", "user:ops");

    vault.set_policy(&ops, &[Permission::WrapKey]).unwrap();
    let account = Account::create_with_identity(opts.clone(), "acct", cmk(&uri), ops.clone()).unwrap();
    assert_eq!(account.default_identity().unwrap(), ops);
    write_one(&account);
    drop(account);

    // The identity is kept in the catalog: reopening unwraps as user:ops, which lacks unwrapKey.
    assert_4002(&Account::open(opts.clone()).unwrap_err(), "unwrapKey", "user:ops");
    vault
        .set_policy(&ops, &[Permission::WrapKey, Permission::UnwrapKey])
        .unwrap();
    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(read_one(&account), 42);
    // The name is readable with the service key alone, even while the account is open.
    assert_eq!(Account::name_at(&opts).unwrap(), "acct");
    drop(account);

    let mine = AuditFilter {
        key: Some("cmk".into()),
        ..AuditFilter::default()
    };
    let by_ops: Vec<_> = vault
        .audit_log(&mine)
        .unwrap()
        .into_iter()
        .filter(|e| e.caller == "user:ops")
        .map(|e| (e.operation, e.version, e.status, e.sub_status))
        .collect();
    let v = uri.version().map(str::to_string);
    assert_eq!(
        by_ops,
        vec![
            ("wrapKey".to_string(), None, 403, substatus::KEY_VAULT_ACCESS),
            ("wrapKey".to_string(), v.clone(), 200, 0),
            (
                "unwrapKey".to_string(),
                v.clone(),
                403,
                substatus::KEY_VAULT_ACCESS
            ),
            ("unwrapKey".to_string(), v, 200, 0),
        ]
    );
}

#[test]
fn system_assigned_identity_is_the_accounts_own() {
    let (_tmp, opts, vault, uri) = setup();
    let sys = Principal::System("acct".into());
    let other = Principal::System("other".into());
    let e = Account::create_with_identity(opts.clone(), "acct", cmk(&uri), other).unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    assert_4002(
        &Account::create_with_identity(opts.clone(), "acct", cmk(&uri), sys.clone()).unwrap_err(),
        "wrapKey",
        "system:acct",
    );
    vault
        .set_policy(&sys, &[Permission::WrapKey, Permission::UnwrapKey])
        .unwrap();
    // The first-party grant does not help an account that calls as its own identity.
    let account = Account::create_with_identity(opts.clone(), "acct", cmk(&uri), sys.clone()).unwrap();
    write_one(&account);
    drop(account);
    assert_eq!(read_one(&Account::open(opts.clone()).unwrap()), 42);
}

#[test]
fn every_operation_is_audited_and_filterable_and_damage_is_detected() {
    let (_tmp, opts, vault, v1) = setup();
    let v2 = vault.create_key("cmk", 2048).unwrap();
    vault.create_key("other", 2048).unwrap();
    vault.list_keys().unwrap();
    vault.set_enabled("cmk", v1.version(), false).unwrap();
    vault.set_enabled("cmk", v1.version(), true).unwrap();
    vault.delete_key("other").unwrap();
    vault.recover_key("other").unwrap();
    assert_eq!(vault.delete_key("missing").unwrap_err().status(), 404);
    let fp = Principal::FirstParty;
    vault.get_key(&fp, &v1).unwrap();
    let (kid, wrapped) = vault.wrap_key(&fp, &v1.without_version(), &[9u8; 32]).unwrap();
    assert_eq!(kid, v2);
    vault.unwrap_key(&fp, &kid, &wrapped).unwrap();
    vault
        .set_policy(&Principal::User("x".into()), &[Permission::List])
        .unwrap();

    let all = vault.audit_log(&AuditFilter::default()).unwrap();
    let ops: Vec<(&str, &str, Option<&str>, u16)> = all
        .iter()
        .map(|e| {
            (
                e.caller.as_str(),
                e.operation.as_str(),
                e.key.as_deref(),
                e.status,
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            ("owner", "create", Some("cmk"), 201),
            ("owner", "create", Some("cmk"), 201),
            ("owner", "create", Some("other"), 201),
            ("owner", "list", None, 200),
            ("owner", "disable", Some("cmk"), 200),
            ("owner", "enable", Some("cmk"), 200),
            ("owner", "delete", Some("other"), 200),
            ("owner", "recover", Some("other"), 200),
            ("owner", "delete", Some("missing"), 404),
            ("first-party", "get", Some("cmk"), 200),
            ("first-party", "wrapKey", Some("cmk"), 200),
            ("first-party", "unwrapKey", Some("cmk"), 200),
            ("owner", "setPolicy", Some("user:x"), 200),
        ]
    );
    assert!(all.windows(2).all(|w| w[0].time <= w[1].time));

    let by_version = |v: &KeyUri| AuditFilter {
        version: v.version().map(str::to_string),
        ..AuditFilter::default()
    };
    let v2_ops: Vec<_> = vault
        .audit_log(&by_version(&v2))
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert_eq!(v2_ops, vec!["create", "wrapKey", "unwrapKey"]);
    let future = AuditFilter {
        since: Some(4_000_000_000),
        ..AuditFilter::default()
    };
    assert!(vault.audit_log(&future).unwrap().is_empty());
    let past = AuditFilter {
        since: Some(1),
        ..AuditFilter::default()
    };
    assert_eq!(vault.audit_log(&past).unwrap().len(), all.len());

    // A flipped byte anywhere in the log is reported, never silently skipped.
    let path = opts.vault_dir().join("audit.log");
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    let at = good.len() / 2;
    bad[at] ^= 0x02;
    std::fs::write(&path, &bad).unwrap();
    let e = vault.audit_log(&AuditFilter::default()).unwrap_err();
    assert!(e.is_corruption(), "{e}");
    std::fs::write(&path, &good).unwrap();
    assert_eq!(vault.audit_log(&AuditFilter::default()).unwrap(), all);
}

#[test]
fn changing_the_default_identity_is_a_way_out_of_revocation() {
    changing_the_default_identity_is_a_way_out_of_revocation_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn changing_the_default_identity_is_a_way_out_of_revocation_pkcs11() {
    changing_the_default_identity_is_a_way_out_of_revocation_on(Backend::Token);
}

fn changing_the_default_identity_is_a_way_out_of_revocation_on(backend: Backend) {
    let (_tmp, opts, vault, uri) = setup_on(backend);
    let account = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap();
    write_one(&account);
    let ops = Principal::User("ops".into());
    Identities::new(&opts.home).create("ops").unwrap();

    vault.remove_policy(&Principal::FirstParty).unwrap();
    assert_4002(&account.check_key().unwrap_err(), "unwrapKey", "first-party");

    // Refused changes leave the identity as it was.
    let ghost = Principal::User("ghost".into());
    assert_eq!(account.set_default_identity(ghost).unwrap_err().status(), 404);
    let other = Principal::System("other".into());
    assert_eq!(account.set_default_identity(other).unwrap_err().status(), 400);
    assert_4002(
        &account.set_default_identity(ops.clone()).unwrap_err(),
        "unwrapKey",
        "user:ops",
    );
    assert_eq!(account.default_identity().unwrap(), Principal::FirstParty);
    assert_eq!(account.key_status().unwrap().state, "revoked");

    vault.set_policy(&ops, &[Permission::UnwrapKey]).unwrap();
    account.set_default_identity(ops.clone()).unwrap();
    let status = account.key_status().unwrap();
    assert_eq!(
        (status.state.as_str(), status.identity.as_str()),
        ("active", "user:ops")
    );
    assert_eq!(read_one(&account), 42);
    drop(account);
    let reopened = Account::open(opts.clone()).unwrap();
    assert_eq!(reopened.default_identity().unwrap(), ops);
    assert_eq!(read_one(&reopened), 42);
}

#[test]
fn a_closed_account_locked_out_can_change_its_identity() {
    let (_tmp, opts, vault, uri) = setup();
    let account = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap();
    write_one(&account);
    drop(account);
    vault.remove_policy(&Principal::FirstParty).unwrap();
    assert_4002(
        &Account::open(opts.clone()).unwrap_err(),
        "unwrapKey",
        "first-party",
    );

    let sys = Principal::System("acct".into());
    let e = Account::set_default_identity_at(&opts, sys.clone()).unwrap_err();
    assert_4002(&e, "unwrapKey", "system:acct");
    vault.set_policy(&sys, &[Permission::UnwrapKey]).unwrap();
    Account::set_default_identity_at(&opts, sys.clone()).unwrap();
    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(account.default_identity().unwrap(), sys);
    assert_eq!(read_one(&account), 42);
    // While the account is open, the closed-account path is refused (423).
    assert_eq!(
        Account::set_default_identity_at(&opts, Principal::FirstParty)
            .unwrap_err()
            .status(),
        423
    );
}
