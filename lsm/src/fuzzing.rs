//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off by default): thin
//! wrappers that hand the crate-private decoders — WAL replay as recovery runs it, the segment
//! reader — plain types, plus the writers the seed-corpus generator needs and a fixed-key cipher
//! suite so seeds stay valid across runs. Holds no logic
//! of its own and must not be used outside fuzzing. See docs/reliability.md ("Coverage-guided
//! fuzzing").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::error::{Error, Result};
use crate::kv::Record;
use crate::sst::block::BlockBuilder;
use crate::sst::{forge, segment_file_name, KeyHash, Segment, SegmentIter, SegmentWriter};
use crate::wal::{encode_record, replay_until, wal_file_name, WalWriter};
use strata_base::seal::Dek;

/// The file id every fuzzed WAL carries (the reader checks it against the file name's).
pub const WAL_ID: u64 = 1;
/// The file id every fuzzed segment carries.
pub const SEGMENT_ID: u64 = 7;

/// Fixed, public test keys: the seeds in `fuzz/corpus` are sealed under them. Never an account's.
const SERVICE_KEY: [u8; 32] = [0x5a; 32];
const CUSTOMER_KEY: [u8; 32] = [0xc3; 32];

/// A key-value record: key, sequence number, value (`None` for a deletion).
pub type KvRecord = (Vec<u8>, u64, Option<Vec<u8>>);
/// One write batch: `(key, value)` operations, `None` deleting.
pub type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;
/// A point read: the newest version's sequence number and value (`None`: deleted), if any.
pub type Got = Option<(u64, Option<Vec<u8>>)>;

fn kv(r: Record) -> KvRecord {
    (r.key, r.seq, r.value)
}

/// The cipher suite of the fuzz targets: fixed keys, one seal layer (service) or two (customer
/// and service).
pub fn suite(customer_layer: bool) -> CipherSuite {
    CipherSuite::new(
        Dek::from_bytes(SERVICE_KEY),
        customer_layer.then(|| Dek::from_bytes(CUSTOMER_KEY)),
    )
}

/// Path of the WAL file the reader expects in `dir`.
pub fn wal_path(dir: &Path) -> PathBuf {
    dir.join(wal_file_name(WAL_ID))
}

/// Path of the segment file the reader expects in `dir`.
pub fn segment_path(dir: &Path) -> PathBuf {
    dir.join(segment_file_name(SEGMENT_ID))
}

/// What one WAL replay gave.
#[derive(Debug)]
pub struct WalReplay {
    pub records: Vec<KvRecord>,
    /// Sealed records (frames) replayed.
    pub frames: u64,
    /// `(offset, bytes dropped)` of a torn tail.
    pub torn_tail: Option<(u64, u64)>,
}

/// Replays the WAL at `path` exactly as recovery does (`is_last`: it is the newest WAL, the only
/// one that may end in a torn record).
pub fn replay_wal(path: &Path, suite: &CipherSuite, is_last: bool) -> Result<WalReplay> {
    let mut records = Vec::new();
    let report = replay_until(path, WAL_ID, suite, is_last, None, |r| records.push(kv(r)))?;
    Ok(WalReplay {
        records,
        frames: report.records,
        torn_tail: report.torn_tail,
    })
}

/// Writes a WAL in `dir` as the write path does: one sealed record per batch of
/// `(key, value)` operations, sequence numbers from 1, commit times from 1.
pub fn write_wal(dir: &Path, suite: &CipherSuite, batches: &[Batch]) -> Result<PathBuf> {
    let mut w = WalWriter::create(dir, WAL_ID, suite)?;
    let mut seq = 1;
    for ops in batches {
        let ops: Vec<(&[u8], Option<&[u8]>)> =
            ops.iter().map(|(k, v)| (k.as_slice(), v.as_deref())).collect();
        w.append(seq, seq, &ops)?;
        seq += ops.len() as u64;
    }
    w.sync()?;
    Ok(wal_path(dir))
}

/// The plaintext of one WAL record as the write path encodes it (commit time, first sequence
/// number, operations), for seeds of `write_sealed_wal`.
pub fn wal_record(commit_ms: u64, first_seq: u64, ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let ops: Vec<(&[u8], Option<&[u8]>)> = ops.iter().map(|(k, v)| (k.as_slice(), v.as_deref())).collect();
    encode_record(commit_ms, first_seq, &ops)
}

/// Writes a WAL in `dir` whose records are sealed correctly but hold the plaintexts `records`
/// (anything): how the fuzzer reaches the record decoder behind the AEAD.
pub fn write_sealed_wal(dir: &Path, suite: &CipherSuite, records: &[Vec<u8>]) -> Result<PathBuf> {
    let mut w = WalWriter::create(dir, WAL_ID, suite)?;
    for plain in records {
        w.append_plain(plain.clone())?;
    }
    w.sync()?;
    Ok(wal_path(dir))
}

/// What reading a segment gave: its scan up to the first error (and that error), and the point
/// read of each probe.
#[derive(Debug)]
pub struct SegmentRead {
    pub scan: Vec<KvRecord>,
    pub scan_error: Option<Error>,
    pub gets: Vec<Result<Got>>,
}

/// Opens the segment at `path` as the store does, scans it from the start (and from `start`),
/// and reads each of `probes` through a block cache.
pub fn read_segment(
    path: &Path,
    suite: &CipherSuite,
    start: &[u8],
    probes: &[Vec<u8>],
) -> Result<SegmentRead> {
    let seg = Arc::new(Segment::open(path, SEGMENT_ID, suite)?);
    let cache = BlockCache::new(1 << 20);
    let mut scan = Vec::new();
    let mut scan_error = None;
    for r in SegmentIter::new(seg.clone(), b"", None) {
        match r {
            Ok(r) => scan.push(kv(r)),
            Err(e) => {
                scan_error = Some(e);
                break;
            }
        }
    }
    // A scan from a key, through the cache, stops at its first error too.
    for r in SegmentIter::new(seg.clone(), start, Some(&cache)) {
        if r.is_err() {
            break;
        }
    }
    let gets = probes
        .iter()
        .map(|k| seg.get(k, Some(KeyHash::of(k)), &cache))
        .collect();
    Ok(SegmentRead {
        scan,
        scan_error,
        gets,
    })
}

/// Writes a segment in `dir` as a flush does, from records sorted by key.
pub fn write_segment(dir: &Path, suite: &CipherSuite, records: &[KvRecord]) -> Result<PathBuf> {
    let mut w = SegmentWriter::create(dir, SEGMENT_ID, suite)?;
    for (key, seq, value) in records {
        w.add(&Record {
            key: key.clone(),
            seq: *seq,
            value: value.clone(),
        })?;
    }
    w.finish()?;
    Ok(segment_path(dir))
}

/// A segment's bytes whose data blocks are sealed correctly but hold the plaintexts `blocks`
/// (anything), named in the index by `last_keys`, with a filter of `filter_keys`.
pub fn forged_segment(
    suite: &CipherSuite,
    blocks: &[Vec<u8>],
    last_keys: &[Vec<u8>],
    filter_keys: &[Vec<u8>],
) -> Result<Vec<u8>> {
    forge::forged_segment(suite, SEGMENT_ID, blocks, last_keys, filter_keys)
}

/// A segment's bytes whose index is sealed correctly but claims `count` data blocks and holds
/// `body` after the count.
pub fn forged_index_segment(suite: &CipherSuite, count: u32, body: &[u8]) -> Result<Vec<u8>> {
    forge::forged_index_segment(suite, SEGMENT_ID, count, body)
}

/// A data block's raw (uncompressed) bytes as the writer builds them from records sorted by key,
/// for seeds of `forged_segment` (through `compressed_block`).
pub fn data_block(records: &[KvRecord]) -> Vec<u8> {
    let mut b = BlockBuilder::new();
    for (key, seq, value) in records {
        b.add(&Record {
            key: key.clone(),
            seq: *seq,
            value: value.clone(),
        });
    }
    b.finish()
}

/// A data block's plaintext as the writer stores it: a claimed raw size (the true one if `None`)
/// and `raw` compressed.
pub fn compressed_block(raw: &[u8], claimed: Option<u32>) -> Result<Vec<u8>> {
    forge::compressed_block(raw, claimed)
}
