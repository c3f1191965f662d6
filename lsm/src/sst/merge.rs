//! K-way merge of sorted record streams (memtables and segments) into one stream ordered by key
//! (ascending, or descending for reverse scans), newest version of a key first; and the filter that keeps only the newest version of each key. Used by
//! scans and by compaction. Single-threaded.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::error::Result;
use crate::kv::Record;

pub(crate) type RecordStream<'a> = Box<dyn Iterator<Item = Result<Record>> + 'a>;

struct Head {
    rec: Record,
    source: usize,
    /// The merge runs in descending key order.
    desc: bool,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    /// Smallest key first (largest first when descending); for equal keys the highest sequence
    /// number first.
    fn cmp(&self, other: &Self) -> Ordering {
        let keys = self.rec.key.cmp(&other.rec.key);
        let keys = if self.desc { keys.reverse() } else { keys };
        keys.then(other.rec.seq.cmp(&self.rec.seq))
            .then(self.source.cmp(&other.source))
    }
}

pub(crate) struct MergeIter<'a> {
    sources: Vec<RecordStream<'a>>,
    heap: BinaryHeap<Reverse<Head>>,
    error: Option<crate::error::Error>,
    desc: bool,
}

impl<'a> MergeIter<'a> {
    /// Merges streams that are each in ascending key order.
    pub(crate) fn new(sources: Vec<RecordStream<'a>>) -> MergeIter<'a> {
        MergeIter::with_direction(sources, false)
    }

    /// Merges streams that are each in descending key order (each holding at most one version
    /// of a key, as memtable ranges and segments do), largest key first.
    pub(crate) fn descending(sources: Vec<RecordStream<'a>>) -> MergeIter<'a> {
        MergeIter::with_direction(sources, true)
    }

    fn with_direction(mut sources: Vec<RecordStream<'a>>, desc: bool) -> MergeIter<'a> {
        let mut heap = BinaryHeap::new();
        let mut error = None;
        for (i, s) in sources.iter_mut().enumerate() {
            match s.next() {
                Some(Ok(rec)) => heap.push(Reverse(Head { rec, source: i, desc })),
                Some(Err(e)) => {
                    error.get_or_insert(e);
                }
                None => {}
            }
        }
        MergeIter {
            sources,
            heap,
            error,
            desc,
        }
    }
}

impl Iterator for MergeIter<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if let Some(e) = self.error.take() {
            self.heap.clear();
            return Some(Err(e));
        }
        let Reverse(head) = self.heap.pop()?;
        if let Some(src) = self.sources.get_mut(head.source) {
            match src.next() {
                Some(Ok(rec)) => self.heap.push(Reverse(Head {
                    rec,
                    source: head.source,
                    desc: self.desc,
                })),
                Some(Err(e)) => self.error = Some(e),
                None => {}
            }
        }
        Some(Ok(head.rec))
    }
}

/// Keeps the first (newest) record of each key of a merged stream.
pub(crate) fn newest_per_key<'a>(
    it: impl Iterator<Item = Result<Record>> + 'a,
) -> impl Iterator<Item = Result<Record>> + 'a {
    let mut last: Option<Vec<u8>> = None;
    it.filter(move |r| match r {
        Ok(rec) => {
            if last.as_deref() == Some(rec.key.as_slice()) {
                false
            } else {
                last = Some(rec.key.clone());
                true
            }
        }
        Err(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(v: Vec<(&'static str, u64)>) -> RecordStream<'static> {
        Box::new(v.into_iter().map(|(k, s)| {
            Ok(Record {
                key: k.as_bytes().to_vec(),
                seq: s,
                value: None,
            })
        }))
    }

    #[test]
    fn merges_in_key_order_newest_first() {
        let m = MergeIter::new(vec![
            stream(vec![("a", 1), ("c", 5)]),
            stream(vec![("a", 3), ("b", 2)]),
            stream(vec![]),
        ]);
        let got: Vec<(String, u64)> = m
            .map(|r| r.map(|r| (String::from_utf8(r.key).unwrap(), r.seq)).unwrap())
            .collect();
        assert_eq!(
            got,
            vec![("a".into(), 3), ("a".into(), 1), ("b".into(), 2), ("c".into(), 5)]
        );
        let newest: Vec<u64> = newest_per_key(MergeIter::new(vec![
            stream(vec![("a", 1), ("c", 5)]),
            stream(vec![("a", 3), ("b", 2)]),
        ]))
        .map(|r| r.unwrap().seq)
        .collect();
        assert_eq!(newest, vec![3, 2, 5]);
        let desc: Vec<(String, u64)> = newest_per_key(MergeIter::descending(vec![
            stream(vec![("c", 5), ("a", 1)]),
            stream(vec![("b", 2), ("a", 3)]),
            stream(vec![]),
        ]))
        .map(|r| r.map(|r| (String::from_utf8(r.key).unwrap(), r.seq)).unwrap())
        .collect();
        assert_eq!(
            desc,
            vec![("c".into(), 5), ("b".into(), 2), ("a".into(), 3)],
            "descending, the newest version of a key first"
        );
    }
}
