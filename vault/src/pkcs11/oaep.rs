//! EME-OAEP decoding (RFC 8017 section 7.1.2, step 3) with SHA-256 and MGF1-SHA-256 and the empty
//! label, for tokens that can do raw RSA (CKM_RSA_X_509) but not OAEP with SHA-256: the token
//! computes `EM = c^d mod n` inside, and only the padding is removed here. Constant time in the
//! content of `EM` (every check is folded into one `Choice`; the message start is found without
//! branching on secret bytes), so a caller learns only valid or not. Buffers are zeroized.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

const H_LEN: usize = 32;

/// MGF1 with SHA-256: XORs `MGF1(seed, out.len())` into `out`.
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in out.chunks_mut(H_LEN).enumerate() {
        let mut h = Sha256::new();
        h.update(seed);
        h.update((counter as u32).to_be_bytes());
        let mask = h.finalize();
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= m;
        }
    }
}

/// The message inside `em` (the raw RSA result for a `k`-byte modulus: `k` bytes, or fewer from
/// a token that drops leading zero bytes, which every OAEP encoding starts with); `None` if it is
/// not a valid OAEP-SHA-256 encoding.
pub(super) fn decode(em: &[u8], k: usize) -> Option<Zeroizing<Vec<u8>>> {
    if em.len() > k || k < 2 * H_LEN + 2 {
        return None;
    }
    let mut buf = Zeroizing::new(vec![0u8; k]);
    buf[k - em.len()..].copy_from_slice(em);
    let (y, rest) = buf.split_at_mut(1);
    let (seed, db) = rest.split_at_mut(H_LEN);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);
    let l_hash = Sha256::digest(b"");
    let mut good = y[0].ct_eq(&0u8) & db[..H_LEN].ct_eq(l_hash.as_slice());
    // After lHash: zero or more 0x00, one 0x01, then the message.
    let mut looking = Choice::from(1u8);
    let mut start = 0u32;
    for (i, b) in db.iter().enumerate().skip(H_LEN) {
        let is_one = b.ct_eq(&1u8);
        let is_zero = b.ct_eq(&0u8);
        start.conditional_assign(&(i as u32 + 1), looking & is_one);
        good &= !(looking & !is_one & !is_zero);
        looking &= !is_one;
    }
    good &= !looking;
    if bool::from(good) {
        Some(Zeroizing::new(db[start as usize..].to_vec()))
    } else {
        None
    }
}

#[cfg(test)]
mod oaep_tests {
    use rand::rngs::OsRng;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use rsa::{BigUint, Oaep, RsaPrivateKey};

    use super::*;

    /// What a token's CKM_RSA_X_509 decryption returns: `c^d mod n`, left-padded to `k` bytes.
    fn raw(key: &RsaPrivateKey, c: &[u8]) -> Vec<u8> {
        let m = BigUint::from_bytes_be(c).modpow(key.d(), key.n());
        let b = m.to_bytes_be();
        let mut out = vec![0u8; key.size() - b.len()];
        out.extend_from_slice(&b);
        out
    }

    #[test]
    fn decodes_what_the_rsa_crate_encodes_and_rejects_damage() {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        let public = key.to_public_key();
        for msg in [&b"k"[..], &[7u8; 32][..], &[0u8; 190][..]] {
            let c = public.encrypt(&mut OsRng, Oaep::new::<Sha256>(), msg).unwrap();
            let em = raw(&key, &c);
            assert_eq!(&decode(&em, key.size()).unwrap()[..], msg);
            for at in [0, 1, 40, 100, 255] {
                let mut bad = em.clone();
                bad[at] ^= 0x10;
                assert!(decode(&bad, key.size()).is_none(), "flip at {at}");
            }
            // A token that drops the leading zero byte gives the same message.
            assert_eq!(em[0], 0);
            assert_eq!(&decode(&em[1..], key.size()).unwrap()[..], msg);
            let mut long = vec![0u8];
            long.extend_from_slice(&em);
            assert!(decode(&long, key.size()).is_none(), "more than k bytes");
        }
        // Random bytes are not an encoding.
        assert!(decode(&raw(&key, &[0x33; 200]), key.size()).is_none());
    }

    proptest::proptest! {
        /// Any input, of any length, for any modulus size: an answer, never a panic; and what
        /// decodes is shorter than the modulus by at least the OAEP overhead.
        #[test]
        fn decode_never_panics(em in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), k in 0usize..600) {
            if let Some(m) = decode(&em, k) {
                proptest::prop_assert!(m.len() <= k - 2 * H_LEN - 2);
            }
        }
    }
}
