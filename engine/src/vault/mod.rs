//! The customer key vault: RSA keys with versions and attributes, and wrap/unwrap of data keys
//! under them (RSA-OAEP-SHA256). Owns everything under the vault directory; must never read or
//! write the data directory, and must never put private key material in a message or `Debug`.

mod key_uri;
mod local;

pub use key_uri::KeyUri;
pub use local::{KeyInfo, LocalVault};
