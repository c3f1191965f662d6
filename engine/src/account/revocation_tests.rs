//! Revocation below the account's gate: the raw store (crate-private since no public handle may
//! reach it) refuses every read, the memtable's included, and every seal while the customer key
//! is withheld, without being poisoned by it; the same key put back by a successful check makes
//! everything readable again. Tests only; reads the raw store, writes through the public API.

use std::sync::Arc;

use serde_json::json;

use super::handle::Account;
use super::Encryption;
use crate::error::{substatus, Error};
use crate::options::AccountOptions;
use strata_vault::LocalVault;

fn assert_withheld(e: Error) {
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
}

#[test]
fn the_raw_store_refuses_the_memtable_while_the_key_is_withheld() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let kid = vault.create_key("cmk", 2048).unwrap();
    let enc = Encryption::CustomerManaged {
        key_uri: kid.without_version().to_string(),
    };
    let account = Account::create(opts, "acct", enc).unwrap();
    let c = account
        .create_database("db")
        .and_then(|d| d.create_container("c", "/pk"))
        .unwrap();
    c.create_item("p", &json!({"id": "flushed", "pk": "p"})).unwrap();
    account.flush().unwrap();
    c.create_item("p", &json!({"id": "recent", "pk": "p"})).unwrap();
    let db = &account.inner.db;
    assert!(
        db.stats().unwrap().memtable_bytes > 0,
        "a write waits in the memtable"
    );
    let keys: Vec<Vec<u8>> = db.scan_prefix(&[]).unwrap().into_iter().map(|(k, _)| k).collect();
    assert!(!keys.is_empty());

    vault.set_enabled("cmk", kid.version(), false).unwrap();
    account.check_key().unwrap_err();
    for k in &keys {
        assert_withheld(Error::from(db.get(k).unwrap_err()));
    }
    assert_withheld(Error::from(db.scan_prefix(&[]).unwrap_err()));
    assert_withheld(Error::from(
        db.iter_prefix_from(&[], &[]).map(|_| ()).unwrap_err(),
    ));
    assert_withheld(Error::from(
        db.iter_range_rev(&[], &[0xff]).map(|_| ()).unwrap_err(),
    ));
    assert_withheld(Error::from(db.put(b"raw", b"value").unwrap_err()));
    assert_withheld(Error::from(db.flush().unwrap_err()));

    vault.set_enabled("cmk", None, true).unwrap();
    account.check_key().unwrap();
    for k in &keys {
        assert!(db.get(k).unwrap().is_some());
    }
    db.put(b"raw", b"value").unwrap();
    account.flush().unwrap();
    assert_eq!(db.scan_prefix(&[]).unwrap().len(), keys.len() + 1);
}

/// A container with its own customer key: a handle on its store taken before the revocation
/// (as an operation under way holds one) refuses its memtable once that container's key is
/// withheld, while the account's store, holding the other container, goes on.
#[test]
fn a_container_store_refuses_its_memtable_while_its_own_key_is_withheld() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let kid = vault.create_key("ck", 2048).unwrap();
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    let d = account.create_database("db").unwrap();
    let own_opts = super::ContainerOptions {
        customer_key: Some(kid.to_string()),
        ..super::ContainerOptions::default()
    };
    let own = d.create_container_with("own", "/pk", own_opts).unwrap();
    let plain = d.create_container("plain", "/pk").unwrap();
    own.create_item("p", &json!({"id": "recent", "pk": "p"})).unwrap();
    plain
        .create_item("p", &json!({"id": "other", "pk": "p"}))
        .unwrap();
    let id = account
        .inner
        .catalog()
        .unwrap()
        .container("db", "own")
        .unwrap()
        .id;
    let store = account.inner.store_for(id).unwrap();
    assert!(!Arc::ptr_eq(&store, &account.inner.db), "its own store");
    let keys: Vec<Vec<u8>> = store
        .scan_prefix(&[])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(!keys.is_empty());

    vault.set_enabled("ck", kid.version(), false).unwrap();
    account.check_key().unwrap();
    for k in &keys {
        assert_withheld(Error::from(store.get(k).unwrap_err()));
    }
    assert_withheld(Error::from(store.put(b"raw", b"value").unwrap_err()));
    assert_withheld(account.inner.store_for(id).map(|_| ()).unwrap_err());
    assert!(account.inner.db.scan_prefix(&[]).is_ok_and(|r| !r.is_empty()));

    vault.set_enabled("ck", None, true).unwrap();
    account.check_key().unwrap();
    for k in &keys {
        assert!(store.get(k).unwrap().is_some());
    }
}
