//! Helpers shared by the scenario tests: a fresh container, the encryption of a test account (a fresh 2048-bit key
//! in the home's vault for CMK), walking every file under a directory, and snapshots of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata::{
    Account, AccountOptions, ChangeFeedMode, ChangeFeedOptions, Container, Encryption, Identities, KeyUri,
    LocalVault, Permission, Principal, QueryOptions,
};

/// `ServiceManaged`, or `CustomerManaged` on a new 2048-bit key `key_name` in `opts`' vault.
pub fn encryption(opts: &AccountOptions, cmk: bool, key_name: &str) -> Encryption {
    if !cmk {
        return Encryption::ServiceManaged;
    }
    let vault = LocalVault::open(&opts.vault_dir()).expect("open the test vault");
    let uri = vault.create_key(key_name, 2048).expect("create the test key");
    Encryption::CustomerManaged {
        key_uri: uri.to_string(),
    }
}

/// A fresh service-managed account with database `db` and container `c` partitioned on `/pk`.
pub fn service_container() -> (tempfile::TempDir, Container) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_account, c) = plain_container(dir.path());
    (dir, c)
}

/// Every regular file below `root`, depth first.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list a test directory") {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Every file below `dir` except the LOCK files, with its contents: a before/after picture that
/// proves an operation wrote nothing (or only what it should).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "LOCK"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read a test file");
            (p, bytes)
        })
        .collect()
}

/// Where a scenario's customer keys live: the home's default vault (PKCS#8 files), or a vault
/// "hsm" whose keys are in a fresh SoftHSM2 token (tests using it are `#[ignore]`d and run by
/// scripts/test.sh; see docs/keys.md#pkcs11-backend).
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Files,
    Token,
}

/// The vault `backend` names in `opts`' home (the token vault is created, purge protection on).
pub fn backend_vault(opts: &AccountOptions, backend: Backend) -> LocalVault {
    match backend {
        Backend::Files => LocalVault::open(&opts.vault_dir()).expect("open the test vault"),
        Backend::Token => {
            let token = strata_vault::SoftToken::create();
            let props = strata::VaultProperties {
                purge_protection: true,
                ..strata::VaultProperties::default_vault()
            };
            strata::VaultHome::new(&opts.home)
                .create_held("hsm", &props, Some(&token.config))
                .expect("create the token vault")
        }
    }
}

/// The vault [`backend_vault`] made in `opts`' home, opened again.
pub fn open_backend_vault(opts: &AccountOptions, backend: Backend) -> LocalVault {
    match backend {
        Backend::Files => LocalVault::open(&opts.vault_dir()).expect("open the test vault"),
        Backend::Token => strata::VaultHome::new(&opts.home)
            .open_local(Some("hsm"))
            .expect("open the token vault"),
    }
}

/// A customer-managed-key account "acct" on a new 2048-bit key "cmk" (configured by its
/// version-less URI), with database "db" and container "c" partitioned on "/pk". Returns the
/// vault, the key's first versioned URI, the account and the container.
pub fn cmk_account(opts: &AccountOptions) -> (LocalVault, KeyUri, Account, Container) {
    cmk_account_on(opts, Backend::Files)
}

/// [`cmk_account`] with its key in `backend`'s vault.
pub fn cmk_account_on(opts: &AccountOptions, backend: Backend) -> (LocalVault, KeyUri, Account, Container) {
    let vault = backend_vault(opts, backend);
    let kid = vault.create_key("cmk", 2048).expect("create the test key");
    let enc = Encryption::CustomerManaged {
        key_uri: kid.without_version().to_string(),
    };
    let account = Account::create(opts.clone(), "acct", enc).expect("create the CMK account");
    let c = account
        .create_database("db")
        .and_then(|db| db.create_container("c", "/pk"))
        .expect("create db/c");
    (vault, kid, account, c)
}

/// Each string as its bytes and as lowercase hex: what a leak scan looks for.
pub fn text_needles(strings: &[String]) -> Vec<Vec<u8>> {
    strings
        .iter()
        .flat_map(|s| {
            let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
            [s.clone().into_bytes(), hex.into_bytes()]
        })
        .collect()
}

/// Asserts that no file holds any of `needles`; returns whether some file holds `marker` (a
/// plaintext-by-contract string, proving the scan read the files).
pub fn assert_no_needle(files: &[PathBuf], needles: &[Vec<u8>], marker: &[u8]) -> bool {
    let mut seen = false;
    for file in files {
        let bytes = std::fs::read(file).expect("read a scanned file");
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "{} holds {}",
                file.display(),
                String::from_utf8_lossy(n)
            );
        }
        seen |= bytes.windows(marker.len()).any(|w| w == marker);
    }
    seen
}

/// Creates the user-assigned identity `name`, grants it get/wrapKey/unwrapKey in `vault`, and
/// makes it `account`'s default identity.
pub fn use_user_identity(
    opts: &AccountOptions,
    vault: &LocalVault,
    account: &Account,
    name: &str,
) -> Principal {
    let p = Principal::User(name.into());
    Identities::new(&opts.home)
        .create(name)
        .expect("create the identity");
    vault
        .set_policy(&p, &[Permission::Get, Permission::WrapKey, Permission::UnwrapKey])
        .expect("grant the identity");
    account
        .set_default_identity(p.clone())
        .expect("set the default identity");
    p
}

/// A new service-managed account in `dir` with container `db/c` partitioned on `/pk`.
pub fn plain_container(dir: &Path) -> (Account, Container) {
    account_with_container(AccountOptions::new(dir.join("data"), dir.join("home")))
}

/// A new service-managed account with `opts` and container `db/c` partitioned on `/pk`.
pub fn account_with_container(opts: AccountOptions) -> (Account, Container) {
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    (account, c)
}

/// Container `db/<name>` (database `db` created) partitioned on `pk` under the indexing policy
/// `policy` (JSON).
pub fn container_with_policy(account: &Account, name: &str, pk: &str, policy: &str) -> Container {
    let policy = strata::IndexingPolicy::from_json(policy).unwrap();
    account
        .create_database("db")
        .unwrap()
        .create_container_with(
            name,
            pk,
            strata::ContainerOptions {
                indexing_policy: Some(policy),
                ..Default::default()
            },
        )
        .unwrap()
}

/// Records in the container's all-versions change feed.
pub fn feed_len(c: &Container) -> usize {
    let o = ChangeFeedOptions {
        mode: ChangeFeedMode::AllVersionsAndDeletes,
        max_item_count: 10_000,
        ..Default::default()
    };
    c.read_change_feed(&o).unwrap().items.len()
}

/// What an observer of an all-or-nothing write can see: every item (scanned, by id), what
/// `indexed_sql` (a query without ORDER BY) answers through the index (checked against a full
/// scan, as a multiset: a range lookup returns its items in index order, a scan in key order;
/// returned sorted), and the feed's length.
pub fn visible_state(c: &Container, indexed_sql: &str) -> (Vec<Value>, Vec<Value>, usize) {
    let q = |sql: &str, force_full_scan| {
        let o = QueryOptions {
            force_full_scan,
            max_item_count: Some(10_000),
            ..QueryOptions::default()
        };
        c.query_items(sql, &[], &o).unwrap().items
    };
    let all = q("SELECT * FROM c ORDER BY c.id", true);
    let sorted = |mut v: Vec<Value>| {
        v.sort_by_key(Value::to_string);
        v
    };
    let indexed = sorted(q(indexed_sql, false));
    assert_eq!(
        indexed,
        sorted(q(indexed_sql, true)),
        "the index and a scan agree"
    );
    (all, indexed, feed_len(c))
}
