//! The one seal path of every Strata crate: AES-256-GCM from `ring`, 256-bit data keys that are
//! zeroized on drop, HKDF-SHA256 key derivation, and hex for key ids. The LSM's per-file ciphers,
//! the keyring's service wrap, the vault's backup blobs and the analytical tier's state file all
//! seal through here, so there is one implementation to audit. See docs/keys.md.

pub mod aead;
pub mod dek;
pub mod hex;
mod kdf;

pub use aead::{AeadKey, NONCE_LEN, TAG_LEN};
pub use dek::Dek;
pub use kdf::{derive_key, SALT_LEN};
