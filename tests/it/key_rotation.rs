//! Customer-key rotation re-wraps the customer-layer DEK without rewriting data: rotate to a new
//! version of the same key, then to a different key; every item reads back after reopening, the
//! audit log shows only the newest version in use afterwards, and the old versions can then be
//! disabled without effect. A rotation the vault refuses leaves KEYRING as it was.

use crate::common::{self, Backend};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions, AuditFilter, Encryption, KeyUri, LocalVault};

const ITEMS: usize = 30;

fn without(mut snap: BTreeMap<PathBuf, Vec<u8>>, dir: &Path, name: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    snap.remove(&dir.join(name));
    snap
}

fn read_all(account: &Account) {
    let c = account.database("db").container("c");
    for i in 0..ITEMS {
        let r = c.read_item::<Value>("p", &format!("item-{i}")).unwrap();
        assert_eq!(r.item.unwrap()["n"], json!(i));
    }
}

#[test]
fn rotate_to_a_new_version_then_to_another_key() {
    rotate_to_a_new_version_then_to_another_key_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn rotate_to_a_new_version_then_to_another_key_pkcs11() {
    rotate_to_a_new_version_then_to_another_key_on(Backend::Token);
}

fn rotate_to_a_new_version_then_to_another_key_on(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let data = opts.data_dir.clone();
    let (vault, v1, account, c) = common::cmk_account_on(&opts, backend);
    for i in 0..ITEMS {
        c.create_item("p", &json!({"id": format!("item-{i}"), "pk": "p", "n": i}))
            .unwrap();
        if i == ITEMS / 2 {
            account.flush().unwrap();
        }
    }
    let before = common::snapshot(&data);

    // 1. A new version of the same key.
    let v2 = vault.rotate_key("cmk").unwrap();
    assert_ne!(v2, v1);
    let r = account.rotate_customer_key(None).unwrap();
    assert_eq!(
        (r.previous_kid.as_str(), r.kid.as_str()),
        (v1.to_string().as_str(), v2.to_string().as_str())
    );
    assert_eq!(r.key_uri, v1.without_version().to_string());
    // Constant time: only KEYRING changed.
    assert!(without(common::snapshot(&data), &data, "KEYRING") == without(before.clone(), &data, "KEYRING"));
    assert_ne!(
        common::snapshot(&data).get(&data.join("KEYRING")),
        before.get(&data.join("KEYRING"))
    );

    // 2. A different key, named by URI.
    let other = vault.create_key("cmk2", 2048).unwrap();
    let r = account
        .rotate_customer_key(Some(&other.without_version().to_string()))
        .unwrap();
    assert_eq!(
        (r.previous_kid, r.kid.clone()),
        (v2.to_string(), other.to_string())
    );
    assert_eq!(
        account.encryption(),
        Encryption::CustomerManaged {
            key_uri: other.without_version().to_string()
        }
    );
    read_all(&account);
    drop(c);
    drop(account);

    // From here on only the newest version may be used.
    let mark = vault.audit_log(&AuditFilter::default()).unwrap().len();
    let account = Account::open(opts.clone()).unwrap();
    read_all(&account);
    drop(account);
    // The old versions can go: disabling them has no effect on the account.
    vault.set_enabled("cmk", None, false).unwrap();
    let account = Account::open(opts.clone()).unwrap();
    read_all(&account);
    drop(account);

    let used: Vec<(String, Option<String>)> = vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .skip(mark)
        .filter(|e| e.operation == "wrapKey" || e.operation == "unwrapKey")
        .map(|e| (e.key.unwrap_or_default(), e.version))
        .collect();
    assert_eq!(used.len(), 2, "{used:?}");
    for (key, version) in &used {
        assert_eq!((key.as_str(), version.as_deref()), ("cmk2", other.version()));
    }
    for old in [&v1, &v2] {
        let filter = AuditFilter {
            version: old.version().map(str::to_string),
            ..AuditFilter::default()
        };
        // Sanity: the filter finds the old versions' use before the rotation.
        let earlier = vault.audit_log(&filter).unwrap();
        assert!(
            earlier.iter().any(|e| e.operation == "wrapKey"),
            "{old}: {earlier:?}"
        );
    }
    let keyring = String::from_utf8_lossy(&std::fs::read(data.join("KEYRING")).unwrap()).into_owned();
    assert!(!keyring.contains(v1.version().unwrap()));
}

#[test]
fn a_refused_rotation_changes_nothing_and_smk_has_nothing_to_rotate() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let v1 = vault.create_key("cmk", 2048).unwrap();
    let account = Account::create(
        opts.clone(),
        "acct",
        Encryption::CustomerManaged {
            key_uri: v1.to_string(),
        },
    )
    .unwrap();
    let keyring = std::fs::read(opts.data_dir.join("KEYRING")).unwrap();

    let disabled = vault.create_key("off", 2048).unwrap();
    vault.set_enabled("off", None, false).unwrap();
    let cases: Vec<(KeyUri, u32)> = vec![
        (disabled.clone(), substatus::KEY_VAULT_ACCESS),
        (
            KeyUri::new("local", "missing", None).unwrap(),
            substatus::KEY_NOT_FOUND,
        ),
    ];
    for (to, sub) in cases {
        let e = account.rotate_customer_key(Some(&to.to_string())).unwrap_err();
        assert_eq!((e.status(), e.substatus()), (403, sub), "{to}: {e}");
        assert_eq!(std::fs::read(opts.data_dir.join("KEYRING")).unwrap(), keyring);
    }
    assert_eq!(
        account
            .rotate_customer_key(Some("not a uri"))
            .unwrap_err()
            .status(),
        400
    );
    // A pinned URI rotates to itself: same version, fresh wrap.
    assert_eq!(account.rotate_customer_key(None).unwrap().kid, v1.to_string());
    drop(account);
    Account::open(opts.clone()).unwrap();

    let smk_opts = AccountOptions::new(tmp.path().join("smk"), tmp.path().join("home"));
    let smk = Account::create(smk_opts, "plain", Encryption::ServiceManaged).unwrap();
    assert_eq!(smk.rotate_customer_key(None).unwrap_err().status(), 400);
}

#[test]
fn a_versionless_account_follows_a_new_version_at_its_next_key_check() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let v1 = vault.create_key("cmk", 2048).unwrap();
    let pinned_key = vault.create_key("pinned", 2048).unwrap();
    let follows = Account::create(
        opts.clone(),
        "acct",
        Encryption::CustomerManaged {
            key_uri: v1.without_version().to_string(),
        },
    )
    .unwrap();
    let pinned_opts = AccountOptions::new(tmp.path().join("pinned"), tmp.path().join("home"));
    let pinned = Account::create(
        pinned_opts,
        "pinned",
        Encryption::CustomerManaged {
            key_uri: pinned_key.to_string(),
        },
    )
    .unwrap();

    let v2 = vault.rotate_key("cmk").unwrap();
    let p2 = vault.rotate_key("pinned").unwrap();
    assert_eq!(
        follows.key_status().unwrap().kid,
        Some(v1.to_string()),
        "no check yet"
    );
    assert_eq!(follows.check_key().unwrap().kid, Some(v2.to_string()));
    assert_eq!(pinned.check_key().unwrap().kid, Some(pinned_key.to_string()));
    assert_ne!(p2, pinned_key);

    // The old version is no longer needed.
    vault.set_enabled("cmk", v1.version(), false).unwrap();
    drop(follows);
    let reopened = Account::open(opts).unwrap();
    assert_eq!(reopened.check_key().unwrap().state, "active");
}
