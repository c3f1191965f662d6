//! The block cache: decrypted, decompressed data blocks keyed by (segment id, block number),
//! bounded in bytes, least-recently-used eviction. Thread-safe: one mutex, under which every
//! operation but `evict_segment` is O(1) and allocates nothing in the steady state (a hash map
//! of slots and a doubly linked recency list threaded through a slab); blocks that leave the
//! cache are freed after the lock is released, never under it. Written here rather than taken
//! from the `lru` crate, which bounds by entry count and allocates a node per entry; this cache
//! is bounded in bytes of blocks of varying size and reuses its slots.
//! Holds plaintext only in memory; never writes anything anywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxBuildHasher;

use crate::sst::block::DataBlock;

type Key = (u64, u32);

/// No slot: the end of the recency list.
const NIL: usize = usize::MAX;

/// A slot of the slab: a cached block and its neighbours in recency order.
struct Slot {
    key: Key,
    block: Option<Arc<DataBlock>>,
    /// The more recently used neighbour (`NIL` at the head).
    newer: usize,
    /// The less recently used neighbour (`NIL` at the tail).
    older: usize,
}

struct Inner {
    /// FxHash: the keys are the engine's own numbers, never chosen by a caller, so a fast
    /// non-keyed hash does instead of SipHash.
    map: HashMap<Key, usize, FxBuildHasher>,
    slots: Vec<Slot>,
    /// Slots of `slots` that hold nothing, to reuse.
    free: Vec<usize>,
    /// Most recently used slot.
    head: usize,
    /// Least recently used slot: the next to evict.
    tail: usize,
    bytes: usize,
    hits: u64,
    misses: u64,
}

impl Inner {
    fn unlink(&mut self, i: usize) {
        let (newer, older) = (self.slots[i].newer, self.slots[i].older);
        match newer {
            NIL => self.head = older,
            n => self.slots[n].older = older,
        }
        match older {
            NIL => self.tail = newer,
            o => self.slots[o].newer = newer,
        }
    }

    fn push_front(&mut self, i: usize) {
        self.slots[i].newer = NIL;
        self.slots[i].older = self.head;
        match self.head {
            NIL => self.tail = i,
            h => self.slots[h].newer = i,
        }
        self.head = i;
    }

    /// Takes slot `i` out of the map, the list and the byte count, and returns its block.
    fn remove(&mut self, i: usize) -> Option<Arc<DataBlock>> {
        self.unlink(i);
        self.map.remove(&self.slots[i].key);
        self.free.push(i);
        let b = self.slots[i].block.take();
        if let Some(b) = &b {
            self.bytes -= b.charge();
        }
        b
    }
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
                map: HashMap::default(),
                slots: Vec::new(),
                free: Vec::new(),
                head: NIL,
                tail: NIL,
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
        let Some(&i) = g.map.get(&(segment, block)) else {
            g.misses += 1;
            return None;
        };
        g.unlink(i);
        g.push_front(i);
        g.hits += 1;
        g.slots[i].block.clone()
    }

    pub(crate) fn insert(&self, segment: u64, block: u32, b: Arc<DataBlock>) {
        let charge = b.charge();
        if charge > self.capacity {
            return;
        }
        // What leaves the cache is dropped here, after the lock is released.
        let mut evicted: Vec<Arc<DataBlock>> = Vec::new();
        let mut g = self.lock();
        let key = (segment, block);
        let i = match g.map.get(&key).copied() {
            Some(i) => {
                g.unlink(i);
                if let Some(old) = g.slots[i].block.replace(b) {
                    g.bytes -= old.charge();
                    evicted.push(old);
                }
                i
            }
            None => {
                let slot = Slot {
                    key,
                    block: Some(b),
                    newer: NIL,
                    older: NIL,
                };
                let i = match g.free.pop() {
                    Some(i) => {
                        g.slots[i] = slot;
                        i
                    }
                    None => {
                        g.slots.push(slot);
                        g.slots.len() - 1
                    }
                };
                g.map.insert(key, i);
                i
            }
        };
        g.push_front(i);
        g.bytes += charge;
        while g.bytes > self.capacity && g.tail != NIL {
            let t = g.tail;
            evicted.extend(g.remove(t));
        }
        drop(g);
        drop(evicted);
    }

    /// Drops every block (plaintext) held, e.g. when the customer key is withdrawn. Hit and miss
    /// counts are kept.
    pub fn clear(&self) {
        let mut g = self.lock();
        let slots = std::mem::take(&mut g.slots);
        g.map.clear();
        g.free.clear();
        (g.head, g.tail, g.bytes) = (NIL, NIL, 0);
        drop(g);
        drop(slots);
    }

    /// Drops every block of a segment (after compaction deleted it).
    pub(crate) fn evict_segment(&self, segment: u64) {
        let mut g = self.lock();
        let slots: Vec<usize> = g
            .map
            .iter()
            .filter(|(k, _)| k.0 == segment)
            .map(|(_, &i)| i)
            .collect();
        let evicted: Vec<Arc<DataBlock>> = slots.into_iter().filter_map(|i| g.remove(i)).collect();
        drop(g);
        drop(evicted);
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
    use proptest::prelude::*;

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

    #[test]
    fn blocks_that_leave_the_cache_are_not_held() {
        let one = block(1000).charge();
        let c = BlockCache::new(one * 2);
        let (a, b, d) = (block(1000), block(1000), block(1000));
        c.insert(1, 0, a.clone());
        c.insert(1, 1, b.clone());
        c.insert(1, 1, block(1000)); // replaces b
        c.insert(1, 2, d.clone()); // evicts a
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));
        assert_eq!(Arc::strong_count(&d), 2);
        c.clear();
        assert_eq!(Arc::strong_count(&d), 1);
        assert_eq!(c.stats().bytes, 0);
        assert!(c.get(1, 2).is_none());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Get(u64, u32),
        Insert(u64, u32, usize),
        EvictSegment(u64),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u64..3, 0u32..6).prop_map(|(s, b)| Op::Get(s, b)),
            6 => (0u64..3, 0u32..6, prop_oneof![Just(10usize), Just(500), Just(1000), Just(5000)])
                .prop_map(|(s, b, n)| Op::Insert(s, b, n)),
            1 => (0u64..3).prop_map(Op::EvictSegment),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(strata_base::fuzz_support::config(256))]

        /// Against a plain least-recently-used list: the same hits, misses, blocks and bytes
        /// after every operation.
        #[test]
        fn behaves_like_an_lru_list(ops in proptest::collection::vec(op(), 1..200)) {
            let capacity = block(1000).charge() * 3;
            let c = BlockCache::new(capacity);
            // Most recent first: (key, charge).
            let mut model: Vec<((u64, u32), usize)> = Vec::new();
            let (mut hits, mut misses) = (0, 0);
            for op in ops {
                match op {
                    Op::Get(s, b) => {
                        let got = c.get(s, b).map(|x| x.charge());
                        let want = model.iter().position(|e| e.0 == (s, b)).map(|i| {
                            let e = model.remove(i);
                            model.insert(0, e);
                            e.1
                        });
                        if want.is_some() { hits += 1 } else { misses += 1 }
                        prop_assert_eq!(got, want);
                    }
                    Op::Insert(s, b, n) => {
                        let blk = block(n);
                        let charge = blk.charge();
                        c.insert(s, b, blk);
                        if charge <= capacity {
                            model.retain(|e| e.0 != (s, b));
                            model.insert(0, ((s, b), charge));
                            while model.iter().map(|e| e.1).sum::<usize>() > capacity {
                                model.pop();
                            }
                        }
                    }
                    Op::EvictSegment(s) => {
                        c.evict_segment(s);
                        model.retain(|e| e.0 .0 != s);
                    }
                    Op::Clear => {
                        c.clear();
                        model.clear();
                    }
                }
                let st = c.stats();
                prop_assert_eq!(st.bytes, model.iter().map(|e| e.1).sum::<usize>());
                prop_assert_eq!((st.hits, st.misses), (hits, misses));
            }
        }
    }
}
