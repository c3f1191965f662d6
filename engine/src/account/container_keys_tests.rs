//! What an interrupted create of a container with its own key leaves (a KEYRING entry and a
//! store directory whose id the catalog does not list) is removed when the account opens; a
//! listed container's entry and store are kept. Tests only.

use serde_json::json;

use super::container_keys::own_store_dir;
use super::handle::Account;
use super::keys::{read_keyring, KEYRING_FILE};
use super::{ContainerOptions, Encryption};
use crate::keyring::ContainerKeyEntry;
use crate::options::AccountOptions;
use strata_vault::LocalVault;

/// A service-managed account with container `db/own` keyed by its own vault key `ck`.
fn account_with_own_container(opts: &AccountOptions) -> (Account, super::Container) {
    let kid = LocalVault::open(&opts.vault_dir())
        .unwrap()
        .create_key("ck", 2048)
        .unwrap();
    let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let own = account
        .create_database("db")
        .and_then(|d| {
            d.create_container_with(
                "own",
                "/pk",
                ContainerOptions {
                    customer_key: Some(kid.to_string()),
                    ..ContainerOptions::default()
                },
            )
        })
        .unwrap();
    (account, own)
}

#[test]
fn open_removes_the_keyring_entry_and_store_of_an_uncatalogued_id() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let (account, own) = account_with_own_container(&opts);
    own.create_item("p", &json!({"id": "kept", "pk": "p"})).unwrap();
    drop(own);
    account.close().unwrap();

    // A create that died after its KEYRING entry and store, before its catalog entry.
    let data = &opts.data_dir;
    let mut ring = read_keyring(data).unwrap();
    let live = ring.containers[0].clone();
    ring.containers.push(ContainerKeyEntry {
        container_id: 99,
        ..live.clone()
    });
    ring.write(&data.join(KEYRING_FILE)).unwrap();
    std::fs::create_dir_all(own_store_dir(data, 99).join("wal")).unwrap();

    let account = Account::open(opts.clone()).unwrap();
    let ids: Vec<u32> = read_keyring(data)
        .unwrap()
        .containers
        .iter()
        .map(|e| e.container_id)
        .collect();
    assert_eq!(ids, vec![live.container_id]);
    assert!(!own_store_dir(data, 99).exists());
    assert!(own_store_dir(data, live.container_id).exists());
    let item = account
        .database("db")
        .container("own")
        .read_item::<serde_json::Value>("p", "kept")
        .unwrap();
    assert_eq!(item.status_code, 200);
}

#[test]
fn settle_flushes_a_containers_own_store_too() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"))
        .durability(crate::options::Durability::Buffered);
    let (account, own) = account_with_own_container(&opts);
    own.create_item("p", &json!({"id": "a", "pk": "p"})).unwrap();
    let id = read_keyring(&opts.data_dir).unwrap().containers[0].container_id;
    let segments = || {
        std::fs::read_dir(own_store_dir(&opts.data_dir, id).join("seg"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    // The write sits in the own store's memtable: no segment yet.
    assert_eq!(segments(), 0);
    assert!(account.settle(std::time::Duration::from_secs(60)).unwrap());
    assert!(segments() > 0, "settle flushed the container's own store");
}
