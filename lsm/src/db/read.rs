//! Reads: point lookups (memtable, frozen memtables, then segments level by level, newest first)
//! and range scans (a merge of every source), collected or as a lazy stream (`ScanIter`) that
//! reads one block at a time. Lock-free against writers: a reader works on the super-version it
//! cloned at its start. Every read first asks the customer layer whether its key is held: while
//! it is withheld (revoked) nothing is served, from the memtables either (403.4002). Thread-safe.
//! Knows nothing of what the keys mean.

use std::sync::Arc;

use crate::error::Result;
use crate::kv::Record;
use crate::sst::{newest_per_key, KeyHash, MergeIter, RecordStream, SegmentIter, SegmentRevIter};

use super::state::{Db, SuperVersion};

impl Db {
    /// The current value of `key`, `None` if absent or deleted. A damaged block is an error,
    /// never a wrong value.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let sv = self.readable()?;
        if let Some((_, v)) = sv.mem.get(key) {
            return Ok(v);
        }
        for m in &sv.imm {
            if let Some((_, v)) = m.get(key) {
                return Ok(v);
            }
        }
        // Hashed once for every segment's filter; keys the policy leaves out are not hashed.
        let hash = (self.shared.opts.filter_keys)(key).then(|| KeyHash::of(key));
        Ok(sv
            .version
            .get(key, hash, &self.shared.cache)?
            .and_then(|(_, v)| v))
    }

    /// Every live `(key, value)` whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let p = prefix.to_vec();
        self.scan(prefix, move |k: &[u8]| k.starts_with(&p), usize::MAX)
    }

    /// At most `limit` live `(key, value)` pairs with `start <= key < end`, in key order. Reads
    /// only as far as it needs: segments are merged lazily.
    pub fn scan_range(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let e = end.to_vec();
        self.scan(start, move |k: &[u8]| k < e.as_slice(), limit)
    }

    /// The live `(key, value)` pairs with `start <= key` whose key starts with `prefix`, in key
    /// order, as a lazy stream over one snapshot (the super-version current at the call): each
    /// segment is read one block at a time as the caller pulls, so a caller that stops early
    /// reads only what it pulled. The memtables' records in the range are copied at the call
    /// (their size is bounded by the memtable budget). A damaged block is an `Err` item, after
    /// which the stream ends.
    pub fn iter_prefix_from(&self, prefix: &[u8], start: &[u8]) -> Result<ScanIter<'_>> {
        self.prefix_stream(prefix, start, true)
    }

    /// `iter_prefix_from` for a scan that reads the range once (an aggregate over a whole
    /// container): blocks in the block cache are used, blocks read from segment files are not
    /// added to it, so the scan does not evict what point reads keep hot, nor fill the cache's
    /// memory for blocks it will not read again.
    pub fn iter_prefix_once(&self, prefix: &[u8], start: &[u8]) -> Result<ScanIter<'_>> {
        self.prefix_stream(prefix, start, false)
    }

    /// The pairs of `prefix` from `start` (or the prefix's start, whichever is later); blocks
    /// read go into the block cache if `fill`.
    fn prefix_stream(&self, prefix: &[u8], start: &[u8], fill: bool) -> Result<ScanIter<'_>> {
        let p = prefix.to_vec();
        let start = if start < prefix { prefix } else { start };
        self.stream(start, move |k: &[u8]| k.starts_with(&p), fill)
    }

    /// The first live `(key, value)` pair with `start <= key` while `within(key)` holds: a seek.
    /// Unlike `iter_prefix_from`, nothing of the memtables is copied beyond what it passes over
    /// (deleted keys), so a caller can seek many times through a long range (the engine finds
    /// the distinct partition-key prefixes of a container this way) at the cost of one lookup
    /// each.
    pub fn first_from(
        &self,
        start: &[u8],
        within: impl Fn(&[u8]) -> bool + Clone,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let sv = self.readable()?;
        let mut sources: Vec<RecordStream<'_>> = Vec::new();
        sources.push(Box::new(sv.mem.range_lazy(start, within.clone()).map(Ok)));
        for m in &sv.imm {
            sources.push(Box::new(m.range_lazy(start, within.clone()).map(Ok)));
        }
        self.add_segments(&sv, start, within, true, &mut sources);
        for next in newest_per_key(MergeIter::new(sources)) {
            let Record { key, value, .. } = next?;
            if let Some(value) = value {
                return Ok(Some((key, value)));
            }
        }
        Ok(None)
    }

    /// The live `(key, value)` pairs with `lo <= key < end` in descending key order, as a lazy
    /// stream over one snapshot, like `iter_prefix_from` read backwards: each segment is read
    /// one block at a time from its end, and the memtables' records in the range are copied at
    /// the call.
    pub fn iter_range_rev(&self, lo: &[u8], end: &[u8]) -> Result<ScanIter<'_>> {
        let sv = self.readable()?;
        let cache = &self.shared.cache;
        let mut sources: Vec<RecordStream<'_>> = Vec::new();
        sources.push(Box::new(sv.mem.range_rev(lo, end).into_iter().map(Ok)));
        for m in &sv.imm {
            sources.push(Box::new(m.range_rev(lo, end).into_iter().map(Ok)));
        }
        for seg in sv.version.segments() {
            if seg.largest() < lo || seg.smallest() >= end {
                continue;
            }
            let lo = lo.to_vec();
            sources.push(Box::new(
                SegmentRevIter::new(seg.clone(), end, Some(cache))
                    .take_while(move |r: &Result<Record>| r.as_ref().map_or(true, |r| r.key >= lo)),
            ));
        }
        Ok(ScanIter {
            records: Box::new(newest_per_key(MergeIter::descending(sources))),
            _snapshot: sv,
        })
    }

    /// The current super-version, once the customer layer says its key is held (403.4002 while
    /// it is withheld: the memtables would otherwise answer in the clear).
    fn readable(&self) -> Result<Arc<SuperVersion>> {
        self.shared.suite.customer_layer().require_key()?;
        self.shared.current()
    }

    fn scan(
        &self,
        start: &[u8],
        within: impl Fn(&[u8]) -> bool + Clone + 'static,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.stream(start, within, true)?.take(limit).collect()
    }

    /// The live pairs from `start` while `within` holds; blocks read go into the block cache
    /// if `fill`.
    fn stream(
        &self,
        start: &[u8],
        within: impl Fn(&[u8]) -> bool + Clone + 'static,
        fill: bool,
    ) -> Result<ScanIter<'_>> {
        let sv = self.readable()?;
        let mut sources: Vec<RecordStream<'_>> = Vec::new();
        sources.push(Box::new(sv.mem.range(start, &within).into_iter().map(Ok)));
        for m in &sv.imm {
            sources.push(Box::new(m.range(start, &within).into_iter().map(Ok)));
        }
        self.add_segments(&sv, start, within, fill, &mut sources);
        Ok(ScanIter {
            records: Box::new(newest_per_key(MergeIter::new(sources))),
            _snapshot: sv,
        })
    }
}

impl Db {
    /// Adds to `sources` a lazy stream per segment of `sv` that may hold keys from `start` on,
    /// each read one block at a time while `within(key)` holds, putting the blocks it reads into
    /// the block cache if `fill`.
    fn add_segments<'a>(
        &'a self,
        sv: &SuperVersion,
        start: &[u8],
        within: impl Fn(&[u8]) -> bool + Clone + 'a,
        fill: bool,
        sources: &mut Vec<RecordStream<'a>>,
    ) {
        let cache = &self.shared.cache;
        for seg in sv.version.segments() {
            if seg.largest() < start {
                continue;
            }
            let w = within.clone();
            let records = match fill {
                true => SegmentIter::new(seg.clone(), start, Some(cache)),
                false => SegmentIter::once(seg.clone(), start, Some(cache)),
            };
            sources.push(Box::new(records.take_while(move |r: &Result<Record>| {
                r.as_ref().map_or(true, |r| w(&r.key))
            })));
        }
    }
}

/// A lazy scan over one snapshot (see `Db::iter_prefix_from`): live `(key, value)` pairs in key
/// order; deleted keys are skipped.
pub struct ScanIter<'a> {
    records: Box<dyn Iterator<Item = Result<Record>> + 'a>,
    /// Keeps the snapshot's memtables and segments alive while the stream is read.
    _snapshot: Arc<SuperVersion>,
}

impl Iterator for ScanIter<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.records.next()? {
                Err(e) => return Some(Err(e)),
                Ok(Record {
                    key, value: Some(v), ..
                }) => return Some(Ok((key, v))),
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::cipher::CipherSuite;
    use crate::db::Durability;
    use crate::db::{Db, DbOptions};
    use crate::kv::WriteBatch;

    fn open(dir: &tempfile::TempDir) -> Db {
        Db::open(
            dir.path(),
            DbOptions::default(),
            Arc::new(CipherSuite::ephemeral(true)),
        )
        .unwrap()
    }

    /// Keys the filter policy leaves out of the bloom filters are still found by `get` after a
    /// flush and a compaction (the filter is skipped for them), and the filters are smaller.
    #[test]
    fn keys_left_out_of_the_filters_are_still_found() {
        fn not_scanned_only(key: &[u8]) -> bool {
            key.first() != Some(&b's')
        }
        let mut filter_bytes = Vec::new();
        for policy in [crate::db::every_key, not_scanned_only] {
            let dir = tempfile::tempdir().unwrap();
            let opts = DbOptions {
                filter_keys: policy,
                ..DbOptions::default()
            };
            let db = Db::open(dir.path(), opts, Arc::new(CipherSuite::ephemeral(true))).unwrap();
            let mut b = WriteBatch::new();
            for i in 0..2_000u32 {
                b.put(format!("p{i:05}").into_bytes(), vec![1]);
                for j in 0..3 {
                    b.put(format!("s{i:05}-{j}").into_bytes(), vec![2]);
                }
            }
            db.write(b, Durability::Sync).unwrap();
            db.flush().unwrap();
            db.compact().unwrap();
            for i in (0..2_000u32).step_by(97) {
                assert_eq!(db.get(format!("p{i:05}").as_bytes()).unwrap(), Some(vec![1]));
                assert_eq!(db.get(format!("s{i:05}-2").as_bytes()).unwrap(), Some(vec![2]));
                assert_eq!(db.get(format!("s{i:05}-9").as_bytes()).unwrap(), None);
                assert_eq!(db.get(format!("p{i:05}x").as_bytes()).unwrap(), None);
            }
            filter_bytes.push(db.stats().unwrap().filter_bytes);
        }
        // A quarter of the keys in the filter: about a quarter of the bits.
        assert!(
            filter_bytes[1] * 3 < filter_bytes[0],
            "filter bytes, every key / point-read keys only: {filter_bytes:?}"
        );
    }

    /// A scan read once sees what a scan through the cache sees, uses the blocks the cache holds,
    /// and adds none of those it reads from the files.
    #[test]
    fn a_scan_read_once_uses_the_block_cache_without_filling_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        let mut b = WriteBatch::new();
        for i in 0..3_000u32 {
            b.put(format!("k{i:05}").into_bytes(), vec![7; 100]);
        }
        db.write(b, Durability::Sync).unwrap();
        db.flush().unwrap();
        db.drop_cached_blocks();
        let cache = || db.stats().unwrap().cache;
        let once: Vec<_> = db
            .iter_prefix_once(b"k", b"k01000")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(once.len(), 2_000);
        assert_eq!(cache().bytes, 0, "a scan read once fills nothing");
        let before = cache();
        let filled: Vec<_> = db
            .iter_prefix_from(b"k", b"k01000")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(once, filled);
        let warm = cache();
        assert!(warm.bytes > 0 && warm.misses > before.misses);
        let again: Vec<_> = db
            .iter_prefix_once(b"k", b"k01000")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(again, filled);
        let after = cache();
        assert_eq!(
            (after.misses, after.bytes),
            (warm.misses, warm.bytes),
            "every block from the cache"
        );
        assert!(after.hits > warm.hits);
    }

    #[test]
    fn range_scans_merge_sources_honour_bounds_limits_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        let key = |i: u32| format!("k{i:04}").into_bytes();
        let mut b = WriteBatch::new();
        for i in 0..100 {
            b.put(key(i), vec![1]);
        }
        db.write(b, Durability::Sync).unwrap();
        db.flush().unwrap();
        // Newer versions and deletes in the memtable, over the segment.
        let mut b = WriteBatch::new();
        for i in (0..100).step_by(10) {
            b.put(key(i), vec![2]);
        }
        b.delete(key(11)).delete(key(12));
        db.write(b, Durability::Sync).unwrap();

        let got = db.scan_range(&key(10), &key(20), usize::MAX).unwrap();
        let keys: Vec<_> = got.iter().map(|(k, _)| k.clone()).collect();
        let want: Vec<_> = (10..20).filter(|i| *i != 11 && *i != 12).map(key).collect();
        assert_eq!(keys, want);
        assert_eq!(got[0].1, vec![2], "the newest version wins");
        assert_eq!(got[1].1, vec![1]);
        let page = db.scan_range(&key(10), &key(20), 3).unwrap();
        assert_eq!(
            page.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            vec![key(10), key(13), key(14)]
        );
        assert!(db.scan_range(&key(200), &key(300), 10).unwrap().is_empty());
        assert!(db.scan_range(&key(5), &key(5), 10).unwrap().is_empty());

        // The stream resumes at any start key, stays inside the prefix, and is a snapshot:
        // writes after it was opened are not seen.
        let mut it = db.iter_prefix_from(b"k00", &key(9)).unwrap();
        let mut b = WriteBatch::new();
        b.delete(key(10)).put(key(15), vec![3]);
        db.write(b, Durability::Sync).unwrap();
        let first: Vec<_> = it.by_ref().take(3).map(|r| r.unwrap()).collect();
        assert_eq!(
            first,
            vec![(key(9), vec![1]), (key(10), vec![2]), (key(13), vec![1])]
        );
        let rest: Vec<_> = it.map(|r| r.unwrap().0).collect();
        let want: Vec<_> = (14..100).map(key).collect();
        assert_eq!(rest, want, "k0014..k0099: the prefix k00 covers k0000..k0099");
        let from_before: Vec<_> = db
            .iter_prefix_from(b"k001", b"a")
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(
            from_before,
            (13..20).map(key).collect::<Vec<_>>(),
            "a start before the prefix starts at it"
        );
        assert_eq!(db.iter_prefix_from(b"k001", b"z").unwrap().count(), 0);
    }

    /// Recent writes sit in the memtable in the clear: while the customer key is withheld no
    /// read may answer from it, and once the same key is back everything reads again.
    #[test]
    fn a_withheld_key_refuses_reads_of_the_memtable_too() {
        let dir = tempfile::tempdir().unwrap();
        let suite = Arc::new(CipherSuite::ephemeral(true));
        let db = Db::open(dir.path(), DbOptions::default(), suite.clone()).unwrap();
        db.put(b"k1", b"flushed").unwrap();
        db.flush().unwrap();
        db.put(b"k2", b"in the memtable").unwrap();
        let dek = suite.customer_dek().unwrap();
        suite.customer_layer().withhold();
        let refusals = [
            db.get(b"k2").map(|_| ()).unwrap_err(),
            db.get(b"absent").map(|_| ()).unwrap_err(),
            db.scan_prefix(b"k").map(|_| ()).unwrap_err(),
            db.scan_range(b"k2", b"k3", 1).map(|_| ()).unwrap_err(),
            db.iter_prefix_from(b"k", b"k2").map(|_| ()).unwrap_err(),
            db.iter_range_rev(b"k", b"l").map(|_| ()).unwrap_err(),
        ];
        for e in refusals {
            assert!(matches!(e, crate::error::Error::KeyWithheld(_)), "{e:?}");
        }
        suite.customer_layer().restore(dek).unwrap();
        assert_eq!(db.get(b"k2").unwrap().as_deref(), Some(&b"in the memtable"[..]));
        assert_eq!(db.scan_prefix(b"k").unwrap().len(), 2);
    }

    #[test]
    fn reverse_scans_see_what_forward_scans_see_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir);
        let key = |i: u32| format!("k{i:05}").into_bytes();
        // Three segments (the first spanning many blocks), then changes in the memtable.
        for round in 0..3u32 {
            let mut b = WriteBatch::new();
            for i in (round..3000).step_by(3) {
                b.put(key(i), vec![round as u8; 40]);
            }
            db.write(b, Durability::Sync).unwrap();
            db.flush().unwrap();
        }
        let mut b = WriteBatch::new();
        for i in (0..3000).step_by(7) {
            b.put(key(i), vec![9]);
        }
        for i in (0..3000).step_by(11) {
            b.delete(key(i));
        }
        db.write(b, Durability::Sync).unwrap();
        for (lo, end) in [(0, 3000), (17, 2500), (1000, 1001), (5, 5), (2999, 4000)] {
            let mut fwd = db.scan_range(&key(lo), &key(end), usize::MAX).unwrap();
            fwd.reverse();
            let rev: Vec<_> = db
                .iter_range_rev(&key(lo), &key(end))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(rev.len(), fwd.len(), "[{lo}, {end})");
            assert!(rev == fwd, "[{lo}, {end}): reverse differs");
        }
        let first = db.iter_range_rev(b"k", b"l").unwrap().next().unwrap().unwrap();
        assert_eq!(first, (key(2999), vec![2; 40]), "the largest key first");
        assert_eq!(db.iter_range_rev(b"a", b"b").unwrap().count(), 0);
    }
}
