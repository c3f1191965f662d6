//! The one AEAD primitive behind seal/open: AES-256-GCM from `ring` (measured about 6x faster than
//! the `aes-gcm` crate on 4–64 KiB blocks here; see benches/seal.rs). Callers supply unique nonces.
//! Thread-safe (immutable key).
//!
//! Known gap: ring does not zeroize its expanded key schedule on drop. The 32-byte key material we
//! hand it is held in `Zeroizing` and wiped; see docs/keys.md ("memory").

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

pub const TAG_LEN: usize = 16;
pub const NONCE_LEN: usize = 12;

pub struct AeadKey(LessSafeKey);

impl AeadKey {
    pub fn new(key: &[u8; 32]) -> AeadKey {
        // A 32-byte key is always valid for AES-256-GCM; ring only rejects wrong lengths.
        match UnboundKey::new(&AES_256_GCM, key) {
            Ok(k) => AeadKey(LessSafeKey::new(k)),
            Err(_) => unreachable!("AES-256-GCM accepts every 32-byte key"),
        }
    }

    /// Appends the tag to `buf` after encrypting it in place.
    pub fn seal_in_place(&self, nonce: [u8; NONCE_LEN], aad: &[u8], buf: &mut Vec<u8>) {
        // ring fails only when the input exceeds the GCM limit of ~64 GiB; our blocks are at most
        // a few MiB, far below it.
        if self
            .0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .is_err()
        {
            unreachable!(
                "AES-GCM input length limit exceeded by a block of {} bytes",
                buf.len()
            );
        }
    }

    /// Decrypts `buf` (ciphertext || tag) in place and truncates the tag. `false` if the tag
    /// does not authenticate (wrong key, wrong AAD, or altered bytes).
    pub fn open_in_place(&self, nonce: [u8; NONCE_LEN], aad: &[u8], buf: &mut Vec<u8>) -> bool {
        match self
            .0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
        {
            Ok(plain) => {
                let n = plain.len();
                buf.truncate(n);
                true
            }
            Err(_) => false,
        }
    }
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey(<redacted>)")
    }
}
