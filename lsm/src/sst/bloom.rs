//! A bloom filter over the keys of one segment (10 bits per key, 7 probes, ~1% false positives),
//! so point reads skip segments that cannot hold the key. Stored sealed: membership of a guessed
//! id is itself information. Hash written by hand (FNV-1a with a murmur3 finaliser): the filter
//! needs a hash that is stable across builds and platforms, which std's hasher does not promise.

const BITS_PER_KEY: usize = 10;
const PROBES: u8 = 7;

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

fn probes(h: u64, nbits: u64, k: u8) -> impl Iterator<Item = u64> {
    let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
    (0..u64::from(k)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % nbits)
}

/// Builds the filter bytes (`k: u8 | bits`) from key hashes collected while writing (8 bytes per
/// key, not a copy of the key).
pub(crate) struct BloomBuilder {
    hashes: Vec<u64>,
}

impl BloomBuilder {
    pub(crate) fn new() -> Self {
        BloomBuilder { hashes: Vec::new() }
    }

    pub(crate) fn add(&mut self, key: &[u8]) {
        self.hashes.push(hash(key));
    }

    pub(crate) fn finish(&self) -> Vec<u8> {
        let nbits = (self.hashes.len() * BITS_PER_KEY).max(64).div_ceil(8) * 8;
        let mut out = vec![0u8; 1 + nbits / 8];
        out[0] = PROBES;
        for &h in &self.hashes {
            for bit in probes(h, nbits as u64, PROBES) {
                out[1 + (bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        out
    }
}

/// A decoded filter. `may_contain` never answers false for a key that was added.
pub(crate) struct Bloom {
    k: u8,
    bits: Vec<u8>,
}

impl Bloom {
    /// Bytes held, for memory accounting.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bits.capacity()
    }

    /// `None` if the bytes are not a filter.
    pub(crate) fn decode(bytes: Vec<u8>) -> Option<Bloom> {
        let (&k, bits) = bytes.split_first()?;
        if k == 0 || k > 30 || bits.is_empty() {
            return None;
        }
        Some(Bloom {
            k,
            bits: bits.to_vec(),
        })
    }

    pub(crate) fn may_contain(&self, key: &[u8]) -> bool {
        let nbits = self.bits.len() as u64 * 8;
        probes(hash(key), nbits, self.k).all(|bit| {
            self.bits
                .get((bit / 8) as usize)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_few_false_positives() {
        let mut b = BloomBuilder::new();
        for i in 0..10_000 {
            b.add(format!("key-{i}").as_bytes());
        }
        let f = Bloom::decode(b.finish()).unwrap();
        assert!((0..10_000).all(|i| f.may_contain(format!("key-{i}").as_bytes())));
        let fp = (0..10_000)
            .filter(|i| f.may_contain(format!("other-{i}").as_bytes()))
            .count();
        assert!(fp < 300, "false positive rate too high: {fp}/10000");
        assert!(Bloom::decode(vec![]).is_none());
    }
}
