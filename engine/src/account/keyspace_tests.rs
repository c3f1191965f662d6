//! The key-space registry against the store: every kind of write an account makes lands in a
//! space `KeySpace::ALL` lists (and each listed space is written by something), and deleting a
//! container leaves no key of it in any space, even after the account closes and reopens; every
//! key written routes to its container's store (`store_for_key`).
//! Tests only; reads the raw store, writes only through the public API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::handle::Account;
use super::{ChangeFeedMode, ChangeFeedOptions, Container, ContainerOptions, Encryption};
use crate::document::ConflictResolutionPolicy;
use crate::keyspace::KeySpace;
use crate::options::{AccountOptions, Durability};
use strata_base::wall_clock::ManualWallClock;

fn options(dir: &tempfile::TempDir, name: &str, clock: &ManualWallClock) -> AccountOptions {
    AccountOptions::new(dir.path().join(name), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()))
}

/// Every key of the store, whatever its space.
fn all_keys(account: &Account) -> Vec<Vec<u8>> {
    let db = &account.inner.db;
    db.scan_prefix(&[]).unwrap().into_iter().map(|(k, _)| k).collect()
}

fn container_id(account: &Account, db: &str, name: &str) -> u32 {
    account.inner.catalog().unwrap().container(db, name).unwrap().id
}

fn wait_index_ready(c: &Container) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !c.index_status().unwrap().ready {
        assert!(Instant::now() < deadline, "the index rebuild did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every kind of write into `d/c` of account "a": items created, replaced and deleted (feed
/// records, pointers, images, LSN mark, index entries), an item expiring by TTL (a recorded
/// delete), an indexing-policy change (rebuild state), sync both ways with account "b" under a
/// custom policy with conflicting edits (checkpoints, conflicts), and the session's metrics
/// stored (lifetime counts), a stored procedure. Also fills `d/kept`, which nothing deletes.
fn exercise(dir: &tempfile::TempDir, clock: &ManualWallClock) -> (Account, Account) {
    let a = Account::create(options(dir, "a", clock), "a", Encryption::ServiceManaged).unwrap();
    let b = Account::create(options(dir, "b", clock), "b", Encryption::ServiceManaged).unwrap();
    let d = a.create_database("d").unwrap();
    let c = d
        .create_container_with(
            "c",
            "/pk",
            ContainerOptions {
                default_ttl: Some(-1),
                conflict_resolution: Some(ConflictResolutionPolicy::Custom),
                ..Default::default()
            },
        )
        .unwrap();
    let kept = d.create_container("kept", "/pk").unwrap();
    kept.create_item("p", &json!({"id": "k", "pk": "p", "v": 1}))
        .unwrap();
    // A stored procedure's body (the Script space).
    c.create_stored_procedure("sp", "function sp() {}").unwrap();
    kept.create_stored_procedure("sp", "function sp() {}").unwrap();

    for id in ["x", "y", "z"] {
        c.create_item("p", &json!({"id": id, "pk": "p", "v": 0, "tags": ["t"]}))
            .unwrap();
    }
    c.replace_item("p", &json!({"id": "x", "pk": "p", "v": 1}))
        .unwrap();
    c.upsert_item("p", &json!({"id": "x", "pk": "p", "v": 2}))
        .unwrap();
    c.delete_item("p", "z").unwrap();
    c.create_item("p", &json!({"id": "brief", "pk": "p", "ttl": 5}))
        .unwrap();
    clock.advance(10);
    let feed = ChangeFeedOptions {
        mode: ChangeFeedMode::AllVersionsAndDeletes,
        ..Default::default()
    };
    c.read_change_feed(&feed).unwrap();
    c.query_items("SELECT * FROM c WHERE c.v = 2", &[], &Default::default())
        .unwrap();
    c.set_indexing_policy(
        crate::index::IndexingPolicy::from_json(
            r#"{"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/tags/*"}]}"#,
        )
        .unwrap(),
    )
    .unwrap();
    wait_index_ready(&c);

    // Sync: b gets d/c, then both edit x and y; b's and a's conflict feeds record them.
    Account::sync_both_ways(&a, &b).unwrap();
    clock.advance(5);
    c.upsert_item("p", &json!({"id": "x", "pk": "p", "v": "a"}))
        .unwrap();
    let cb = b.database("d").container("c");
    cb.upsert_item("p", &json!({"id": "x", "pk": "p", "v": "b"}))
        .unwrap();
    c.delete_item("p", "y").unwrap();
    cb.upsert_item("p", &json!({"id": "y", "pk": "p", "v": "b"}))
        .unwrap();
    let (ab, ba) = Account::sync_both_ways(&a, &b).unwrap();
    assert!(
        ab.conflicts_recorded > 0 && ba.conflicts_recorded > 0,
        "{ab:?} {ba:?}"
    );

    a.inner.persist_metrics().unwrap();
    a.flush().unwrap();
    (a, b)
}

#[test]
fn every_key_written_is_in_a_registered_space_and_every_space_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b) = exercise(&dir, &clock);
    let mut seen = std::collections::BTreeSet::new();
    for account in [&a, &b] {
        for key in all_keys(account) {
            let space = KeySpace::of(&key).unwrap_or_else(|| {
                panic!(
                    "a key starts with byte {:#04x}, which no KeySpace lists (keyspace.rs): {key:02x?}",
                    key[0]
                )
            });
            if space.per_container() {
                assert!(
                    space.container_of(&key).is_some(),
                    "{space:?} key without a container: {key:02x?}"
                );
            }
            seen.insert(space);
        }
    }
    let missing: Vec<&KeySpace> = KeySpace::ALL.iter().filter(|s| !seen.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "no write of this test reached {missing:?}: exercise it here"
    );
}

/// The account code reads and writes a container's keys through `store_for(container_id)`, and
/// code that holds only a key through `store_for_key`: every key an account writes must route
/// to the store of a container its catalog lists, and a key of no container must be refused
/// rather than sent to some store.
#[test]
fn every_key_written_routes_to_a_listed_container_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b) = exercise(&dir, &clock);
    for account in [&a, &b] {
        let listed: std::collections::BTreeSet<u32> = account
            .inner
            .catalog()
            .unwrap()
            .databases
            .iter()
            .flat_map(|d| d.containers.iter().map(|c| c.id))
            .collect();
        for key in all_keys(account) {
            let space = KeySpace::of(&key).unwrap();
            let id = space.container_of(&key).unwrap();
            assert!(
                listed.contains(&id),
                "{space:?} key of an unlisted container {id}: {key:02x?}"
            );
            let routed = account.inner.store_for_key(&key).unwrap();
            assert!(
                Arc::ptr_eq(&routed, &account.inner.store_for(id).unwrap()),
                "{space:?} key routed away from its container's store"
            );
        }
    }
    for bad in [
        &[][..],
        &[KeySpace::Item.tag(), 0, 0][..],
        &[0xFF, 0, 0, 0, 1][..],
    ] {
        let e = a.inner.store_for_key(bad).map(|_| ()).unwrap_err();
        assert_eq!(e.status(), 500, "{bad:02x?}: {e}");
    }
}

#[test]
fn a_deleted_container_leaves_no_key_in_any_space() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b) = exercise(&dir, &clock);
    drop(b);
    let (gone, kept) = (container_id(&a, "d", "c"), container_id(&a, "d", "kept"));
    let of = |account: &Account, id: u32| -> Vec<Vec<u8>> {
        all_keys(account)
            .into_iter()
            .filter(|k| KeySpace::of(k).is_some_and(|s| s.per_container() && s.container_of(k) == Some(id)))
            .collect()
    };
    let spaces = |keys: &[Vec<u8>]| -> std::collections::BTreeSet<KeySpace> {
        keys.iter().filter_map(|k| KeySpace::of(k)).collect()
    };
    assert_eq!(
        spaces(&of(&a, gone)).len(),
        KeySpace::ALL.len(),
        "the container has keys in every space"
    );
    let kept_before = of(&a, kept);

    a.database("d").delete_container("c").unwrap();
    assert_eq!(
        of(&a, gone),
        Vec::<Vec<u8>>::new(),
        "keys of the deleted container"
    );
    assert_eq!(
        of(&a, kept),
        kept_before,
        "the other container's keys are untouched"
    );

    // Closing stores the session's metrics: none for the deleted container.
    drop(a);
    let a = Account::open(options(&dir, "a", &clock)).unwrap();
    assert_eq!(
        of(&a, gone),
        Vec::<Vec<u8>>::new(),
        "keys of the deleted container after reopening"
    );
}

/// A purge that a crash cut short after its first catalog edit (the container out of the
/// catalog, its id on the `purging` list, its keys all there) is finished when the account next
/// opens; a purge deletes more keys than one batch holds.
#[test]
fn an_interrupted_purge_finishes_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b) = exercise(&dir, &clock);
    drop(b);
    let c = a.database("d").container("c");
    for i in 0..(super::purge::PURGE_BATCH + 100) {
        c.create_item("p", &json!({"id": format!("bulk{i}"), "pk": "p"}))
            .unwrap();
    }
    let (gone, kept) = (container_id(&a, "d", "c"), container_id(&a, "d", "kept"));
    let of = |account: &Account, id: u32| -> usize {
        all_keys(account)
            .into_iter()
            .filter(|k| KeySpace::of(k).is_some_and(|s| s.per_container() && s.container_of(k) == Some(id)))
            .count()
    };
    assert!(of(&a, gone) > super::purge::PURGE_BATCH);
    let kept_before = of(&a, kept);

    // The crash: the purge's first step only.
    a.inner
        .edit_catalog(|cat| {
            for d in &mut cat.databases {
                d.containers.retain(|k| k.id != gone);
            }
            cat.purging.push(gone);
            Ok(())
        })
        .unwrap();
    drop(c);
    drop(a);

    let a = Account::open(options(&dir, "a", &clock)).unwrap();
    assert_eq!(of(&a, gone), 0, "keys of the purged container after reopening");
    assert_eq!(
        of(&a, kept),
        kept_before,
        "the other container's keys are untouched"
    );
    assert!(a.inner.catalog().unwrap().purging.is_empty());
    assert!(a.inner.catalog().unwrap().container("d", "c").is_err());
}
