//! The in-memory write buffer: a lock-free ordered map (crossbeam-skiplist) of key -> newest
//! (seq, value-or-tombstone). Written by one thread at a time (the group-commit leader, or
//! recovery); read by any number of threads concurrently. Knows nothing of files or keys.

use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_skiplist::SkipMap;

use crate::kv::Record;

pub(crate) struct Memtable {
    map: SkipMap<Vec<u8>, (u64, Option<Vec<u8>>)>,
    bytes: AtomicUsize,
    /// The WAL file whose records this memtable holds.
    wal_id: u64,
}

impl Memtable {
    pub(crate) fn new(wal_id: u64) -> Memtable {
        Memtable {
            map: SkipMap::new(),
            bytes: AtomicUsize::new(0),
            wal_id,
        }
    }

    pub(crate) fn wal_id(&self) -> u64 {
        self.wal_id
    }

    /// Inserts a version; an older sequence number than the one held is ignored, so replay order
    /// cannot make an old version win.
    pub(crate) fn insert(&self, key: Vec<u8>, seq: u64, value: Option<Vec<u8>>) {
        if let Some(e) = self.map.get(&key) {
            if e.value().0 > seq {
                return;
            }
        }
        let size = key.len() + value.as_ref().map_or(0, Vec::len) + 32;
        self.bytes.fetch_add(size, Ordering::Relaxed);
        self.map.insert(key, (seq, value));
    }

    /// `Some((seq, None))` is a tombstone; `None` means this memtable does not know the key.
    pub(crate) fn get(&self, key: &[u8]) -> Option<(u64, Option<Vec<u8>>)> {
        self.map.get(key).map(|e| e.value().clone())
    }

    /// Approximate bytes held (including overwritten versions, which is what memory costs).
    pub(crate) fn approximate_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All entries with keys starting with `prefix`, in key order.
    pub(crate) fn range_prefix(&self, prefix: &[u8]) -> Vec<Record> {
        self.map
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|e| e.key().starts_with(prefix))
            .map(|e| Record {
                key: e.key().clone(),
                seq: e.value().0,
                value: e.value().1.clone(),
            })
            .collect()
    }

    /// Every entry in key order (for flushing).
    pub(crate) fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.map.iter().map(|e| Record {
            key: e.key().clone(),
            seq: e.value().0,
            value: e.value().1.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_wins_and_prefix_range() {
        let m = Memtable::new(1);
        m.insert(b"ab".to_vec(), 2, Some(b"new".to_vec()));
        m.insert(b"ab".to_vec(), 1, Some(b"old".to_vec()));
        m.insert(b"ac".to_vec(), 3, None);
        m.insert(b"b".to_vec(), 4, Some(b"x".to_vec()));
        assert_eq!(m.get(b"ab"), Some((2, Some(b"new".to_vec()))));
        assert_eq!(m.get(b"ac"), Some((3, None)));
        assert_eq!(m.get(b"zz"), None);
        let r = m.range_prefix(b"a");
        assert_eq!(
            r.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
            vec![b"ab".to_vec(), b"ac".to_vec()]
        );
        assert_eq!(m.records().count(), 3);
    }
}
