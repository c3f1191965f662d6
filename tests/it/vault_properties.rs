//! Vault properties and the rules an account applies to a vault: a vault.json from before the
//! properties reads as purge protection off (refused until it is turned on), retention and tenant
//! are validated at creation, a vault of another tenant or reachable only through a private
//! endpoint is refused (403.4002) at create and at open, and the changes are audited.

use std::fs;

use crate::common::{self, Backend};
use std::path::Path;

use serde_json::json;
use strata::{
    substatus, Account, AccountOptions, AuditFilter, Encryption, KeyUri, LocalVault, NetworkAccess,
    VaultProperties,
};

struct Home {
    tmp: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// Options for the account in `<tmp>/<data>` with the shared home.
    fn opts(&self, data: &str) -> AccountOptions {
        AccountOptions::new(self.tmp.path().join(data), self.tmp.path().join("home"))
    }
}

fn cmk(uri: &KeyUri) -> Encryption {
    Encryption::CustomerManaged {
        key_uri: uri.without_version().to_string(),
    }
}

fn assert_4002(e: &strata::Error, needle: &str) {
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert!(e.to_string().contains(needle), "{e}");
}

fn write_and_read(account: &Account) {
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    c.create_item("p", &json!({"id": "1", "pk": "p", "v": 7}))
        .unwrap();
    let r = c.read_item::<serde_json::Value>("p", "1").unwrap();
    assert_eq!(r.item.unwrap()["v"], 7);
}

fn props(tenant: Option<&str>, purge: bool, network: NetworkAccess) -> VaultProperties {
    VaultProperties {
        tenant_id: tenant.map(str::to_string),
        purge_protection: purge,
        network,
        ..VaultProperties::default()
    }
}

fn operations(vault: &LocalVault) -> Vec<String> {
    vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect()
}

#[test]
fn the_default_vault_has_purge_protection_and_the_default_flow_works() {
    let home = Home::new();
    let opts = home.opts("data");
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    assert!(vault.purge_protection());
    assert_eq!(vault.retention_days(), 90);
    assert_eq!(vault.network(), NetworkAccess::Public);
    let uri = vault.create_key("cmk", 2048).unwrap();
    let account = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap();
    write_and_read(&account);
    drop(account);
    Account::open(opts.clone()).unwrap();
    // The account's tenant was recorded next to the SMK, from the vault it first used.
    let recorded = fs::read_to_string(opts.service_dir().join("tenant")).unwrap();
    assert_eq!(recorded, vault.tenant_id());
}

#[test]
fn an_old_vault_without_purge_protection_is_refused_until_it_is_turned_on() {
    let home = Home::new();
    let opts = home.opts("data");
    let dir = opts.vault_dir();
    let vault = LocalVault::open(&dir).unwrap();
    let uri = vault.create_key("cmk", 2048).unwrap();
    let tenant = vault.tenant_id().to_string();
    drop(vault);
    // A vault.json written before the properties existed.
    fs::write(
        dir.join("vault.json"),
        format!(r#"{{"name": "local", "tenant_id": "{tenant}"}}"#),
    )
    .unwrap();
    let mut vault = LocalVault::open(&dir).unwrap();
    assert!(!vault.purge_protection());
    assert_eq!(vault.retention_days(), 90);
    assert_eq!(vault.network(), NetworkAccess::Public);

    let e = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap_err();
    assert_4002(&e, "purge protection");
    assert!(e.to_string().contains("strata vault update"), "{e}");

    vault.enable_purge_protection().unwrap();
    assert!(LocalVault::open(&dir).unwrap().purge_protection());
    let account = Account::create(home.opts("data2"), "acct", cmk(&uri)).unwrap();
    write_and_read(&account);
    assert!(operations(&vault).contains(&"enablePurgeProtection".to_string()));
}

#[test]
fn creation_validates_retention_tenant_and_name() {
    let home = Home::new();
    let opts = home.opts("data");
    for days in [0, 6, 91, 365] {
        let p = VaultProperties {
            retention_days: days,
            ..VaultProperties::default()
        };
        let e = LocalVault::create_with(&opts.named_vault_dir("v"), "v", &p).unwrap_err();
        assert_eq!(e.status(), 400, "{days}: {e}");
        assert!(e.to_string().contains("7 to 90 days"), "{e}");
    }
    let bad_tenant = props(Some("contoso"), true, NetworkAccess::Public);
    let e = LocalVault::create_with(&opts.named_vault_dir("v"), "v", &bad_tenant).unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    assert!(e.to_string().contains("UUID"), "{e}");
    assert_eq!(NetworkAccess::parse("everyone").unwrap_err().status(), 400);

    let p = VaultProperties {
        retention_days: 7,
        ..props(
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            false,
            NetworkAccess::TrustedServices,
        )
    };
    let v = LocalVault::create_with(&opts.named_vault_dir("v"), "v", &p).unwrap();
    assert_eq!(v.tenant_id(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(v.retention_days(), 7);
    assert!(!v.purge_protection());
    let again = LocalVault::open(&opts.named_vault_dir("v")).unwrap();
    assert_eq!(
        (again.retention_days(), again.network()),
        (7, NetworkAccess::TrustedServices)
    );
    let e = LocalVault::create_with(&opts.named_vault_dir("v"), "v", &p).unwrap_err();
    assert_eq!(e.status(), 409, "{e}");
}

/// A CMK account on the default vault fixes the home's tenant; returns it.
fn fix_tenant(home: &Home) -> String {
    let opts = home.opts("first");
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let uri = vault.create_key("cmk", 2048).unwrap();
    Account::create(opts, "first", cmk(&uri)).unwrap();
    vault.tenant_id().to_string()
}

fn named_vault(home: &Home, name: &str, p: &VaultProperties) -> KeyUri {
    let v = LocalVault::create_with(&home.opts("x").named_vault_dir(name), name, p).unwrap();
    v.create_key("cmk", 2048).unwrap()
}

#[test]
fn a_vault_of_another_tenant_is_refused() {
    let home = Home::new();
    let tenant = fix_tenant(&home);
    let other = named_vault(&home, "other", &props(None, true, NetworkAccess::Public));
    let e = Account::create(home.opts("a"), "a", cmk(&other)).unwrap_err();
    assert_4002(&e, "tenant");
    assert!(e.to_string().contains(&tenant), "{e}");

    let same = named_vault(&home, "same", &props(Some(&tenant), true, NetworkAccess::Public));
    let account = Account::create(home.opts("b"), "b", cmk(&same)).unwrap();
    write_and_read(&account);
}

#[test]
fn a_private_endpoint_only_vault_is_refused_and_trusted_services_is_not() {
    let home = Home::new();
    let tenant = fix_tenant(&home);
    let private = named_vault(
        &home,
        "private",
        &props(Some(&tenant), true, NetworkAccess::PrivateEndpointOnly),
    );
    let e = Account::create(home.opts("a"), "a", cmk(&private)).unwrap_err();
    assert_4002(&e, "private-endpoint");

    let trusted = named_vault(
        &home,
        "trusted",
        &props(Some(&tenant), true, NetworkAccess::TrustedServices),
    );
    Account::create(home.opts("b"), "b", cmk(&trusted)).unwrap();
}

#[test]
fn open_refuses_a_vault_once_the_account_tenant_differs() {
    let home = Home::new();
    fix_tenant(&home);
    let opts = home.opts("first");
    Account::open(opts.clone()).unwrap();
    write_tenant(&opts.service_dir(), "00000000-0000-4000-8000-000000000000");
    let e = Account::open(opts.clone()).unwrap_err();
    assert_4002(&e, "00000000-0000-4000-8000-000000000000");
}

fn write_tenant(service_dir: &Path, tenant: &str) {
    fs::write(service_dir.join("tenant"), tenant).unwrap();
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

const DEK: [u8; 32] = [9u8; 32];

#[test]
fn wrap_is_refused_outside_the_activation_window_and_unwrap_is_not() {
    let home = Home::new();
    let opts = home.opts("data");
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let fp = strata::Principal::FirstParty;
    let kid = vault.create_key("cmk", 2048).unwrap();
    let any = kid.without_version();
    let v = kid.version().unwrap();
    let (_, wrapped) = vault.wrap_key(&fp, &kid, &DEK).unwrap();

    let past = now() - 10;
    let info = vault.set_attributes("cmk", None, None, Some(past)).unwrap();
    assert_eq!((info.version.as_str(), info.exp, info.nbf), (v, Some(past), None));
    let e = vault.wrap_key(&fp, &kid, &DEK).unwrap_err();
    assert!(e.to_string().contains(&format!("[-, {past})")), "{e}");
    assert_4002(&strata::Error::from(e), &format!("expired at {past}"));
    // Version-less: the expired version is still the one named, and cannot wrap.
    assert_4002(
        &strata::Error::from(vault.wrap_key(&fp, &any, &DEK).unwrap_err()),
        &format!("expired at {past}"),
    );
    assert_eq!(vault.get_key(&fp, &any).unwrap().version, v);
    // What was wrapped inside the window stays readable.
    assert_eq!(&vault.unwrap_key(&fp, &kid, &wrapped).unwrap()[..], &DEK[..]);

    let future = now() + 3600;
    vault
        .set_attributes("cmk", Some(v), Some(future), Some(0))
        .unwrap();
    assert_4002(
        &strata::Error::from(vault.wrap_key(&fp, &kid, &DEK).unwrap_err()),
        &format!("is not active until {future}"),
    );
    // A version that is not active yet is passed over by version-less URIs.
    let v2 = vault.create_key("cmk", 2048).unwrap();
    vault
        .set_attributes("cmk", v2.version(), Some(future), None)
        .unwrap();
    vault.set_attributes("cmk", Some(v), Some(0), None).unwrap();
    assert_eq!(vault.wrap_key(&fp, &any, &DEK).unwrap().0, kid);

    let e = vault
        .set_attributes("cmk", Some(v), Some(future), Some(future))
        .unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    assert_eq!(
        vault
            .set_attributes("cmk", None, None, None)
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        vault
            .set_attributes("nope", None, Some(1), None)
            .unwrap_err()
            .status(),
        404
    );
    let listed = vault.list_keys().unwrap();
    assert_eq!(listed.iter().find(|k| k.version == v).unwrap().nbf, None);
    assert!(operations(&vault).contains(&"setAttributes".to_string()));
}

#[test]
fn an_account_opens_with_an_expired_key_version() {
    let home = Home::new();
    let opts = home.opts("data");
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let uri = vault.create_key("cmk", 2048).unwrap();
    let account = Account::create(opts.clone(), "acct", cmk(&uri)).unwrap();
    write_and_read(&account);
    drop(account);
    vault.set_attributes("cmk", None, None, Some(now() - 1)).unwrap();
    // Unwrap is allowed after expiry: open and key checks pass, the data reads back.
    let account = Account::open(opts).unwrap();
    assert_eq!(account.check_key().unwrap().state, "active");
    let r = account
        .database("db")
        .container("c")
        .read_item::<serde_json::Value>("p", "1")
        .unwrap();
    assert_eq!(r.item.unwrap()["v"], 7);
    // A new version that is not active yet is not followed.
    let future = now() + 3600;
    let v2 = vault.create_key("cmk", 2048).unwrap();
    vault
        .set_attributes("cmk", v2.version(), Some(future), None)
        .unwrap();
    assert_eq!(
        account.check_key().unwrap().kid.as_deref(),
        Some(uri.to_string().as_str())
    );
}

#[test]
fn purge_is_refused_under_purge_protection_until_the_retention_has_passed() {
    purge_is_refused_under_purge_protection_until_the_retention_has_passed_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn purge_is_refused_under_purge_protection_until_the_retention_has_passed_pkcs11() {
    purge_is_refused_under_purge_protection_until_the_retention_has_passed_on(Backend::Token);
}

fn purge_is_refused_under_purge_protection_until_the_retention_has_passed_on(backend: Backend) {
    let home = Home::new();
    let opts = home.opts("data");
    let vault = common::backend_vault(&opts, backend);
    vault.create_key("cmk", 2048).unwrap();
    let e = vault.purge_key("cmk").unwrap_err();
    assert_eq!(e.status(), 409, "{e}");
    assert!(e.to_string().contains("not deleted"), "{e}");
    assert_eq!(vault.purge_key("nope").unwrap_err().status(), 404);

    vault.delete_key("cmk").unwrap();
    let e = vault.purge_key("cmk").unwrap_err();
    assert_eq!(e.status(), 409, "{e}");
    assert!(e.to_string().contains("purge protection"), "{e}");
    assert!(e.to_string().contains("90 days"), "{e}");
    // Recovery still works, and clears the deletion time.
    vault.recover_key("cmk").unwrap();
    assert!(!vault.dir().join("keys/cmk/deleted_at").exists());

    // Deleted 91 days ago: past the retention, it may be purged.
    vault.delete_key("cmk").unwrap();
    let marker = vault.dir().join("deleted/cmk/deleted_at");
    assert!(marker.exists());
    fs::write(&marker, (now() - 91 * 86_400).to_string()).unwrap();
    vault.purge_key("cmk").unwrap();
    assert!(vault.list_keys().unwrap().is_empty());
    assert_eq!(vault.recover_key("cmk").unwrap_err().status(), 404);
    vault.create_key("cmk", 2048).unwrap();
    assert!(operations(&vault).contains(&"purge".to_string()));
}

#[test]
fn without_purge_protection_a_deleted_key_can_be_purged_at_once() {
    let home = Home::new();
    let opts = home.opts("data");
    let dir = opts.named_vault_dir("scratch");
    let vault = LocalVault::create_with(&dir, "scratch", &VaultProperties::default()).unwrap();
    vault.create_key("cmk", 2048).unwrap();
    vault.delete_key("cmk").unwrap();
    vault.purge_key("cmk").unwrap();
    assert!(!dir.join("deleted/cmk").exists());
}
