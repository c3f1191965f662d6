//! `Db::first_from`, the seek: the first live key at or after a start, from whichever source
//! holds it (memtable, frozen memtable, segments at any level), passing over deleted keys and
//! stopping where `within` stops.

use std::sync::Arc;

use crate::cipher::CipherSuite;
use crate::db::{Db, DbOptions, Durability};
use crate::kv::WriteBatch;

fn put(db: &Db, keys: &[&str]) {
    let mut b = WriteBatch::new();
    for k in keys {
        b.put(k.as_bytes().to_vec(), format!("v-{k}").into_bytes());
    }
    db.write(b, Durability::Buffered).unwrap();
}

fn first(db: &Db, start: &str, prefix: &'static str) -> Option<String> {
    db.first_from(start.as_bytes(), move |k: &[u8]| k.starts_with(prefix.as_bytes()))
        .unwrap()
        .map(|(k, v)| {
            assert_eq!(v, format!("v-{}", String::from_utf8_lossy(&k)).into_bytes());
            String::from_utf8(k).unwrap()
        })
}

#[test]
fn seeks_across_sources_and_skips_deleted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        background_compaction: false,
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts, Arc::new(CipherSuite::ephemeral(true))).unwrap();
    // Segments: a/1, b/1, b/2, d/1; then the memtable: c/1, and deletes of b/1 and b/2.
    put(&db, &["a/1", "b/1", "b/2", "d/1"]);
    db.flush().unwrap();
    put(&db, &["c/1"]);
    let mut del = WriteBatch::new();
    del.delete(b"b/1".to_vec());
    del.delete(b"b/2".to_vec());
    db.write(del, Durability::Buffered).unwrap();

    assert_eq!(first(&db, "", "").as_deref(), Some("a/1"));
    assert_eq!(first(&db, "a/2", "").as_deref(), Some("c/1"), "b/ is deleted");
    assert_eq!(first(&db, "c/2", "").as_deref(), Some("d/1"));
    assert_eq!(first(&db, "d/2", ""), None);
    // `within` bounds the seek: nothing under b/, and the seek does not run on into c/.
    assert_eq!(first(&db, "b/", "b/"), None);
    assert_eq!(first(&db, "c", "c").as_deref(), Some("c/1"));

    // The same once everything is in segments, and once compacted into one.
    db.flush().unwrap();
    assert_eq!(first(&db, "a/2", "").as_deref(), Some("c/1"));
    db.compact().unwrap();
    assert_eq!(first(&db, "a/2", "").as_deref(), Some("c/1"));
    assert_eq!(first(&db, "d", "d").as_deref(), Some("d/1"));
    // `within` is checked from the start on: a start below the range finds nothing.
    assert_eq!(first(&db, "", "d"), None);
}
