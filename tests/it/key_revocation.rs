//! Revocation end to end on an open account: write, take the key away (disable the version,
//! delete the key, remove the identity's access), force a key check (or let the interval run
//! out), and every read, write (patch and batch included) and query fails with 403 and the matching substatus while the
//! data directory stays unchanged; give the key back, check, and all data is back.

use crate::common;

use std::time::Duration;

use serde_json::{json, Value};
use strata::{
    substatus, Account, AccountOptions, BatchOperation, Container, Encryption, KeyUri, LocalVault,
    PatchOperation, PatchOptions, Permission, Principal, QueryOptions,
};

const ITEMS: usize = 12;

struct Fixture {
    _tmp: tempfile::TempDir,
    opts: AccountOptions,
    vault: LocalVault,
    kid: KeyUri,
    account: Account,
    c: Container,
}

fn fixture(interval: Duration) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let opts =
        AccountOptions::new(tmp.path().join("data"), tmp.path().join("home")).key_check_interval(interval);
    let (vault, kid, account, c) = common::cmk_account(&opts);
    for i in 0..ITEMS {
        c.create_item("p", &json!({"id": format!("item-{i}"), "pk": "p", "n": i}))
            .unwrap();
        if i == ITEMS / 2 {
            account.flush().unwrap();
        }
    }
    Fixture {
        _tmp: tmp,
        opts,
        vault,
        kid,
        account,
        c,
    }
}

/// Every data-plane call fails with 403.`sub`; names stay listable.
fn all_refused(f: &Fixture, sub: u32) {
    let item = json!({"id": "new", "pk": "p"});
    let errors = [
        f.c.read_item::<Value>("p", "item-0").map(|_| ()).unwrap_err(),
        f.c.create_item("p", &item).map(|_| ()).unwrap_err(),
        f.c.upsert_item("p", &item).map(|_| ()).unwrap_err(),
        f.c.replace_item("p", &json!({"id": "item-1", "pk": "p"}))
            .map(|_| ())
            .unwrap_err(),
        f.c.delete_item("p", "item-2").map(|_| ()).unwrap_err(),
        f.c.query_items("SELECT * FROM c", &[], &QueryOptions::default())
            .map(|_| ())
            .unwrap_err(),
        f.c.patch_item(
            "p",
            "item-3",
            &[PatchOperation::incr("/n", 1)],
            &PatchOptions::default(),
        )
        .map(|_| ())
        .unwrap_err(),
        f.c.execute_batch("p", &[BatchOperation::read("item-4")])
            .map(|_| ())
            .unwrap_err(),
    ];
    for e in errors {
        assert_eq!((e.status(), e.substatus()), (403, sub), "{e}");
        assert!(e.to_string().contains("strata key check"), "{e}");
    }
    assert_eq!(f.account.list_databases().unwrap(), vec!["db"]);
    assert_eq!(f.account.database("db").list_containers().unwrap().len(), 1);
    let status = f.account.key_status().unwrap();
    assert_eq!((status.state.as_str(), status.sub_status), ("revoked", sub));
}

fn all_back(f: &Fixture) {
    for i in 0..ITEMS {
        let r = f.c.read_item::<Value>("p", &format!("item-{i}")).unwrap();
        assert_eq!(r.item.unwrap()["n"], json!(i));
    }
    f.c.upsert_item("p", &json!({"id": "after", "pk": "p"})).unwrap();
    let q =
        f.c.query_items("SELECT * FROM c", &[], &QueryOptions::default())
            .unwrap();
    assert_eq!(q.items.len(), ITEMS + 1);
    assert_eq!(f.account.key_status().unwrap().state, "active");
}

#[test]
fn disabled_version_revokes_until_enabled_and_checked() {
    let f = fixture(Duration::from_secs(3600));
    f.account.flush().unwrap();
    let before = common::snapshot(&f.opts.data_dir);
    f.vault.set_enabled("cmk", f.kid.version(), false).unwrap();
    // Nothing changes before a check: the interval has not run out.
    f.c.read_item::<Value>("p", "item-0").unwrap();

    let e = f.account.check_key().unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert!(e.to_string().contains("strata vault key enable cmk"), "{e}");
    all_refused(&f, substatus::KEY_VAULT_ACCESS);
    assert!(
        common::snapshot(&f.opts.data_dir) == before,
        "a revoked account changed its data directory"
    );

    // Still revoked until a check succeeds, even once the key is back.
    f.vault.set_enabled("cmk", None, true).unwrap();
    all_refused(&f, substatus::KEY_VAULT_ACCESS);
    assert_eq!(f.account.check_key().unwrap().state, "active");
    all_back(&f);
}

#[test]
fn deleted_key_and_removed_access_revoke_with_their_substatus() {
    let f = fixture(Duration::from_secs(3600));
    f.vault.delete_key("cmk").unwrap();
    assert_eq!(
        f.account.check_key().unwrap_err().substatus(),
        substatus::KEY_NOT_FOUND
    );
    all_refused(&f, substatus::KEY_NOT_FOUND);
    f.vault.recover_key("cmk").unwrap();
    f.account.check_key().unwrap();
    all_back(&f);

    f.vault.remove_policy(&Principal::FirstParty).unwrap();
    let e = f.account.check_key().unwrap_err();
    assert_eq!(e.substatus(), substatus::KEY_VAULT_ACCESS);
    assert!(e.to_string().contains("unwrapKey permission"), "{e}");
    all_refused(&f, substatus::KEY_VAULT_ACCESS);
    f.vault
        .set_policy(&Principal::FirstParty, &[Permission::UnwrapKey])
        .unwrap();
    f.account.check_key().unwrap();
    all_back(&f);
}

#[test]
fn the_interval_runs_checks_on_its_own() {
    let f = fixture(Duration::from_millis(1));
    f.vault.set_enabled("cmk", None, false).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let e = f.c.read_item::<Value>("p", "item-0").unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    f.vault.set_enabled("cmk", None, true).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    all_back(&f);

    // A service-managed account has no customer key to check.
    let smk_opts = AccountOptions::new(f.opts.data_dir.with_file_name("smk-data"), f.opts.home.clone());
    let smk = Account::create(smk_opts, "plain", Encryption::ServiceManaged).unwrap();
    let status = smk.check_key().unwrap();
    assert_eq!((status.state.as_str(), status.kid), ("active", None));
}

#[test]
fn revocation_drops_the_unwrapped_key_and_the_cached_plaintext() {
    let f = fixture(Duration::from_secs(3600));
    f.account.flush().unwrap();
    for i in 0..ITEMS {
        f.c.read_item::<Value>("p", &format!("item-{i}")).unwrap();
    }
    assert!(
        f.account.store().stats().unwrap().cache.bytes > 0,
        "the reads warm the cache"
    );
    assert!(f.account.has_unwrapped_customer_key());
    assert!(f.account.key_status().unwrap().key_in_memory);

    f.vault.set_enabled("cmk", f.kid.version(), false).unwrap();
    f.account.check_key().unwrap_err();
    assert!(
        !f.account.has_unwrapped_customer_key(),
        "revocation keeps the DEK"
    );
    assert!(!f.account.key_status().unwrap().key_in_memory);
    assert_eq!(
        f.account.store().stats().unwrap().cache.bytes,
        0,
        "plaintext blocks stay cached"
    );
    // Below the account's gate the store cannot open a block or seal a record either, and
    // that refusal does not poison it.
    let e = f.account.store().scan_prefix(b"").unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    let e = f.account.store().put(b"raw", b"value").unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );

    // A failed check does not bring it back; a successful one does, and everything works.
    f.account.check_key().unwrap_err();
    assert!(!f.account.has_unwrapped_customer_key());
    f.vault.set_enabled("cmk", None, true).unwrap();
    f.account.check_key().unwrap();
    assert!(f.account.has_unwrapped_customer_key());
    f.account.store().put(b"raw", b"value").unwrap();
    all_back(&f);
    f.account.flush().unwrap();
}
