//! The version-1 segment filter, read only: `k` probes spread over the whole bit array, from a
//! hand-written FNV-1a hash with a murmur3 finaliser (docs/format.md#filter). Kept so segments
//! written before version 2 still answer point reads until they are rewritten; nothing writes
//! this format any more.

/// The hash version-1 filters were built from.
fn hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A decoded version-1 filter (`k: u8 | bits`).
pub(super) struct BloomV1 {
    k: u8,
    bits: Vec<u8>,
}

impl BloomV1 {
    /// `None` if the bytes are not a version-1 filter.
    pub(super) fn decode(bytes: &[u8]) -> Option<BloomV1> {
        let (&k, bits) = bytes.split_first()?;
        if k == 0 || k > 30 || bits.is_empty() {
            return None;
        }
        Some(BloomV1 {
            k,
            bits: bits.to_vec(),
        })
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.bits.capacity()
    }

    /// Hashes `key` itself: the version-2 hash a point read carries is of no use here.
    pub(super) fn may_contain(&self, key: &[u8]) -> bool {
        let nbits = self.bits.len() as u64 * 8;
        let h = hash(key);
        let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
        (0..u64::from(self.k)).all(|i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % nbits;
            self.bits
                .get((bit / 8) as usize)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0)
        })
    }
}
