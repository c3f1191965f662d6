//! Request charges end to end, through the public API: the published reference points for point
//! reads and writes at each size (SMK and CMK, within ±10%); determinism (the same workload
//! charges the same in a fresh account, after a reopen with cold caches, and again warm); and
//! the customer-key surcharge of every operation kind measured on the same data (+5% reads, +6%
//! writes plus 0.06 RU per indexed term, +15% queries and feeds). See docs/ru-model.md.

use crate::common;

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, ChangeFeedOptions, Container, ContainerOptions, Durability, IndexingPolicy,
    QueryOptions,
};

/// (item size in bytes, read RU, write RU without indexing): the published figures.
const REFERENCE: &[(usize, f64, f64)] = &[
    (1024, 1.0, 4.95),
    (4 * 1024, 1.14, 6.67),
    (16 * 1024, 1.67, 9.52),
    (64 * 1024, 4.76, 22.67),
    (256 * 1024, 20.28, 98.29),
    (1024 * 1024, 145.9, 625.0),
    (2 * 1024 * 1024, 291.8, 1250.0),
];

fn account(dir: &tempfile::TempDir, cmk: bool) -> (AccountOptions, Account) {
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered);
    let enc = common::encryption(&opts, cmk, "k");
    let account = Account::create(opts.clone(), "acct", enc).unwrap();
    (opts, account)
}

fn unindexed() -> ContainerOptions {
    ContainerOptions {
        indexing_policy: Some(IndexingPolicy::from_json(r#"{"indexingMode":"none"}"#).unwrap()),
        ..Default::default()
    }
}

/// An item whose stored JSON (with the system properties the engine adds) is about `size` bytes.
fn sized(id: &str, size: usize) -> Value {
    // The system properties add about 200 bytes; the 2 MB item must stay within the limit.
    let pad = size.saturating_sub(260);
    json!({"id": id, "pk": "p", "pad": "a".repeat(pad)})
}

#[test]
fn reference_points_hold_for_reads_and_writes_in_both_modes() {
    for cmk in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (_, account) = account(&dir, cmk);
        let c = account
            .create_database("db")
            .unwrap()
            .create_container_with("c", "/pk", unindexed())
            .unwrap();
        let (read_factor, write_factor) = if cmk { (1.05, 1.06) } else { (1.0, 1.0) };
        for (i, (size, read, write)) in REFERENCE.iter().enumerate() {
            let id = format!("i{i}");
            let w = c.create_item("p", &sized(&id, *size)).unwrap().request_charge;
            let r = c.read_item::<Value>("p", &id).unwrap().request_charge;
            let (want_w, want_r) = (write * write_factor, read * read_factor);
            assert!(
                (w - want_w).abs() <= want_w * 0.10,
                "cmk {cmk}: write of {size} B cost {w}, reference {want_w}"
            );
            assert!(
                (r - want_r).abs() <= want_r * 0.10,
                "cmk {cmk}: read of {size} B cost {r}, reference {want_r}"
            );
        }
        // A 404 read still costs the 1 KB read.
        let e = c.read_item::<Value>("p", "missing").unwrap_err();
        assert_eq!(e.request_charge(), Some(read_factor));
    }
}

/// One workload over `c` (default indexing) and `kv` (no indexing): every charged operation
/// kind, each charge labelled.
fn workload(c: &Container, kv: &Container) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut note = |what: &str, charge: f64| out.push((what.to_string(), charge));
    for (i, size) in [100usize, 3000, 20_000].iter().enumerate() {
        let doc =
            json!({"id": format!("d{i}"), "pk": "p", "n": i, "tags": ["a", i], "pad": "x".repeat(*size)});
        note("create", c.create_item("p", &doc).unwrap().request_charge);
        note("create-kv", kv.create_item("p", &doc).unwrap().request_charge);
    }
    for i in 0..3 {
        let id = format!("d{i}");
        note("read", c.read_item::<Value>("p", &id).unwrap().request_charge);
        note("read-kv", kv.read_item::<Value>("p", &id).unwrap().request_charge);
    }
    note(
        "read-404",
        c.read_item::<Value>("p", "nope")
            .unwrap_err()
            .request_charge()
            .unwrap_or(-1.0),
    );
    let replacement = json!({"id": "d1", "pk": "p", "n": 10, "tags": ["b"], "pad": "y".repeat(500)});
    note(
        "replace",
        c.replace_item("p", &replacement).unwrap().request_charge,
    );
    note(
        "replace-kv",
        kv.replace_item("p", &replacement).unwrap().request_charge,
    );
    let upserted = json!({"id": "d9", "pk": "p", "n": 9});
    note("upsert", c.upsert_item("p", &upserted).unwrap().request_charge);
    note(
        "upsert-kv",
        kv.upsert_item("p", &upserted).unwrap().request_charge,
    );
    let all = QueryOptions::default();
    for sql in [
        "SELECT * FROM c",
        "SELECT VALUE c.id FROM c WHERE c.n >= 1",
        "SELECT VALUE COUNT(1) FROM c",
        "SELECT * FROM c WHERE c.id = 'nope'",
    ] {
        note("query", c.query_items(sql, &[], &all).unwrap().request_charge);
    }
    note(
        "query-kv",
        kv.query_items("SELECT * FROM c WHERE c.id = 'd2'", &[], &all)
            .unwrap()
            .request_charge,
    );
    note(
        "feed",
        c.read_change_feed(&ChangeFeedOptions::default())
            .unwrap()
            .request_charge,
    );
    note("delete", c.delete_item("p", "d0").unwrap().request_charge);
    note("delete-kv", kv.delete_item("p", "d0").unwrap().request_charge);
    out
}

/// The read-only part of the workload (no state change), to repeat on the same data.
fn reads(c: &Container) -> Vec<f64> {
    let all = QueryOptions::default();
    let mut out = vec![
        c.read_item::<Value>("p", "d2").unwrap().request_charge,
        c.read_item::<Value>("p", "d0")
            .unwrap_err()
            .request_charge()
            .unwrap_or(-1.0),
    ];
    for sql in [
        "SELECT * FROM c",
        "SELECT VALUE c.id FROM c WHERE c.n >= 1 ORDER BY c.n",
    ] {
        out.push(c.query_items(sql, &[], &all).unwrap().request_charge);
    }
    out.push(
        c.read_change_feed(&ChangeFeedOptions::default())
            .unwrap()
            .request_charge,
    );
    out
}

fn containers(account: &Account) -> (Container, Container) {
    let db = account.create_database("db").unwrap();
    (
        db.create_container("c", "/pk").unwrap(),
        db.create_container_with("kv", "/pk", unindexed()).unwrap(),
    )
}

#[test]
fn the_same_workload_always_costs_the_same() {
    for cmk in [false, true] {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (opts1, a1) = account(&d1, cmk);
        let (_, a2) = account(&d2, cmk);
        let (c1, k1) = containers(&a1);
        let (c2, k2) = containers(&a2);
        assert_eq!(
            workload(&c1, &k1),
            workload(&c2, &k2),
            "two fresh accounts, cmk {cmk}"
        );
        // Reads: warm (just written, in the memtable and cache), then after a flush and compaction,
        // then in a reopened account whose caches are cold.
        let warm = reads(&c1);
        assert_eq!(reads(&c1), warm, "repeated warm, cmk {cmk}");
        a1.flush().unwrap();
        a1.compact().unwrap();
        assert_eq!(reads(&c1), warm, "after flush and compaction, cmk {cmk}");
        drop((c1, k1, a1));
        let reopened = Account::open(opts1).unwrap();
        let cold = reads(&reopened.database("db").container("c"));
        assert_eq!(cold, warm, "cold after reopen, cmk {cmk}");
    }
}

#[test]
fn the_customer_key_surcharge_is_the_published_one_for_every_kind() {
    let (ds, dc) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, smk) = account(&ds, false);
    let (_, cmk) = account(&dc, true);
    let (cs, ks) = containers(&smk);
    let (cc, kc) = containers(&cmk);
    let s = workload(&cs, &ks);
    let c = workload(&cc, &kc);
    assert_eq!(s.len(), c.len());
    // Indexed terms of each indexed write, from the SMK charges: (indexed − unindexed) / 0.2.
    let terms: Vec<f64> = s
        .iter()
        .zip(s.iter().skip(1))
        .filter(|((a, _), (b, _))| {
            matches!(a.as_str(), "create" | "replace" | "upsert" | "delete") && b == &format!("{a}-kv")
        })
        .map(|((_, with), (_, without))| ((with - without) / 0.2).round())
        .collect();
    let mut writes = terms.iter();
    for ((kind, smk_ru), (_, cmk_ru)) in s.iter().zip(&c) {
        let want = match kind.as_str() {
            "read" | "read-kv" | "read-404" => smk_ru * 1.05,
            "query" | "query-kv" | "feed" => smk_ru * 1.15,
            k if k.ends_with("-kv") => smk_ru * 1.06,
            // An indexed write: the size charge × 1.06, and each term 0.2 × 1.06 + 0.06.
            _ => {
                let t = *writes.next().expect("a term count per indexed write");
                assert!(t > 0.0, "{kind}: {t} terms");
                smk_ru * 1.06 + 0.06 * t
            }
        };
        // Both charges are rounded to 0.01; the product of a rounded charge may be 0.01 off.
        assert!(
            (cmk_ru - want).abs() <= 0.011 + want * 1e-9,
            "{kind}: SMK {smk_ru}, CMK {cmk_ru}, expected {want}"
        );
    }
}
