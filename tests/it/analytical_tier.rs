//! The analytical tier fed from the engine: enabling it (schema fixed, first-party identity
//! refused under a customer key), catching up from the change feed (creates, updates, deletes,
//! TTL deletes), aggregates equal to the transactional store's, the background replicator and
//! its measured lag, a leak scan over the analytical area and an export, and revocation.

use crate::common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata::analytical::{Replicator, Tier};
use strata::{
    substatus, Account, AccountOptions, AnalyticalSchema, Container, Durability, Encryption, Identities,
    KeyUri, LocalVault, Permission, Principal,
};

const CANARY: &str = "CANARY-7c1e-analytical";

fn options(dir: &tempfile::TempDir) -> AccountOptions {
    AccountOptions::new(dir.path().join("data"), dir.path().join("home")).durability(Durability::Buffered)
}

fn smk_container(dir: &tempfile::TempDir) -> (Account, Container) {
    let account = Account::create(options(dir), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("orders", "/region")
        .unwrap();
    (account, c)
}

/// A customer-managed account (first-party identity) with one container `db/orders`.
fn cmk_container(dir: &tempfile::TempDir) -> (AccountOptions, LocalVault, KeyUri, Account, Container) {
    let opts = options(dir);
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    let kid = vault.create_key("cmk", 2048).unwrap();
    let enc = Encryption::CustomerManaged {
        key_uri: kid.without_version().to_string(),
    };
    let account = Account::create(opts.clone(), "acct", enc).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("orders", "/region")
        .unwrap();
    (opts, vault, kid, account, c)
}

/// The user-assigned identity `ops`, allowed to use the vault's keys.
fn managed_identity(opts: &AccountOptions, vault: &LocalVault) -> Principal {
    let ops = Principal::User("ops".into());
    Identities::new(&opts.home).create("ops").unwrap();
    vault
        .set_policy(
            &ops,
            &[Permission::Get, Permission::WrapKey, Permission::UnwrapKey],
        )
        .unwrap();
    ops
}

fn load(c: &Container) {
    for i in 0..60 {
        let region = ["eu", "us", "ap"][i % 3];
        c.create_item(
            region,
            &json!({"id": format!("o{i}"), "region": region, "qty": i, "note": format!("{CANARY} {i}"),
                    "customer": {"name": format!("{CANARY}-name")}}),
        )
        .unwrap();
    }
    // Updates and deletes must be reflected.
    for i in 0..10 {
        let region = ["eu", "us", "ap"][i % 3];
        c.upsert_item(
            region,
            &json!({"id": format!("o{i}"), "region": region, "qty": 1000 + i}),
        )
        .unwrap();
    }
    for i in 50..60 {
        c.delete_item(["eu", "us", "ap"][i % 3], &format!("o{i}"))
            .unwrap();
    }
}

fn transactional(c: &Container, sql: &str) -> Vec<Value> {
    c.query_items(sql, &[], &Default::default()).unwrap().items
}

#[test]
fn a_hierarchical_key_identifies_rows_by_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let account = Account::create(options(&dir), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with_paths("sessions", &["/tenant", "/user"], Default::default())
        .unwrap();
    let key = |t: &str, u: &str| strata::PartitionKey::hierarchical([t, u]).unwrap();
    // The same id under two users of one tenant: two rows, and deleting one leaves the other.
    for user in ["u1", "u2"] {
        c.create_item(
            key("t1", user),
            &json!({"id": "s", "tenant": "t1", "user": user, "qty": 1}),
        )
        .unwrap();
    }
    c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
    let mut tier = Tier::open(&c).unwrap();
    tier.catch_up().unwrap();
    let now = 4_000_000_000;
    let count = |tier: &Tier| tier.query("SELECT COUNT(1) AS n FROM c", now).unwrap().rows[0]["n"].clone();
    assert_eq!(count(&tier), json!(2));
    c.delete_item(key("t1", "u1"), "s").unwrap();
    assert_eq!(tier.catch_up().unwrap().applied, 1);
    assert_eq!(count(&tier), json!(1));
    let left = tier.query("SELECT c.user FROM c", now).unwrap();
    assert_eq!(left.rows[0]["user"], "u2");
}

#[test]
fn catch_up_reflects_writes_and_aggregates_match_the_transactional_store() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = smk_container(&dir);
    load(&c);
    // Enabled after the data exists: the first catch-up copies it all.
    c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
    let mut tier = Tier::open(&c).unwrap();
    let first = tier.catch_up().unwrap();
    assert!(first.applied >= 50, "{first:?}");
    let again = tier.catch_up().unwrap();
    assert_eq!(again.applied, 0, "nothing new");

    let now = 4_000_000_000;
    let count = tier.query("SELECT COUNT(1) AS n FROM c", now).unwrap();
    let want = transactional(&c, "SELECT VALUE COUNT(1) FROM c");
    assert_eq!(count.rows[0]["n"], want[0]);
    let sum = tier
        .query("SELECT SUM(c.qty) AS s FROM c WHERE c.region = 'eu'", now)
        .unwrap();
    let want = transactional(&c, "SELECT VALUE SUM(c.qty) FROM c WHERE c.region = 'eu'");
    assert_eq!(sum.rows[0]["s"].as_f64(), want[0].as_f64());

    // More changes later, including a delete: the next catch-up applies only them.
    c.delete_item("eu", "o0").unwrap();
    c.upsert_item("us", &json!({"id": "new", "region": "us", "qty": 5}))
        .unwrap();
    let step = tier.catch_up().unwrap();
    assert_eq!(step.applied, 2, "{step:?}");
    let by_region = tier
        .query("SELECT c.region, COUNT(1) AS n FROM c GROUP BY c.region", now)
        .unwrap();
    let total: i64 = by_region.rows.iter().map(|r| r["n"].as_i64().unwrap()).sum();
    assert_eq!(
        Value::from(total),
        transactional(&c, "SELECT VALUE COUNT(1) FROM c")[0]
    );

    // The schema cannot change; the TTL can.
    assert_eq!(
        c.enable_analytical(-1, AnalyticalSchema::FullFidelity)
            .unwrap_err()
            .status(),
        400
    );
    c.enable_analytical(3600, AnalyticalSchema::WellDefined).unwrap();
    assert_eq!(
        c.enable_analytical(0, AnalyticalSchema::WellDefined)
            .unwrap_err()
            .status(),
        400
    );

    // No canary (values or property names) anywhere in the analytical area or an export.
    let export = dir.path().join("export");
    tier.export(&export, now).unwrap();
    for root in [c.analytical_dir().unwrap(), export] {
        for f in common::files_under(&root) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
                "{} holds a canary",
                f.display()
            );
        }
    }
}

#[test]
fn the_replicator_thread_keeps_up_and_reports_its_lag() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = smk_container(&dir);
    c.enable_analytical(-1, AnalyticalSchema::FullFidelity).unwrap();
    let replicator = Replicator::start(&c, Duration::from_millis(20)).unwrap();
    let mut lags = Vec::new();
    for i in 0..5 {
        c.create_item("eu", &json!({"id": format!("r{i}"), "region": "eu", "qty": i}))
            .unwrap();
        let written = Instant::now();
        // Eventually visible; the deadline only keeps a broken replicator from hanging the test.
        loop {
            let s = replicator.status();
            assert!(s.last_error.is_none(), "{s:?}");
            if s.applied as usize > i {
                lags.push(written.elapsed());
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(60),
                "replicator stalled: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let status = replicator.status();
    replicator.stop();
    eprintln!("analytical lag per write: {lags:?}; replicator status {status:?}");
    let tier = Tier::open(&c).unwrap();
    let rows = tier.query("SELECT COUNT(1) AS n FROM c", 4_000_000_000).unwrap();
    assert_eq!(rows.rows[0]["n"], 5);
}

#[test]
fn customer_key_tier_needs_a_managed_identity_and_stops_when_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let (opts, vault, kid, account, c) = cmk_container(&dir);
    c.create_item("eu", &json!({"id": "1", "region": "eu", "qty": 1}))
        .unwrap();
    let e = c
        .enable_analytical(-1, AnalyticalSchema::WellDefined)
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("managed identity"), "{e}");
    assert!(c.analytical_settings().unwrap().is_none(), "nothing half-enabled");

    let ops = managed_identity(&opts, &vault);
    account.set_default_identity(ops).unwrap();
    c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
    let key = c.analytical_key().unwrap();
    let mut tier = Tier::open(&c).unwrap();
    assert_eq!(tier.catch_up().unwrap().applied, 1);
    // The wrapped key in the data directory is not the key.
    let stored = std::fs::read(c.analytical_dir().unwrap().join("KEY")).unwrap();
    assert!(!stored.windows(32).any(|w| w == key.as_slice()));

    // Rotation re-wraps the tier's key too: with the first version disabled afterwards, the
    // tier still opens with the same key.
    let v2 = vault.rotate_key("cmk").unwrap();
    let rotated = account.rotate_customer_key(None).unwrap();
    assert_eq!(rotated.kid, v2.to_string());
    let file: Value =
        serde_json::from_slice(&std::fs::read(c.analytical_dir().unwrap().join("KEY")).unwrap()).unwrap();
    assert_eq!(file["kid"], v2.to_string());
    vault.set_enabled("cmk", kid.version(), false).unwrap();
    assert_eq!(*c.analytical_key().unwrap(), *key);
    Tier::open(&c).unwrap();

    vault.set_enabled("cmk", v2.version(), false).unwrap();
    account.check_key().unwrap_err();
    assert_eq!(c.analytical_key().unwrap_err().status(), 403);
    assert_eq!(Tier::open(&c).unwrap_err().status(), 403);
    // A tier opened before the revocation answers no read either.
    let e = tier
        .query("SELECT COUNT(1) AS n FROM c", 4_000_000_000)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
}

/// The tier works only through the account's managed identity, checked at every use and not
/// only when the tier's key was made: switching the account back to the first-party identity
/// after enabling the tier makes the key's unwrap, opening the tier, and an already open tier's
/// catch-up, scan, query and export refuse with 403.4002; switching to the managed identity
/// again restores them.
#[test]
fn switching_back_to_the_first_party_identity_makes_the_tier_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let (opts, vault, _kid, account, c) = cmk_container(&dir);
    let ops = managed_identity(&opts, &vault);
    account.set_default_identity(ops.clone()).unwrap();
    c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
    let mut tier = Tier::open(&c).unwrap();
    c.create_item("eu", &json!({"id": "1", "region": "eu", "qty": 1}))
        .unwrap();
    assert_eq!(tier.catch_up().unwrap().applied, 1);

    // The first-party identity still has its access policy: the vault would unwrap for it.
    account.set_default_identity(Principal::FirstParty).unwrap();
    c.create_item("eu", &json!({"id": "2", "region": "eu", "qty": 2}))
        .unwrap();
    let key = c.analytical_key().unwrap_err();
    let now = 4_000_000_000;
    let export = dir.path().join("export");
    let mut refusals = vec![(key.status(), key.substatus(), key.to_string())];
    for e in [
        Tier::open(&c).map(|_| ()).unwrap_err(),
        tier.catch_up().map(|_| ()).unwrap_err(),
        tier.scan(now).map(|_| ()).unwrap_err(),
        tier.query("SELECT COUNT(1) AS n FROM c", now)
            .map(|_| ())
            .unwrap_err(),
        tier.export(&export, now).map(|_| ()).unwrap_err(),
    ] {
        refusals.push((e.status(), e.substatus(), e.to_string()));
    }
    assert!(!export.exists(), "a refused export writes nothing");
    for (status, sub, message) in refusals {
        assert_eq!((status, sub), (403, substatus::KEY_VAULT_ACCESS), "{message}");
        assert!(message.contains("managed identity"), "{message}");
    }

    account.set_default_identity(ops).unwrap();
    assert_eq!(tier.catch_up().unwrap().applied, 1);
    assert_eq!(tier.scan(now).unwrap().num_rows(), 2);
    Tier::open(&c).unwrap();
}

#[test]
fn a_restored_account_rebuilds_its_tier_from_the_change_feed_under_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let (account, c) = smk_container(&dir);
    load(&c);
    c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
    let old_key = c.analytical_key().unwrap();
    Tier::open(&c).unwrap().catch_up().unwrap();
    let info = account.backup_now(&dir.path().join("backups")).unwrap();

    let target = AccountOptions::new(dir.path().join("restored"), dir.path().join("home"));
    let restored = Account::restore(&info.path, target).unwrap();
    let rc = restored.database("db").container("orders");
    assert!(
        rc.analytical_settings().unwrap().is_some(),
        "the setting travels in the catalog"
    );
    assert!(
        !rc.analytical_dir().unwrap().exists(),
        "backups do not carry the analytical area"
    );
    let mut tier = Tier::open(&rc).unwrap();
    assert_ne!(*rc.analytical_key().unwrap(), *old_key);
    tier.catch_up().unwrap();
    let n = tier.query("SELECT COUNT(1) AS n FROM c", 4_000_000_000).unwrap();
    assert_eq!(
        n.rows[0]["n"],
        transactional(&rc, "SELECT VALUE COUNT(1) FROM c")[0]
    );
}
