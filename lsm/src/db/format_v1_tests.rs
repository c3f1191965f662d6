//! Fixture of the old segment format (format_version.rs): a version-1 segment, written by the
//! code before the blocked filter (fixtures/segment-v1.hex: a flush of 200 keys `k0000..k0199`
//! with values `v0..v199`, file id 3, under the service key `[7; 32]`), is read by this code
//! through its whole-array filter, and rewritten in the current format by the re-seal pass.
//! Also checks that neither a damaged filter nor an altered version field can make a filter
//! answer "absent" for a key the segment holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::db::{Db, DbOptions, Durability};
use crate::error::Error;
use crate::file_header::HEADER_LEN;
use crate::format_version::{SEGMENT_VERSION, SEGMENT_VERSION_V1};
use crate::kv::WriteBatch;
use crate::sst::{segment_file_name, KeyHash, Segment, SegmentIter};
use strata_base::seal::Dek;

const FIXTURE_ID: u64 = 3;
const KEYS: u32 = 200;

fn fixture() -> Vec<u8> {
    let hex = include_str!("../sst/fixtures/segment-v1.hex");
    strata_base::seal::hex::decode(hex.trim()).expect("fixture hex")
}

fn suite() -> Arc<CipherSuite> {
    Arc::new(CipherSuite::new(
        Dek::from_slice(&[7; 32]).expect("32 bytes"),
        None,
    ))
}

fn key(i: u32) -> Vec<u8> {
    format!("k{i:04}").into_bytes()
}

fn write_fixture(dir: &Path, bytes: &[u8]) -> PathBuf {
    let path = dir.join(segment_file_name(FIXTURE_ID));
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn get(seg: &Segment, cache: &BlockCache, k: &[u8]) -> Option<Vec<u8>> {
    seg.get(k, Some(KeyHash::of(k)), cache)
        .expect("get")
        .and_then(|(_, v)| v)
}

#[test]
fn a_version_1_segment_reads_through_its_old_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_fixture(dir.path(), &fixture());
    let seg = Arc::new(Segment::open(&path, FIXTURE_ID, &suite()).expect("open the v1 segment"));
    assert_eq!(seg.format_version(), SEGMENT_VERSION_V1);
    let cache = BlockCache::new(1 << 20);
    for i in 0..KEYS {
        assert_eq!(
            get(&seg, &cache, &key(i)),
            Some(format!("v{i}").into_bytes()),
            "k{i:04}"
        );
    }
    // Keys the segment does not hold: within its range, past it, and a filter-skipped probe.
    for absent in [&b"k0000x"[..], b"k0200", b"k01995", b"a", b"z"] {
        assert_eq!(get(&seg, &cache, absent), None);
        assert_eq!(seg.get(absent, None, &cache).expect("get").map(|(_, v)| v), None);
    }
    assert_eq!(SegmentIter::new(seg.clone(), b"", None).count(), KEYS as usize);
    assert_eq!(seg.smallest(), key(0));
    assert_eq!(seg.largest(), key(KEYS - 1));
}

/// Each byte of the sealed filter block flipped (its checksum made right again, so the damage
/// reaches the seal): the segment does not open, so no read ever consults a damaged filter.
#[test]
fn a_damaged_filter_fails_authentication_instead_of_hiding_keys() {
    let bytes = fixture();
    let (filter_off, filter_len) = filter_handle(&bytes);
    let dir = tempfile::tempdir().expect("tempdir");
    for at in (filter_off..filter_off + filter_len - 4).step_by(7) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let crc = crc32fast::hash(&bad[filter_off..filter_off + filter_len - 4]);
        bad[filter_off + filter_len - 4..filter_off + filter_len].copy_from_slice(&crc.to_le_bytes());
        let path = write_fixture(dir.path(), &bad);
        match Segment::open(&path, FIXTURE_ID, &suite()) {
            Err(Error::Corruption { detail, .. }) => {
                assert!(detail.contains("fails authentication"), "byte {at}: {detail}")
            }
            other => panic!("byte {at}: opened or failed otherwise: {other:?}"),
        }
    }
}

/// The header's version field is covered by a CRC only: set to the other version (CRC made
/// right), the filter bytes do not parse as that version's format and the segment is refused,
/// both ways round.
#[test]
fn an_altered_version_field_cannot_reinterpret_the_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v1 = fixture();
    let v2 = {
        let suite = suite();
        let mut w = crate::sst::SegmentWriter::create(dir.path(), FIXTURE_ID, &suite).expect("create");
        for i in 0..KEYS {
            w.add(&crate::kv::Record {
                key: key(i),
                seq: u64::from(i),
                value: Some(vec![1]),
            })
            .expect("add");
        }
        w.finish().expect("finish");
        std::fs::read(dir.path().join(segment_file_name(FIXTURE_ID))).expect("read")
    };
    for (bytes, to) in [(v1, SEGMENT_VERSION), (v2, SEGMENT_VERSION_V1)] {
        let mut bad = bytes.clone();
        bad[8..12].copy_from_slice(&to.to_le_bytes());
        let crc = crc32fast::hash(&bad[..HEADER_LEN - 4]);
        bad[HEADER_LEN - 4..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        let path = write_fixture(dir.path(), &bad);
        let err = Segment::open(&path, FIXTURE_ID, &suite()).expect_err("must not open");
        let shown = err.to_string();
        assert!(
            shown.contains("filter block does not parse") || shown.contains("fails authentication"),
            "to version {to}: {shown}"
        );
    }
}

/// A store whose segment is of version 1 answers reads through it, and the re-seal pass (run by
/// the background thread after every open; by hand here) rewrites it as the current version.
#[test]
fn a_store_with_a_version_1_segment_reads_it_and_rewrites_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || DbOptions {
        background_compaction: false,
        ..DbOptions::default()
    };
    {
        // The same writes as made the fixture: the flush writes segment 3 with the same keys.
        let db = Db::open(dir.path(), opts(), suite()).expect("open");
        let mut b = WriteBatch::new();
        for i in 0..KEYS {
            b.put(key(i), format!("v{i}").into_bytes());
        }
        db.write(b, Durability::Sync).expect("write");
        db.flush().expect("flush");
    }
    let seg_dir = dir.path().join("seg");
    assert!(
        seg_dir.join(segment_file_name(FIXTURE_ID)).exists(),
        "the flush wrote segment 3"
    );
    write_fixture(&seg_dir, &fixture());

    let versions = |db: &Db| -> Vec<u32> {
        let sv = db.shared.current().expect("current");
        sv.version.segments().map(|s| s.format_version()).collect()
    };
    let check = |db: &Db| {
        for i in 0..KEYS {
            assert_eq!(db.get(&key(i)).expect("get"), Some(format!("v{i}").into_bytes()));
        }
        assert_eq!(db.get(b"k0200").expect("get"), None);
        assert_eq!(db.scan_prefix(b"k").expect("scan").len(), KEYS as usize);
    };
    let db = Db::open(dir.path(), opts(), suite()).expect("reopen over the v1 segment");
    assert_eq!(versions(&db), vec![SEGMENT_VERSION_V1]);
    check(&db);
    db.reseal().expect("re-seal");
    assert_eq!(versions(&db), vec![SEGMENT_VERSION]);
    check(&db);
    drop(db);
    let db = Db::open(dir.path(), opts(), suite()).expect("reopen");
    assert_eq!(versions(&db), vec![SEGMENT_VERSION]);
    check(&db);
}

/// The filter block's (offset, length) from the footer of `bytes`.
fn filter_handle(bytes: &[u8]) -> (usize, usize) {
    let f = crate::sst::Footer::decode(Path::new("fixture.seg"), bytes).expect("footer");
    (f.filter.offset as usize, f.filter.len as usize)
}
