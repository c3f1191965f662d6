//! Concurrency of the raw key-value store: four writer threads and four reader threads share one
//! `Db` while a tiny memtable makes freezes, flushes and compactions run underneath them. Every
//! acknowledged write is readable at once and afterwards; readers only ever see values that were
//! written for that key, never older than the last acknowledged write nor newer than the last
//! issued one; after a reopen all data is intact. A second open of a live directory is refused
//! with 423 (`Error::InUse`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::db::Error;
use strata::{CipherSuite, Db, DbOptions, Durability, WriteBatch};

const WRITERS: usize = 4;
const READERS: usize = 4;
const KEYS_PER_WRITER: usize = 24;
const OPS_PER_WRITER: usize = 3000;

fn options() -> DbOptions {
    DbOptions {
        durability: Durability::Buffered,
        cache_bytes: 128 << 10,
        memtable_bytes: 32 << 10,
        l0_compaction_trigger: 2,
        base_level_bytes: 96 << 10,
        target_file_size: 32 << 10,
        background_compaction: true,
        compaction_filter: None,
        ..DbOptions::default()
    }
}

fn key(w: usize, j: usize) -> Vec<u8> {
    format!("w{w}/k{j:02}").into_bytes()
}

/// Version `v` of a key is a delete when this says so; versions are per key, from 1.
fn is_delete(v: u64) -> bool {
    v.is_multiple_of(7)
}

fn mix(key: &[u8], v: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in key {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// Version `v` of `key`: `key | '=' | v: u64 | padding`, the padding's length and bytes a function
/// of key and version, so a reader can tell a written value from anything else.
fn value(key: &[u8], v: u64) -> Vec<u8> {
    let h = mix(key, v);
    let len = match h % 10 {
        0 => 0,
        1 => 4000 + (h >> 8) as usize % 6000,
        _ => (h >> 8) as usize % 1500,
    };
    let mut out = Vec::with_capacity(key.len() + 9 + len);
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(&v.to_le_bytes());
    let mut s = h | 1;
    out.extend((0..len).map(|_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s as u8
    }));
    out
}

/// The version a value encodes, if it is exactly a value once written for `key`.
fn version_of(key: &[u8], bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(key)?.strip_prefix(b"=")?;
    let v = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    (v > 0 && !is_delete(v) && value(key, v) == bytes).then_some(v)
}

/// Per key: the last version a writer started (`issued`) and the last one acknowledged (`acked`).
#[derive(Default)]
struct KeyState {
    issued: AtomicU64,
    acked: AtomicU64,
}

struct Shared {
    keys: Vec<Vec<KeyState>>,
    writers_done: AtomicBool,
}

impl Shared {
    fn state(&self, w: usize, j: usize) -> &KeyState {
        &self.keys[w][j]
    }
}

/// Checks one read of key `(w, j)`: `acked_before` was loaded before the read started, `seen`
/// is the largest version this reader saw earlier, `issued_after` was loaded after it ended.
fn check_read(
    w: usize,
    j: usize,
    got: Option<&[u8]>,
    lower: u64,
    issued_after: u64,
    what: &str,
) -> Option<u64> {
    let k = key(w, j);
    let name = String::from_utf8_lossy(&k);
    match got {
        Some(bytes) => {
            let v = version_of(&k, bytes)
                .unwrap_or_else(|| panic!("{what}: {name} holds a value never written for it"));
            assert!(
                v >= lower,
                "{what}: {name} went back in time: version {v} after {lower} was visible"
            );
            assert!(
                v <= issued_after,
                "{what}: {name} shows version {v}, only {issued_after} issued"
            );
            Some(v)
        }
        None => {
            // Absent is fine only if the key was never acknowledged, or a delete lies between the
            // oldest version the read may show and the newest one issued.
            assert!(
                lower == 0 || (lower..=issued_after).any(is_delete),
                "{what}: {name} missing, but version {lower} was visible and no delete followed up to {issued_after}"
            );
            None
        }
    }
}

fn writer(db: &Db, shared: &Shared, w: usize) {
    let mut rng = StdRng::seed_from_u64(100 + w as u64);
    for op in 0..OPS_PER_WRITER {
        // Now and then, a two-key batch; otherwise one put or delete.
        let js: Vec<usize> = if op % 10 == 9 {
            let a = rng.gen_range(0..KEYS_PER_WRITER);
            vec![
                a,
                (a + 1 + rng.gen_range(0..KEYS_PER_WRITER - 1)) % KEYS_PER_WRITER,
            ]
        } else {
            vec![rng.gen_range(0..KEYS_PER_WRITER)]
        };
        let mut batch = WriteBatch::new();
        let mut versions = Vec::new();
        for &j in &js {
            let st = shared.state(w, j);
            let v = st.issued.load(Ordering::SeqCst) + 1;
            st.issued.store(v, Ordering::SeqCst);
            let k = key(w, j);
            if is_delete(v) {
                batch.delete(k);
            } else {
                batch.put(k.clone(), value(&k, v));
            }
            versions.push((j, v));
        }
        let durability = if rng.gen_ratio(1, 25) {
            Durability::Sync
        } else {
            Durability::Buffered
        };
        db.write(batch, durability)
            .unwrap_or_else(|e| panic!("writer {w} op {op}: {e}"));
        for &(j, v) in &versions {
            shared.state(w, j).acked.store(v, Ordering::SeqCst);
            // Acknowledged means readable, at once.
            let k = key(w, j);
            let got = db.get(&k).unwrap_or_else(|e| panic!("writer {w} read-back: {e}"));
            let want = (!is_delete(v)).then(|| value(&k, v));
            assert_eq!(
                got,
                want,
                "writer {w} op {op}: read-back of {} version {v}",
                String::from_utf8_lossy(&k)
            );
        }
        // Manual maintenance racing the background thread and the other writers.
        if w == 0 && op % 300 == 299 {
            db.compact().unwrap();
        }
        if w == 1 && op % 250 == 249 {
            db.flush().unwrap();
        }
    }
}

/// Point reads, and with `scans` prefix scans too. Returns how many reads it made.
fn reader(db: &Db, shared: &Shared, r: usize, scans: bool) -> u64 {
    let mut rng = StdRng::seed_from_u64(200 + r as u64);
    let mut seen = vec![vec![0u64; KEYS_PER_WRITER]; WRITERS];
    let mut reads = 0u64;
    while !shared.writers_done.load(Ordering::SeqCst) || reads < 200 {
        let w = rng.gen_range(0..WRITERS);
        if scans && rng.gen_ratio(1, 4) {
            // A prefix scan of one writer's keys.
            let lower: Vec<u64> = (0..KEYS_PER_WRITER)
                .map(|j| shared.state(w, j).acked.load(Ordering::SeqCst).max(seen[w][j]))
                .collect();
            let prefix = format!("w{w}/").into_bytes();
            let got = db
                .scan_prefix(&prefix)
                .unwrap_or_else(|e| panic!("reader {r} scan: {e}"));
            let issued: Vec<u64> = (0..KEYS_PER_WRITER)
                .map(|j| shared.state(w, j).issued.load(Ordering::SeqCst))
                .collect();
            let got: BTreeMap<Vec<u8>, Vec<u8>> = got.into_iter().collect();
            assert!(
                got.keys().all(|k| k.starts_with(&prefix)),
                "reader {r}: scan left its prefix"
            );
            assert!(
                got.len() <= KEYS_PER_WRITER,
                "reader {r}: scan returned unknown keys"
            );
            for j in 0..KEYS_PER_WRITER {
                let v = check_read(
                    w,
                    j,
                    got.get(&key(w, j)).map(Vec::as_slice),
                    lower[j],
                    issued[j],
                    "scan",
                );
                if let Some(v) = v {
                    seen[w][j] = seen[w][j].max(v);
                }
            }
        } else {
            let j = rng.gen_range(0..KEYS_PER_WRITER);
            let lower = shared.state(w, j).acked.load(Ordering::SeqCst).max(seen[w][j]);
            let got = db
                .get(&key(w, j))
                .unwrap_or_else(|e| panic!("reader {r} get: {e}"));
            let issued = shared.state(w, j).issued.load(Ordering::SeqCst);
            if let Some(v) = check_read(w, j, got.as_deref(), lower, issued, "get") {
                seen[w][j] = seen[w][j].max(v);
            }
        }
        reads += 1;
    }
    reads
}

/// Every key holds exactly its last version (all writes are acknowledged by now).
fn check_final(db: &Db, shared: &Shared, what: &str) {
    let mut want = BTreeMap::new();
    for w in 0..WRITERS {
        for j in 0..KEYS_PER_WRITER {
            let st = shared.state(w, j);
            let v = st.acked.load(Ordering::SeqCst);
            assert_eq!(v, st.issued.load(Ordering::SeqCst));
            let k = key(w, j);
            let expect = (v > 0 && !is_delete(v)).then(|| value(&k, v));
            assert_eq!(
                db.get(&k).unwrap(),
                expect,
                "{what}: {}",
                String::from_utf8_lossy(&k)
            );
            if let Some(e) = expect {
                want.insert(k, e);
            }
        }
    }
    let all: BTreeMap<Vec<u8>, Vec<u8>> = db.scan_prefix(b"").unwrap().into_iter().collect();
    assert!(
        all == want,
        "{what}: full scan has {} keys, want {}",
        all.len(),
        want.len()
    );
}

fn share_one_db(scans: bool) {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let db = Arc::new(Db::open(dir.path(), options(), suite.clone()).unwrap());
    let shared = Arc::new(Shared {
        keys: (0..WRITERS)
            .map(|_| (0..KEYS_PER_WRITER).map(|_| KeyState::default()).collect())
            .collect(),
        writers_done: AtomicBool::new(false),
    });

    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (db, shared) = (db.clone(), shared.clone());
            std::thread::spawn(move || reader(&db, &shared, r, scans))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, shared) = (db.clone(), shared.clone());
            std::thread::spawn(move || writer(&db, &shared, w))
        })
        .collect();
    let writer_results: Vec<_> = writers.into_iter().map(|h| h.join()).collect();
    shared.writers_done.store(true, Ordering::SeqCst);
    let reads: Vec<_> = readers.into_iter().map(|h| h.join()).collect();
    for (w, res) in writer_results.into_iter().enumerate() {
        if let Err(p) = res {
            std::panic::resume_unwind(Box::new(format!(
                "writer {w} panicked: {:?}",
                p.downcast_ref::<String>()
            )));
        }
    }
    for (r, res) in reads.into_iter().enumerate() {
        match res {
            Ok(n) => assert!(n >= 200, "reader {r} made only {n} reads"),
            Err(p) => std::panic::resume_unwind(Box::new(format!(
                "reader {r} panicked: {:?}",
                p.downcast_ref::<String>()
            ))),
        }
    }

    // The tree really changed shape under the threads.
    let stats = db.stats().unwrap();
    assert!(
        stats.segments_per_level.iter().skip(1).sum::<usize>() > 0,
        "nothing was compacted: {stats:?}"
    );
    check_final(&db, &shared, "after the threads");

    let db = Arc::try_unwrap(db).unwrap_or_else(|_| panic!("threads still hold the db"));
    drop(db);
    let db = Db::open(dir.path(), options(), suite).unwrap();
    check_final(&db, &shared, "after reopen");
}

#[test]
fn writers_and_point_readers_share_one_db_through_flushes_and_compactions() {
    share_one_db(false);
}

#[test]
fn writers_and_scanning_readers_share_one_db_through_flushes_and_compactions() {
    share_one_db(true);
}

#[test]
fn a_second_open_of_a_live_directory_is_refused_with_423() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(false));
    let first = Db::open(dir.path(), options(), suite.clone()).unwrap();
    first.put(b"k", b"v1").unwrap();

    for s in [suite.clone(), Arc::new(CipherSuite::ephemeral(false))] {
        let err = Db::open(dir.path(), options(), s)
            .err()
            .expect("second open of a live directory");
        assert_eq!(err.status(), 423, "{err}");
        assert!(matches!(err, Error::InUse { .. }), "{err:?}");
        assert_eq!(err.substatus(), strata::substatus::DATA_DIR_IN_USE);
    }
    // The refused open disturbed nothing.
    first.put(b"k", b"v2").unwrap();
    first.flush().unwrap();
    assert_eq!(first.get(b"k").unwrap().as_deref(), Some(&b"v2"[..]));

    // From another thread, too (the lock is per open, not per thread).
    let (d, s) = (dir.path().to_path_buf(), suite.clone());
    let status = std::thread::spawn(move || Db::open(&d, options(), s).err().map(|e| e.status()))
        .join()
        .unwrap();
    assert_eq!(status, Some(423));

    drop(first);
    let again = Db::open(dir.path(), options(), suite).unwrap();
    assert_eq!(again.get(b"k").unwrap().as_deref(), Some(&b"v2"[..]));
}

/// Minimal form of what the shared-db tests above catch: one thread overwrites one key, whose
/// older version also sits in a segment, while another reads it. Every read must show the last
/// acknowledged version or a newer one; never the key missing, never the segment's stale copy.
#[test]
fn reads_never_miss_a_key_that_is_being_overwritten() {
    const PUTS: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        memtable_bytes: 64 << 20,
        ..options()
    };
    let db = Arc::new(Db::open(dir.path(), opts, Arc::new(CipherSuite::ephemeral(false))).unwrap());
    db.put(b"a", b"-").unwrap();
    db.put(b"b", &0u64.to_le_bytes()).unwrap();
    db.put(b"c", b"-").unwrap();
    db.flush().unwrap(); // b = 0 is now in a segment; the versions below stay in the memtable
    let acked = Arc::new(AtomicU64::new(0));
    let writer = {
        let (db, acked) = (db.clone(), acked.clone());
        std::thread::spawn(move || {
            for i in 1..=PUTS {
                db.put(b"b", &i.to_le_bytes()).unwrap();
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    let version = |v: Option<&[u8]>| v.map(|v| u64::from_le_bytes(v.try_into().unwrap()));
    let (mut reads, mut stale_gets, mut stale_scans) = (0u64, Vec::new(), Vec::new());
    while acked.load(Ordering::SeqCst) < PUTS {
        let a = acked.load(Ordering::SeqCst);
        let got = version(db.get(b"b").unwrap().as_deref());
        if got.is_none_or(|v| v < a) {
            stale_gets.push((a, got));
        }
        let a = acked.load(Ordering::SeqCst);
        let all = db.scan_prefix(b"").unwrap();
        let got = version(all.iter().find(|(k, _)| k == b"b").map(|(_, v)| v.as_slice()));
        if all.len() != 3 || got.is_none_or(|v| v < a) {
            stale_scans.push((a, got));
        }
        reads += 1;
    }
    writer.join().unwrap();
    assert!(
        stale_gets.is_empty() && stale_scans.is_empty(),
        "of {reads} gets and scans, {} gets and {} scans showed b missing or older than acknowledged \
         (acked, seen): gets {:?}, scans {:?}",
        stale_gets.len(),
        stale_scans.len(),
        &stale_gets[..stale_gets.len().min(3)],
        &stale_scans[..stale_scans.len().min(3)],
    );
}
