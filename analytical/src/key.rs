//! The analytical key (32 bytes, zeroized on drop, redacted in Debug) and the subkeys derived from it.
//! Owns key handling only; it never touches files and has no KDF of its own (it derives through
//! `strata_base::seal::derive_key`).

use strata_base::seal::derive_key;
use zeroize::Zeroizing;

/// Length of the analytical key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// HKDF info of the state-file key. Part of the on-disk format: changing it orphans every state file.
const STATE_KEY_INFO: &[u8] = b"strata-analytical/state/v1";

/// The key that encrypts every Parquet file of the tier (uniform Parquet modular encryption) and from
/// which the state-file key is derived. The engine unwraps it with the customer key and hands it here.
#[derive(Clone)]
pub struct AnalyticalKey(Zeroizing<[u8; KEY_LEN]>);

impl AnalyticalKey {
    /// Wraps 32 raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        AnalyticalKey(Zeroizing::new(bytes))
    }

    /// Copies a key from a slice; a 400 error if it is not exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> crate::Result<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            crate::AnalyticalError::BadRequest(format!(
                "analytical key must be {KEY_LEN} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(arr))
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
