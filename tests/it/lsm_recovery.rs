//! Recovery of the raw key-value store from its files: synced writes dropped without a flush are
//! replayed from the WAL (and win over older flushed versions); a newest WAL cut short or
//! zero-filled at any point loses only the torn record, reported in `torn_tail`; an orphan segment
//! is removed at open; many reopens in a row keep the data, one WAL file, and no empty segments.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::{CipherSuite, Db, DbOptions, Durability, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// `magic: [u8; 8] | version: u32 | file_id: u64 | layers: u8 | salt: [u8; 32] | crc32: u32`
const FILE_HEADER_LEN: usize = 57;
/// `len: u32 | len_crc: u32 | crc: u32`
const WAL_FRAME_HEADER_LEN: usize = 12;

fn options() -> DbOptions {
    DbOptions {
        durability: Durability::Sync,
        ..DbOptions::default()
    }
}

/// The files of `dir` ending in `.ext`, sorted; none if `dir` does not exist yet.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn wals(dir: &Path) -> Vec<PathBuf> {
    files(&dir.join("wal"), "wal")
}

fn segs(dir: &Path) -> Vec<PathBuf> {
    files(&dir.join("seg"), "seg")
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

/// `[start, end)` of every record frame of a WAL file.
fn wal_frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut frames = Vec::new();
    let mut pos = FILE_HEADER_LEN;
    while pos < bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let end = pos + WAL_FRAME_HEADER_LEN + len;
        assert!(end <= bytes.len(), "frame at {pos} runs past the end");
        frames.push((pos, end));
        pos = end;
    }
    frames
}

fn value(i: usize, round: usize) -> Vec<u8> {
    format!("value {i} of round {round} ")
        .repeat(1 + i % 7)
        .into_bytes()
}

/// Every key of `universe` and a full scan agree with `model`.
fn assert_holds(db: &Db, model: &Model, universe: &[Vec<u8>], what: &str) {
    for k in universe {
        assert_eq!(
            db.get(k).unwrap().as_ref(),
            model.get(k),
            "{what}: {}",
            String::from_utf8_lossy(k)
        );
    }
    let all: Model = db.scan_prefix(b"").unwrap().into_iter().collect();
    assert!(
        &all == model,
        "{what}: full scan has {} keys, want {}",
        all.len(),
        model.len()
    );
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

#[test]
fn synced_writes_dropped_without_a_flush_are_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let mut model = Model::new();
    let universe: Vec<Vec<u8>> = (0..80).map(key).collect();

    // Older versions of some keys in a segment, so the replayed log must win over them.
    let db = Db::open(dir.path(), options(), suite.clone()).unwrap();
    for i in 0..40 {
        db.put(&key(i), &value(i, 0)).unwrap();
        model.insert(key(i), value(i, 0));
    }
    db.flush().unwrap();
    let mut records = 0u64;
    for i in 20..60 {
        db.put(&key(i), &value(i, 1)).unwrap();
        model.insert(key(i), value(i, 1));
        records += 1;
    }
    for i in (0..40).step_by(5) {
        db.delete(&key(i)).unwrap();
        model.remove(&key(i));
        records += 1;
    }
    let mut b = WriteBatch::new();
    b.put(key(70), value(70, 2))
        .delete(key(21))
        .put(key(71), Vec::new());
    db.write(b, Durability::Sync).unwrap();
    model.insert(key(70), value(70, 2));
    model.remove(&key(21));
    model.insert(key(71), Vec::new());
    records += 1;
    let stats = db.stats().unwrap();
    assert_eq!(
        stats.segments_per_level.iter().sum::<usize>(),
        1,
        "only the first flush: {stats:?}"
    );
    assert!(stats.memtable_bytes > 0);
    let old_wals = wals(dir.path());
    drop(db);
    assert_eq!(wals(dir.path()), old_wals, "the WAL is left for recovery");
    assert_eq!(segs(dir.path()).len(), 1, "dropping did not flush");

    let db = Db::open(dir.path(), options(), suite.clone()).unwrap();
    let report = db.recovery_report().clone();
    assert_eq!(report.records_replayed, records, "{report:?}");
    assert_eq!(report.wal_files_replayed, 1, "{report:?}");
    assert_eq!(
        (&report.torn_tail, report.orphans_removed),
        (&None, 0),
        "{report:?}"
    );
    assert_holds(&db, &model, &universe, "after replay");
    // The replayed records went to a segment and the old WAL is gone; one fresh WAL remains.
    assert_eq!(segs(dir.path()).len(), 2);
    let now = wals(dir.path());
    assert_eq!(now.len(), 1);
    assert!(
        !old_wals.contains(&now[0]),
        "a new WAL file, never appended to an old one"
    );
    drop(db);

    let db = Db::open(dir.path(), options(), suite).unwrap();
    assert_eq!(db.recovery_report().records_replayed, 0, "nothing replayed twice");
    assert_holds(&db, &model, &universe, "second reopen");
}

/// A store whose newest WAL holds `n` synced records, each putting three keys of its own and
/// overwriting key 0. Returns the model after each record (`models[k]` = first `k` records).
fn build_wal_store(dir: &Path, suite: &Arc<CipherSuite>, n: usize) -> Vec<Model> {
    let db = Db::open(dir, options(), suite.clone()).unwrap();
    let mut model = Model::new();
    let mut models = vec![model.clone()];
    for r in 0..n {
        let mut b = WriteBatch::new();
        for j in 1..=3 {
            b.put(key(r * 3 + j), value(r * 3 + j, r));
            model.insert(key(r * 3 + j), value(r * 3 + j, r));
        }
        b.put(key(0), value(0, r));
        model.insert(key(0), value(0, r));
        db.write(b, Durability::Sync).unwrap();
        models.push(model.clone());
    }
    drop(db);
    models
}

#[test]
fn a_newest_wal_cut_short_loses_only_the_torn_record() {
    const N: usize = 10;
    let pristine = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(false));
    let models = build_wal_store(pristine.path(), &suite, N);
    let universe: Vec<Vec<u8>> = (0..=3 * N + 1).map(key).collect();
    let wal = wals(pristine.path());
    assert_eq!(wal.len(), 1);
    let wal_name = wal[0].file_name().unwrap().to_owned();
    let bytes = fs::read(&wal[0]).unwrap();
    let frames = wal_frames(&bytes);
    assert_eq!(frames.len(), N);

    // Cuts inside the last record (its frame header, its sealed body), inside an earlier one,
    // and exactly on record boundaries.
    let (last_start, last_end) = frames[N - 1];
    let mut cuts = vec![
        last_start + 1,
        last_start + 4,
        last_start + 8,
        last_start + WAL_FRAME_HEADER_LEN - 1,
        last_start + WAL_FRAME_HEADER_LEN,
        last_start + WAL_FRAME_HEADER_LEN + 1,
        (last_start + last_end) / 2,
        last_end - 16,
        last_end - 1,
    ];
    cuts.extend([frames[3].0 + 20, frames[0].0 + 2, frames[6].1 - 3]);
    cuts.extend([last_start, frames[5].0, FILE_HEADER_LEN]);

    for cut in cuts {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), copy.path());
        let path = copy.path().join("wal").join(&wal_name);
        fs::write(&path, &bytes[..cut]).unwrap();
        // Records that end at or before the cut survive, whole.
        let kept = frames.iter().filter(|f| f.1 <= cut).count();
        let torn_at = frames.iter().find(|f| f.0 < cut && cut < f.1).map(|f| f.0);

        let db =
            Db::open(copy.path(), options(), suite.clone()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let report = db.recovery_report().clone();
        assert_eq!(report.records_replayed, kept as u64, "cut at {cut}: {report:?}");
        assert_eq!(
            report.torn_tail,
            torn_at.map(|at| (path.clone(), at as u64, (cut - at) as u64)),
            "cut at {cut}: {report:?}"
        );
        assert_holds(&db, &models[kept], &universe, &format!("cut at {cut}"));

        // The store goes on: new writes stick, and the next open finds nothing torn.
        db.put(b"after", b"recovery").unwrap();
        drop(db);
        let db = Db::open(copy.path(), options(), suite.clone()).unwrap();
        assert_eq!(
            db.recovery_report().torn_tail,
            None,
            "cut at {cut}: torn tail reported twice"
        );
        let mut m = models[kept].clone();
        m.insert(b"after".to_vec(), b"recovery".to_vec());
        assert_holds(&db, &m, &universe, &format!("cut at {cut}, reopened"));
    }

    // Space the file system allocated but never wrote (zeros after the last record) is a torn
    // tail too: every record is kept.
    for zeros in [1, WAL_FRAME_HEADER_LEN - 1, WAL_FRAME_HEADER_LEN, 4096] {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), copy.path());
        let path = copy.path().join("wal").join(&wal_name);
        fs::write(&path, [&bytes[..], &vec![0u8; zeros][..]].concat()).unwrap();
        let db =
            Db::open(copy.path(), options(), suite.clone()).unwrap_or_else(|e| panic!("{zeros} zeros: {e}"));
        let report = db.recovery_report().clone();
        assert_eq!(report.records_replayed, N as u64, "{zeros} zeros: {report:?}");
        assert_eq!(
            report.torn_tail,
            Some((path, bytes.len() as u64, zeros as u64)),
            "{zeros} zeros"
        );
        assert_holds(&db, &models[N], &universe, &format!("{zeros} zeros"));
    }
}

/// A crash in the middle of an append can leave the file's new size on disk but only part of its
/// data, the rest reading as zeros. Zeros from inside the last record's length fields, checksum
/// or body, or from inside an earlier record (the records after it zeroed too), are a torn tail:
/// the records before it are kept. (Regression: found by `wal::fuzz_tests`; these failed the
/// open as corruption.)
#[test]
fn a_newest_wal_zero_filled_from_inside_a_record_loses_only_the_torn_records() {
    const N: usize = 6;
    let pristine = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let models = build_wal_store(pristine.path(), &suite, N);
    let universe: Vec<Vec<u8>> = (0..=3 * N + 1).map(key).collect();
    let wal = wals(pristine.path());
    let wal_name = wal[0].file_name().unwrap().to_owned();
    let bytes = fs::read(&wal[0]).unwrap();
    let frames = wal_frames(&bytes);
    let (last_start, last_end) = frames[N - 1];
    let froms = [
        last_start + 2,
        last_start + 6,
        last_start + 9,
        last_start + WAL_FRAME_HEADER_LEN + 3,
        last_end - 1,
        frames[2].0 + 1,
        frames[2].0 + 30,
        FILE_HEADER_LEN - 10,
    ];
    for from in froms {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), copy.path());
        let path = copy.path().join("wal").join(&wal_name);
        let mut bad = bytes.clone();
        bad[from..].fill(0);
        fs::write(&path, &bad).unwrap();
        let kept = frames.iter().filter(|f| f.1 <= from).count();
        let torn_at = frames
            .iter()
            .find(|f| f.0 <= from && from < f.1)
            .map_or(0, |f| f.0);
        let db = Db::open(copy.path(), options(), suite.clone())
            .unwrap_or_else(|e| panic!("zeros from {from}: {e}"));
        let report = db.recovery_report().clone();
        assert_eq!(
            report.records_replayed, kept as u64,
            "zeros from {from}: {report:?}"
        );
        assert_eq!(
            report.torn_tail,
            Some((path, torn_at as u64, (bytes.len() - torn_at) as u64)),
            "zeros from {from}"
        );
        assert_holds(&db, &models[kept], &universe, &format!("zeros from {from}"));
    }
}

#[test]
fn an_orphan_segment_is_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let universe: Vec<Vec<u8>> = (0..100).map(key).collect();
    let mut model = Model::new();
    let db = Db::open(dir.path(), options(), suite.clone()).unwrap();
    for i in 0..100 {
        db.put(&key(i), &value(i, 0)).unwrap();
        model.insert(key(i), value(i, 0));
    }
    db.flush().unwrap();
    drop(db);
    let live = segs(dir.path());
    assert_eq!(live.len(), 1);

    // A copy of a live segment under an id the manifest does not name, as an interrupted
    // flush or compaction would leave.
    let max_id: u64 = live
        .iter()
        .chain(wals(dir.path()).iter())
        .map(|p| p.file_stem().unwrap().to_str().unwrap().parse::<u64>().unwrap())
        .max()
        .unwrap();
    let orphan = dir.path().join("seg").join(format!("{:016}.seg", max_id + 50));
    fs::copy(&live[0], &orphan).unwrap();

    let db = Db::open(dir.path(), options(), suite.clone()).unwrap();
    assert_eq!(
        db.recovery_report().orphans_removed,
        1,
        "{:?}",
        db.recovery_report()
    );
    assert!(!orphan.exists(), "the orphan is deleted");
    assert_eq!(segs(dir.path()), live, "the live segment stays");
    assert_holds(&db, &model, &universe, "after orphan removal");
    // New files do not collide with the orphan's id, and nothing is left over on the next open.
    db.put(&key(0), b"new").unwrap();
    model.insert(key(0), b"new".to_vec());
    db.flush().unwrap();
    drop(db);
    let db = Db::open(dir.path(), options(), suite).unwrap();
    assert_eq!(db.recovery_report().orphans_removed, 0);
    assert_holds(&db, &model, &universe, "reopened");
}

#[test]
fn many_reopens_keep_data_and_one_wal() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(false));
    let opts = DbOptions {
        background_compaction: false,
        ..options()
    };
    let universe: Vec<Vec<u8>> = (0..60).map(key).collect();
    let mut model = Model::new();
    let mut written_last_session = 0u64;
    for round in 0..30usize {
        let segs_before = segs(dir.path()).len();
        let db = Db::open(dir.path(), opts.clone(), suite.clone()).unwrap();
        let report = db.recovery_report().clone();
        assert_eq!(
            report.records_replayed, written_last_session,
            "round {round}: {report:?}"
        );
        assert_eq!(report.torn_tail, None, "round {round}");
        // A session that wrote something adds exactly one L0 segment at the next open; an empty
        // one adds none.
        let expect_segs = segs_before + usize::from(written_last_session > 0);
        assert_eq!(segs(dir.path()).len(), expect_segs, "round {round}");
        assert_eq!(
            db.stats().unwrap().segments_per_level.iter().sum::<usize>(),
            expect_segs
        );
        assert_eq!(wals(dir.path()).len(), 1, "round {round}: WAL files while open");
        assert_holds(&db, &model, &universe, &format!("round {round}"));

        written_last_session = 0;
        if round % 3 != 2 {
            for i in (round..60).step_by(7) {
                if (i + round).is_multiple_of(4) {
                    db.delete(&key(i)).unwrap();
                    model.remove(&key(i));
                } else {
                    db.put(&key(i), &value(i, round)).unwrap();
                    model.insert(key(i), value(i, round));
                }
                written_last_session += 1;
            }
        }
        if round == 20 {
            db.compact().unwrap();
            written_last_session = 0;
            assert_eq!(segs(dir.path()).len(), 1, "one segment after a full compaction");
        }
        drop(db);
        assert_eq!(wals(dir.path()).len(), 1, "round {round}: WAL files after close");
    }
    // Nothing but the store's own files is left behind.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["LOCK", "MANIFEST", "seg", "wal"]);
}

/// A crash while a new WAL file was being created (after a memtable freeze) can leave it empty or
/// zero-filled: its header never reached the disk, so nothing in it was acknowledged. The open
/// must treat it as a torn tail and replay the older WAL, which is then not the newest, in full.
#[test]
fn a_newest_wal_whose_header_never_reached_the_disk_loses_nothing() {
    const N: usize = 6;
    let pristine = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    let models = build_wal_store(pristine.path(), &suite, N);
    let universe: Vec<Vec<u8>> = (0..=3 * N + 1).map(key).collect();
    let old = wals(pristine.path());
    assert_eq!(old.len(), 1);
    let old_id: u64 = old[0].file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let newest_name = format!("{:016}.wal", old_id + 1);

    // What reached the disk of the new file: nothing, zeros (its size but not its data), or the
    // start of a header.
    let sizes = [
        0,
        20,
        FILE_HEADER_LEN - 1,
        FILE_HEADER_LEN,
        FILE_HEADER_LEN + 100,
        4096,
    ];
    let mut contents: Vec<Vec<u8>> = sizes.iter().map(|n| vec![0u8; *n]).collect();
    contents.push(fs::read(&old[0]).unwrap()[..30].to_vec());
    for content in contents {
        let what = format!(
            "newest WAL of {} bytes ({:02x?})",
            content.len(),
            &content[..content.len().min(4)]
        );
        let copy = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), copy.path());
        let newest = copy.path().join("wal").join(&newest_name);
        fs::write(&newest, &content).unwrap();
        let db = Db::open(copy.path(), options(), suite.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = db.recovery_report().clone();
        assert_eq!(report.wal_files_replayed, 2, "{what}: {report:?}");
        assert_eq!(report.records_replayed, N as u64, "{what}: {report:?}");
        assert_eq!(
            report.torn_tail,
            Some((newest, 0, content.len() as u64)),
            "{what}"
        );
        assert_holds(&db, &models[N], &universe, &what);
    }
}
