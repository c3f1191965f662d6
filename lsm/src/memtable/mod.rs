//! The in-memory write buffer: a lock-free ordered map (crossbeam-skiplist) of
//! (key, sequence number) -> value-or-tombstone. Every write adds an entry; nothing is replaced in
//! place, so a reader racing a writer always finds either the old or the new version of a key,
//! never neither. Written by one thread at a time (the group-commit leader, or recovery); read by
//! any number of threads concurrently. Knows nothing of files or keys.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use crossbeam_skiplist::SkipMap;

use crate::kv::Record;

/// Bytes of a key kept inside the skiplist node itself, when the key is this short or shorter.
/// Most keys the engine writes fit (an item key, an index entry of a short value, a feed key).
const INLINE_KEY: usize = 62;

/// A key's bytes: inside the node when short, so that a comparison during a skiplist search
/// reads the node it has just loaded instead of following a pointer to another allocation (the
/// search's comparisons were the largest single cost of a bulk load); on the heap otherwise.
enum KeyBytes {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl KeyBytes {
    fn copy(key: &[u8]) -> KeyBytes {
        match Self::inline(key) {
            Some(k) => k,
            None => KeyBytes::Heap(key.into()),
        }
    }

    fn inline(key: &[u8]) -> Option<KeyBytes> {
        let len = u8::try_from(key.len())
            .ok()
            .filter(|l| usize::from(*l) <= INLINE_KEY)?;
        let mut bytes = [0u8; INLINE_KEY];
        bytes.get_mut(..key.len())?.copy_from_slice(key);
        Some(KeyBytes::Inline { len, bytes })
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            KeyBytes::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            KeyBytes::Heap(b) => b,
        }
    }
}

/// Orders by key ascending, then sequence number descending: the newest version of a key is the
/// first entry at or after `(key, u64::MAX)`.
struct VersionedKey {
    key: KeyBytes,
    seq: u64,
}

impl VersionedKey {
    fn key(&self) -> &[u8] {
        self.key.as_slice()
    }
}

impl Ord for VersionedKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(other.key()).then(other.seq.cmp(&self.seq))
    }
}

impl PartialEq for VersionedKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for VersionedKey {}

impl PartialOrd for VersionedKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(crate) struct Memtable {
    map: SkipMap<VersionedKey, Option<Vec<u8>>>,
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

    /// Adds a version. Older versions stay (until the flush writes only the newest), so that
    /// readers never see a gap; a replayed older version sorts behind a newer one.
    pub(crate) fn insert(&self, key: &[u8], seq: u64, value: Option<Vec<u8>>) {
        let size = key.len() + value.as_ref().map_or(0, Vec::len) + 48;
        self.bytes.fetch_add(size, AtomicOrdering::Relaxed);
        let key = KeyBytes::copy(key);
        self.map.insert(VersionedKey { key, seq }, value);
    }

    /// The newest version: `Some((seq, None))` is a tombstone; `None` means this memtable does
    /// not know the key.
    pub(crate) fn get(&self, key: &[u8]) -> Option<(u64, Option<Vec<u8>>)> {
        let probe = VersionedKey {
            key: KeyBytes::copy(key),
            seq: u64::MAX,
        };
        let e = self.map.lower_bound(Bound::Included(&probe))?;
        (e.key().key() == key).then(|| (e.key().seq, e.value().clone()))
    }

    /// Approximate bytes held (every version, which is what memory costs).
    pub(crate) fn approximate_bytes(&self) -> usize {
        self.bytes.load(AtomicOrdering::Relaxed)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The newest version of every key from `start` on while `within(key)` holds, in key order.
    pub(crate) fn range(&self, start: &[u8], within: impl Fn(&[u8]) -> bool) -> Vec<Record> {
        self.range_lazy(start, within).collect()
    }

    /// As `range`, read as the caller pulls instead of copied at once: for a caller that wants
    /// only the first few keys of a long range (`Db::first_from`).
    pub(crate) fn range_lazy<'a>(
        &'a self,
        start: &[u8],
        within: impl Fn(&[u8]) -> bool + 'a,
    ) -> impl Iterator<Item = Record> + 'a {
        let probe = VersionedKey {
            key: KeyBytes::copy(start),
            seq: u64::MAX,
        };
        newest_only(
            self.map
                .range((Bound::Included(probe), Bound::Unbounded))
                .take_while(move |e| within(e.key().key()))
                .map(|e| Record {
                    key: e.key().key().to_vec(),
                    seq: e.key().seq,
                    value: e.value().clone(),
                }),
        )
    }

    /// The newest version of every key `k` with `lo <= k < end`, in descending key order.
    pub(crate) fn range_rev(&self, lo: &[u8], end: &[u8]) -> Vec<Record> {
        let mut v = self.range(lo, |k| k < end);
        v.reverse();
        v
    }

    /// The newest version of every key, in key order (for flushing).
    pub(crate) fn records(&self) -> impl Iterator<Item = Record> + '_ {
        newest_only(self.map.iter().map(|e| Record {
            key: e.key().key().to_vec(),
            seq: e.key().seq,
            value: e.value().clone(),
        }))
    }
}

/// Keeps the first (newest) record of each run of equal keys.
fn newest_only(it: impl Iterator<Item = Record>) -> impl Iterator<Item = Record> {
    let mut last: Option<Vec<u8>> = None;
    it.filter(move |r| {
        if last.as_deref() == Some(r.key.as_slice()) {
            return false;
        }
        last = Some(r.key.clone());
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_wins_and_prefix_range() {
        let m = Memtable::new(1);
        m.insert(b"ab", 2, Some(b"new".to_vec()));
        m.insert(b"ab", 1, Some(b"old".to_vec()));
        m.insert(b"ac", 3, None);
        m.insert(b"b", 4, Some(b"x".to_vec()));
        assert_eq!(m.get(b"ab"), Some((2, Some(b"new".to_vec()))));
        assert_eq!(m.get(b"a"), None);
        assert_eq!(m.get(b"ac"), Some((3, None)));
        assert_eq!(m.get(b"zz"), None);
        let r = m.range(b"a", |k| k.starts_with(b"a"));
        assert_eq!(
            r.iter().map(|r| (r.key.clone(), r.seq)).collect::<Vec<_>>(),
            vec![(b"ab".to_vec(), 2), (b"ac".to_vec(), 3)]
        );
        let r = m.range(b"ab\x00", |k| k < b"b".as_slice());
        assert_eq!(r.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3]);
        let all: Vec<_> = m.records().map(|r| r.seq).collect();
        assert_eq!(all, vec![2, 3, 4]);
    }

    /// Keys on both sides of the inline limit (and ones that are prefixes of each other) keep
    /// byte order, and come back whole from every read.
    #[test]
    fn inline_and_heap_keys_order_as_bytes() {
        let m = Memtable::new(1);
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for len in [0, 1, INLINE_KEY - 1, INLINE_KEY, INLINE_KEY + 1, 300] {
            for fill in [0u8, 7, 255] {
                keys.push(vec![fill; len]);
                let mut k = vec![fill; len];
                k.push(1);
                keys.push(k);
            }
        }
        for (seq, k) in keys.iter().enumerate() {
            m.insert(k, seq as u64, Some(k.clone()));
        }
        keys.sort();
        keys.dedup();
        let flushed: Vec<Record> = m.records().collect();
        assert!(flushed.iter().all(|r| r.value.as_ref() == Some(&r.key)));
        assert_eq!(flushed.into_iter().map(|r| r.key).collect::<Vec<_>>(), keys);
        for k in &keys {
            assert_eq!(m.get(k).and_then(|(_, v)| v).as_ref(), Some(k));
        }
        let ranged: Vec<Vec<u8>> = m.range(&[7], |_| true).into_iter().map(|r| r.key).collect();
        assert_eq!(
            ranged,
            keys.iter()
                .filter(|k| k.as_slice() >= &[7][..])
                .cloned()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_reader_racing_overwrites_always_finds_the_key() {
        let m = std::sync::Arc::new(Memtable::new(1));
        m.insert(b"k", 0, Some(vec![0]));
        let w = {
            let m = m.clone();
            std::thread::spawn(move || {
                for seq in 1..20_000u64 {
                    m.insert(b"k", seq, Some(vec![1]));
                }
            })
        };
        let mut misses = 0;
        while !w.is_finished() {
            if m.get(b"k").is_none() {
                misses += 1;
            }
        }
        w.join().unwrap();
        assert_eq!(misses, 0);
        assert_eq!(m.get(b"k").map(|(s, _)| s), Some(19_999));
    }
}
