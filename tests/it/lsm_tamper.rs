//! Tampering with any one byte of a store's files is detected, never read back as data: a flipped
//! byte in a segment file fails `open`, a `get` or the full scan with a corruption error; in the
//! MANIFEST it fails `open`; in a WAL record that is not the last it fails `open`; in the last
//! record it fails `open` or drops that record as a torn tail. Also: swapped, truncated or
//! extended segments and wrong keys are corruption; a missing segment or MANIFEST fails `open`.
//! The layouts are parsed here from the format specs (engine/src/{sst,wal}/format.rs) so the
//! flips are aimed at every region.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use strata::{CipherSuite, Db, DbOptions, Durability, WriteBatch};

/// `magic: [u8; 8] | version: u32 | file_id: u64 | layers: u8 | salt: [u8; 32] | crc32: u32`
const FILE_HEADER_LEN: usize = 8 + 4 + 8 + 1 + 32 + 4;
/// `index: (u64, u32) | filter: (u64, u32) | data_blocks: u32 | magic: [u8; 8] | crc32: u32`
const SEGMENT_FOOTER_LEN: usize = 8 + 4 + 8 + 4 + 4 + 8 + 4;
/// `len: u32 | len_crc: u32 | crc: u32`
const WAL_FRAME_HEADER_LEN: usize = 12;
/// Files up to this size get every byte flipped; larger ones every byte of each structural region
/// plus a stride through the bodies of the data blocks.
const EVERY_BYTE_LIMIT: usize = 64 << 10;
const BODY_STRIDE: usize = 29;
/// Bytes flipped exhaustively at each end of every data block (start of the ciphertext; tag, CRC).
const BLOCK_EDGE: usize = 48;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options() -> DbOptions {
    DbOptions {
        durability: Durability::Buffered,
        background_compaction: false,
        ..DbOptions::default()
    }
}

/// A scratch directory; on tmpfs where there is one, because every successful open fsyncs a
/// manifest and a new WAL and this test opens the store thousands of times.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("strata-tamper-").tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// CRC-32 (IEEE), as the formats use: `Crc::new()`, `update` byte by byte, `value()`.
struct Crc(u32);

impl Crc {
    fn new() -> Crc {
        Crc(!0)
    }

    fn update(&mut self, b: u8) {
        let mut c = self.0 ^ u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
        self.0 = c;
    }

    fn value(&self) -> u32 {
        !self.0
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc::new();
    bytes.iter().for_each(|b| c.update(*b));
    c.value()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The regions of a segment file, found from its footer and the CRC trailers of its blocks.
#[derive(Debug)]
struct SegmentLayout {
    /// `[start, end)` of each data block, trailer included.
    data_blocks: Vec<(usize, usize)>,
    index: (usize, usize),
    filter: (usize, usize),
    footer: usize,
}

fn segment_layout(bytes: &[u8]) -> SegmentLayout {
    let footer = bytes.len() - SEGMENT_FOOTER_LEN;
    let f = &bytes[footer..];
    assert_eq!(
        crc32(&f[..SEGMENT_FOOTER_LEN - 4]),
        u32_at(f, SEGMENT_FOOTER_LEN - 4),
        "footer CRC"
    );
    let index_off = u64_at(f, 0) as usize;
    let index = (index_off, index_off + u32_at(f, 8) as usize);
    let filter_off = u64_at(f, 12) as usize;
    let filter = (filter_off, filter_off + u32_at(f, 20) as usize);
    let n_blocks = u32_at(f, 24) as usize;
    assert_eq!(index.1, filter.0, "filter block follows the index block");
    assert_eq!(filter.1, footer, "footer follows the filter block");
    for (s, e) in [index, filter] {
        assert_eq!(
            crc32(&bytes[s..e - 4]),
            u32_at(bytes, e - 4),
            "index/filter block CRC"
        );
    }
    // Data blocks are contiguous from the header to the index; each ends in the CRC of its sealed
    // bytes, which is how their boundaries are found without the keys.
    let mut data_blocks = Vec::new();
    let mut start = FILE_HEADER_LEN;
    let mut crc = Crc::new();
    let mut pos = start;
    while pos < index.0 {
        crc.update(bytes[pos]);
        pos += 1;
        if pos + 4 <= index.0 && crc.value() == u32_at(bytes, pos) {
            data_blocks.push((start, pos + 4));
            start = pos + 4;
            pos = start;
            crc = Crc::new();
        }
    }
    assert_eq!(start, index.0, "data blocks end where the index begins");
    assert_eq!(data_blocks.len(), n_blocks, "data blocks found vs footer count");
    SegmentLayout {
        data_blocks,
        index,
        filter,
        footer,
    }
}

/// The offsets to flip in a segment file: all of them for a small file, else every byte of the
/// header, index, filter and footer, both edges of every data block and a stride in between.
/// `STRATA_TAMPER_EVERY_BYTE=1` flips every byte of every file (minutes, not seconds).
fn segment_offsets(len: usize, l: &SegmentLayout) -> Vec<usize> {
    if len <= EVERY_BYTE_LIMIT || std::env::var_os("STRATA_TAMPER_EVERY_BYTE").is_some() {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..FILE_HEADER_LEN).collect();
    for &(s, e) in &l.data_blocks {
        v.extend(s..(s + BLOCK_EDGE).min(e));
        v.extend((s..e).step_by(BODY_STRIDE));
        v.extend(e.saturating_sub(BLOCK_EDGE).max(s)..e);
    }
    v.extend(l.index.0..l.index.1);
    v.extend(l.filter.0..l.filter.1);
    v.extend(l.footer..len);
    v.sort_unstable();
    v.dedup();
    v
}

/// Flips bits of the byte at `off`: all of them at even offsets, one (varying) bit at odd ones.
fn flip(bytes: &mut [u8], off: usize) {
    bytes[off] ^= if off.is_multiple_of(2) {
        0xff
    } else {
        1 << ((off / 2) % 8)
    };
}

/// How a damaged store was noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detected {
    AtOpen,
    /// Opened; this many of the reads (gets and the scan) failed.
    AtRead(usize),
}

/// Opens the store and reads every key of `universe` and a full scan. Panics if any failure is
/// not corruption or any read returns anything but what `model` says.
fn open_and_read_all(
    dir: &Path,
    suite: &Arc<CipherSuite>,
    universe: &[Vec<u8>],
    model: &Model,
    what: &str,
) -> Detected {
    let db = match Db::open(dir, options(), suite.clone()) {
        Ok(db) => db,
        Err(e) => {
            assert!(
                e.is_corruption(),
                "{what}: open failed with a non-corruption error: {e}"
            );
            return Detected::AtOpen;
        }
    };
    let mut failures = 0;
    for k in universe {
        match db.get(k) {
            Ok(v) => assert_eq!(
                v.as_ref(),
                model.get(k),
                "{what}: get {:?} returned wrong data",
                String::from_utf8_lossy(k)
            ),
            Err(e) => {
                assert!(
                    e.is_corruption(),
                    "{what}: get failed with a non-corruption error: {e}"
                );
                failures += 1;
            }
        }
    }
    match db.scan_prefix(b"") {
        Ok(all) => {
            let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert!(
                all == want,
                "{what}: full scan returned wrong data ({} entries, want {})",
                all.len(),
                want.len()
            );
        }
        Err(e) => {
            assert!(
                e.is_corruption(),
                "{what}: scan failed with a non-corruption error: {e}"
            );
            failures += 1;
        }
    }
    Detected::AtRead(failures)
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:03}").into_bytes()
}

fn random_value(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

/// A closed store with one compacted segment of many data blocks (200 keys) in L1 and a small L0
/// segment on top that overwrites some keys, deletes others and adds new ones.
fn build_segment_store(dir: &Path, suite: &Arc<CipherSuite>) -> (Model, Vec<Vec<u8>>) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut model = Model::new();
    let db = Db::open(dir, options(), suite.clone()).unwrap();
    for i in 0..200 {
        let len = rng.gen_range(300..700);
        let v = random_value(&mut rng, len);
        db.put(&key(i), &v).unwrap();
        model.insert(key(i), v);
    }
    db.flush().unwrap();
    db.compact().unwrap();
    let mut b = WriteBatch::new();
    for i in (0..220usize).step_by(9) {
        if i.is_multiple_of(2) {
            let len = rng.gen_range(0..200);
            let v = random_value(&mut rng, len);
            b.put(key(i), v.clone());
            model.insert(key(i), v);
        } else {
            b.delete(key(i));
            model.remove(&key(i));
        }
    }
    db.write(b, Durability::Sync).unwrap();
    db.flush().unwrap();
    let stats = db.stats().unwrap();
    assert_eq!(stats.segments_per_level[0], 1, "one L0 segment: {stats:?}");
    assert_eq!(
        stats.segments_per_level.iter().skip(1).sum::<usize>(),
        1,
        "one compacted segment: {stats:?}"
    );
    drop(db);
    let mut universe: Vec<Vec<u8>> = (0..220).map(key).collect();
    universe.push(b"never-written".to_vec());
    (model, universe)
}

fn tamper_segments(customer_layer: bool) {
    let dir = scratch();
    let suite = Arc::new(CipherSuite::ephemeral(customer_layer));
    let (model, universe) = build_segment_store(dir.path(), &suite);
    assert_eq!(
        open_and_read_all(dir.path(), &suite, &universe, &model, "pristine"),
        Detected::AtRead(0)
    );

    let segs = files_in(&dir.path().join("seg"), "seg");
    assert_eq!(segs.len(), 2, "{segs:?}");
    let mut saw_large = false;
    for seg in &segs {
        let pristine = fs::read(seg).unwrap();
        let layout = segment_layout(&pristine);
        saw_large |= pristine.len() > EVERY_BYTE_LIMIT && layout.data_blocks.len() >= 4;
        let offsets = segment_offsets(pristine.len(), &layout);
        let (mut at_open, mut at_read) = (0, 0);
        for &off in &offsets {
            let mut bad = pristine.clone();
            flip(&mut bad, off);
            fs::write(seg, &bad).unwrap();
            let what = format!("{} byte {off} of {} ({layout:?})", seg.display(), pristine.len());
            match open_and_read_all(dir.path(), &suite, &universe, &model, &what) {
                Detected::AtOpen => at_open += 1,
                Detected::AtRead(0) => panic!("{what}: flip went unnoticed by open, every get and the scan"),
                Detected::AtRead(_) => at_read += 1,
            }
            fs::write(seg, &pristine).unwrap();
        }
        // Both ways of detection are exercised: the header, index, filter and footer at open,
        // the data blocks when read.
        assert!(
            at_open > 0 && at_read > 0,
            "{}: {at_open} at open, {at_read} at read",
            seg.display()
        );
    }
    assert!(
        saw_large,
        "the compacted segment should span several blocks and exceed {EVERY_BYTE_LIMIT} bytes"
    );
    // Every byte restored: the store reads as written.
    assert_eq!(
        open_and_read_all(dir.path(), &suite, &universe, &model, "restored"),
        Detected::AtRead(0)
    );
}

#[test]
fn any_flipped_segment_byte_is_corruption_one_layer() {
    tamper_segments(false);
}

#[test]
fn any_flipped_segment_byte_is_corruption_two_layers() {
    tamper_segments(true);
}

#[test]
fn any_flipped_manifest_byte_fails_open() {
    for customer_layer in [false, true] {
        let dir = scratch();
        let suite = Arc::new(CipherSuite::ephemeral(customer_layer));
        let (model, universe) = build_segment_store(dir.path(), &suite);
        let path = dir.path().join("MANIFEST");
        let pristine = fs::read(&path).unwrap();
        for off in 0..pristine.len() {
            let mut bad = pristine.clone();
            flip(&mut bad, off);
            fs::write(&path, &bad).unwrap();
            match Db::open(dir.path(), options(), suite.clone()) {
                Ok(_) => panic!(
                    "MANIFEST byte {off} of {} flipped: open succeeded",
                    pristine.len()
                ),
                Err(e) => assert!(e.is_corruption(), "MANIFEST byte {off}: {e}"),
            }
        }
        fs::write(&path, &pristine).unwrap();
        // Truncated or extended by a byte: corruption too.
        for bad in [
            &pristine[..pristine.len() - 1],
            &[&pristine[..], &[0u8][..]].concat()[..],
        ] {
            fs::write(&path, bad).unwrap();
            let e = Db::open(dir.path(), options(), suite.clone())
                .err()
                .expect("open of a resized MANIFEST");
            assert!(e.is_corruption(), "{e}");
        }
        fs::write(&path, &pristine).unwrap();
        assert_eq!(
            open_and_read_all(dir.path(), &suite, &universe, &model, "restored"),
            Detected::AtRead(0)
        );
    }
}

/// `[start, end)` of every frame of a WAL file, checking the layout on the way.
fn wal_frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut frames = Vec::new();
    let mut pos = FILE_HEADER_LEN;
    while pos < bytes.len() {
        let len = u32_at(bytes, pos) as usize;
        assert_eq!(
            crc32(&bytes[pos..pos + 4]),
            u32_at(bytes, pos + 4),
            "frame length CRC"
        );
        let end = pos + WAL_FRAME_HEADER_LEN + len;
        assert_eq!(
            crc32(&bytes[pos + WAL_FRAME_HEADER_LEN..end]),
            u32_at(bytes, pos + 8),
            "frame CRC"
        );
        frames.push((pos, end));
        pos = end;
    }
    assert_eq!(pos, bytes.len());
    frames
}

/// A closed store whose only data is in its WAL: `n` batches, the last of which overwrites one key,
/// deletes another and adds a third. Returns the model with and without the last batch.
fn build_wal_store(dir: &Path, suite: &Arc<CipherSuite>, n: usize) -> (Model, Model) {
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = Model::new();
    let db = Db::open(dir, options(), suite.clone()).unwrap();
    for i in 0..n - 1 {
        let mut b = WriteBatch::new();
        for j in 0..1 + i % 3 {
            let k = key(i * 3 + j);
            let len = rng.gen_range(0..120);
            let v = random_value(&mut rng, len);
            b.put(k.clone(), v.clone());
            model.insert(k, v);
        }
        if i % 4 == 3 {
            b.delete(key(i * 3 - 3));
            model.remove(&key(i * 3 - 3));
        }
        let durability = if i.is_multiple_of(2) {
            Durability::Sync
        } else {
            Durability::Buffered
        };
        db.write(b, durability).unwrap();
    }
    let before_last = model.clone();
    let mut b = WriteBatch::new();
    let (over, gone) = (
        model.keys().next().unwrap().clone(),
        model.keys().nth(1).unwrap().clone(),
    );
    b.put(over.clone(), b"overwritten by the last record".to_vec());
    b.delete(gone.clone());
    b.put(b"added-by-last".to_vec(), b"new".to_vec());
    model.insert(over, b"overwritten by the last record".to_vec());
    model.remove(&gone);
    model.insert(b"added-by-last".to_vec(), b"new".to_vec());
    db.write(b, Durability::Sync).unwrap();
    assert_eq!(
        db.stats().unwrap().segments_per_level.iter().sum::<usize>(),
        0,
        "nothing flushed"
    );
    drop(db);
    (model, before_last)
}

fn tamper_wal(customer_layer: bool) {
    const RECORDS: usize = 12;
    let pristine_dir = scratch();
    let suite = Arc::new(CipherSuite::ephemeral(customer_layer));
    let (model, before_last) = build_wal_store(pristine_dir.path(), &suite, RECORDS);
    let mut universe: Vec<Vec<u8>> = model.keys().chain(before_last.keys()).cloned().collect();
    universe.sort();
    universe.dedup();
    universe.push(b"never-written".to_vec());

    let wals = files_in(&pristine_dir.path().join("wal"), "wal");
    assert_eq!(wals.len(), 1, "{wals:?}");
    let wal_name = wals[0].file_name().unwrap().to_owned();
    let pristine = fs::read(&wals[0]).unwrap();
    let frames = wal_frames(&pristine);
    assert_eq!(frames.len(), RECORDS, "one record per single-threaded write");
    let last_start = frames[RECORDS - 1].0;

    // The untouched copy recovers everything.
    {
        let copy = scratch();
        copy_dir(pristine_dir.path(), copy.path());
        assert_eq!(
            open_and_read_all(copy.path(), &suite, &universe, &model, "pristine WAL"),
            Detected::AtRead(0)
        );
    }

    let (mut dropped, mut refused) = (0, 0);
    for off in 0..pristine.len() {
        let copy = scratch();
        copy_dir(pristine_dir.path(), copy.path());
        let path = copy.path().join("wal").join(&wal_name);
        let mut bad = pristine.clone();
        flip(&mut bad, off);
        fs::write(&path, &bad).unwrap();
        let what = format!(
            "WAL byte {off} of {} (last record at {last_start})",
            pristine.len()
        );
        let db = match Db::open(copy.path(), options(), suite.clone()) {
            Err(e) => {
                assert!(e.is_corruption(), "{what}: {e}");
                refused += usize::from(off >= last_start);
                continue;
            }
            Ok(db) => db,
        };
        assert!(
            off >= last_start,
            "{what}: a damaged record before the last one was accepted"
        );
        let report = db.recovery_report().clone();
        assert_eq!(
            report.torn_tail,
            Some((
                path.clone(),
                last_start as u64,
                (pristine.len() - last_start) as u64
            )),
            "{what}: {report:?}"
        );
        assert_eq!(report.records_replayed, RECORDS as u64 - 1, "{what}");
        drop(db);
        // The earlier records are intact; nothing of the dropped one shows.
        assert_eq!(
            open_and_read_all(copy.path(), &suite, &universe, &before_last, &what),
            Detected::AtRead(0)
        );
        dropped += 1;
    }
    assert_eq!(dropped + refused, pristine.len() - last_start);
}

#[test]
fn any_flipped_wal_byte_is_corruption_or_a_dropped_last_record_one_layer() {
    tamper_wal(false);
}

#[test]
fn any_flipped_wal_byte_is_corruption_or_a_dropped_last_record_two_layers() {
    tamper_wal(true);
}

#[test]
fn swapped_missing_or_resized_files_and_wrong_keys_are_refused() {
    let dir = scratch();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let (model, universe) = build_segment_store(dir.path(), &suite);
    let segs = files_in(&dir.path().join("seg"), "seg");
    let (a, b) = (fs::read(&segs[0]).unwrap(), fs::read(&segs[1]).unwrap());

    // Each file under the other's name: the header binds the file id.
    fs::write(&segs[0], &b).unwrap();
    fs::write(&segs[1], &a).unwrap();
    let e = Db::open(dir.path(), options(), suite.clone())
        .err()
        .expect("open with swapped segments");
    assert!(e.is_corruption(), "{e}");
    fs::write(&segs[0], &a).unwrap();
    fs::write(&segs[1], &b).unwrap();

    for seg in &segs {
        let pristine = fs::read(seg).unwrap();
        for bad in [
            &pristine[..pristine.len() - 1],
            &[&pristine[..], &[0u8][..]].concat()[..],
            &pristine[..0],
        ] {
            fs::write(seg, bad).unwrap();
            let seen = open_and_read_all(dir.path(), &suite, &universe, &model, "resized segment");
            assert_ne!(
                seen,
                Detected::AtRead(0),
                "{} resized to {} bytes went unnoticed",
                seg.display(),
                bad.len()
            );
        }
        fs::write(seg, &pristine).unwrap();
    }

    // A live segment gone, or the MANIFEST gone while segments exist: open refuses rather than
    // serve a partial (or empty) store.
    for seg in &segs {
        let pristine = fs::read(seg).unwrap();
        fs::remove_file(seg).unwrap();
        assert!(
            Db::open(dir.path(), options(), suite.clone()).is_err(),
            "{} missing: open succeeded",
            seg.display()
        );
        fs::write(seg, &pristine).unwrap();
    }
    let manifest = dir.path().join("MANIFEST");
    let pristine = fs::read(&manifest).unwrap();
    fs::remove_file(&manifest).unwrap();
    let e = Db::open(dir.path(), options(), suite.clone())
        .err()
        .expect("open without a MANIFEST but with segments");
    assert!(e.is_corruption(), "{e}");
    fs::write(&manifest, &pristine).unwrap();

    // Other keys, or the other number of layers: refused, never decrypted into garbage.
    for other in [CipherSuite::ephemeral(true), CipherSuite::ephemeral(false)] {
        let e = Db::open(dir.path(), options(), Arc::new(other))
            .err()
            .expect("open under the wrong keys");
        assert!(e.is_corruption(), "{e}");
    }
    assert_eq!(
        open_and_read_all(dir.path(), &suite, &universe, &model, "restored"),
        Detected::AtRead(0)
    );
}
