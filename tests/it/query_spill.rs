//! Results computed whole (GROUP BY, DISTINCT, ORDER BY sorted in memory) paged from a sealed
//! spill: later pages are the first page's snapshot, charged for what they read from the spill
//! (no document), refused while the customer key is revoked, an error (never data) when the
//! spill is damaged; spills go after their last page, when idle, at close (and at open after a
//! crash), and never reach a backup or a file in the clear. A token whose spill is gone
//! recomputes from its offset.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common;

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions, Container, ManualWallClock, QueryOptions};

const GROUPS: &str = "SELECT c.k, COUNT(1) AS n FROM c GROUP BY c.k";
/// The three kinds of query computed whole.
const QUERIES: [&str; 3] = [
    GROUPS,
    "SELECT DISTINCT VALUE c.k FROM c",
    // The lookup on /n wins, so the order by /k is sorted in memory.
    "SELECT c.id, c.k FROM c WHERE c.n >= 0 ORDER BY c.k DESC",
];

fn fill(c: &Container, n: usize, canary: &str) {
    for i in 0..n {
        let pk = format!("p{}", i % 5);
        let item =
            json!({"id": format!("i{i:04}"), "pk": pk, "k": format!("{canary}{:04}", i % 150), "n": i});
        c.create_item(pk.as_str(), &item).unwrap();
    }
}

/// A service-managed account in a new directory (its wall clock `clock` when given), with
/// container `db/c` holding 300 items whose `k` (150 values) starts with `canary`.
fn fixture(
    clock: Option<&ManualWallClock>,
    canary: &str,
) -> (tempfile::TempDir, AccountOptions, Account, Container) {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    if let Some(clock) = clock {
        opts.wall_clock = Arc::new(clock.clone());
    }
    let (account, c) = common::account_with_container(opts.clone());
    fill(&c, 300, canary);
    (tmp, opts, account, c)
}

fn page(
    c: &Container,
    sql: &str,
    max: usize,
    token: Option<String>,
) -> strata::Result<strata::QueryResponse> {
    let opts = QueryOptions {
        max_item_count: Some(max),
        continuation: token,
        ..QueryOptions::default()
    };
    c.query_items(sql, &[], &opts)
}

fn whole(c: &Container, sql: &str) -> Vec<Value> {
    page(c, sql, 100_000, None).unwrap().items
}

/// The pages after `token`, concatenated.
fn rest(c: &Container, sql: &str, max: usize, mut token: Option<String>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(t) = token {
        let r = page(c, sql, max, Some(t)).unwrap();
        out.extend(r.items);
        token = r.continuation;
    }
    out
}

fn spill_files(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data.join("tmp/query"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[test]
fn later_pages_are_the_first_pages_snapshot_and_read_no_document() {
    let (_tmp, opts, _account, c) = fixture(None, "g");
    for sql in QUERIES {
        let expected = whole(&c, sql);
        assert!(expected.len() >= 150, "{sql}");
        let first = page(&c, sql, 7, None).unwrap();
        assert_eq!(spill_files(&opts.data_dir).len(), 1, "{sql}: the rest is spilled");
        // Writes between pages: deletes, replaces, creates; later pages do not see them.
        for i in 0..40 {
            let pk = format!("p{}", i % 5);
            c.delete_item(pk.as_str(), &format!("i{i:04}")).unwrap();
            let item = json!({"id": format!("new{i}"), "pk": pk, "k": format!("zz{i}"), "n": i});
            c.upsert_item(pk.as_str(), &item).unwrap();
        }
        let mut got = first.items.clone();
        let mut token = first.continuation;
        while let Some(t) = token {
            let r = page(&c, sql, 7, Some(t)).unwrap();
            let bytes: usize = r.items.iter().map(|v| v.to_string().len()).sum();
            // 2.3 RU, 0.01 a result read from the spill, 0.5 a KiB returned: no document load.
            let expected_charge = round2(2.3 + 0.01 * r.items.len() as f64 + 0.5 * bytes as f64 / 1024.0);
            assert_eq!(r.request_charge, expected_charge, "{sql}");
            assert!(r.request_charge < first.request_charge, "{sql}");
            got.extend(r.items);
            token = r.continuation;
        }
        assert_eq!(got, expected, "{sql}: pages are the first page's snapshot");
        assert!(
            spill_files(&opts.data_dir).is_empty(),
            "{sql}: deleted after the last page"
        );
        assert_ne!(
            whole(&c, sql),
            expected,
            "{sql}: the writes did change the result"
        );
        // Put the data back for the next query.
        for i in 0..40 {
            let pk = format!("p{}", i % 5);
            c.delete_item(pk.as_str(), &format!("new{i}")).unwrap();
            let item = json!({"id": format!("i{i:04}"), "pk": pk, "k": format!("g{:04}", i % 150), "n": i});
            c.create_item(pk.as_str(), &item).unwrap();
        }
    }
    // Page sizes 1 and 1,000 too (the conformance suite pages every query at 1, 7 and 1,000).
    for max in [1, 1000] {
        let first = page(&c, GROUPS, max, None).unwrap();
        let mut got = first.items;
        got.extend(rest(&c, GROUPS, max, first.continuation));
        assert_eq!(got, whole(&c, GROUPS), "at {max}");
    }
}

#[test]
fn a_revoked_key_refuses_the_next_page_until_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let (vault, kid, account, c) = common::cmk_account(&opts);
    fill(&c, 200, "g");
    let expected = whole(&c, GROUPS);
    let first = page(&c, GROUPS, 10, None).unwrap();
    vault.set_enabled("cmk", kid.version(), false).unwrap();
    account.check_key().unwrap_err();
    let read = c.read_item::<Value>("p0", "i0000").unwrap_err();
    let e = page(&c, GROUPS, 10, first.continuation.clone()).unwrap_err();
    assert_eq!((e.status(), e.substatus()), (read.status(), read.substatus()));
    assert_eq!((e.status(), e.substatus()), (403, substatus::KEY_VAULT_ACCESS));
    assert_eq!(
        spill_files(&opts.data_dir).len(),
        1,
        "the spill waits for the key"
    );
    vault.set_enabled("cmk", None, true).unwrap();
    account.check_key().unwrap();
    let mut got = first.items;
    got.extend(rest(&c, GROUPS, 10, first.continuation));
    assert_eq!(got, expected);
}

#[test]
fn a_damaged_spill_is_an_error_then_the_query_is_recomputed() {
    let (_tmp, opts, _account, c) = fixture(None, "g");
    let expected = whole(&c, GROUPS);
    let first = page(&c, GROUPS, 5, None).unwrap();
    let files = spill_files(&opts.data_dir);
    assert_eq!(files.len(), 1);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&files[0], &bytes).unwrap();
    let e = page(&c, GROUPS, 5, first.continuation.clone()).unwrap_err();
    assert_eq!((e.status(), e.substatus()), (500, substatus::CORRUPTION), "{e}");
    assert!(
        spill_files(&opts.data_dir).is_empty(),
        "the damaged spill is dropped"
    );
    // The same token again: the spill is gone, the result is computed again from its offset.
    let mut got = first.items;
    got.extend(rest(&c, GROUPS, 5, first.continuation));
    assert_eq!(got, expected);
}

#[test]
fn idle_spills_go_closing_removes_them_and_tokens_recompute() {
    let clock = ManualWallClock::at(1_800_000_000);
    let (_tmp, opts, account, c) = fixture(Some(&clock), "g");
    let expected = whole(&c, GROUPS);
    let first = page(&c, GROUPS, 9, None).unwrap();
    clock.advance(600);
    whole(&c, "SELECT VALUE COUNT(1) FROM c");
    assert_eq!(spill_files(&opts.data_dir).len(), 1, "idle 600 s: kept");
    clock.advance(1);
    whole(&c, "SELECT VALUE COUNT(1) FROM c");
    assert!(spill_files(&opts.data_dir).is_empty(), "idle past 600 s: deleted");
    let mut got = first.items;
    let second = page(&c, GROUPS, 9, first.continuation).unwrap();
    assert!(
        second.request_charge > 5.0,
        "a token whose spill is gone recomputes (and pays a share of the scan): {}",
        second.request_charge
    );
    assert!(
        spill_files(&opts.data_dir).is_empty(),
        "a recomputed page does not spill again"
    );
    got.extend(second.items);
    // A spill of a new walk, then a close: removed, and after a reopen the walk recomputes.
    let walk = page(&c, GROUPS, 9, None).unwrap();
    assert_eq!(spill_files(&opts.data_dir).len(), 1);
    drop(c);
    account.close().unwrap();
    assert!(spill_files(&opts.data_dir).is_empty(), "removed at close");
    // What a session that ended without closing (a crash) left is removed at open.
    let stray = opts.data_dir.join("tmp/query/00000000000000aa.spill");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"left by a crash").unwrap();
    let account = Account::open(opts.clone()).unwrap();
    assert!(spill_files(&opts.data_dir).is_empty(), "removed at open");
    let c = account.database("db").container("c");
    got.extend(rest(&c, GROUPS, 9, second.continuation));
    assert_eq!(got, expected);
    let mut again = walk.items;
    again.extend(rest(&c, GROUPS, 9, walk.continuation));
    assert_eq!(again, expected);
    // Dropping the last handle (as `strata shell` does at its end) closes, spills included.
    page(&c, GROUPS, 9, None).unwrap();
    assert_eq!(spill_files(&opts.data_dir).len(), 1);
    drop(c);
    drop(account);
    assert!(
        spill_files(&opts.data_dir).is_empty(),
        "removed when the last handle drops"
    );
}

#[test]
fn spills_hold_no_plaintext_and_stay_out_of_backups() {
    let canary = "SPILLCANARY-q7Vd-";
    let (tmp, opts, account, c) = fixture(None, canary);
    let first = page(&c, GROUPS, 1, None).unwrap();
    assert!(first.continuation.is_some());
    let files = spill_files(&opts.data_dir);
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The spilled results are the groups after the first: their keys are the canaries.
    let spilled: Vec<String> = (1..150).map(|g| format!("{canary}{g:04}")).collect();
    let backups = tmp.path().join("backups");
    account.backup_now(&backups).unwrap();
    account.flush().unwrap();
    let needles = common::text_needles(&spilled);
    let data_files = common::files_under(&opts.data_dir);
    assert!(data_files.contains(&files[0]), "the scan covers the spill");
    // The database name is plaintext by contract (the catalog): proof the scan read the files.
    assert!(common::assert_no_needle(&data_files, &needles, b"\"db\""));
    let backup_files = common::files_under(&backups);
    assert!(!backup_files.is_empty());
    assert!(
        backup_files
            .iter()
            .all(|f| f.extension().is_none_or(|e| e != "spill")),
        "a backup carries no spill"
    );
    assert!(common::assert_no_needle(&backup_files, &needles, b"\"db\""));
}

/// Every page of `sql` at `max` results a page (a full scan: no ORDER BY is read from the
/// index), concatenated, without the system properties, which differ between accounts.
fn scanned(c: &Container, sql: &str, max: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let opts = QueryOptions {
            max_item_count: Some(max),
            continuation: token,
            force_full_scan: true,
            ..QueryOptions::default()
        };
        let r = c.query_items(sql, &[], &opts).unwrap();
        out.extend(r.items.into_iter().map(|v| match v {
            Value::Object(m) => Value::Object(m.into_iter().filter(|(k, _)| !k.starts_with('_')).collect()),
            other => other,
        }));
        match r.continuation {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
}

/// An ORDER BY sorted outside memory, with a budget of a few results (so dozens of sorted runs
/// merged), returns exactly what the sort in memory returns, ties by item key included, paged
/// at 1, 7 and 1,000: with spills (the rest read from the spill) and without (the CLI's
/// setting: each page merges the runs again and cuts at its offset). No run outlives its query.
#[test]
fn sorting_in_runs_equals_sorting_in_memory() {
    let queries = [
        "SELECT * FROM c ORDER BY c.k DESC",
        "SELECT c.id, c.k FROM c ORDER BY c.k, c.n DESC",
        "SELECT VALUE [c.k, c.n] FROM c ORDER BY c.pk DESC, c.k",
        "SELECT c.id FROM c ORDER BY c.k OFFSET 10 LIMIT 5",
        "SELECT DISTINCT VALUE c.k FROM c ORDER BY c.k DESC",
    ];
    // ORDER BY on several paths needs a composite index, even when it is sorted in memory.
    let sorted_by = |opts: &AccountOptions| {
        let account = Account::create(opts.clone(), "acct", strata::Encryption::ServiceManaged).unwrap();
        let c = common::container_with_policy(
            &account,
            "c",
            "/pk",
            r#"{"includedPaths": [{"path": "/*"}], "compositeIndexes": [
                [{"path": "/k"}, {"path": "/n", "order": "descending"}],
                [{"path": "/pk", "order": "descending"}, {"path": "/k"}]]}"#,
        );
        fill(&c, 300, "m");
        (account, c)
    };
    let tmp = tempfile::tempdir().unwrap();
    let in_memory = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let (_memory, memory) = sorted_by(&in_memory);
    let reference: Vec<Vec<Value>> = queries.iter().map(|q| scanned(&memory, q, 10_000)).collect();
    for spills in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"))
            .sort_memory_bytes(2_000)
            .query_spills(spills);
        let (_account, c) = sorted_by(&opts);
        for (sql, want) in queries.iter().zip(&reference) {
            assert_eq!(
                want.len(),
                if sql.contains("LIMIT") {
                    5
                } else if sql.contains("DISTINCT") {
                    150
                } else {
                    300
                }
            );
            for max in [1, 7, 1000] {
                assert_eq!(
                    &scanned(&c, sql, max),
                    want,
                    "{sql} at {max} a page, spills {spills}"
                );
                assert!(
                    spill_files(&opts.data_dir).is_empty(),
                    "{sql}: a run or spill outlived its query"
                );
            }
        }
    }
}
