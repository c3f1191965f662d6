//! HTTPS for the gateway: the server's certificate chain and private key (`TlsIdentity`), read
//! from PEM files (`--tls-cert/--tls-key`, `files`) or a self-signed certificate kept sealed in
//! the catalog (`self_signed`), made into a rustls configuration on ring (`TlsConfig`); and the
//! client side's trust of a printed certificate (`client`). Owns no socket (the server runs the handshakes) and never writes a private key anywhere.
//! See docs/gateway.md, "TLS".

mod client;
mod error;
mod files;
mod identity;
mod self_signed;

pub use client::client_config_trusting;
pub use error::TlsError;
pub use identity::{TlsConfig, TlsIdentity};
pub use self_signed::{self_signed_identity, SELF_SIGNED_RENEW_BEFORE, SELF_SIGNED_VALIDITY};
