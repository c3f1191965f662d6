//! Enabling a customer-managed key on a service-managed account that holds data: new writes are
//! sealed twice at once, the existing segments are re-sealed in the background while reads and
//! writes go on, and afterwards every file's header says two layers, no canary is in the clear,
//! all data reads back, and disabling the key makes the account inaccessible (403.4002). A crash
//! in the middle reopens and resumes.

use crate::common::{self, Backend};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions, Container, Encryption, KeyUri, LocalVault, QueryOptions};

/// Offset of the seal-layer count in every WAL, segment and MANIFEST header (docs/format.md).
const LAYERS_AT: usize = 20;
const CANARY: &str = "CANARY-enable-cmk-7f3a";

fn options(tmp: &Path) -> AccountOptions {
    AccountOptions::new(tmp.join("data"), tmp.join("home")).key_check_interval(Duration::from_secs(3600))
}

fn id(i: usize) -> String {
    format!("{CANARY}-id-{i:04}")
}

/// An SMK account with `n` items spread over several segments (L0 and, after a compaction,
/// L1) plus a few only in the WAL.
fn smk_account_with_data(opts: &AccountOptions, n: usize) -> (Account, Container) {
    let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .and_then(|db| db.create_container("c", "/pk"))
        .unwrap();
    for i in 0..n {
        let body =
            json!({"id": id(i), "pk": format!("p{}", i % 3), "n": i, "secret": format!("{CANARY}-body-{i}")});
        c.create_item(format!("p{}", i % 3), &body).unwrap();
        if i % 10 == 9 {
            account.flush().unwrap();
        }
        if i == n / 2 {
            account.compact().unwrap();
        }
    }
    (account, c)
}

/// A scratch directory and an SMK account in it, as `smk_account_with_data`.
fn smk_fixture(n: usize) -> (tempfile::TempDir, AccountOptions, Account, Container) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    let (account, c) = smk_account_with_data(&opts, n);
    (tmp, opts, account, c)
}

fn all_read_back(c: &Container, n: usize) {
    for i in 0..n {
        let r = c.read_item::<Value>(format!("p{}", i % 3), &id(i)).unwrap();
        assert_eq!(r.item.unwrap()["n"], json!(i), "item {i}");
    }
    let q = c
        .query_items("SELECT VALUE COUNT(1) FROM c", &[], &QueryOptions::default())
        .unwrap();
    assert_eq!(q.items, vec![json!(n)]);
}

/// Every WAL, segment and MANIFEST with its seal-layer count. A segment the background
/// compaction has just created may have no header yet, and one it has just replaced may be gone
/// by the time it is read: both are skipped (the first is written by the current code, which
/// seals with every layer the account has; the second is no longer part of the store).
fn sealed_files(data: &Path) -> Vec<PathBuf> {
    common::files_under(&data.join("lsm"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".seg") || name.ends_with(".wal") || name == "MANIFEST"
        })
        .collect()
}

/// (file, its seal layers) for every sealed file that has a header now.
fn layers(data: &Path) -> Vec<(PathBuf, u8)> {
    sealed_files(data)
        .into_iter()
        .filter_map(|p| {
            let layers = *std::fs::read(&p).ok()?.get(LAYERS_AT)?;
            Some((p, layers))
        })
        .collect()
}

fn segments(data: &Path) -> Vec<PathBuf> {
    sealed_files(data)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect()
}

fn wait_for_migration(account: &Account) -> strata::MigrationStatus {
    let start = Instant::now();
    loop {
        let m = account
            .key_status()
            .unwrap()
            .migration
            .expect("a CMK account reports its migration");
        if m.state == "complete" {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "migration stuck: {m:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn new_key(opts: &AccountOptions) -> (LocalVault, KeyUri) {
    new_key_on(opts, Backend::Files)
}

fn new_key_on(opts: &AccountOptions, backend: Backend) -> (LocalVault, KeyUri) {
    let vault = common::backend_vault(opts, backend);
    let kid = vault.create_key("cmk", 2048).unwrap();
    (vault, kid)
}

#[test]
fn smk_account_becomes_cmk_and_every_block_is_double_sealed() {
    smk_account_becomes_cmk_and_every_block_is_double_sealed_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn smk_account_becomes_cmk_and_every_block_is_double_sealed_pkcs11() {
    smk_account_becomes_cmk_and_every_block_is_double_sealed_on(Backend::Token);
}

fn smk_account_becomes_cmk_and_every_block_is_double_sealed_on(backend: Backend) {
    let n = 60;
    let (_tmp, opts, account, c) = smk_fixture(n);
    let data = opts.data_dir.clone();
    assert!(segments(&data).len() >= 3, "the test needs several segments");
    assert!(layers(&data).iter().all(|(_, l)| *l == 1));
    assert!(account.key_status().unwrap().migration.is_none());
    assert!(!account.has_unwrapped_customer_key());

    let (vault, kid) = new_key_on(&opts, backend);
    let uri = kid.without_version().to_string();
    let status = account.enable_cmk(&uri).unwrap();
    assert_eq!(status.encryption, "customer-managed");
    assert_eq!(status.kid.as_deref(), Some(kid.to_string().as_str()));
    assert!(status.key_in_memory);
    assert_eq!(
        account.encryption(),
        Encryption::CustomerManaged { key_uri: uri.clone() }
    );
    assert!(account.has_unwrapped_customer_key());
    // A second enable is a conflict.
    assert_eq!(account.enable_cmk(&uri).unwrap_err().status(), 409);

    // Available throughout: reads and writes go on while the migration runs.
    all_read_back(&c, n);
    for i in n..n + 5 {
        c.create_item(
            format!("p{}", i % 3),
            &json!({"id": id(i), "pk": format!("p{}", i % 3), "n": i}),
        )
        .unwrap();
    }
    let n = n + 5;
    let m = wait_for_migration(&account);
    assert_eq!(m.segments_total, m.segments_double_sealed);
    assert_eq!(m.bytes_total, m.bytes_double_sealed);
    account.flush().unwrap();

    // Every header says two layers: segments, WAL, MANIFEST.
    let files = layers(&data);
    assert!(files
        .iter()
        .any(|(p, _)| p.extension().is_some_and(|e| e == "seg")));
    for (f, l) in &files {
        assert_eq!(*l, 2, "{} is not double-sealed", f.display());
    }
    let keyring = std::fs::read_to_string(data.join("KEYRING")).unwrap_or_default();
    assert!(
        !keyring.contains("cmkMigration"),
        "the migration mark stays after completion"
    );

    // Leak scan: no canary in the clear anywhere in the data directory.
    for f in common::files_under(&data) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "canary in the clear in {}",
            f.display()
        );
    }
    all_read_back(&c, n);

    // Reopened, it is a CMK account and the data is there.
    drop(c);
    drop(account);
    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(account.encryption(), Encryption::CustomerManaged { key_uri: uri });
    let c = account.database("db").container("c");
    all_read_back(&c, n);

    // The data now depends on the customer key: disabled, the account is inaccessible.
    vault.set_enabled("cmk", kid.version(), false).unwrap();
    let e = account.check_key().unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert!(!account.has_unwrapped_customer_key());
    let e = c.read_item::<Value>("p0", &id(0)).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    drop(c);
    drop(account);
    let e = Account::open(opts.clone()).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    vault.set_enabled("cmk", kid.version(), true).unwrap();
    let account = Account::open(opts).unwrap();
    all_read_back(&account.database("db").container("c"), n);
}

#[test]
fn enable_refuses_what_a_cmk_creation_refuses_and_changes_nothing() {
    let (_tmp, opts, account, c) = smk_fixture(12);
    let (vault, kid) = new_key(&opts);
    let before = common::snapshot(&opts.data_dir);
    // The default identity has no wrapKey: the vault's 403, and nothing changes.
    vault.remove_policy(&strata::Principal::FirstParty).unwrap();
    let e = account.enable_cmk(&kid.to_string()).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    // A key that does not exist.
    let e = account
        .enable_cmk("https://local.vault.local/keys/missing")
        .unwrap_err();
    assert_eq!(e.status(), 403, "{e}");
    assert_eq!(account.encryption(), Encryption::ServiceManaged);
    assert!(
        common::snapshot(&opts.data_dir) == before,
        "a refused enable changed the data directory"
    );
    all_read_back(&c, 12);
    // A malformed URI.
    assert_eq!(account.enable_cmk("not a uri").unwrap_err().status(), 400);
}

#[test]
fn a_crash_mid_migration_reopens_and_resumes() {
    let n = 40;
    let (tmp, opts, account, c) = smk_fixture(n);
    drop(c);
    drop(account);
    let data = opts.data_dir.clone();
    // The single-sealed store as it was, with data still in its WAL.
    let before_lsm = tmp.path().join("lsm-before");
    copy_dir(&data.join("lsm"), &before_lsm);
    let catalog_before = std::fs::read(data.join("CATALOG")).unwrap();

    let (_vault, kid) = new_key(&opts);
    let account = Account::open(opts.clone()).unwrap();
    account.enable_cmk(&kid.to_string()).unwrap();
    drop(account);
    // A crash right after KEYRING was written: the store and the catalog as before the enable.
    std::fs::remove_dir_all(data.join("lsm")).unwrap();
    copy_dir(&before_lsm, &data.join("lsm"));
    std::fs::write(data.join("CATALOG"), &catalog_before).unwrap();
    assert!(layers(&data).iter().all(|(_, l)| *l == 1));

    let account = Account::open(opts.clone()).unwrap();
    assert_eq!(
        account.encryption(),
        Encryption::CustomerManaged {
            key_uri: kid.to_string()
        },
        "the catalog follows KEYRING"
    );
    let c = account.database("db").container("c");
    all_read_back(&c, n);
    let m = wait_for_migration(&account);
    assert_eq!(m.segments_total, m.segments_double_sealed);
    for (f, l) in layers(&data) {
        assert_eq!(l, 2, "{}", f.display());
    }
    all_read_back(&c, n);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn reads_and_writes_go_on_while_the_migration_runs() {
    let n = 60;
    let (_tmp, opts, account, c) = smk_fixture(n);
    let (_vault, kid) = new_key(&opts);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let written = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || i < 20 {
                let r = c.read_item::<Value>(format!("p{}", i % 3), &id(i % n)).unwrap();
                assert_eq!(r.item.unwrap()["n"], json!(i % n));
                let extra = json!({"id": format!("during-{i}"), "pk": "x", "n": i});
                c.create_item("x", &extra).unwrap();
                i += 1;
            }
            i
        });
        account.enable_cmk(&kid.to_string()).unwrap();
        wait_for_migration(&account);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        worker.join().unwrap()
    });
    for i in 0..n {
        let r = c.read_item::<Value>(format!("p{}", i % 3), &id(i)).unwrap();
        assert_eq!(r.item.unwrap()["n"], json!(i), "item {i}");
    }
    for i in 0..written {
        c.read_item::<Value>("x", &format!("during-{i}")).unwrap();
    }
    account.flush().unwrap();
    wait_for_migration(&account);
    for (f, l) in layers(&opts.data_dir) {
        assert_eq!(l, 2, "{}", f.display());
    }
}
