//! Provisioned throughput end to end: RU/s validation (400), per-container and shared database
//! buckets, 429.3200 with a retry-after that is enough, charges unchanged by throttling, the
//! SDK-style retry policy completing a workload beyond the rate with nothing lost or duplicated,
//! and unlimited containers never throttled. Time is a `ManualClock`: no test sleeps.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use strata::{
    substatus, Account, AccountOptions, Clock, Container, ContainerOptions, DatabaseOptions, Durability,
    Error, ManualClock, QueryOptions, RetryPolicy,
};

fn options(dir: &tempfile::TempDir, clock: &ManualClock, policy: RetryPolicy) -> AccountOptions {
    AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered)
        .clock(Arc::new(clock.clone()))
        .retry_policy(policy)
}

fn account(policy: RetryPolicy) -> (tempfile::TempDir, ManualClock, Account) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let opts = options(&dir, &clock, policy);
    let account = Account::create(opts, "acct", strata::Encryption::ServiceManaged).unwrap();
    (dir, clock, account)
}

/// A container with its own RU/s, unindexed so that a small write costs exactly the
/// reference 4.95 RU (indexed terms add 0.2 RU each; see tests/it/indexing.rs).
fn own(ru: u32) -> ContainerOptions {
    ContainerOptions {
        throughput: Some(ru),
        ..unindexed()
    }
}

fn unindexed() -> ContainerOptions {
    ContainerOptions {
        indexing_policy: Some(strata::IndexingPolicy::from_json(r#"{"indexingMode":"none"}"#).unwrap()),
        ..Default::default()
    }
}

fn item(k: usize) -> Value {
    json!({"id": format!("i{k:05}"), "pk": format!("p{}", k % 7), "n": k})
}

fn create(c: &Container, k: usize) -> Result<f64, Error> {
    let v = item(k);
    c.create_item(v["pk"].as_str().unwrap(), &v)
        .map(|r| r.request_charge)
}

/// Creates items from `from` on until one is refused; returns (created, the refusal).
fn fill_until_throttled(c: &Container, from: usize) -> (usize, Error) {
    for k in from.. {
        if let Err(e) = create(c, k) {
            return (k - from, e);
        }
    }
    unreachable!("the loop only ends on an error")
}

fn assert_throttled(e: &Error) -> u64 {
    assert_eq!(
        (e.status(), e.substatus()),
        (429, substatus::THROUGHPUT_EXCEEDED),
        "{e}"
    );
    let ms = e.retry_after().expect("a 429 carries a retry-after");
    assert!(ms > 0, "{e}");
    assert!(e.to_string().contains("retry after"), "{e}");
    ms
}

#[test]
fn invalid_throughput_is_a_400_and_changes_nothing() {
    let (_dir, _clock, account) = account(RetryPolicy::none());
    for bad in [0, 100, 399, 450, 1001] {
        let e = account
            .create_database_with(
                "db",
                DatabaseOptions {
                    throughput: Some(bad),
                },
            )
            .unwrap_err();
        assert_eq!(e.status(), 400, "{bad}");
        assert!(
            e.to_string().contains("at least 400 RU/s, in steps of 100"),
            "{e}"
        );
    }
    assert!(account.list_databases().unwrap().is_empty());
    let db = account.create_database("db").unwrap();
    assert_eq!(
        db.create_container_with("c", "/pk", own(350))
            .unwrap_err()
            .status(),
        400
    );
    assert!(db.list_containers().unwrap().is_empty());
    let c = db.create_container("c", "/pk").unwrap();
    assert_eq!(c.set_throughput(Some(410)).unwrap_err().status(), 400);
    assert_eq!(db.set_throughput(Some(99)).unwrap_err().status(), 400);
    assert_eq!((c.throughput().unwrap(), db.throughput().unwrap()), (None, None));
    // Missing resources: 404.
    assert_eq!(
        account
            .database("nope")
            .set_throughput(Some(400))
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        db.container("nope")
            .set_throughput(Some(400))
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn throughput_is_stored_in_the_catalog_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    {
        let account = Account::create(
            options(&dir, &clock, RetryPolicy::none()),
            "acct",
            strata::Encryption::ServiceManaged,
        )
        .unwrap();
        let db = account
            .create_database_with(
                "shared",
                DatabaseOptions {
                    throughput: Some(1000),
                },
            )
            .unwrap();
        db.create_container_with("own", "/pk", own(500)).unwrap();
        db.create_container("rides", "/pk").unwrap();
        let plain = account.create_database("plain").unwrap();
        plain
            .create_container("c", "/pk")
            .unwrap()
            .set_throughput(Some(400))
            .unwrap();
    }
    let account = Account::open(options(&dir, &clock, RetryPolicy::none())).unwrap();
    let shared = account.database("shared");
    assert_eq!(shared.throughput().unwrap(), Some(1000));
    assert_eq!(shared.container("own").throughput().unwrap(), Some(500));
    assert_eq!(shared.container("rides").throughput().unwrap(), None);
    assert_eq!(account.database("plain").throughput().unwrap(), None);
    assert_eq!(
        account.database("plain").container("c").throughput().unwrap(),
        Some(400)
    );
}

#[test]
fn exceeding_the_rate_is_a_429_with_a_sufficient_retry_after() {
    let (_dir, clock, account) = account(RetryPolicy::none());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    let charge = create(&c, 0).unwrap();
    // One second of burst: 400 RU in all, then refused.
    let (created, e) = fill_until_throttled(&c, 1);
    assert_eq!(created + 1, (400.0 / charge) as usize, "charge {charge}");
    let wait = assert_throttled(&e);
    assert!(
        wait <= 1000,
        "a charge below the burst never waits more than a second: {wait}"
    );
    // Nothing was written by the refused call, and it cost nothing: after the wait it succeeds
    // with the same charge as an unthrottled create.
    let k = created + 1;
    clock.advance(Duration::from_millis(wait - 1));
    assert_throttled(&create(&c, k).unwrap_err());
    clock.advance(Duration::from_millis(1));
    assert_eq!(create(&c, k).unwrap(), charge);
    // Every other operation kind draws from the same bucket.
    let v = item(k);
    let pk = v["pk"].as_str().unwrap();
    assert_throttled(&c.read_item::<Value>(pk, v["id"].as_str().unwrap()).unwrap_err());
    assert_throttled(&c.read_item::<Value>(pk, "missing").unwrap_err());
    assert_throttled(&c.upsert_item(pk, &v).unwrap_err());
    assert_throttled(&c.delete_item(pk, v["id"].as_str().unwrap()).unwrap_err());
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        c.delete_item(pk, v["id"].as_str().unwrap())
            .unwrap()
            .request_charge,
        charge
    );
    // A 404 read still costs (and draws) its 1 RU.
    let e = c.read_item::<Value>(pk, v["id"].as_str().unwrap()).unwrap_err();
    assert_eq!((e.status(), e.request_charge()), (404, Some(1.0)));

    // The metrics count every charge and every 429 (created + 1 creates before the first 429,
    // then one more create, the delete and the 404 read; six 429s in all).
    let m = c.metrics().unwrap();
    let ops = created as u64 + 1 + 3;
    assert_eq!((m.operations, m.throttled), (ops, 6), "{m:?}");
    let want = (created as f64 + 2.0) * charge + charge + 1.0;
    assert!((m.total_ru - want).abs() < 0.01, "{m:?} vs {want}");
    assert!((m.ru_per_sec_last_minute - want / 60.0).abs() < 0.01, "{m:?}");
    let all = account.metrics().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].2, m);
    clock.advance(Duration::from_secs(120));
    let later = c.metrics().unwrap();
    assert_eq!((later.total_ru, later.ru_per_sec_last_minute), (m.total_ru, 0.0));
}

#[test]
fn a_database_shares_its_throughput_among_its_containers() {
    let (_dir, clock, account) = account(RetryPolicy::none());
    let db = account
        .create_database_with(
            "db",
            DatabaseOptions {
                throughput: Some(400),
            },
        )
        .unwrap();
    let a = db.create_container_with("a", "/pk", unindexed()).unwrap();
    let b = db.create_container_with("b", "/pk", unindexed()).unwrap();
    let dedicated = db.create_container_with("d", "/pk", own(400)).unwrap();
    let elsewhere = account
        .create_database_with(
            "other",
            DatabaseOptions {
                throughput: Some(400),
            },
        )
        .unwrap()
        .create_container_with("a", "/pk", unindexed())
        .unwrap();
    // `a` spends the database's 400 RU: `b` is refused too, the others are not.
    let charge = create(&dedicated, 0).unwrap();
    let (created, e) = fill_until_throttled(&a, 0);
    assert_eq!(created, (400.0 / charge) as usize);
    assert_throttled(&e);
    assert_throttled(&create(&b, 0).unwrap_err());
    create(&dedicated, 1).unwrap();
    create(&elsewhere, 0).unwrap();
    // Half of the rate refills in half a second, for both.
    clock.advance(Duration::from_millis(500));
    let left = 400.0 - created as f64 * charge;
    let (from_b, e) = fill_until_throttled(&b, 0);
    assert_throttled(&e);
    assert_eq!(from_b, ((left + 200.0) / charge) as usize, "half the burst");
    assert_throttled(&create(&a, created).unwrap_err());
    // Removing the shared throughput makes its containers unlimited.
    db.set_throughput(None).unwrap();
    for k in 0..200 {
        create(&a, 10_000 + k).unwrap();
    }
    // Giving one container its own throughput takes it off the shared bucket at once.
    db.set_throughput(Some(400)).unwrap();
    b.set_throughput(Some(1000)).unwrap();
    let (from_b, e) = fill_until_throttled(&b, 10_000);
    assert_throttled(&e);
    assert_eq!(from_b, (1000.0 / charge) as usize);
    assert_throttled(&create(&a, 20_000).unwrap_err());
}

#[test]
fn a_write_above_the_burst_passes_on_a_full_bucket_and_leaves_a_debt() {
    let (_dir, clock, account) = account(RetryPolicy::none());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    let big = json!({"id": "big", "pk": "p", "blob": "x".repeat(1 << 20)});
    let charge = c.create_item("p", &big).unwrap().request_charge;
    assert!(charge > 400.0, "{charge}");
    // The debt (charge − 400 RU) plus the next charge must refill at 400 RU/s first.
    let wait = assert_throttled(&create(&c, 0).unwrap_err());
    let expect = ((charge - 400.0 + 4.95) / 400.0 * 1000.0).ceil() as u64;
    assert!(wait.abs_diff(expect) <= 2, "wait {wait} vs {expect}");
    clock.advance(Duration::from_millis(wait));
    create(&c, 0).unwrap();
}

#[test]
fn a_query_is_admitted_while_the_bucket_is_positive_and_debited_after() {
    let (_dir, clock, account) = account(RetryPolicy::none());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    for k in 0..1000 {
        create(&c, k).unwrap();
    }
    c.set_throughput(Some(400)).unwrap();
    let all = QueryOptions {
        max_item_count: Some(1000),
        ..QueryOptions::default()
    };
    let page = c.query_items("SELECT * FROM c", &[], &all).unwrap();
    assert_eq!(page.items.len(), 1000);
    // The page cost more than the bucket held: the next call waits the debt out.
    let debt = page.request_charge - 400.0;
    assert!(debt > 0.0, "{}", page.request_charge);
    let wait = assert_throttled(&c.query_items("SELECT * FROM c", &[], &all).unwrap_err());
    assert!(wait >= (debt / 400.0 * 1000.0) as u64, "wait {wait}, debt {debt}");
    clock.advance(Duration::from_millis(wait));
    let again = c.query_items("SELECT * FROM c", &[], &all).unwrap();
    assert_eq!(
        again.request_charge, page.request_charge,
        "throttling never changes a charge"
    );
}

#[test]
fn the_retry_policy_completes_work_beyond_the_rate_without_loss_or_duplication() {
    // The issue's scenario: about 5,000 RU of writes given at once to a 400 RU/s container.
    let (_dir, clock, account) = account(RetryPolicy::default());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    let mut total = 0.0;
    for k in 0..1000 {
        total += create(&c, k).expect("the retry policy absorbs every 429");
    }
    assert!(total > 4900.0, "{total}");
    // The clock moved only by the retry waits: the work above the burst took total/400 seconds.
    let waited = clock.now().as_secs_f64();
    assert!(
        waited >= (total - 400.0) / 400.0,
        "waited {waited} s for {total} RU"
    );
    assert!(
        waited <= (total - 400.0) / 400.0 + 1000.0 * 0.002,
        "waited {waited} s"
    );
    // Every item is there once.
    let mut ids = Vec::new();
    let mut continuation = None;
    loop {
        let page = c
            .query_items(
                "SELECT VALUE c.id FROM c",
                &[],
                &QueryOptions {
                    continuation,
                    ..QueryOptions::default()
                },
            )
            .unwrap();
        ids.extend(page.items.into_iter().map(|v| v.as_str().unwrap().to_string()));
        match page.continuation {
            Some(t) => continuation = Some(t),
            None => break,
        }
    }
    ids.sort();
    let want: Vec<String> = (0..1000).map(|k| format!("i{k:05}")).collect();
    assert_eq!(ids, want);
}

#[test]
fn the_retry_policy_gives_up_at_its_limits() {
    let policy = RetryPolicy {
        max_attempts: 3,
        max_wait: Duration::from_secs(30),
    };
    let (_dir, clock, account) = account(policy);
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    // A 1 MB write leaves a debt of about 225 RU: the next create waits it out in one retry.
    c.create_item("p", &json!({"id": "big", "pk": "p", "blob": "x".repeat(1 << 20)}))
        .unwrap();
    let before = clock.now();
    create(&c, 0).unwrap();
    assert!(clock.now() > before, "the create waited for the refill");
    // A max wait shorter than the retry-after: the 429 comes back without waiting.
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let tight = RetryPolicy {
        max_attempts: 9,
        max_wait: Duration::from_millis(100),
    };
    let account = Account::create(
        options(&dir, &clock, tight),
        "acct",
        strata::Encryption::ServiceManaged,
    )
    .unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    c.create_item("p", &json!({"id": "big", "pk": "p", "blob": "x".repeat(1 << 20)}))
        .unwrap();
    assert_throttled(&create(&c, 0).unwrap_err());
    assert_eq!(clock.now(), Duration::ZERO);
}

#[test]
fn unlimited_never_throttles() {
    let (_dir, clock, account) = account(RetryPolicy::none());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    assert_eq!(c.throughput().unwrap(), None);
    // Far more than any provisioned second, with the clock frozen.
    let mut total = 0.0;
    for k in 0..300 {
        total += create(&c, k).unwrap();
    }
    for _ in 0..3 {
        c.create_item("p", &json!({"id": "big", "pk": "p", "blob": "x".repeat(1 << 20)}))
            .unwrap();
        total += c.delete_item("p", "big").unwrap().request_charge;
    }
    let all = QueryOptions {
        max_item_count: Some(1000),
        ..QueryOptions::default()
    };
    for _ in 0..5 {
        total += c
            .query_items("SELECT * FROM c", &[], &all)
            .unwrap()
            .request_charge;
    }
    assert!(total > 4000.0, "{total}");
    assert_eq!(clock.now(), Duration::ZERO);
    // Back to unlimited once a limit is removed.
    c.set_throughput(Some(400)).unwrap();
    let (_, e) = fill_until_throttled(&c, 1000);
    assert_throttled(&e);
    c.set_throughput(None).unwrap();
    c.query_items("SELECT * FROM c", &[], &all).unwrap();
    create(&c, 5000).unwrap();
}

#[test]
fn lifetime_metrics_add_up_the_sessions_and_go_with_the_container() {
    let (dir, clock, account) = account(RetryPolicy::none());
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    let first: f64 = (0..3).map(|k| create(&c, k).unwrap()).sum();
    fill_until_throttled(&c, 3);
    let session = c.metrics().unwrap();
    assert!(session.throttled >= 1);
    assert_eq!(
        c.lifetime_metrics().unwrap(),
        session,
        "nothing stored before the first close"
    );
    drop(c);
    drop(account);
    // A new session starts from zero; the lifetime counts carry the first one.
    let account = Account::open(options(&dir, &clock, RetryPolicy::none())).unwrap();
    let c = account.database("db").container("c");
    assert_eq!(c.metrics().unwrap().operations, 0);
    let carried = c.lifetime_metrics().unwrap();
    assert_eq!(
        (carried.operations, carried.throttled),
        (session.operations, session.throttled)
    );
    assert!((carried.total_ru - session.total_ru).abs() < 0.011);
    assert!(session.total_ru >= first);
    clock.advance(Duration::from_secs(10));
    let more = create(&c, 1000).unwrap();
    let both = c.lifetime_metrics().unwrap();
    assert_eq!(both.operations, session.operations + 1);
    assert!((both.total_ru - (session.total_ru + more)).abs() < 0.011);
    // Deleting the container deletes its counts: a new one of that name starts at zero.
    account.database("db").delete_container("c").unwrap();
    let again = account
        .database("db")
        .create_container_with("c", "/pk", own(400))
        .unwrap();
    assert_eq!(again.lifetime_metrics().unwrap().operations, 0);
}
