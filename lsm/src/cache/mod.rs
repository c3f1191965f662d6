//! The block cache: decrypted, decompressed data blocks keyed by (segment id, block number),
//! bounded in bytes, least-recently-used eviction. Thread-safe (one mutex; lookups are short).
//! Holds plaintext only in memory; never writes anything anywhere.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sst::block::DataBlock;

type Key = (u64, u32);

struct Inner {
    map: HashMap<Key, (Arc<DataBlock>, u64)>,
    lru: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
    hits: u64,
    misses: u64,
}

pub(crate) struct BlockCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

/// Hit and miss counts, for stats and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub bytes: usize,
}

impl BlockCache {
    pub(crate) fn new(capacity: usize) -> BlockCache {
        BlockCache {
            capacity,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                lru: BTreeMap::new(),
                tick: 0,
                bytes: 0,
                hits: 0,
                misses: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent in a way that matters
        // for correctness (worst case a stale byte count), so recover from poisoning.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, segment: u64, block: u32) -> Option<Arc<DataBlock>> {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let Some((b, old)) = g.map.get_mut(&(segment, block)).map(|e| {
            let old = e.1;
            e.1 = tick;
            (e.0.clone(), old)
        }) else {
            g.misses += 1;
            return None;
        };
        g.lru.remove(&old);
        g.lru.insert(tick, (segment, block));
        g.hits += 1;
        Some(b)
    }

    pub(crate) fn insert(&self, segment: u64, block: u32, b: Arc<DataBlock>) {
        let charge = b.charge();
        if charge > self.capacity {
            return;
        }
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        if let Some((old, old_tick)) = g.map.insert((segment, block), (b, tick)) {
            g.bytes -= old.charge();
            g.lru.remove(&old_tick);
        }
        g.lru.insert(tick, (segment, block));
        g.bytes += charge;
        while g.bytes > self.capacity {
            let Some((_, key)) = g.lru.pop_first() else {
                break;
            };
            if let Some((old, _)) = g.map.remove(&key) {
                g.bytes -= old.charge();
            }
        }
    }

    /// Drops every block (plaintext) held, e.g. when the customer key is withdrawn. Hit and miss
    /// counts are kept.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.map.clear();
        g.lru.clear();
        g.bytes = 0;
    }

    /// Drops every block of a segment (after compaction deleted it).
    pub(crate) fn evict_segment(&self, segment: u64) {
        let mut g = self.lock();
        let keys: Vec<Key> = g.map.keys().filter(|k| k.0 == segment).copied().collect();
        for k in keys {
            if let Some((old, tick)) = g.map.remove(&k) {
                g.bytes -= old.charge();
                g.lru.remove(&tick);
            }
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            hits: g.hits,
            misses: g.misses,
            bytes: g.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::Record;
    use crate::sst::block::BlockBuilder;

    fn block(n: usize) -> Arc<DataBlock> {
        let mut b = BlockBuilder::new();
        b.add(&Record {
            key: b"k".to_vec(),
            seq: 1,
            value: Some(vec![0; n]),
        });
        Arc::new(DataBlock::decode(b.finish()).unwrap())
    }

    #[test]
    fn bounded_and_lru() {
        let one = block(1000).charge();
        let c = BlockCache::new(one * 3);
        for i in 0..3 {
            c.insert(1, i, block(1000));
        }
        assert!(c.get(1, 0).is_some()); // 0 is now most recent
        c.insert(1, 3, block(1000)); // evicts 1
        assert!(c.get(1, 1).is_none());
        assert!(c.get(1, 0).is_some() && c.get(1, 2).is_some() && c.get(1, 3).is_some());
        assert!(c.stats().bytes <= one * 3);
        c.evict_segment(1);
        assert_eq!(c.stats().bytes, 0);
        c.insert(2, 0, block(one * 10)); // larger than the cache: not kept
        assert!(c.get(2, 0).is_none());
    }
}
