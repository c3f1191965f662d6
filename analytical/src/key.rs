//! The analytical key (32 bytes, zeroized on drop, redacted in Debug) and the subkeys derived from it.
//! Owns key handling only; it never touches files and has no KDF of its own (it derives through
//! `strata_base::seal::derive_key`).

use strata_base::seal::derive_key;
use zeroize::{Zeroize, Zeroizing};

/// Length of the analytical key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// HKDF info of the state-file key. Part of the on-disk format: changing it orphans every state file.
const STATE_KEY_INFO: &[u8] = b"strata-analytical/state/v1";

/// The key that encrypts every Parquet file of the tier (uniform Parquet modular encryption) and from
/// which the state-file key is derived. The engine unwraps it with the customer key and hands it here.
#[derive(Clone)]
pub struct AnalyticalKey(Zeroizing<[u8; KEY_LEN]>);

impl AnalyticalKey {
    /// Takes the key in the zeroizing buffer it arrives in (what the engine's
    /// `Container::analytical_key` returns): the bytes are never copied out of a wiped buffer.
    pub fn from_zeroizing(key: Zeroizing<[u8; KEY_LEN]>) -> Self {
        AnalyticalKey(key)
    }

    /// Wraps 32 raw key bytes, and wipes this function's own copy of them; the caller's array,
    /// if it keeps one, is the caller's to wipe (prefer `from_zeroizing`).
    pub fn from_bytes(mut bytes: [u8; KEY_LEN]) -> Self {
        let key = AnalyticalKey(Zeroizing::new(bytes));
        bytes.zeroize();
        key
    }

    /// Copies a key from a slice straight into a zeroizing buffer; a 400 error if it is not
    /// exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> crate::Result<Self> {
        if bytes.len() != KEY_LEN {
            return Err(crate::AnalyticalError::BadRequest(format!(
                "analytical key must be {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(AnalyticalKey(key))
    }

    /// A fresh random key (for tests and for the engine when it enables the tier).
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        AnalyticalKey(k)
    }

    /// The raw bytes, e.g. to give DuckDB or pyarrow the key. Handle with care.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key that seals the state file: HKDF-SHA256(analytical key, no salt,
    /// info = "strata-analytical/state/v1"), through `strata_base::seal::derive_key`.
    pub(crate) fn state_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        derive_key(self.0.as_ref(), None, STATE_KEY_INFO)
    }

    /// The key as the `parquet` crate's encryption and decryption properties take it: an owned
    /// `Vec`, which that crate keeps for the life of the properties (one file write or read) and
    /// does not wipe. See docs/analytical.md for this gap.
    pub(crate) fn parquet_key(&self) -> Vec<u8> {
        self.0.to_vec()
    }
}

impl std::fmt::Debug for AnalyticalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnalyticalKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_state_key_differs() {
        let k = AnalyticalKey::from_bytes([7u8; KEY_LEN]);
        let dbg = format!("{k:?}");
        assert_eq!(dbg, "AnalyticalKey(<redacted>)");
        assert_ne!(k.state_key().as_ref(), k.as_bytes());
        assert!(AnalyticalKey::from_slice(&[1u8; 16]).is_err());
        assert!(AnalyticalKey::from_slice(&[1u8; 33]).is_err());
    }

    #[test]
    fn every_constructor_holds_the_same_key() {
        let raw: [u8; KEY_LEN] = core::array::from_fn(|i| i as u8 ^ 0x5a);
        let a = AnalyticalKey::from_zeroizing(Zeroizing::new(raw));
        let b = AnalyticalKey::from_bytes(raw);
        let c = AnalyticalKey::from_slice(&raw).unwrap();
        assert_eq!(a.as_bytes(), &raw);
        assert_eq!(b.as_bytes(), &raw);
        assert_eq!(c.as_bytes(), &raw);
        assert_eq!(a.state_key().as_ref(), c.state_key().as_ref());
    }

    /// The state key of key bytes 00..1f, as the `hkdf` crate computed it
    /// (`Hkdf::<Sha256>::new(None, ..)`) before the derivation moved to strata_base::seal.
    #[test]
    fn state_key_matches_the_hkdf_crate() {
        let k = AnalyticalKey::from_bytes(core::array::from_fn(|i| i as u8));
        assert_eq!(
            strata_base::seal::hex::encode(k.state_key().as_ref()),
            "076fd747b790883c9f9c001d319efe1a565ca4b2abaa08183d30818447412c57"
        );
    }
}
