//! The PKCS#11 key holder: a vault whose RSA key pairs are generated and used inside a PKCS#11
//! token (an HSM; SoftHSM2 in tests) through the `cryptoki` crate. The private half never leaves
//! the token (sensitive, not extractable); unwrap is C_Decrypt in the token, wrap uses the
//! token's public key (see holder.rs). Must not read or write the data directory, and must
//! never write the PIN anywhere. See docs/keys.md, "PKCS#11 backend".

mod config;
mod errors;
mod holder;
mod module;
mod oaep;
mod objects;
mod seal;
pub(crate) mod service_key;
mod session;
#[cfg(any(test, feature = "test-token"))]
pub mod soft_token;
#[cfg(test)]
mod tests;

pub use config::Pkcs11Config;
pub(crate) use config::PKCS11_FILE;
pub(crate) use session::TokenKeys;
