//! Containers with their own customer key (docs/keys.md#per-container-customer-keys): a
//! container created with `ContainerOptions::customer_key` keeps its data in its own store
//! (`DATA/containers/<id>/`) under a data key its own vault key wraps; every path works on it,
//! it bears the CMK surcharge, revoking its key makes it (and only it) answer 403.4002 even
//! for writes still in its memtable, re-enabling restores it, rotation re-wraps its key without
//! touching the data, a crash image recovers, and deleting it removes its store.

use crate::common::{self, Backend};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata::{
    substatus, Account, AccountOptions, AnalyticalSchema, BatchOperation, ChangeFeedOptions, Container,
    ContainerOptions, ContinuousPolicy, Encryption, Identities, KeyUri, LocalVault, PatchOperation,
    PatchOptions, Principal, QueryOptions,
};

const CANARY: &str = "own-key-canary-7f3a";

struct Fixture {
    tmp: tempfile::TempDir,
    opts: AccountOptions,
    vault: LocalVault,
    kid: KeyUri,
    account: Account,
    own: Container,
    plain: Container,
}

/// A service-managed account "acct" with db/own (its own key "ck", version-less URI) and
/// db/plain (the account's keys).
fn fixture(interval: Duration) -> Fixture {
    fixture_on(interval, Backend::Files)
}

/// [`fixture`] with the container's key in `backend`'s vault.
fn fixture_on(interval: Duration, backend: Backend) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let opts =
        AccountOptions::new(tmp.path().join("data"), tmp.path().join("home")).key_check_interval(interval);
    let vault = common::backend_vault(&opts, backend);
    let kid = vault.create_key("ck", 2048).unwrap();
    let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let db = account.create_database("db").unwrap();
    let opts_own = ContainerOptions {
        customer_key: Some(kid.without_version().to_string()),
        ..ContainerOptions::default()
    };
    db.create_container_with("own", "/pk", opts_own).unwrap();
    db.create_container("plain", "/pk").unwrap();
    with_handles(tmp, opts, vault, kid, account)
}

fn with_handles(
    tmp: tempfile::TempDir,
    opts: AccountOptions,
    vault: LocalVault,
    kid: KeyUri,
    account: Account,
) -> Fixture {
    let db = account.database("db");
    let (own, plain) = (db.container("own"), db.container("plain"));
    Fixture {
        tmp,
        opts,
        vault,
        kid,
        account,
        own,
        plain,
    }
}

fn reopen(f: Fixture) -> Fixture {
    let Fixture {
        tmp,
        opts,
        vault,
        kid,
        account,
        own,
        plain,
    } = f;
    drop((own, plain));
    account.close().unwrap();
    let account = Account::open(opts.clone()).unwrap();
    with_handles(tmp, opts, vault, kid, account)
}

fn own_dir(f: &Fixture) -> PathBuf {
    let dir = f.opts.data_dir.join("containers");
    let mut ids: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.remove(0)
}

fn write_items(c: &Container, n: usize, tag: &str) {
    for i in 0..n {
        c.create_item(
            "p",
            &json!({"id": format!("{tag}-{i}"), "pk": "p", "n": i, "secret": format!("{CANARY}-{tag}-{i}")}),
        )
        .unwrap();
    }
}

fn count(c: &Container) -> usize {
    c.query_items("SELECT * FROM c", &[], &QueryOptions::default())
        .unwrap()
        .items
        .len()
}

#[test]
fn a_container_with_its_own_key_works_on_every_path_and_reopens() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 5, "a");
    write_items(&f.plain, 5, "a");
    // Its own store holds its data: the account's store does not.
    let dir = own_dir(&f);
    assert!(dir.join("MANIFEST").exists() || std::fs::read_dir(&dir).unwrap().count() > 0);

    // The CMK surcharge applies to it, not to the container on the account's keys.
    let own_charge = f
        .own
        .create_item("p", &json!({"id": "x", "pk": "p", "v": "same"}))
        .unwrap()
        .request_charge;
    let plain_charge = f
        .plain
        .create_item("p", &json!({"id": "x", "pk": "p", "v": "same"}))
        .unwrap()
        .request_charge;
    assert!(own_charge > plain_charge, "{own_charge} vs {plain_charge}");

    // Reads, queries (indexed), patch, batch, the change feed, delete.
    assert_eq!(
        f.own.read_item::<Value>("p", "a-3").unwrap().item.unwrap()["n"],
        json!(3)
    );
    let q = f
        .own
        .query_items("SELECT * FROM c WHERE c.n = 2", &[], &QueryOptions::default())
        .unwrap();
    assert_eq!(q.items.len(), 1);
    f.own
        .patch_item(
            "p",
            "a-1",
            &[PatchOperation::incr("/n", 10)],
            &PatchOptions::default(),
        )
        .unwrap();
    f.own
        .execute_batch("p", &[BatchOperation::read("a-1"), BatchOperation::delete("a-4")])
        .unwrap();
    let feed = f.own.read_change_feed(&ChangeFeedOptions::default()).unwrap();
    assert!(!feed.items.is_empty());
    assert_eq!(count(&f.own), 5);

    let key = f.own.customer_key().unwrap().expect("its own key");
    assert_eq!(
        (key.state.as_str(), key.kid.as_str()),
        ("active", &*f.kid.to_string())
    );
    assert!(key.key_in_memory);
    assert!(f.plain.customer_key().unwrap().is_none());

    f.account.flush().unwrap();
    write_items(&f.own, 2, "b"); // in the WAL only, replayed at the reopen
    let f = reopen(f);
    assert_eq!(count(&f.own), 7);
    assert_eq!(count(&f.plain), 6);
    assert_eq!(
        f.own.read_item::<Value>("p", "a-1").unwrap().item.unwrap()["n"],
        json!(11)
    );
}

#[test]
fn nothing_of_it_is_in_the_clear_and_no_key_is_in_the_data_dir() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 20, "leak");
    f.account.flush().unwrap();
    write_items(&f.own, 3, "wal");
    f.account
        .database("db")
        .container("own")
        .read_item::<Value>("p", "leak-0")
        .unwrap();
    f.account.sync().unwrap();
    let files = common::files_under(&f.opts.data_dir);
    assert!(files
        .iter()
        .any(|p| p.starts_with(f.opts.data_dir.join("containers"))));
    // Every WAL, segment and MANIFEST of its store says two seal layers in its header (offset
    // 20, docs/format.md), in a service-managed account.
    let sealed: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.starts_with(own_dir(&f)))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".seg") || name.ends_with(".wal") || name == "MANIFEST"
        })
        .collect();
    assert!(sealed.len() >= 3, "{sealed:?}");
    for p in sealed {
        assert_eq!(std::fs::read(p).unwrap()[20], 2, "{}", p.display());
    }
    let needles = common::text_needles(&[CANARY.to_string()]);
    // The KEYRING's container entry names the key; it is plaintext by contract.
    assert!(common::assert_no_needle(&files, &needles, b"keys/ck"));
    // Neither the vault's private key nor PEM text.
    let der = crate::leak_scan::vault_private_der(&f.opts.vault_dir());
    let window = der[der.len() / 2..der.len() / 2 + 48].to_vec();
    assert!(!common::assert_no_needle(
        &files,
        &[window, b"PRIVATE KEY".to_vec()],
        b"\0never\0"
    ));
}

/// Every call on the container fails with 403.`sub`.
fn own_refused(c: &Container, sub: u32) {
    let errors = [
        c.read_item::<Value>("p", "m-0").map(|_| ()).unwrap_err(),
        c.create_item("p", &json!({"id": "new", "pk": "p"}))
            .map(|_| ())
            .unwrap_err(),
        c.upsert_item("p", &json!({"id": "m-1", "pk": "p"}))
            .map(|_| ())
            .unwrap_err(),
        c.delete_item("p", "m-2").unwrap_err(),
        c.query_items("SELECT * FROM c", &[], &QueryOptions::default())
            .map(|_| ())
            .unwrap_err(),
        c.patch_item(
            "p",
            "m-3",
            &[PatchOperation::incr("/n", 1)],
            &PatchOptions::default(),
        )
        .map(|_| ())
        .unwrap_err(),
        c.execute_batch("p", &[BatchOperation::read("m-0")])
            .map(|_| ())
            .unwrap_err(),
        c.read_change_feed(&ChangeFeedOptions::default())
            .map(|_| ())
            .unwrap_err(),
    ];
    for e in errors {
        assert_eq!((e.status(), e.substatus()), (403, sub), "{e}");
    }
}

#[test]
fn revoking_its_key_refuses_it_alone_memtable_included_until_re_enabled() {
    revoking_its_key_refuses_it_alone_on(Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn revoking_its_key_refuses_it_alone_memtable_included_until_re_enabled_pkcs11() {
    revoking_its_key_refuses_it_alone_on(Backend::Token);
}

fn revoking_its_key_refuses_it_alone_on(backend: Backend) {
    let f = fixture_on(Duration::from_secs(3600), backend);
    write_items(&f.own, 4, "m"); // in the memtable only
    write_items(&f.plain, 4, "m");
    let before = common::snapshot(&f.opts.data_dir);

    f.vault.set_enabled("ck", f.kid.version(), false).unwrap();
    // The account itself is fine; the check revokes the container.
    assert_eq!(f.account.check_key().unwrap().state, "active");
    own_refused(&f.own, substatus::KEY_VAULT_ACCESS);
    let key = f.own.customer_key().unwrap().unwrap();
    assert_eq!(
        (key.state.as_str(), key.sub_status),
        ("revoked", substatus::KEY_VAULT_ACCESS)
    );
    assert!(!key.key_in_memory, "the container's key stayed in memory");
    // The other container goes on.
    assert_eq!(count(&f.plain), 4);
    f.plain
        .upsert_item("p", &json!({"id": "more", "pk": "p"}))
        .unwrap();
    // A flush of the revoked store is refused by its customer layer, and writes nothing of it.
    let e = f.account.flush().unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    let after = common::snapshot(&f.opts.data_dir);
    let own_files = |s: &std::collections::BTreeMap<PathBuf, Vec<u8>>| {
        s.iter()
            .filter(|(p, _)| p.starts_with(f.opts.data_dir.join("containers")))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    let (b, a) = (own_files(&before), own_files(&after));
    assert!(
        b == a,
        "the revoked store changed on disk: {:?} vs {:?}",
        b.iter().map(|(p, x)| (p, x.len())).collect::<Vec<_>>(),
        a.iter().map(|(p, x)| (p, x.len())).collect::<Vec<_>>()
    );

    f.vault.set_enabled("ck", None, true).unwrap();
    own_refused(&f.own, substatus::KEY_VAULT_ACCESS); // until a check
    f.account.check_key().unwrap();
    assert_eq!(count(&f.own), 4);
    f.own
        .create_item("p", &json!({"id": "after", "pk": "p"}))
        .unwrap();
    assert_eq!(f.own.customer_key().unwrap().unwrap().state, "active");
}

#[test]
fn the_background_check_revokes_an_idle_container() {
    let f = fixture(Duration::from_millis(200));
    write_items(&f.own, 2, "m");
    f.vault.delete_key("ck").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // No data-plane call: the key-check thread alone must notice.
    while f.own.customer_key().unwrap().unwrap().state != "revoked" {
        assert!(
            Instant::now() < deadline,
            "the background check did not revoke the container"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    own_refused(&f.own, substatus::KEY_NOT_FOUND);
    assert_eq!(count(&f.plain), 0);
    f.vault.recover_key("ck").unwrap();
    f.account.check_key().unwrap();
    assert_eq!(count(&f.own), 2);
}

#[test]
fn a_key_refused_at_open_leaves_the_other_containers_open() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 3, "m");
    write_items(&f.plain, 1, "m");
    f.vault.set_enabled("ck", f.kid.version(), false).unwrap();
    let f = reopen(f);
    own_refused(&f.own, substatus::KEY_VAULT_ACCESS);
    assert_eq!(count(&f.plain), 1);
    f.vault.set_enabled("ck", None, true).unwrap();
    f.account.check_key().unwrap();
    assert_eq!(count(&f.own), 3);
}

#[test]
fn rotation_re_wraps_its_key_and_leaves_the_data() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 3, "r");
    f.account.flush().unwrap();
    let segments = |f: &Fixture| common::snapshot(&own_dir(f).join("seg"));
    let before = segments(&f);

    // Explicitly, to a new version.
    let v2 = f.vault.rotate_key("ck").unwrap();
    let r = f.own.rotate_customer_key(None).unwrap();
    assert_eq!(
        (r.previous_kid.as_str(), r.kid.as_str()),
        (&*f.kid.to_string(), &*v2.to_string())
    );
    assert!(segments(&f) == before, "a rotation rewrote data");
    // The old version is no longer needed, across a reopen too.
    f.vault.set_enabled("ck", f.kid.version(), false).unwrap();
    f.account.check_key().unwrap();
    assert_eq!(count(&f.own), 3);
    let f = reopen(f);
    assert_eq!(count(&f.own), 3);

    // A version-less URI follows a new version at the next check.
    let v3 = f.vault.rotate_key("ck").unwrap();
    f.account.check_key().unwrap();
    assert_eq!(f.own.customer_key().unwrap().unwrap().kid, v3.to_string());
    // A container on the account's keys has nothing to rotate.
    assert_eq!(f.plain.rotate_customer_key(None).unwrap_err().status(), 400);
}

/// Copies every file but LOCK: what a crash would leave of an open account (its writes were
/// acknowledged durably).
fn crash_image(from: &Path, to: &Path) {
    for file in common::files_under(from) {
        if file.file_name().is_some_and(|n| n == "LOCK") {
            continue;
        }
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

#[test]
fn a_crash_image_recovers_its_acknowledged_writes() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 6, "c");
    f.account.flush().unwrap();
    write_items(&f.own, 4, "d"); // durable in its WAL
    let copy = f.tmp.path().join("crashed");
    crash_image(&f.opts.data_dir, &copy);
    let opts = AccountOptions {
        data_dir: copy,
        ..f.opts.clone()
    };
    let account = Account::open(opts).unwrap();
    let own = account.database("db").container("own");
    assert_eq!(count(&own), 10);
    assert_eq!(
        own.read_item::<Value>("p", "d-3").unwrap().item.unwrap()["n"],
        json!(3)
    );
}

#[test]
fn deleting_it_removes_its_store_and_an_interrupted_create_is_cleaned_at_open() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 3, "x");
    let dir = own_dir(&f);
    f.account.database("db").delete_container("own").unwrap();
    assert!(!dir.exists(), "the deleted container's store is still there");
    let keyring = std::fs::read(f.opts.data_dir.join("KEYRING")).unwrap();
    assert!(
        !keyring.windows(6).any(|w| w == b"keys/c"),
        "its KEYRING entry stayed"
    );
    assert_eq!(count(&f.plain), 0);

    // A store directory the catalog does not list (a create interrupted before its catalog
    // entry) is removed when the account opens.
    let orphan = f.opts.data_dir.join("containers").join("4242");
    std::fs::create_dir_all(orphan.join("wal")).unwrap();
    let f = reopen(f);
    assert!(!orphan.exists());
    assert_eq!(count(&f.plain), 0);
}

#[test]
fn a_bad_key_uri_creates_nothing() {
    let f = fixture(Duration::from_secs(3600));
    let db = f.account.database("db");
    let bad = |uri: &str| {
        db.create_container_with(
            "bad",
            "/pk",
            ContainerOptions {
                customer_key: Some(uri.to_string()),
                ..ContainerOptions::default()
            },
        )
        .unwrap_err()
    };
    assert_eq!(bad("not a uri").status(), 400);
    let e = bad(&format!("https://{}.vault.local/keys/missing", f.kid.vault()));
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_NOT_FOUND),
        "{e}"
    );
    assert_eq!(db.list_containers().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_dir(f.opts.data_dir.join("containers"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn account_wide_operations_that_would_leave_it_out_refuse_by_name() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 1, "w");
    let backups = f.tmp.path().join("backups");
    let refusals = [
        f.account.backup_now(&backups).map(|_| ()).unwrap_err(),
        f.account
            .set_continuous_backup(ContinuousPolicy::new(7, Some(backups.clone())).unwrap())
            .map(|_| ())
            .unwrap_err(),
        f.own
            .enable_analytical(-1, AnalyticalSchema::WellDefined)
            .map(|_| ())
            .unwrap_err(),
    ];
    for e in refusals {
        assert_eq!(e.status(), 400, "{e}");
        assert!(e.to_string().contains("not built yet"), "{e}");
    }
    assert!(!backups.exists() || common::files_under(&backups).is_empty());
    // Account-wide maintenance covers its store.
    f.account.flush().unwrap();
    f.account.compact().unwrap();
    assert!(std::fs::read_dir(own_dir(&f).join("seg")).unwrap().count() > 0);
}

#[test]
fn sync_reads_and_writes_containers_with_their_own_key() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 4, "s");
    // A second account in the same home, whose db/own has its own key too.
    let opts = AccountOptions {
        data_dir: f.tmp.path().join("data2"),
        ..f.opts.clone()
    };
    let b = Account::create(opts, "acct2", Encryption::ServiceManaged).unwrap();
    let own_opts = ContainerOptions {
        customer_key: Some(f.kid.to_string()),
        ..ContainerOptions::default()
    };
    let target = b
        .create_database("db")
        .and_then(|d| d.create_container_with("own", "/pk", own_opts))
        .unwrap();
    b.sync_from(&f.account).unwrap();
    assert_eq!(count(&target), 4);
    assert!(target.customer_key().unwrap().is_some());
}

#[test]
fn a_lost_catalog_never_leads_to_wiping_a_containers_own_store() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let kid = LocalVault::open(&opts.vault_dir())
        .unwrap()
        .create_key("ck", 2048)
        .unwrap();
    let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    let own_opts = ContainerOptions {
        customer_key: Some(kid.to_string()),
        ..ContainerOptions::default()
    };
    let own = account
        .create_database("db")
        .and_then(|d| d.create_container_with("own", "/pk", own_opts))
        .unwrap();
    write_items(&own, 2, "kept");
    drop(own);
    account.close().unwrap();
    std::fs::remove_file(opts.data_dir.join("CATALOG")).unwrap();
    // Its data is only in its own store: that alone must stop a create from clearing it.
    let create = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap_err();
    assert!(create.is_corruption(), "{create}");
    assert!(Account::open(opts).unwrap_err().is_corruption());
    assert!(common::files_under(&tmp.path().join("data").join("containers"))
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "wal" || e == "seg")));
}

#[test]
fn its_query_spills_are_sealed_under_its_own_key() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 40, "q");
    let opts = QueryOptions {
        max_item_count: Some(5),
        ..QueryOptions::default()
    };
    // Computed whole, paged from a spill (docs/format.md, "Query spill").
    let first = f
        .own
        .query_items("SELECT DISTINCT VALUE c.secret FROM c", &[], &opts)
        .unwrap();
    assert_eq!(first.items.len(), 5);
    let spills: Vec<PathBuf> = common::files_under(&f.opts.data_dir.join("tmp"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "spill"))
        .collect();
    assert!(!spills.is_empty(), "the rest went to a spill");
    // Header: "STRSPIL1" | version | layers (offset 9) | … (docs/format.md, "Query spill").
    for p in &spills {
        assert_eq!(std::fs::read(p).unwrap()[9], 2, "{}", p.display());
    }
    assert!(!common::assert_no_needle(
        &spills,
        &common::text_needles(&[CANARY.to_string()]),
        b"\0never\0"
    ));
    // Its key revoked: the next page is refused like the store.
    f.vault.set_enabled("ck", f.kid.version(), false).unwrap();
    f.account.check_key().unwrap();
    let next = QueryOptions {
        continuation: first.continuation.clone(),
        ..opts
    };
    let e = f
        .own
        .query_items("SELECT DISTINCT VALUE c.secret FROM c", &[], &next)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
}

#[test]
fn a_new_default_identity_must_reach_its_key_too() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 2, "i");
    // An identity without access to the container's key is refused; nothing changes.
    Identities::new(&f.opts.home).create("blind").unwrap();
    let e = f
        .account
        .set_default_identity(Principal::User("blind".into()))
        .unwrap_err();
    assert_eq!(e.status(), 403, "{e}");
    assert_eq!(f.account.default_identity().unwrap(), Principal::FirstParty);
    assert_eq!(count(&f.own), 2);
    // One with access is taken, and the container stays readable through it.
    let p = common::use_user_identity(&f.opts, &f.vault, &f.account, "seer");
    assert_eq!(f.account.default_identity().unwrap(), p);
    f.account.check_key().unwrap();
    assert_eq!(f.own.customer_key().unwrap().unwrap().state, "active");
    assert_eq!(count(&f.own), 2);
}

#[test]
fn enabling_cmk_on_the_account_leaves_its_own_key_in_place() {
    let f = fixture(Duration::from_secs(3600));
    write_items(&f.own, 3, "e");
    write_items(&f.plain, 3, "e");
    let account_key = f.vault.create_key("acct-key", 2048).unwrap();
    f.account.enable_cmk(&account_key.to_string()).unwrap();
    f.account.finish_cmk_migration().unwrap();
    assert_eq!(
        f.account.key_status().unwrap().migration.unwrap().state,
        "complete"
    );
    let key = f.own.customer_key().unwrap().unwrap();
    assert_eq!(key.kid, f.kid.to_string());
    let f = reopen(f);
    assert_eq!((count(&f.own), count(&f.plain)), (3, 3));
    // The account's key revoked: the whole account is, the container with its own key too
    // (the account's gate comes first, as in the managed service).
    f.vault
        .set_enabled("acct-key", account_key.version(), false)
        .unwrap();
    f.account.check_key().unwrap_err();
    for c in [&f.plain, &f.own] {
        let e = c.read_item::<Value>("p", "e-0").unwrap_err();
        assert_eq!(
            (e.status(), e.substatus()),
            (403, substatus::KEY_VAULT_ACCESS),
            "{e}"
        );
    }
}
