//! Decoder fuzzing of segments (proptest, stable Rust, part of every `cargo test`): the block,
//! filter and footer decoders on arbitrary bytes; real segment files after random damage, which
//! open and read back as exactly the records written or fail with a corruption error naming the
//! file; random bytes, and authenticated blocks claiming huge counts, opened as segments.
//! See docs/reliability.md ("Decoder fuzzing").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::Index;

use super::block::{BlockBuilder, DataBlock};
use super::bloom::{Bloom, BloomBuilder, KeyHash};
use super::forge::{self, compressed_block};
use super::format::{Footer, Handle, FOOTER_LEN, MAX_RAW_BLOCK};
use super::{segment_file_name, Segment, SegmentIter, SegmentWriter};
use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::error::{Error, Result};
use crate::file_header::HEADER_LEN;
use crate::format_version::{SEGMENT_VERSION, SEGMENT_VERSION_V1};
use crate::kv::Record;
use strata_base::coding::{put_u32, put_u64};
use strata_base::fuzz_support::{config, largest_allocation};

const ID: u64 = 7;
/// Largest single allocation opening or reading a (small) segment may make: far below the sizes
/// the forged counts claim.
const ALLOC_LIMIT: usize = 8 << 20;

type Entries = BTreeMap<Vec<u8>, (u64, Option<Vec<u8>>)>;
/// A point read: the newest version (`None` value: a tombstone), if any.
type Got = Result<Option<(u64, Option<Vec<u8>>)>>;

/// A few hundred records; values up to 3 KiB so that a segment has several blocks.
fn entries() -> impl Strategy<Value = Entries> {
    let value = prop_oneof![
        4 => vec(any::<u8>(), 0..64),
        1 => vec(any::<u8>(), 0..3072),
    ];
    btree_map(
        vec(any::<u8>(), 1..16),
        (0u64..1 << 40, proptest::option::of(value)),
        1..300,
    )
}

fn records(e: &Entries) -> Vec<Record> {
    e.iter()
        .map(|(k, (seq, v))| Record {
            key: k.clone(),
            seq: *seq,
            value: v.clone(),
        })
        .collect()
}

fn write_segment(dir: &Path, suite: &CipherSuite, e: &Entries) -> (PathBuf, Vec<u8>) {
    let mut w = SegmentWriter::create(dir, ID, suite).unwrap();
    for r in records(e) {
        w.add(&r).unwrap();
    }
    w.finish().unwrap();
    let path = dir.join(segment_file_name(ID));
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// Nothing in a segment records the size at which its data blocks were cut: segments cut at
/// 1 KiB, at `BLOCK_TARGET` (4 KiB), at 16 KiB (the size before) and at 64 KiB all read back
/// exactly, by scan and by point reads.
#[test]
fn segments_read_whatever_their_block_size() {
    let suite = CipherSuite::ephemeral(true);
    let e: Entries = (0..400u32)
        .map(|i| {
            (
                format!("key-{i:05}").into_bytes(),
                (u64::from(i), Some(vec![i as u8; 700])),
            )
        })
        .collect();
    let mut blocks = Vec::new();
    for target in [1 << 10, super::format::BLOCK_TARGET, 16 << 10, 64 << 10] {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::create(dir.path(), ID, &suite)
            .unwrap()
            .with_block_target(target);
        for r in records(&e) {
            w.add(&r).unwrap();
        }
        w.finish().unwrap();
        let path = dir.path().join(segment_file_name(ID));
        let bytes = std::fs::read(&path).unwrap();
        blocks.push(Footer::decode(&path, &bytes).unwrap().data_blocks);
        let probes: Vec<Vec<u8>> = e
            .keys()
            .cloned()
            .chain([b"key-".to_vec(), b"zz".to_vec()])
            .collect();
        let read = open_and_read(&path, &suite, &bytes, &probes).unwrap();
        assert_eq!(read.scan, records(&e));
        assert!(read.scan_error.is_none());
        for (k, got) in probes.iter().zip(&read.gets) {
            assert_eq!(got.as_ref().unwrap(), &e.get(k).cloned(), "{target}: {k:?}");
        }
    }
    assert!(
        blocks.windows(2).all(|w| w[0] > w[1]),
        "blocks per size: {blocks:?}"
    );
}

/// What reading a segment gave: the scan (records up to the first error, and that error) and
/// the point reads of `probes`.
struct Read {
    scan: Vec<Record>,
    scan_error: Option<Error>,
    gets: Vec<Got>,
}

fn open_and_read(path: &Path, suite: &CipherSuite, bytes: &[u8], probes: &[Vec<u8>]) -> Result<Read> {
    std::fs::write(path, bytes).unwrap();
    let (read, largest) = largest_allocation(|| -> Result<Read> {
        let seg = Arc::new(Segment::open(path, ID, suite)?);
        let mut scan = Vec::new();
        let mut scan_error = None;
        for r in SegmentIter::new(seg.clone(), b"", None) {
            match r {
                Ok(r) => scan.push(r),
                Err(e) => {
                    scan_error = Some(e);
                    break;
                }
            }
        }
        let cache = BlockCache::new(1 << 20);
        let gets = probes
            .iter()
            .map(|k| seg.get(k, Some(KeyHash::of(k)), &cache))
            .collect();
        Ok(Read {
            scan,
            scan_error,
            gets,
        })
    });
    assert!(
        largest <= ALLOC_LIMIT,
        "reading a segment allocated {largest} bytes at once"
    );
    read
}

fn assert_corruption_naming(e: &Error, path: &Path) {
    assert!(e.is_corruption(), "{e}");
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(e.to_string().contains(name), "error does not name the file: {e}");
}

/// Whatever a damaged segment returns is what was written: a scan yields a prefix of the
/// records, then stops with a corruption error; a point read yields the written version, nothing
/// for a key never written, or a corruption error. Returns whether any damage was seen.
fn check_read(got: &Result<Read>, e: &Entries, probes: &[Vec<u8>], path: &Path) -> bool {
    let read = match got {
        Err(err) => {
            assert_corruption_naming(err, path);
            return true;
        }
        Ok(r) => r,
    };
    let all = records(e);
    assert!(read.scan.len() <= all.len());
    assert_eq!(
        read.scan,
        all[..read.scan.len()],
        "a scan returned records that were not written"
    );
    let mut damaged = false;
    if let Some(err) = &read.scan_error {
        assert_corruption_naming(err, path);
        damaged = true;
    } else {
        assert_eq!(read.scan.len(), all.len(), "a scan ended early without an error");
    }
    for (k, got) in probes.iter().zip(&read.gets) {
        match got {
            Ok(v) => assert_eq!(v.as_ref(), e.get(k), "a point read returned other data"),
            Err(err) => {
                assert_corruption_naming(err, path);
                damaged = true;
            }
        }
    }
    damaged
}

#[derive(Clone, Debug)]
enum Damage {
    Flip {
        at: Index,
        bit: u8,
    },
    Truncate(Index),
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    /// Two 16-byte ranges exchanged.
    Swap(Index, Index),
    /// A run of bytes overwritten with others.
    Overwrite {
        at: Index,
        bytes: Vec<u8>,
    },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), vec(any::<u8>(), 1..32)).prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Swap(a, b)),
        (any::<Index>(), vec(any::<u8>(), 1..64)).prop_map(|(at, bytes)| Damage::Overwrite { at, bytes }),
    ]
}

fn apply(d: &Damage, good: &[u8]) -> Vec<u8> {
    let mut b = good.to_vec();
    match d {
        Damage::Flip { at, bit } => b[at.index(good.len())] ^= 1 << bit,
        Damage::Truncate(at) => b.truncate(at.index(good.len())),
        Damage::Insert { at, bytes } => {
            let at = at.index(good.len() + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Damage::Swap(x, y) => {
            let n = good.len() - 16;
            let (x, y) = (x.index(n), y.index(n));
            b[y..y + 16].copy_from_slice(&good[x..x + 16]);
            b[x..x + 16].copy_from_slice(&good[y..y + 16]);
        }
        Damage::Overwrite { at, bytes } => {
            let at = at.index(good.len());
            let n = bytes.len().min(good.len() - at);
            b[at..at + n].copy_from_slice(&bytes[..n]);
        }
    }
    b
}

/// The keys to read back: every key written and a few that were not.
fn probes(e: &Entries, absent: &[Vec<u8>]) -> Vec<Vec<u8>> {
    e.keys().chain(absent).cloned().collect()
}

proptest! {
    // 256 cases: pure decoding of at most a few KiB each; well under a second in all.
    #![proptest_config(config(256))]

    /// Arbitrary bytes as a data block: refused, or a block whose every entry reads and whose
    /// keys are strictly increasing; never a panic or a large allocation.
    #[test]
    fn data_block_decoder_takes_any_bytes(bytes in vec(any::<u8>(), 0..1024)) {
        let (block, largest) = largest_allocation(|| DataBlock::decode(bytes.clone()));
        prop_assert!(largest <= ALLOC_LIMIT, "{} bytes allocated", largest);
        if let Some(block) = block {
            let recs: Vec<Record> = (0..block.len()).map(|i| block.record(i).unwrap()).collect();
            prop_assert!(recs.windows(2).all(|w| w[0].key < w[1].key));
            for r in &recs {
                prop_assert_eq!(block.get(&r.key), Some((r.seq, r.value.clone())));
            }
        }
    }

    /// Blocks built from sorted records decode to exactly those records; a cut block is refused.
    #[test]
    fn data_block_round_trip(e in entries(), cut in any::<Index>()) {
        let mut b = BlockBuilder::new();
        let recs = records(&e);
        for r in &recs {
            b.add(r);
        }
        let raw = b.finish();
        let block = DataBlock::decode(raw.clone()).unwrap();
        let got: Vec<Record> = (0..block.len()).map(|i| block.record(i).unwrap()).collect();
        prop_assert_eq!(got, recs);
        // Cutting bytes off the end drops the count and offsets table: never the same block.
        let cut = cut.index(raw.len());
        if let Some(short) = DataBlock::decode(raw[..cut].to_vec()) {
            prop_assert!(short.len() < block.len() || block.len() == 0);
        }
    }

    /// Arbitrary filter and footer bytes: refused or decoded, never a panic; a decoded footer is
    /// exactly the bytes it came from.
    #[test]
    fn filter_and_footer_decoders_take_any_bytes(
        bytes in vec(any::<u8>(), 0..256),
        key in vec(any::<u8>(), 0..16),
        fix_crc in any::<bool>(),
    ) {
        for version in [SEGMENT_VERSION, SEGMENT_VERSION_V1] {
            if let Some(f) = Bloom::decode(&bytes, version) {
                let _ = f.may_contain(&key, KeyHash::of(&key));
            }
        }
        let mut file = bytes.clone();
        if fix_crc && file.len() >= FOOTER_LEN {
            // Make the footer's checksum right so the decoder gets past it.
            let at = file.len() - FOOTER_LEN;
            let crc = crc32fast::hash(&file[at..file.len() - 4]);
            let n = file.len();
            file[n - 4..].copy_from_slice(&crc.to_le_bytes());
        }
        let p = Path::new("f.seg");
        if let Ok(footer) = Footer::decode(p, &file) {
            prop_assert_eq!(&footer.encode()[..], &file[file.len() - FOOTER_LEN..]);
        }
    }

    /// A filter always contains every key added to it.
    #[test]
    fn filter_has_no_false_negatives(keys in vec(vec(any::<u8>(), 0..16), 0..200)) {
        let mut b = BloomBuilder::new();
        for k in &keys {
            b.add(k);
        }
        let f = Bloom::decode(&b.finish(), SEGMENT_VERSION).unwrap();
        prop_assert!(keys.iter().all(|k| f.may_contain(k, KeyHash::of(k))));
    }
}

proptest! {
    // 64 cases: each writes a segment of up to 300 records (several blocks), then opens, scans
    // and point-reads it twice; about 20 ms a case in a debug build.
    #![proptest_config(config(64))]

    /// A damaged segment reads back as exactly what was written, up to a corruption error naming
    /// the file; the damage is always detected by the open or by a full scan.
    #[test]
    fn damaged_segment_reads_original_data_or_fails(
        e in entries(),
        absent in vec(vec(any::<u8>(), 0..16), 0..8),
        customer_layer in any::<bool>(),
        d in damage(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(customer_layer);
        let (path, good) = write_segment(dir.path(), &suite, &e);
        let probes = probes(&e, &absent);

        let got = open_and_read(&path, &suite, &good, &probes);
        prop_assert!(!check_read(&got, &e, &probes, &path), "undamaged segment failed to read");

        let bad = apply(&d, &good);
        if bad != good {
            let got = open_and_read(&path, &suite, &bad, &probes);
            prop_assert!(check_read(&got, &e, &probes, &path), "{:?} went undetected", d);
        }
    }
}

proptest! {
    // 256 cases: each opens a file of at most a few KiB that fails at open.
    #![proptest_config(config(256))]

    /// Random bytes, alone or behind a valid header and in front of a footer with a valid
    /// checksum (so that its handles, of any size, are followed), do not open as a segment.
    #[test]
    fn random_bytes_are_not_a_segment(
        junk in vec(any::<u8>(), 0..4096),
        footer in (any::<u64>(), any::<u32>(), any::<u64>(), any::<u32>(), any::<u32>()),
        small_offsets in any::<bool>(),
        shape in 0..3u8,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let (path, good) = write_segment(dir.path(), &suite, &BTreeMap::from([(b"k".to_vec(), (1, None))]));
        let (io, il, fo, fl, n) = footer;
        let (io, fo) = if small_offsets { (io % 8192, fo % 8192) } else { (io, fo) };
        let footer = Footer {
            index: Handle { offset: io, len: il },
            filter: Handle { offset: fo, len: fl },
            data_blocks: n,
        }
        .encode();
        let bytes = match shape {
            0 => junk,
            1 => [&good[..HEADER_LEN], &junk[..]].concat(),
            _ => [&good[..HEADER_LEN], &junk[..], &footer[..]].concat(),
        };
        let got = open_and_read(&path, &suite, &bytes, &[b"k".to_vec()]);
        prop_assert!(got.is_err());
        check_read(&got, &BTreeMap::new(), &[], &path);
    }

    /// An index block that authenticates but claims up to 4 Gi data blocks (a writer bug or a
    /// key holder's forgery) is refused as corruption without allocating for that many.
    #[test]
    fn authenticated_index_claiming_huge_counts_is_refused(
        count in (1u32 << 16)..=u32::MAX,
        body in vec(any::<u8>(), 0..64),
        long_key in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let mut body = body;
        if long_key {
            // The first entry's key claims 4 GiB.
            let mut b = Vec::new();
            put_u32(&mut b, u32::MAX);
            put_u64(&mut b, HEADER_LEN as u64);
            b.extend_from_slice(&body);
            body = b;
        }
        let bytes = forged_index_segment(&suite, count, &body);
        let path = dir.path().join(segment_file_name(ID));
        let got = open_and_read(&path, &suite, &bytes, &[]);
        prop_assert!(got.is_err());
        check_read(&got, &BTreeMap::new(), &[], &path);
    }
}

/// Regression (found by `authenticated_index_claiming_huge_counts_is_refused`): the index parser
/// sized its entry vector by the block's claimed count, so an authenticated index claiming
/// `u32::MAX` blocks asked for about 170 GB at once (an abort where overcommit is off). The
/// capacity is now bounded by what the block can hold.
#[test]
fn index_claiming_u32_max_blocks_is_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let suite = CipherSuite::ephemeral(true);
    let path = dir.path().join(segment_file_name(ID));
    let got = open_and_read(&path, &suite, &forged_index_segment(&suite, u32::MAX, &[]), &[]);
    let err = got.err().unwrap();
    assert_corruption_naming(&err, &path);
    assert!(err.to_string().contains("index block"), "{err}");
}

/// What a forged data block holds, sealed with the right key.
#[derive(Clone, Debug)]
enum ForgedBlock {
    /// Records as the writer encodes them (possibly out of order with the index or each other).
    Records(Vec<(Vec<u8>, u64, Option<Vec<u8>>)>),
    /// Arbitrary bytes, compressed, behind a size that may or may not match.
    Compressed { raw: Vec<u8>, claimed: Option<u32> },
    /// Arbitrary plaintext.
    Raw(Vec<u8>),
}

fn forged_block() -> impl Strategy<Value = ForgedBlock> {
    let rec = (
        vec(any::<u8>(), 0..8),
        any::<u64>(),
        proptest::option::of(vec(any::<u8>(), 0..16)),
    );
    prop_oneof![
        vec(rec, 0..12).prop_map(ForgedBlock::Records),
        (vec(any::<u8>(), 0..256), proptest::option::of(any::<u32>()))
            .prop_map(|(raw, claimed)| ForgedBlock::Compressed { raw, claimed }),
        vec(any::<u8>(), 0..64).prop_map(ForgedBlock::Raw),
    ]
}

fn forged_plain(b: &ForgedBlock) -> Vec<u8> {
    match b {
        ForgedBlock::Records(recs) => {
            let mut bb = BlockBuilder::new();
            for (key, seq, value) in recs {
                bb.add(&Record {
                    key: key.clone(),
                    seq: *seq,
                    value: value.clone(),
                });
            }
            compressed_block(&bb.finish(), None).unwrap()
        }
        ForgedBlock::Compressed { raw, claimed } => compressed_block(raw, *claimed).unwrap(),
        ForgedBlock::Raw(bytes) => bytes.clone(),
    }
}

/// A segment sealed with the right key whose blocks hold anything: `blocks` data blocks, an
/// index naming them with `last_keys`, and a filter of `filter_keys`.
fn forged_segment(
    suite: &CipherSuite,
    blocks: &[ForgedBlock],
    last_keys: &[Vec<u8>],
    filter_keys: &[Vec<u8>],
) -> Vec<u8> {
    let plains: Vec<Vec<u8>> = blocks.iter().map(forged_plain).collect();
    forge::forged_segment(suite, ID, &plains, last_keys, filter_keys).unwrap()
}

/// A segment whose index block is sealed correctly (as only a key holder could) but claims
/// `count` data blocks while holding `body` after the count.
fn forged_index_segment(suite: &CipherSuite, count: u32, body: &[u8]) -> Vec<u8> {
    forge::forged_index_segment(suite, ID, count, body).unwrap()
}

proptest! {
    // 128 cases: each seals and opens a segment of a few small blocks; a few ms a case.
    #![proptest_config(config(128))]

    /// Blocks that authenticate but hold anything (a writer bug or a key holder's forgery: keys
    /// out of order, sizes that lie, bytes that are not zstd or not a block) are read or refused
    /// with an error — corruption, or internal for states a checked block cannot reach — never a
    /// panic, and never an allocation beyond the block size limit (64 MiB).
    #[test]
    fn authenticated_malformed_blocks_are_refused_or_read(
        blocks in vec(forged_block(), 0..5),
        last_keys in vec(vec(any::<u8>(), 0..8), 0..5),
        probes in vec(vec(any::<u8>(), 0..8), 0..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let path = dir.path().join(segment_file_name(ID));
        // Filter everything probed, so point reads reach the blocks.
        let bytes = forged_segment(&suite, &blocks, &last_keys, &probes);
        std::fs::write(&path, &bytes).unwrap();
        let (res, largest) = largest_allocation(|| -> Result<()> {
            let seg = Arc::new(Segment::open(&path, ID, &suite)?);
            let cache = BlockCache::new(1 << 20);
            for k in &probes {
                if let Err(e) = seg.get(k, Some(KeyHash::of(k)), &cache) {
                    assert_eq!(e.status(), 500, "{e}");
                }
                for r in SegmentIter::new(seg.clone(), k, Some(&cache)).take(64) {
                    if let Err(e) = r {
                        assert_eq!(e.status(), 500, "{e}");
                        break;
                    }
                }
            }
            Ok(())
        });
        // A block's claimed size sizes the decompression buffer: bounded by MAX_RAW_BLOCK (a
        // sealed block is trusted that far), not by anything larger the bytes claim.
        prop_assert!(largest <= MAX_RAW_BLOCK + (1 << 20), "{} bytes allocated", largest);
        if let Err(e) = res {
            prop_assert_eq!(e.status(), 500, "{}", e);
        }
    }
}
