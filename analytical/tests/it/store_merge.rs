//! Merge on read, replay idempotence, TTL, compaction and persistence across reopen.

use crate::common;

use common::{del, ints, key, strings, up};
use serde_json::json;
use strata_analytical::{AnalyticalError, AnalyticalStore, AnalyticalTtl, SchemaMode};

#[test]
fn upsert_update_delete_and_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    let batch1 = vec![
        up("a", "p1", 1, 100, json!({"qty": 1, "name": "first"})),
        up("b", "p1", 2, 100, json!({"qty": 2})),
        up("a", "p2", 3, 100, json!({"qty": 3})), // same id, other partition: a different item
    ];
    let r = s.apply(&batch1).expect("apply");
    assert_eq!((r.applied, r.skipped), (3, 0));
    assert_eq!(s.applied_lsn(), 3);

    let batch2 = vec![
        up("a", "p1", 4, 110, json!({"qty": 10, "name": "second"})),
        del("b", "p1", 5, 111),
    ];
    s.apply(&batch2).expect("apply");
    let rows = s.scan(200).expect("scan");
    assert_eq!(strings(&rows, "id"), vec![Some("a".into()), Some("a".into())]);
    assert_eq!(
        strings(&rows, "_pk"),
        vec![Some("\"p1\"".into()), Some("\"p2\"".into())]
    );
    assert_eq!(ints(&rows, "qty"), vec![Some(10), Some(3)]);
    assert_eq!(strings(&rows, "name"), vec![Some("second".into()), None]);
    assert_eq!(ints(&rows, "_lsn"), vec![Some(4), Some(3)]);
    assert!(rows.column_by_name("_deleted").is_none());

    // Replaying everything is a no-op: no new file, same rows.
    let files_before = s.files();
    let r = s.apply(&[batch1, batch2].concat()).expect("replay");
    assert_eq!((r.applied, r.skipped, r.file), (0, 5, None));
    assert_eq!(s.files(), files_before);
    assert_eq!(s.scan(200).expect("scan"), rows);

    // A partial replay with one new change applies only the new one.
    let r = s
        .apply(&[
            up("a", "p1", 4, 110, json!({"qty": 99})),
            up("c", "p1", 6, 120, json!({"qty": 7})),
        ])
        .expect("apply");
    assert_eq!((r.applied, r.skipped), (1, 1));
    assert_eq!(
        ints(&s.scan(200).expect("scan"), "qty"),
        vec![Some(10), Some(7), Some(3)]
    );

    // Empty input writes nothing.
    let r = s.apply(&[]).expect("empty");
    assert_eq!(r.file, None);

    // Re-upsert after delete brings the item back.
    s.apply(&[up("b", "p1", 7, 130, json!({"qty": 5}))])
        .expect("apply");
    let rows = s.scan(200).expect("scan");
    assert_eq!(
        strings(&rows, "id"),
        vec![
            Some("a".into()),
            Some("b".into()),
            Some("c".into()),
            Some("a".into())
        ]
    );

    // Everything survives a reopen.
    drop(s);
    let s = AnalyticalStore::open(dir.path(), key(1)).expect("open");
    assert_eq!(s.applied_lsn(), 7);
    assert_eq!(s.scan(200).expect("scan"), rows);
}

#[test]
fn out_of_order_changes_in_one_call_keep_the_highest_lsn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    s.apply(&[
        up("a", "p", 9, 1, json!({"v": 9})),
        up("a", "p", 8, 1, json!({"v": 8})),
    ])
    .expect("apply");
    assert_eq!(ints(&s.scan(10).expect("scan"), "v"), vec![Some(9)]);
    assert_eq!(s.applied_lsn(), 9);
}

#[test]
fn invalid_changes_are_rejected_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    let mut bad = up("x", "p", 2, 1, json!([1, 2]));
    let err = s
        .apply(&[up("a", "p", 1, 1, json!({})), bad.clone()])
        .expect_err("array document");
    assert_eq!(err.status(), 400);
    bad.doc = None;
    assert_eq!(s.apply(&[bad]).expect_err("missing doc").status(), 400);
    assert_eq!(
        s.apply(&[up("a", "p", u64::MAX, 1, json!({}))])
            .expect_err("lsn")
            .status(),
        400
    );
    assert_eq!(s.applied_lsn(), 0);
    assert!(s.files().is_empty());
}

#[test]
fn ttl_expires_items_by_last_modification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::WellDefined,
        AnalyticalTtl::Seconds(100),
    )
    .expect("create");
    s.apply(&[
        up("old", "p", 1, 1000, json!({"v": 1})),
        up("new", "p", 2, 1050, json!({"v": 2})),
        up("touched", "p", 3, 1000, json!({"v": 3})),
    ])
    .expect("apply");
    s.apply(&[up("touched", "p", 4, 1080, json!({"v": 4}))])
        .expect("apply");
    fn ids_at(s: &AnalyticalStore, now: i64) -> Vec<Option<String>> {
        strings(&s.scan(now).expect("scan"), "id")
    }
    let ids = |now| ids_at(&s, now);
    assert_eq!(
        ids(1099),
        vec![Some("new".into()), Some("old".into()), Some("touched".into())]
    );
    // At 1100 "old" (ts 1000) is gone; the older version of "touched" does not resurface.
    assert_eq!(ids(1100), vec![Some("new".into()), Some("touched".into())]);
    assert_eq!(ints(&s.scan(1100).expect("scan"), "v"), vec![Some(2), Some(4)]);
    assert_eq!(ids(1180), Vec::<Option<String>>::new());

    s.set_ttl(AnalyticalTtl::Forever).expect("ttl");
    assert_eq!(ids_at(&s, 5000).len(), 3);
    s.set_ttl(AnalyticalTtl::Off).expect("ttl");
    assert_eq!(ids_at(&s, 5000).len(), 0);
    // Off: the LSN advances but no file is written.
    let r = s.apply(&[up("z", "p", 10, 1, json!({"v": 1}))]).expect("apply");
    assert_eq!((r.applied, r.file), (1, None));
    assert_eq!(s.applied_lsn(), 10);
    drop(s);
    let s = AnalyticalStore::open(dir.path(), key(1)).expect("open");
    assert_eq!(s.ttl(), AnalyticalTtl::Off);
}

#[test]
fn compaction_preserves_contents_and_drops_dead_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(2),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    for round in 0..5u64 {
        let mut changes = Vec::new();
        for i in 0..20u64 {
            let lsn = round * 100 + i + 1;
            let id = format!("item{i}");
            if round == 4 && i % 3 == 0 {
                changes.push(del(&id, "p", lsn, 10));
            } else {
                // The type of `n` changes from int to float in round 2: old files are cast on read.
                let n = if round >= 2 {
                    json!(i as f64 + 0.5)
                } else {
                    json!(i)
                };
                changes.push(up(
                    &id,
                    "p",
                    lsn,
                    10,
                    json!({"round": round, "n": n, "tag": format!("r{round}")}),
                ));
            }
        }
        s.apply(&changes).expect("apply");
    }
    assert_eq!(s.files().len(), 5);
    let before = s.scan(100).expect("scan");
    assert_eq!(before.num_rows(), 13);
    let old_files = s.files();
    s.compact(100).expect("compact");
    assert_eq!(s.files().len(), 1);
    assert!(old_files.iter().all(|f| !f.exists()));
    assert_eq!(s.scan(100).expect("scan"), before);
    // The compacted file holds only live rows.
    let compacted = common::read_external(&s.files()[0], &key(2)).expect("read");
    assert_eq!(compacted.iter().map(|b| b.num_rows()).sum::<usize>(), 13);
    drop(s);
    let s = AnalyticalStore::open(dir.path(), key(2)).expect("reopen");
    assert_eq!(s.scan(100).expect("scan"), before);
}

#[test]
fn leftovers_of_an_interrupted_write_are_ignored_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = AnalyticalStore::create(
        dir.path(),
        key(3),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    s.apply(&[up("a", "p", 1, 1, json!({"v": 1}))]).expect("apply");
    let expected = s.scan(5).expect("scan");
    // A file renamed into place whose state switch never happened, and a half-written temp file.
    let orphan = dir.path().join("data").join("0000000000000099.parquet");
    std::fs::copy(&s.files()[0], &orphan).expect("copy");
    std::fs::write(
        dir.path().join("data").join("0000000000000100.parquet.tmp"),
        b"partial",
    )
    .expect("write");
    drop(s);
    let s = AnalyticalStore::open(dir.path(), key(3)).expect("open");
    assert_eq!(s.scan(5).expect("scan"), expected);
    assert_eq!(common::all_files(&dir.path().join("data")).len(), 1);
}

#[test]
fn create_open_and_mode_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = AnalyticalStore::open(dir.path().join("nope"), key(1)).expect_err("missing");
    assert!(matches!(missing, AnalyticalError::NotFound(_)));
    assert_eq!(missing.status(), 404);
    AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::FullFidelity,
        AnalyticalTtl::Forever,
    )
    .expect("create");
    let again = AnalyticalStore::create(
        dir.path(),
        key(1),
        SchemaMode::FullFidelity,
        AnalyticalTtl::Forever,
    )
    .expect_err("exists");
    assert_eq!(again.status(), 409);
    let mode = AnalyticalStore::open_or_create(
        dir.path(),
        key(1),
        SchemaMode::WellDefined,
        AnalyticalTtl::Forever,
    )
    .expect_err("mode change");
    assert_eq!(mode.status(), 400);
    let s = AnalyticalStore::open_or_create(dir.path(), key(1), SchemaMode::FullFidelity, AnalyticalTtl::Off)
        .expect("same mode");
    assert_eq!(s.mode(), SchemaMode::FullFidelity);
    assert_eq!(s.ttl(), AnalyticalTtl::Forever);
}
