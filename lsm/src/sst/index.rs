//! A segment's block index as kept in memory: every data block's bound (its index key: at or
//! above the block's last key and below the next block's first, sst/separator.rs; the last
//! block's is its exact last key) and where the block lies in the file, flat — all keys in one buffer, block ends in one array — so that an index of
//! thousands of blocks costs three allocations rather than one per block (a per-block `Vec` key
//! cost about twice the key's own bytes). Built from an index block the reader has already
//! opened and checked; pure and immutable, so thread-safe. Knows nothing of ciphers or files.

use super::format::Handle;

pub(crate) struct BlockIndex {
    /// Every block's bound, in block order, back to back.
    keys: Vec<u8>,
    /// Where block `i`'s bound ends in `keys` (it starts where block `i - 1`'s ends).
    key_ends: Vec<u32>,
    /// Where data block `i` ends in the file; blocks are contiguous, so it starts where block
    /// `i - 1` ends, and block 0 at `first`.
    ends: Vec<u64>,
    first: u64,
}

impl BlockIndex {
    /// An empty index whose first block would start at `first`.
    pub(crate) fn new(first: u64, blocks: usize) -> BlockIndex {
        BlockIndex {
            keys: Vec::new(),
            key_ends: Vec::with_capacity(blocks),
            ends: Vec::with_capacity(blocks),
            first,
        }
    }

    /// Appends the next block: it ends at `end` (after the previous one) and its bound is
    /// `bound`. `false` (nothing appended) if the keys would pass 4 GiB in all or `end` lies
    /// before the previous block's end.
    pub(crate) fn push(&mut self, bound: &[u8], end: u64) -> bool {
        let Ok(key_end) = u32::try_from(self.keys.len() + bound.len()) else {
            return false;
        };
        if end < self.ends.last().copied().unwrap_or(self.first) {
            return false;
        }
        self.keys.extend_from_slice(bound);
        self.key_ends.push(key_end);
        self.ends.push(end);
        true
    }

    /// Gives back the spare capacity of the key buffer once every block is in.
    pub(crate) fn shrink(&mut self) {
        self.keys.shrink_to_fit();
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Block `i`'s bound (empty past the end).
    pub(crate) fn bound(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(p) => self.key_ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.key_ends.get(i).map_or(start, |&e| e as usize);
        self.keys.get(start..end).unwrap_or_default()
    }

    /// Where block `i` lies in the file (`None` past the end).
    pub(crate) fn handle(&self, i: usize) -> Option<Handle> {
        let end = *self.ends.get(i)?;
        let offset = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)?,
            None => self.first,
        };
        Some(Handle {
            offset,
            len: u32::try_from(end - offset).ok()?,
        })
    }

    /// Index of the first block whose bound is >= `key` (`len()` if none): the only block that
    /// can hold `key`.
    pub(crate) fn block_for(&self, key: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.bound(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Bytes held, for memory accounting.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() + 4 * self.key_ends.capacity() + 8 * self.ends.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_handles_and_search() {
        let mut ix = BlockIndex::new(57, 3);
        assert!(ix.push(b"b", 100));
        assert!(ix.push(b"dd", 150));
        assert!(ix.push(b"", 150));
        assert_eq!(ix.len(), 3);
        assert_eq!(
            (ix.bound(0), ix.bound(1), ix.bound(2)),
            (&b"b"[..], &b"dd"[..], &b""[..])
        );
        assert_eq!(ix.bound(9), b"");
        assert_eq!(ix.handle(0), Some(Handle { offset: 57, len: 43 }));
        assert_eq!(ix.handle(1), Some(Handle { offset: 100, len: 50 }));
        assert_eq!(ix.handle(3), None);
        let mut ix = BlockIndex::new(57, 0);
        for (k, end) in [(&b"b"[..], 60), (b"d", 70), (b"f", 80)] {
            assert!(ix.push(k, end));
        }
        assert_eq!(
            [&b"a"[..], b"b", b"c", b"d", b"e", b"f", b"g"].map(|k| ix.block_for(k)),
            [0, 0, 1, 1, 2, 2, 3]
        );
        assert!(!ix.push(b"h", 79), "a block cannot end before the previous one");
        assert_eq!(ix.len(), 3);
        assert!(ix.heap_bytes() >= 3 + 4 * 3 + 8 * 3);
    }
}
