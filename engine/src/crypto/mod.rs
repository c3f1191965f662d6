//! Encryption at rest: AEAD seal/open, per-file keys (HKDF), nonces and AAD, data keys and the
//! keyring of wrapped data keys, the service key store. Knows nothing of documents or of the LSM's
//! layout; storage sees only `CipherSuite` / `FileCipher`. See docs/keys.md.

pub(crate) mod aead;
mod customer_layer;
mod dek;
mod file_cipher;
pub(crate) mod hex;
pub(crate) mod keyring;
pub(crate) mod service_key;

pub(crate) use dek::Dek;
pub use file_cipher::{BlockKind, CipherSuite, CryptoStats, FileCipher, FileKind, SALT_LEN};
