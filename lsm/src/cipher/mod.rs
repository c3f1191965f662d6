//! Per-file encryption of the LSM's files: the `CipherSuite` of one store's layer data keys (taken
//! as values), per-file keys by HKDF, nonces from block numbers, AAD binding file and block, and
//! the customer layer's key slot (on, withheld, off). The AEAD primitive itself is
//! `strata_base::seal`. Knows nothing of vaults, wrapped keys or documents. See docs/keys.md.

mod customer_layer;
pub use customer_layer::CustomerLayer;
mod file_cipher;

pub use file_cipher::{BlockKind, CipherSuite, CryptoStats, FileCipher, FileKind};
pub use strata_base::seal::SALT_LEN;
