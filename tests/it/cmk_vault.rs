//! A customer-managed-key account opens only while its key is available in its vault, and a
//! service-managed account only with its own service key store. Each refusal is a 403 with the
//! documented substatus and a message naming what to fix, and leaves the data directory untouched;
//! once the key is back (re-enabled, recovered, vault moved back) the account opens with its data
//! intact. Covers: key disabled (4002), key deleted (4003), vault directory missing (4003), a
//! different vault holding a same-named key (4003: the wrapping version is not in it), key
//! rotation (a version-less URI follows the newest *enabled* version at account creation, and the
//! account keeps opening), and an SMK account opened with a missing or a foreign service key store
//! (4003 / 4005).

use crate::common::{self, Backend};

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions, Encryption, Error, KeyUri, LocalVault};

const KEY: &str = "cmk";
const DB: &str = "db";
const CONTAINER: &str = "docs";

struct Fixture {
    _tmp: tempfile::TempDir,
    opts: AccountOptions,
    /// id -> etag of the items written before the account was closed.
    etags: BTreeMap<String, String>,
}

fn tmp_opts() -> (tempfile::TempDir, AccountOptions) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    (tmp, opts)
}

fn cmk(uri: &KeyUri) -> Encryption {
    Encryption::CustomerManaged {
        key_uri: uri.to_string(),
    }
}

fn doc(id: &str) -> Value {
    json!({"id": id, "pk": "tenant-1", "body": format!("contents of {id}"), "n": id.len()})
}

/// Creates an account with `enc`, writes a few items (flushed and not), closes it.
fn populate(opts: &AccountOptions, enc: Encryption) -> BTreeMap<String, String> {
    let account = Account::create(opts.clone(), "acct", enc.clone()).unwrap();
    assert_eq!(account.encryption(), enc);
    let c = account
        .create_database(DB)
        .unwrap()
        .create_container(CONTAINER, "/pk")
        .unwrap();
    let mut etags = BTreeMap::new();
    for i in 0..20 {
        let id = format!("item-{i:02}");
        let r = c.create_item("tenant-1", &doc(&id)).unwrap();
        etags.insert(id, r.etag.unwrap());
        if i == 9 {
            account.flush().unwrap(); // half in a segment, half only in the WAL
        }
    }
    etags
}

fn cmk_fixture() -> (Fixture, LocalVault, KeyUri) {
    cmk_fixture_on(Backend::Files)
}

fn cmk_fixture_on(backend: Backend) -> (Fixture, LocalVault, KeyUri) {
    let (tmp, opts) = tmp_opts();
    let vault = common::backend_vault(&opts, backend);
    let uri = vault.create_key(KEY, 2048).unwrap();
    let etags = populate(&opts, cmk(&uri));
    (
        Fixture {
            _tmp: tmp,
            opts,
            etags,
        },
        vault,
        uri,
    )
}

/// Opens with `opts`, expecting a 403 with `sub`; checks the message and that nothing in the data
/// directory changed. Returns the error for further checks.
fn refused(opts: &AccountOptions, sub: u32, what: &str) -> Error {
    let before = common::snapshot(&opts.data_dir);
    let err = match Account::open(opts.clone()) {
        Ok(_) => panic!("{what}: the account opened"),
        Err(e) => e,
    };
    assert_eq!(
        (err.status(), err.substatus()),
        (403, sub),
        "{what}: wrong error: {err}"
    );
    let msg = err.to_string();
    assert!(
        msg.len() > "key vault: ".len() + 20,
        "{what}: message too thin: {msg:?}"
    );
    assert!(
        common::snapshot(&opts.data_dir) == before,
        "{what}: a refused open changed the data directory"
    );
    eprintln!("{what}: {err}");
    err
}

/// Opens and checks every item written by `populate`, with its etag; then writes one more.
fn opens_intact(f: &Fixture, what: &str) {
    let account = Account::open(f.opts.clone()).unwrap_or_else(|e| panic!("{what}: does not open: {e}"));
    let c = account.database(DB).container(CONTAINER);
    for (id, etag) in &f.etags {
        let r = c
            .read_item::<Value>("tenant-1", id)
            .unwrap_or_else(|e| panic!("{what}: {id}: {e}"));
        assert_eq!(r.etag.as_deref(), Some(etag.as_str()), "{what}: {id}");
        assert_eq!(r.item.unwrap()["body"], doc(id)["body"], "{what}: {id}");
    }
    let n = format!("after-{}", what.len());
    c.upsert_item("tenant-1", &doc(&n)).unwrap();
}

#[test]
fn disabled_key_is_403_4002_until_enabled() {
    disabled_key_is_403_4002_until_enabled_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn disabled_key_is_403_4002_until_enabled_pkcs11() {
    disabled_key_is_403_4002_until_enabled_on(Backend::Token);
}

fn disabled_key_is_403_4002_until_enabled_on(backend: Backend) {
    let (f, vault, uri) = cmk_fixture_on(backend);
    opens_intact(&f, "before disabling");

    vault.set_enabled(KEY, None, false).unwrap();
    let err = refused(&f.opts, substatus::KEY_VAULT_ACCESS, "all versions disabled");
    assert!(err.to_string().contains(KEY), "{err}");
    vault.set_enabled(KEY, None, true).unwrap();
    opens_intact(&f, "re-enabled");

    // Disabling just the version that wrapped the data key is enough to lock the account out.
    vault.set_enabled(KEY, uri.version(), false).unwrap();
    refused(&f.opts, substatus::KEY_VAULT_ACCESS, "wrapping version disabled");
    vault.set_enabled(KEY, uri.version(), true).unwrap();
    opens_intact(&f, "version re-enabled");
}

#[test]
fn deleted_key_is_403_4003_until_recovered() {
    deleted_key_is_403_4003_until_recovered_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn deleted_key_is_403_4003_until_recovered_pkcs11() {
    deleted_key_is_403_4003_until_recovered_on(Backend::Token);
}

fn deleted_key_is_403_4003_until_recovered_on(backend: Backend) {
    let (f, vault, _) = cmk_fixture_on(backend);
    vault.delete_key(KEY).unwrap();
    let err = refused(&f.opts, substatus::KEY_NOT_FOUND, "key deleted");
    assert!(err.to_string().contains("deleted"), "{err}");
    vault.recover_key(KEY).unwrap();
    opens_intact(&f, "key recovered");
}

#[test]
fn missing_vault_dir_is_403_4003_and_is_not_recreated() {
    let (f, _vault, _) = cmk_fixture();
    let vault_dir = f.opts.vault_dir();
    let moved = f.opts.home.join("vault-moved-away");
    std::fs::rename(&vault_dir, &moved).unwrap();
    refused(&f.opts, substatus::KEY_NOT_FOUND, "vault directory missing");
    assert!(
        !vault_dir.exists(),
        "opening the account created an empty vault in place of the missing one"
    );
    std::fs::rename(&moved, &vault_dir).unwrap();
    opens_intact(&f, "vault moved back");
}

#[test]
fn another_vault_with_a_same_named_key_is_refused() {
    let (f, vault, uri) = cmk_fixture();
    // A second home: the same service key store (copied), but a new vault that also has a key
    // named KEY in a vault also named "local" — a different RSA key, with other versions. It is
    // of the same tenant (a vault of another tenant is refused first: tests/it/vault_properties.rs).
    let home2 = f.opts.home.parent().unwrap().join("home2");
    std::fs::create_dir_all(home2.join("service")).unwrap();
    for e in std::fs::read_dir(f.opts.service_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, home2.join("service").join(p.file_name().unwrap())).unwrap();
    }
    let opts2 = AccountOptions::new(&f.opts.data_dir, &home2);
    let same_tenant = strata::VaultProperties {
        tenant_id: Some(vault.tenant_id().to_string()),
        ..strata::VaultProperties::default_vault()
    };
    let vault2 = LocalVault::create_with(&opts2.vault_dir(), "local", &same_tenant).unwrap();
    let other = vault2.create_key(KEY, 2048).unwrap();
    assert_eq!((other.vault(), other.name()), (uri.vault(), uri.name()));
    assert_ne!(other.version(), uri.version());

    // The keyring names the version that wrapped the data key; the other vault has no such
    // version, so the engine answers "key not found" (4003) before any unwrap is attempted.
    let err = refused(&opts2, substatus::KEY_NOT_FOUND, "other vault, same key name");
    assert!(err.to_string().contains(uri.version().unwrap()), "{err}");
    // The original home still works.
    opens_intact(&f, "original home");
}

/// The versioned key id in the account's keyring (a framed JSON file: 20-byte header).
fn keyring_kid(data_dir: &Path) -> String {
    let bytes = std::fs::read(data_dir.join("KEYRING")).unwrap();
    let ring: Value = serde_json::from_slice(&bytes[20..]).unwrap();
    ring["customer"]["kid"].as_str().unwrap().to_string()
}

#[test]
fn versionless_uri_follows_the_newest_enabled_version() {
    let (tmp, opts) = tmp_opts();
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let v1 = vault.create_key(KEY, 2048).unwrap();
    let v2 = vault.create_key(KEY, 2048).unwrap();
    let any = v1.without_version();
    assert_eq!(any, v2.without_version());

    // Created with the version-less URI: the data key is wrapped by the newest version, v2.
    let etags = populate(&opts, cmk(&any));
    assert_eq!(keyring_kid(&opts.data_dir), v2.to_string());
    let f = Fixture {
        _tmp: tmp,
        opts: opts.clone(),
        etags,
    };
    opens_intact(&f, "versionless, v2 newest");
    let reopened = Account::open(opts.clone()).unwrap();
    assert_eq!(
        reopened.encryption(),
        cmk(&any),
        "the configured URI stays version-less"
    );
    drop(reopened);
    // Only v2 matters to this account: disabling v1 changes nothing, disabling v2 locks it.
    vault.set_enabled(KEY, v1.version(), false).unwrap();
    opens_intact(&f, "v1 disabled");
    vault.set_enabled(KEY, v2.version(), false).unwrap();
    refused(&opts, substatus::KEY_VAULT_ACCESS, "v2 disabled");

    // With v2 disabled and v1 enabled, a new account on the same version-less URI gets v1.
    vault.set_enabled(KEY, v1.version(), true).unwrap();
    let (tmp_b, opts_b) = tmp_opts();
    let opts_b = AccountOptions::new(&opts_b.data_dir, &opts.home);
    let etags_b = populate(&opts_b, cmk(&any));
    assert_eq!(keyring_kid(&opts_b.data_dir), v1.to_string());
    let fb = Fixture {
        _tmp: tmp_b,
        opts: opts_b.clone(),
        etags: etags_b,
    };
    opens_intact(&fb, "second account, v1 newest enabled");
    // Swapping which version is enabled swaps which account opens.
    vault.set_enabled(KEY, v1.version(), false).unwrap();
    vault.set_enabled(KEY, v2.version(), true).unwrap();
    opens_intact(&f, "first account, v2 back");
    refused(
        &opts_b,
        substatus::KEY_VAULT_ACCESS,
        "second account, v1 disabled",
    );
}

#[test]
fn smk_account_needs_its_own_service_key_store() {
    let (tmp, opts) = tmp_opts();
    let etags = populate(&opts, Encryption::ServiceManaged);
    let f = Fixture {
        _tmp: tmp,
        opts: opts.clone(),
        etags,
    };

    // A home without a service key store: 4003, and no key store is created by the attempt.
    let empty_home = opts.home.parent().unwrap().join("empty-home");
    let wrong = AccountOptions::new(&opts.data_dir, &empty_home);
    refused(&wrong, substatus::KEY_NOT_FOUND, "SMK: no service key store");
    assert!(
        !wrong.service_dir().join("smk").exists(),
        "a refused open created a service key"
    );

    // A home whose service key store belongs to another account: 4005.
    let other_home = opts.home.parent().unwrap().join("other-home");
    let other_data = opts.home.parent().unwrap().join("other-data");
    drop(
        Account::create(
            AccountOptions::new(&other_data, &other_home),
            "other",
            Encryption::ServiceManaged,
        )
        .unwrap(),
    );
    let foreign = AccountOptions::new(&opts.data_dir, &other_home);
    refused(
        &foreign,
        substatus::KEY_WRAP_FAILED,
        "SMK: foreign service key store",
    );

    opens_intact(&f, "SMK, own home");
}
