//! Model-based test of the raw key-value store: random sequences of puts, deletes, batches, gets,
//! prefix scans, flushes, compactions and reopens over a small key space (so overwrites and
//! deletes collide) with values from 0 bytes to 40 KiB (so blocks split), checked after every
//! operation against a `BTreeMap`, in one- and two-layer sealing, with options small enough that
//! memtable freezes, flushes and background compactions happen on their own.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use strata::{CipherSuite, Db, DbOptions, Durability, WriteBatch};

/// Keys chosen so that prefixes nest (`a` < `a/1` < `a/10` < `a/2` < `ab`), including the empty
/// key and keys with high bytes.
const KEYS: &[&[u8]] = &[
    b"",
    b"a",
    b"a/1",
    b"a/10",
    b"a/2",
    b"ab",
    b"b",
    b"b/x",
    b"b/y",
    b"c",
    b"\xff",
    b"\xff\x00",
];

/// Prefixes that match nothing, one key, several keys or everything.
const PREFIXES: &[&[u8]] = &[
    b"", b"a", b"a/", b"a/1", b"a/1/", b"b", b"b/", b"c", b"\xff", b"z",
];

#[derive(Clone, Debug)]
enum Op {
    /// Put `KEYS[key]`, a value of `len` bytes, with `sync` durability or buffered.
    Put {
        key: usize,
        len: usize,
        sync: bool,
    },
    Delete {
        key: usize,
    },
    /// One atomic batch; `None` deletes. The same key may appear twice: the later op wins.
    Batch(Vec<(usize, Option<usize>)>),
    Get {
        key: usize,
    },
    Scan {
        prefix: usize,
    },
    Flush,
    Compact,
    Reopen,
}

fn value_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => Just(0usize),
        6 => 1usize..64,
        6 => 64usize..2048,
        3 => 2048usize..16 * 1024,
        2 => 16 * 1024usize..40 * 1024,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    prop_oneof![
        10 => (key.clone(), value_len(), proptest::bool::weighted(0.1))
            .prop_map(|(key, len, sync)| Op::Put { key, len, sync }),
        4 => key.clone().prop_map(|key| Op::Delete { key }),
        2 => proptest::collection::vec((key.clone(), proptest::option::weighted(0.7, value_len())), 1..5)
            .prop_map(Op::Batch),
        3 => key.prop_map(|key| Op::Get { key }),
        3 => (0..PREFIXES.len()).prop_map(|prefix| Op::Scan { prefix }),
        1 => Just(Op::Flush),
        1 => Just(Op::Compact),
        1 => Just(Op::Reopen),
    ]
}

fn options() -> DbOptions {
    DbOptions {
        durability: Durability::Buffered,
        cache_bytes: 96 << 10,
        memtable_bytes: 16 << 10,
        l0_compaction_trigger: 2,
        base_level_bytes: 48 << 10,
        target_file_size: 24 << 10,
        background_compaction: true,
        compaction_filter: None,
        ..DbOptions::default()
    }
}

/// A value unique to `tag` (every write gets a fresh tag), incompressible so blocks really fill.
fn value(tag: u64, len: usize) -> Vec<u8> {
    let mut s = tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

fn fail(what: &str, e: strata::db::Error) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {e}"))
}

fn open(dir: &Path, suite: &Arc<CipherSuite>) -> Result<Db, TestCaseError> {
    Db::open(dir, options(), suite.clone()).map_err(|e| fail("open", e))
}

fn model_scan(model: &BTreeMap<Vec<u8>, Vec<u8>>, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .range(prefix.to_vec()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Every key of the key space and a full scan agree with the model.
fn check_all(db: &Db, model: &BTreeMap<Vec<u8>, Vec<u8>>, step: usize) -> Result<(), TestCaseError> {
    for k in KEYS {
        let got = db.get(k).map_err(|e| fail("get", e))?;
        prop_assert_eq!(got.as_ref(), model.get(*k), "step {}: get {:?}", step, k);
    }
    let all = db.scan_prefix(b"").map_err(|e| fail("scan", e))?;
    prop_assert_eq!(all, model_scan(model, b""), "step {}: full scan", step);
    Ok(())
}

fn run(ops: &[Op], customer_layer: bool) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let suite = Arc::new(CipherSuite::ephemeral(customer_layer));
    let mut db = Some(open(dir.path(), &suite)?);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut tag = 0u64;
    let mut next_value = |len: usize| {
        tag += 1;
        value(tag, len)
    };
    for (step, op) in ops.iter().enumerate() {
        let d = db.as_ref().ok_or_else(|| TestCaseError::fail("no open db"))?;
        match op {
            Op::Put { key, len, sync } => {
                let k = KEYS[*key];
                let v = next_value(*len);
                let mut b = WriteBatch::new();
                b.put(k, v.clone());
                let durability = if *sync {
                    Durability::Sync
                } else {
                    Durability::Buffered
                };
                d.write(b, durability).map_err(|e| fail("put", e))?;
                model.insert(k.to_vec(), v);
            }
            Op::Delete { key } => {
                d.delete(KEYS[*key]).map_err(|e| fail("delete", e))?;
                model.remove(KEYS[*key]);
            }
            Op::Batch(entries) => {
                let mut b = WriteBatch::new();
                for (key, len) in entries {
                    let k = KEYS[*key];
                    match len {
                        Some(len) => {
                            let v = next_value(*len);
                            b.put(k, v.clone());
                            model.insert(k.to_vec(), v);
                        }
                        None => {
                            b.delete(k);
                            model.remove(k);
                        }
                    }
                }
                d.write(b, Durability::Buffered).map_err(|e| fail("batch", e))?;
            }
            Op::Get { key } => {
                let got = d.get(KEYS[*key]).map_err(|e| fail("get", e))?;
                prop_assert_eq!(got.as_ref(), model.get(KEYS[*key]), "step {}: get", step);
            }
            Op::Scan { prefix } => {
                let p = PREFIXES[*prefix];
                let got = d.scan_prefix(p).map_err(|e| fail("scan", e))?;
                prop_assert_eq!(got, model_scan(&model, p), "step {}: scan {:?}", step, p);
            }
            Op::Flush => {
                d.flush().map_err(|e| fail("flush", e))?;
                let stats = d.stats().map_err(|e| fail("stats", e))?;
                prop_assert_eq!(
                    stats.frozen_memtables,
                    0,
                    "step {}: flush left frozen memtables",
                    step
                );
                prop_assert_eq!(
                    stats.memtable_bytes,
                    0,
                    "step {}: flush left an active memtable",
                    step
                );
            }
            Op::Compact => {
                d.compact().map_err(|e| fail("compact", e))?;
                // Everything went below L0 (background compaction may move it further down).
                let stats = d.stats().map_err(|e| fail("stats", e))?;
                prop_assert_eq!(
                    stats.segments_per_level.first().copied(),
                    Some(0),
                    "step {}: L0 after compact",
                    step
                );
            }
            Op::Reopen => {
                drop(db.take());
                db = Some(open(dir.path(), &suite)?);
            }
        }
        let d = db.as_ref().ok_or_else(|| TestCaseError::fail("no open db"))?;
        check_all(d, &model, step)?;
    }
    // A last reopen: everything acknowledged, buffered or not, survives a clean close.
    drop(db.take());
    let d = open(dir.path(), &suite)?;
    check_all(&d, &model, ops.len())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn agrees_with_a_btreemap_one_layer(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops, false)?;
    }

    #[test]
    fn agrees_with_a_btreemap_two_layers(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops, true)?;
    }
}

/// The options above really do make the tree change shape on its own: without any `flush` or
/// `compact` call, memtables are frozen and flushed, and L0 is compacted into deeper levels.
#[test]
fn small_options_flush_and_compact_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(false));
    let db = Db::open(dir.path(), options(), suite.clone()).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..96u64 {
        let k = format!("key-{:03}", i % 40).into_bytes();
        let v = value(i + 1, 1024 + (i as usize * 37) % 3000);
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = db.stats().unwrap();
        let deeper: usize = stats.segments_per_level.iter().skip(1).sum();
        if deeper > 0 && stats.frozen_memtables == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no background flush + compaction within 20 s: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let got = db.scan_prefix(b"").unwrap();
    assert_eq!(got, model_scan(&model, b""));
}
