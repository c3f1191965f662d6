//! HKDF-SHA256 to one 32-byte key: every key Strata derives (per-file keys, wrap keys, check
//! values, the analytical state key) goes through here. Pure; thread-safe.

use zeroize::Zeroizing;

/// Bytes of the random salt a per-file (or per-record) key is derived with.
pub const SALT_LEN: usize = 32;

/// HKDF-SHA256(ikm, salt, info) expanded to 32 bytes, held in a buffer that is wiped on drop.
/// `salt: None` is HKDF's zero salt.
pub fn derive_key(ikm: &[u8], salt: Option<&[u8]>, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt.unwrap_or(&[]));
    let prk = salt.extract(ikm);
    let mut okm = Zeroizing::new([0u8; 32]);
    let info = [info];
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so neither call can fail.
    match prk.expand(&info, Len32) {
        Ok(out) => {
            if out.fill(okm.as_mut()).is_err() {
                unreachable!("HKDF-SHA256 can always fill 32 bytes");
            }
        }
        Err(_) => unreachable!("HKDF-SHA256 can always expand 32 bytes"),
    }
    okm
}

struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 test case 1 (first 32 bytes of its 42-byte output).
    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = derive_key(&ikm, Some(&salt), &info);
        let expected = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf";
        assert_eq!(crate::seal::hex::encode(okm.as_ref()), expected);
    }

    /// A zero-length salt is HKDF's default salt (RFC 5869: a string of HashLen zeros).
    #[test]
    fn no_salt_is_zero_salt() {
        assert_eq!(
            *derive_key(b"k", None, b"i"),
            *derive_key(b"k", Some(&[0u8; 32]), b"i")
        );
    }
}
