//! Reads: point lookups (memtable, frozen memtables, then segments level by level, newest first)
//! and prefix scans (a merge of every source). Lock-free against writers: a reader works on the
//! super-version it cloned at its start. Thread-safe.

use crate::error::Result;
use crate::kv::Record;
use crate::sst::{newest_per_key, MergeIter, RecordStream, SegmentIter};

use super::state::Db;

impl Db {
    /// The current value of `key`, `None` if absent or deleted. A damaged block is an error,
    /// never a wrong value.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let sv = self.shared.current()?;
        if let Some((_, v)) = sv.mem.get(key) {
            return Ok(v);
        }
        for m in &sv.imm {
            if let Some((_, v)) = m.get(key) {
                return Ok(v);
            }
        }
        Ok(sv.version.get(key, &self.shared.cache)?.and_then(|(_, v)| v))
    }

    /// Every live `(key, value)` whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let sv = self.shared.current()?;
        let cache = &self.shared.cache;
        let mut sources: Vec<RecordStream<'_>> = Vec::new();
        sources.push(Box::new(sv.mem.range_prefix(prefix).into_iter().map(Ok)));
        for m in &sv.imm {
            sources.push(Box::new(m.range_prefix(prefix).into_iter().map(Ok)));
        }
        for seg in sv.version.segments() {
            if seg.largest() < prefix {
                continue;
            }
            let p = prefix.to_vec();
            sources.push(Box::new(
                SegmentIter::new(seg.clone(), prefix, Some(cache))
                    .take_while(move |r: &Result<Record>| r.as_ref().map_or(true, |r| r.key.starts_with(&p))),
            ));
        }
        let mut out = Vec::new();
        for r in newest_per_key(MergeIter::new(sources)) {
            let r = r?;
            if let Some(v) = r.value {
                out.push((r.key, v));
            }
        }
        Ok(out)
    }
}
