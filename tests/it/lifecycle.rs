//! The account's lifecycle (docs/lifecycle.md): an account with an index rebuild running and the
//! continuous-backup shipper active closes promptly — by dropping its last handle or by
//! `Account::close` — and can be reopened at once; `close` with other handles still alive only
//! lets its own go; a clone held by another thread keeps the account open until that clone
//! drops, and that drop closes it.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, Container, ContainerOptions, ContinuousPolicy, Durability, Encryption,
    IndexingPolicy, QueryOptions,
};

/// Generous on a loaded two-core machine; a close that waited for a whole rebuild, or for a
/// shipper tick (10 s), or hung, would show.
const PROMPT: Duration = Duration::from_secs(8);

const ITEMS: usize = 4000;

fn options(root: &Path) -> AccountOptions {
    AccountOptions::new(root.join("data"), root.join("home")).durability(Durability::Buffered)
}

fn policy(json: &str) -> IndexingPolicy {
    IndexingPolicy::from_json(json).unwrap()
}

fn only_id() -> IndexingPolicy {
    policy(r#"{"includedPaths":[{"path":"/id/?"}],"excludedPaths":[{"path":"/*"}]}"#)
}

fn everything() -> IndexingPolicy {
    policy(r#"{"includedPaths":[{"path":"/*"}]}"#)
}

/// An account under continuous backup (so its shipper runs) with `db/c` holding `ITEMS` items
/// indexed on `/id` only.
fn fixture(root: &Path) -> (Account, Container) {
    let account = Account::create(options(root), "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with(
            "c",
            "/pk",
            ContainerOptions {
                indexing_policy: Some(only_id()),
                ..ContainerOptions::default()
            },
        )
        .unwrap();
    for i in 0..ITEMS {
        c.create_item(
            format!("p{}", i % 16),
            &json!({"id": format!("i{i:05}"), "pk": format!("p{}", i % 16), "n": i % 50, "s": "x".repeat(64)}),
        )
        .unwrap();
    }
    account
        .set_continuous_backup(ContinuousPolicy::new(7, Some(root.join("backups"))).unwrap())
        .unwrap();
    (account, c)
}

fn wait_ready(c: &Container) {
    let start = Instant::now();
    while !c.index_status().unwrap().ready {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the index rebuild never finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn reopen(root: &Path) -> (Account, Container) {
    let account = Account::open(options(root)).expect("the account reopens at once");
    let c = account.database("db").container("c");
    (account, c)
}

fn count(c: &Container, sql: &str) -> usize {
    let opts = QueryOptions {
        max_item_count: Some(100_000),
        ..QueryOptions::default()
    };
    let r = c.query_items(sql, &[], &opts).unwrap();
    assert!(r.continuation.is_none());
    r.items.len()
}

#[test]
fn a_busy_account_closes_promptly_on_drop_and_on_close_and_reopens_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (account, c) = fixture(root);
    assert!(account.continuous_status().unwrap().is_some());

    // 1. A rebuild starts; the last handle (the container) drops mid-rebuild.
    assert_eq!(c.set_indexing_policy(everything()).unwrap().generation, 1);
    drop(account);
    let start = Instant::now();
    drop(c);
    assert!(start.elapsed() < PROMPT, "the drop took {:?}", start.elapsed());
    let (account, c) = reopen(root);
    assert!(account.continuous_status().unwrap().is_some());

    // 2. The same through `close`, which reports errors.
    assert_eq!(c.set_indexing_policy(only_id()).unwrap().generation, 2);
    drop(c);
    let start = Instant::now();
    account.close().unwrap();
    assert!(start.elapsed() < PROMPT, "close took {:?}", start.elapsed());

    // The rebuild carries on from where it stopped, and answers are whole.
    let (account, c) = reopen(root);
    wait_ready(&c);
    assert_eq!(c.index_status().unwrap().generation, 2);
    assert_eq!(count(&c, "SELECT VALUE c.id FROM c WHERE c.n = 7"), ITEMS / 50);
    assert_eq!(count(&c, "SELECT VALUE c.id FROM c WHERE c.id = 'i00042'"), 1);
    drop(c);
    account.close().unwrap();
    Account::open(options(root)).unwrap().close().unwrap();
}

#[test]
fn close_with_other_handles_alive_lets_only_its_own_go() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (account, c) = fixture(root);
    let other = account.clone();
    account.close().unwrap();
    let db = other.database("db");
    other.close().unwrap();
    // `c` and `db` still hold it open.
    let e = Account::open(options(root)).unwrap_err();
    assert_eq!(e.status(), 423, "{e}");
    assert_eq!(count(&c, "SELECT VALUE c.id FROM c WHERE c.id = 'i00001'"), 1);
    drop(db);
    assert_eq!(Account::open(options(root)).unwrap_err().status(), 423);
    drop(c);
    reopen(root).0.close().unwrap();
}

#[test]
fn a_clone_held_by_another_thread_keeps_the_account_open_until_it_drops() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let (account, c) = fixture(&root);
    // A rebuild is running too: the user's thread, not the rebuild thread, closes the account.
    c.set_indexing_policy(everything()).unwrap();
    let (go, wait) = mpsc::channel::<()>();
    let theirs = c.clone();
    let user = std::thread::spawn(move || {
        wait.recv().unwrap();
        theirs
            .create_item("late", &json!({"id": "late", "pk": "late"}))
            .unwrap();
        drop(theirs); // the last handle: the account closes here, on this thread
    });
    drop(account);
    drop(c);
    let e = Account::open(options(&root)).unwrap_err();
    assert_eq!(e.status(), 423, "{e}");
    go.send(()).unwrap();
    user.join().unwrap();
    let (account, c) = reopen(&root);
    let item: Value = c.read_item("late", "late").unwrap().item.unwrap();
    assert_eq!(item["id"], "late");
    drop(c);
    account.close().unwrap();
}
