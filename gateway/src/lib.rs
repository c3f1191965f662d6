//! strata-gateway: the managed document database's REST protocol over the Strata engine, so the
//! vendor's SDKs (Python `azure-cosmos`, JavaScript, .NET, Java) work against an encrypted local
//! store (`strata serve`). Sits above the engine beside the CLI; talks to the engine's public API
//! only (never to the LSM, the vault or the files), and keeps no data of its own (its
//! self-signed TLS identity goes to the engine, which seals it in the catalog).
//!
//! Parts: `auth` (master-key signatures), `route` (paths as resources), `handlers` (resources as
//! engine calls), `resources` (the JSON shapes), `wire` (replies and errors), `server` (HTTP,
//! limits, shutdown), `tls` (certificates and keys for HTTPS). See docs/gateway.md.

pub mod auth;
mod epk;
mod handlers;
pub mod percent;
mod resources;
pub mod route;
mod server;
#[cfg(test)]
mod server_tls_tests;
pub mod tls;
mod wire;

pub use server::{serve, serve_until, ServeError, ServeOptions, Shutdown, DEFAULT_MAX_BODY};

use base64::Engine as _;
use strata_engine::AccessKeys;

/// The keys as `strata serve --print-keys` prints them: `{"primaryKey": BASE64, "secondaryKey":
/// BASE64}` (the form the SDKs take as their credential).
pub fn keys_json(keys: &AccessKeys) -> serde_json::Value {
    let b64 = |k: &[u8]| base64::engine::general_purpose::STANDARD.encode(k);
    serde_json::json!({
        "primaryKey": b64(keys.primary.as_ref()),
        "secondaryKey": b64(keys.secondary.as_ref()),
    })
}
