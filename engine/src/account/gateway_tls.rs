//! The gateway's TLS identity slot: one opaque secret (strata-gateway's self-signed certificate
//! and its private key, in the gateway's own encoding) kept in the catalog's sealed settings, so
//! the private key never sits in the data directory in the clear. Owns storage only: it does not
//! parse, check or generate certificates (the gateway does). See docs/gateway.md, "TLS".

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::handle::Account;
use crate::error::{Error, Result};

/// The identity as the catalog keeps it (hex, inside the sealed settings). Zeroized on drop;
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct GatewayTlsSecret(String);

impl std::fmt::Debug for GatewayTlsSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewayTlsSecret(<redacted>)")
    }
}

/// Largest identity the catalog takes (a certificate chain and a key are a few KiB).
const MAX_GATEWAY_TLS_IDENTITY: usize = 64 * 1024;

impl Account {
    /// The gateway's stored TLS identity, if one was set.
    pub fn gateway_tls_identity(&self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let catalog = self.inner.catalog()?;
        let Some(secret) = catalog.gateway_tls.as_ref() else {
            return Ok(None);
        };
        strata_base::seal::hex::decode(&secret.0)
            .map(|b| Some(Zeroizing::new(b)))
            .ok_or_else(|| Error::Internal("the catalog's gateway TLS identity is not hex".into()))
    }

    /// Replaces the gateway's TLS identity, durably (sealed in the catalog) before returning.
    pub fn set_gateway_tls_identity(&self, identity: &[u8]) -> Result<()> {
        if identity.len() > MAX_GATEWAY_TLS_IDENTITY {
            return Err(Error::BadRequest(format!(
                "a gateway TLS identity of {} bytes is over the {MAX_GATEWAY_TLS_IDENTITY}-byte limit",
                identity.len()
            )));
        }
        let secret = GatewayTlsSecret(strata_base::seal::hex::encode(identity));
        self.inner.edit_catalog(|c| {
            c.gateway_tls = Some(secret);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::account::{Account, Encryption};
    use crate::options::AccountOptions;

    #[test]
    fn the_identity_survives_reopen_and_is_not_in_the_catalog_in_the_clear() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = || AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
        let a = Account::create(opts(), "acct", Encryption::ServiceManaged).unwrap();
        assert!(a.gateway_tls_identity().unwrap().is_none());
        let secret = b"-----BEGIN PRIVATE KEY----- not really a key, but secret bytes 0123456789";
        a.set_gateway_tls_identity(secret).unwrap();
        a.close().unwrap();

        let catalog = std::fs::read(tmp.path().join("data").join(crate::catalog::CATALOG_FILE)).unwrap();
        let hex = strata_base::seal::hex::encode(secret);
        assert!(!String::from_utf8_lossy(&catalog).contains(&hex));
        assert!(!catalog.windows(secret.len()).any(|w| w == secret));

        let a = Account::open(opts()).unwrap();
        assert_eq!(a.gateway_tls_identity().unwrap().unwrap().as_slice(), secret);
        let too_big = vec![0u8; super::MAX_GATEWAY_TLS_IDENTITY + 1];
        assert_eq!(a.set_gateway_tls_identity(&too_big).unwrap_err().status(), 400);
    }
}
