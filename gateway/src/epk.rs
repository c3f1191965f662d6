//! Effective partition keys (EPK) of hierarchical (`MultiHash`) keys, as the vendor SDKs compute
//! them: per level, MurmurHash3 x64 128-bit (seed 0) of the level's binary encoding, bytes
//! reversed, the top two bits cleared, as 32 upper-case hex digits; the levels' digits
//! concatenated. The SDKs scope a query by a prefix of the levels to the EPK range
//! `[epk(prefix), epk(prefix) + "FF")` (headers `x-ms-start-epk`/`x-ms-end-epk`) instead of
//! sending the key; this is what maps such a range back to items. Hashing only: no I/O, no
//! engine calls, and no use as a security boundary (the hash is public and unkeyed).

use strata_engine::PartitionKey;

/// The hex digits of one level's EPK.
pub const EPK_LEVEL_DIGITS: usize = 32;

/// One level's EPK: `EPK_LEVEL_DIGITS` hex digits.
fn level_epk(level: &PartitionKey) -> String {
    let mut bytes = Vec::new();
    match level {
        // A missing path hashes as "undefined" (0x00), an explicit null as null (0x01).
        PartitionKey::None | PartitionKey::Hierarchical(_) => bytes.push(0x00),
        PartitionKey::Null => bytes.push(0x01),
        PartitionKey::Bool(false) => bytes.push(0x02),
        PartitionKey::Bool(true) => bytes.push(0x03),
        PartitionKey::Number(n) => {
            bytes.push(0x05);
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        PartitionKey::String(s) => {
            bytes.push(0x08);
            bytes.extend_from_slice(s.as_bytes());
            bytes.push(0xFF);
        }
    }
    let mut hash = murmur3_x64_128(&bytes).to_be_bytes();
    hash[0] &= 0x3F;
    hash.iter().map(|b| format!("{b:02X}")).collect()
}

/// The EPK of a hierarchical key or of a prefix of its levels.
pub fn multi_hash_epk(levels: &[PartitionKey]) -> String {
    levels.iter().map(level_epk).collect()
}

/// MurmurHash3 x64 128-bit with seed 0, as `(h2 << 64) | h1` (so its big-endian bytes are the
/// reference implementation's little-endian output reversed).
fn murmur3_x64_128(data: &[u8]) -> u128 {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (0u64, 0u64);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let k1 = u64::from_le_bytes(a.try_into().unwrap_or_default());
        let k2 = u64::from_le_bytes(b.try_into().unwrap_or_default());
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let word = |bytes: &[u8]| bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if tail.len() > 8 {
        h2 ^= word(&tail[8..]).wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= word(&tail[..tail.len().min(8)])
            .wrapping_mul(C1)
            .rotate_left(31)
            .wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u128::from(h2) << 64) | u128::from(h1)
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_the_reference_vectors() {
        // SMHasher's MurmurHash3_x64_128, seed 0: the empty input hashes to 0.
        assert_eq!(murmur3_x64_128(b""), 0);
        // "The quick brown fox jumps over the lazy dog", seed 0: h1 = e34bbc7bbc071b6c,
        // h2 = 7a433ca9c49a9347 (the published vector).
        assert_eq!(
            murmur3_x64_128(b"The quick brown fox jumps over the lazy dog"),
            (0x7a43_3ca9_c49a_9347u128 << 64) | 0xe34b_bc7b_bc07_1b6c
        );
    }

    #[test]
    fn effective_keys_match_the_python_sdk() {
        // Computed with azure-cosmos 4.17.1's PartitionKey(kind="MultiHash")
        // ._get_effective_partition_key_string.
        let s = |v: &str| PartitionKey::from(v);
        let cases: Vec<(Vec<PartitionKey>, &str)> = vec![
            (vec![s("t1")], "3D48BB14DA9D090D22112C96695028B6"),
            (
                vec![s("t1"), s("u1"), s("s1")],
                "3D48BB14DA9D090D22112C96695028B62A947C94F6E254B945CEBC3196C9897C2924A879AFFF52A411F93F1A83532751",
            ),
            (vec![s("")], "32E9366E637A71B4E710384B2F4970A0"),
            (vec![PartitionKey::Number(5.0)], "19C08621B135968252FB34B4CF66F811"),
            (vec![PartitionKey::Bool(true)], "0E711127C5B5A8E4726AC6DD306A3E59"),
            (vec![PartitionKey::Bool(false)], "2FE1BE91E90A3439635E0E9E37361EF2"),
            (vec![PartitionKey::Null], "378867E4430E67857ACE5C908374FE16"),
            (vec![PartitionKey::None], "11622DAA78F835834610ABE56EFF5CB5"),
            (
                vec![s("é"), PartitionKey::Number(2.5), PartitionKey::Null],
                "007199F104E04116EE25AF912CA4889B31248BAF9BF5B03915BBF64AAF3A53B2378867E4430E67857ACE5C908374FE16",
            ),
        ];
        for (levels, want) in cases {
            assert_eq!(multi_hash_epk(&levels), want, "{levels:?}");
        }
    }
}
