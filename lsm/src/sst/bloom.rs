//! The bloom filter over the keys of one segment, so point reads skip segments that cannot hold
//! the key. Cache-line blocked (docs/format.md#filter): a key's hash picks one 64-byte block by
//! multiply-shift and sets its `k` bits inside it, so a probe costs one cache miss and no
//! division, where the version-1 filter (sst/bloom_v1.rs, still read) spread its probes over the
//! whole array. Keys are hashed with xxh3 (the `xxhash-rust` crate), whose 64-bit output is
//! specified and the same on every build and platform, as a filter written to disk needs (std's
//! hasher promises neither). A point read hashes its key once (`KeyHash`) and hands the hash to
//! every segment it probes. Stored sealed with the segment: membership of a guessed id is itself
//! information, and a damaged filter fails authentication instead of hiding keys. Owns the filter
//! bytes only; never decides which keys go in (`DbOptions::filter_keys`).

use xxhash_rust::xxh3::xxh3_64;

use super::bloom_v1::BloomV1;
use crate::format_version::SEGMENT_VERSION_V1;

/// Bits of filter per key. Blocking costs false positives against a filter spread over the whole
/// array (blocks fill unevenly); 10 bits per key and 6 probes measure about 0.9% on random keys
/// (`false_positive_rate_stays_near_one_percent`), as the whole-array filter did with 7 probes.
const BITS_PER_KEY: usize = 10;
const PROBES: u8 = 6;
/// First byte of a blocked filter; a version-1 filter starts with its probe count (1..=30).
const BLOCKED_TAG: u8 = 0x80;
const BLOCK_BYTES: usize = 64;

/// A key's 64-bit xxh3 hash: the high half picks the block, the low half the bits in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyHash(u64);

impl KeyHash {
    pub(crate) fn of(key: &[u8]) -> KeyHash {
        KeyHash(xxh3_64(key))
    }

    /// The block for this hash among `blocks` (< 2^32): `(h_hi * blocks) >> 32`, no division.
    fn block(self, blocks: usize) -> usize {
        (((self.0 >> 32) * blocks as u64) >> 32) as usize
    }

    /// The `k` bit positions (0..512) inside the block: the top 9 bits of the low half, then of
    /// its successive products with the golden-ratio constant (RocksDB's FastLocalBloom).
    fn bits(self, k: u8) -> impl Iterator<Item = u32> {
        let mut h = self.0 as u32;
        (0..k).map(move |_| {
            let bit = h >> (32 - 9);
            h = h.wrapping_mul(0x9e37_79b9);
            bit
        })
    }
}

/// One cache line of the filter, aligned so a probe touches exactly one.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u64; 8]);

impl Block {
    fn set(&mut self, bit: u32) {
        self.0[(bit / 64) as usize] |= 1 << (bit % 64);
    }

    fn has(&self, bit: u32) -> bool {
        self.0[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }
}

/// Builds the filter bytes (`0x80 | k: u8 | block*`) from key hashes collected while writing
/// (8 bytes per key, not a copy of the key).
pub(crate) struct BloomBuilder {
    hashes: Vec<KeyHash>,
}

impl BloomBuilder {
    pub(crate) fn new() -> Self {
        BloomBuilder { hashes: Vec::new() }
    }

    pub(crate) fn add(&mut self, key: &[u8]) {
        self.hashes.push(KeyHash::of(key));
    }

    pub(crate) fn finish(&self) -> Vec<u8> {
        let n = (self.hashes.len() * BITS_PER_KEY)
            .div_ceil(BLOCK_BYTES * 8)
            .max(1);
        let mut blocks = vec![Block([0; 8]); n];
        for &h in &self.hashes {
            let b = &mut blocks[h.block(n)];
            h.bits(PROBES).for_each(|bit| b.set(bit));
        }
        let mut out = Vec::with_capacity(2 + n * BLOCK_BYTES);
        out.extend_from_slice(&[BLOCKED_TAG, PROBES]);
        for w in blocks.iter().flat_map(|b| b.0) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// A decoded blocked filter.
struct Blocked {
    k: u8,
    blocks: Vec<Block>,
}

impl Blocked {
    fn decode(bytes: &[u8]) -> Option<Blocked> {
        let (&[tag, k], body) = bytes.split_first_chunk::<2>()?;
        if tag != BLOCKED_TAG || k == 0 || k > 16 || body.is_empty() || body.len() % BLOCK_BYTES != 0 {
            return None;
        }
        let blocks = body
            .chunks_exact(BLOCK_BYTES)
            .map(|c| {
                let mut words = c
                    .chunks_exact(8)
                    .map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
                Block(std::array::from_fn(|_| words.next().unwrap_or(0)))
            })
            .collect();
        Some(Blocked { k, blocks })
    }

    fn may_contain(&self, h: KeyHash) -> bool {
        self.blocks
            .get(h.block(self.blocks.len()))
            .is_some_and(|b| h.bits(self.k).all(|bit| b.has(bit)))
    }
}

/// A segment's filter, of its version's format. `may_contain` never answers false for a key
/// that was added.
pub(crate) struct Bloom(Format);

enum Format {
    Blocked(Blocked),
    V1(BloomV1),
}

impl Bloom {
    /// A filter that holds every key: a placeholder until a segment's own is read.
    pub(crate) fn everything() -> Bloom {
        Bloom(Format::Blocked(Blocked {
            k: 1,
            blocks: vec![Block([u64::MAX; 8])],
        }))
    }

    /// The filter of a segment of format `version`; `None` if the bytes are not a filter of
    /// that format (a version-2 segment never holds a version-1 filter, nor the reverse).
    pub(crate) fn decode(bytes: &[u8], version: u32) -> Option<Bloom> {
        if version == SEGMENT_VERSION_V1 {
            BloomV1::decode(bytes).map(|f| Bloom(Format::V1(f)))
        } else {
            Blocked::decode(bytes).map(|f| Bloom(Format::Blocked(f)))
        }
    }

    /// Bytes held, for memory accounting.
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.0 {
            Format::Blocked(b) => b.blocks.capacity() * BLOCK_BYTES,
            Format::V1(f) => f.heap_bytes(),
        }
    }

    /// Whether `key`, whose hash is `h`, may be in the segment.
    pub(crate) fn may_contain(&self, key: &[u8], h: KeyHash) -> bool {
        match &self.0 {
            Format::Blocked(b) => b.may_contain(h),
            Format::V1(f) => f.may_contain(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::format_version::SEGMENT_VERSION;

    fn built(keys: &[Vec<u8>]) -> Bloom {
        let mut b = BloomBuilder::new();
        keys.iter().for_each(|k| b.add(k));
        Bloom::decode(&b.finish(), SEGMENT_VERSION).unwrap()
    }

    fn contains(f: &Bloom, key: &[u8]) -> bool {
        f.may_contain(key, KeyHash::of(key))
    }

    /// Random 16-byte keys from a fixed seed: 100,000 added, 100,000 others probed.
    #[test]
    fn false_positive_rate_stays_near_one_percent() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(22);
        let mut key = || rng.gen::<[u8; 16]>().to_vec();
        let added: Vec<_> = (0..100_000).map(|_| key()).collect();
        let others: Vec<_> = (0..100_000).map(|_| key()).collect();
        let f = built(&added);
        assert!(added.iter().all(|k| contains(&f, k)));
        let fp = others.iter().filter(|k| contains(&f, k)).count();
        eprintln!("false positives: {fp} / 100000, filter bytes {}", f.heap_bytes());
        assert!(fp < 1_200, "false positive rate too high: {fp}/100000");
        assert_eq!(f.heap_bytes(), (100_000 * BITS_PER_KEY).div_ceil(512) * 64);
    }

    /// Keys shaped like the store's (a shared prefix, a counter) fill the blocks as evenly.
    #[test]
    fn sequential_keys_fare_as_well() {
        let added: Vec<_> = (0..50_000).map(|i| format!("key-{i}").into_bytes()).collect();
        let f = built(&added);
        assert!(added.iter().all(|k| contains(&f, k)));
        let fp = (0..50_000)
            .filter(|i| contains(&f, format!("other-{i}").as_bytes()))
            .count();
        assert!(fp < 600, "false positive rate too high: {fp}/50000");
    }

    #[test]
    fn malformed_filters_and_the_wrong_version_are_refused() {
        let good = BloomBuilder::new().finish();
        assert_eq!(good.len(), 2 + 64);
        assert!(Bloom::decode(&good, SEGMENT_VERSION).is_some());
        assert!(
            Bloom::decode(&good, SEGMENT_VERSION_V1).is_none(),
            "a blocked filter is no v1 filter"
        );
        assert!(
            Bloom::decode(&[7, 0xff], SEGMENT_VERSION).is_none(),
            "a v1 filter is no blocked filter"
        );
        assert!(Bloom::decode(&[7, 0xff], SEGMENT_VERSION_V1).is_some());
        assert!(Bloom::decode(&good[..good.len() - 1], SEGMENT_VERSION).is_none());
        assert!(Bloom::decode(&good[..2], SEGMENT_VERSION).is_none());
        assert!(Bloom::decode(&[], SEGMENT_VERSION).is_none());
        let mut no_probes = good.clone();
        no_probes[1] = 0;
        assert!(Bloom::decode(&no_probes, SEGMENT_VERSION).is_none());
        // An empty filter holds nothing; the placeholder holds everything.
        let empty = Bloom::decode(&good, SEGMENT_VERSION).unwrap();
        assert!(!contains(&empty, b"k"));
        assert!(contains(&Bloom::everything(), b"k"));
    }
}
