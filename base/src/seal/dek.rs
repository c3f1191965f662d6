//! A 256-bit data encryption key (or the service-managed key): random, redacted in `Debug`,
//! zeroized on drop. Thread-safe (immutable).

use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Dek([u8; 32]);

impl Dek {
    pub fn generate() -> Dek {
        // Filled in place so that no copy of the key is left on the stack.
        let mut k = Dek([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut k.0);
        k
    }

    /// A fixed key (the fuzz targets' test keys, `crate::fuzzing`).
    #[cfg(feature = "fuzzing")]
    pub fn from_bytes(bytes: [u8; 32]) -> Dek {
        Dek(bytes)
    }

    /// `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Dek> {
        Some(Dek(bytes.try_into().ok()?))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `other` holds this key, compared in constant time.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        other.len() == self.0.len() && bool::from(self.0.as_slice().ct_eq(other))
    }
}

impl std::fmt::Debug for Dek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dek(<redacted>)")
    }
}
