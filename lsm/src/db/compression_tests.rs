//! Per-level compression (`DbOptions::zstd_levels`): stores written under any setting read back
//! whole at every level, and a store reopened under another setting reads the segments written
//! under the old one and rewrites them under the new one.

use std::sync::Arc;

use crate::cipher::CipherSuite;
use crate::db::{Db, DbOptions, Durability};
use crate::kv::WriteBatch;

const KEYS: u32 = 3_000;

fn options(zstd_levels: Vec<i32>) -> DbOptions {
    with_bottom(zstd_levels, DbOptions::default().bottom_zstd_level)
}

fn with_bottom(zstd_levels: Vec<i32>, bottom_zstd_level: Option<i32>) -> DbOptions {
    DbOptions {
        bottom_zstd_level,
        background_compaction: false,
        l0_compaction_trigger: 2,
        base_level_bytes: 24 << 10,
        target_file_size: 8 << 10,
        zstd_levels,
        ..DbOptions::default()
    }
}

fn value(i: u32, round: u32) -> Vec<u8> {
    format!(
        "{{\"id\":{i},\"round\":{round},\"text\":\"some repeated text {}\"}}",
        i % 7
    )
    .into_bytes()
}

/// Writes every key in four rounds, a flush after each (later rounds overwrite a part), and runs
/// the compactions that fall due.
fn load(db: &Db) {
    for round in 0..4u32 {
        let mut b = WriteBatch::new();
        for i in (round..KEYS).step_by(1 + round as usize) {
            b.put(format!("k{i:06}").into_bytes(), value(i, round));
        }
        db.write(b, Durability::Buffered).unwrap();
        db.flush().unwrap();
        db.shared.compact_while_due().unwrap();
    }
}

/// Every key reads its newest value, by point read and by scan.
fn check(db: &Db) {
    let newest = |i: u32| {
        (0..4u32)
            .rev()
            .find(|r| i >= *r && (i - r).is_multiple_of(1 + r))
            .unwrap()
    };
    for i in 0..KEYS {
        let got = db.get(format!("k{i:06}").as_bytes()).unwrap();
        assert_eq!(got, Some(value(i, newest(i))), "key {i}");
    }
    let scanned = db.scan_prefix(b"k").unwrap();
    assert_eq!(scanned.len(), KEYS as usize);
}

#[test]
fn every_level_setting_round_trips_through_every_level() {
    let defaults = DbOptions::default().zstd_levels;
    for levels in [defaults, vec![1], vec![-7], vec![-1, -1, 1], vec![3, -5, 9, 1]] {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            options(levels.clone()),
            Arc::new(CipherSuite::ephemeral(true)),
        )
        .unwrap();
        load(&db);
        let per_level = db.stats().unwrap().segments_per_level;
        // L0, L1 and a deeper level all hold segments: each level's setting was written and read.
        assert!(
            per_level.len() > 2 && per_level[1] > 0 && per_level[2..].iter().sum::<usize>() > 0,
            "{levels:?}: {per_level:?}"
        );
        check(&db);
        db.compact().unwrap();
        check(&db);
    }
}

/// Bytes of the store's segment files.
fn segment_bytes(dir: &std::path::Path) -> u64 {
    let files = std::fs::read_dir(dir.join("seg")).unwrap();
    files.map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

#[test]
fn the_bottom_level_takes_the_bottom_setting() {
    let mut sizes = Vec::new();
    for bottom in [None, Some(19)] {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            with_bottom(vec![-7], bottom),
            Arc::new(CipherSuite::ephemeral(true)),
        )
        .unwrap();
        load(&db);
        // A full compaction writes the bottom level only.
        db.compact().unwrap();
        check(&db);
        sizes.push(segment_bytes(dir.path()));
    }
    assert!(
        sizes[1] < sizes[0],
        "bytes at rest, no bottom setting / bottom at 19: {sizes:?}"
    );
}

#[test]
fn segments_written_under_another_setting_still_read_and_are_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Arc::new(CipherSuite::ephemeral(true));
    // Written as before per-level compression: zstd level 1 everywhere.
    {
        let db = Db::open(dir.path(), options(vec![1]), suite.clone()).unwrap();
        load(&db);
    }
    for levels in [DbOptions::default().zstd_levels, vec![-7, 19]] {
        let db = Db::open(dir.path(), options(levels), suite.clone()).unwrap();
        check(&db);
        db.compact().unwrap();
        check(&db);
    }
}

#[test]
fn a_store_is_not_opened_with_levels_zstd_lacks() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [vec![], vec![1, 99]] {
        let e = Db::open(dir.path(), options(bad), Arc::new(CipherSuite::ephemeral(true)))
            .err()
            .unwrap();
        assert_eq!(e.status(), 400, "{e}");
    }
    // Nothing was created.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_writer_compresses_at_the_level_it_is_given() {
    use crate::kv::Record;
    use crate::sst::{segment_file_name, Segment, SegmentIter, SegmentWriter};
    let dir = tempfile::tempdir().unwrap();
    let suite = CipherSuite::ephemeral(false);
    let records: Vec<Record> = (0..2_000u32)
        .map(|i| Record {
            key: format!("k{i:06}").into_bytes(),
            seq: u64::from(i) + 1,
            value: Some(value(i, 0)),
        })
        .collect();
    let mut sizes = Vec::new();
    for (id, level) in [(1, -7), (2, 19)] {
        let mut w = SegmentWriter::create(dir.path(), id, &suite)
            .unwrap()
            .with_zstd_level(level);
        for r in &records {
            w.add(r).unwrap();
        }
        sizes.push(w.finish().unwrap().size);
        let seg = Arc::new(Segment::open(&dir.path().join(segment_file_name(id)), id, &suite).unwrap());
        let back: Vec<Record> = SegmentIter::new(seg, &[], None).map(|r| r.unwrap()).collect();
        assert_eq!(back, records, "level {level}");
    }
    assert!(sizes[1] < sizes[0], "sizes at -7 and 19: {sizes:?}");
}
