//! A certificate chain with its private key, held for as long as the server builds its TLS
//! configuration, and that configuration (rustls on ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
//! The key's bytes live in a zeroized buffer and reach ring by reference, without a copy. Does
//! not read files or the catalog (`files`, `self_signed` do).

use std::sync::Arc;

use base64::Engine as _;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use zeroize::Zeroizing;

use super::error::TlsError;

/// How the private key's DER is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyFormat {
    Pkcs8,
    Pkcs1,
    Sec1,
}

/// The server's certificate chain (its own certificate first) and private key. `Debug` shows
/// the certificate's fingerprint only.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Zeroizing<Vec<u8>>,
    format: KeyFormat,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TlsIdentity(sha256 {}, <key redacted>)",
            self.certificate_sha256()
        )
    }
}

impl TlsIdentity {
    /// `chain` must not be empty (checked by `server_config`).
    pub(crate) fn new(
        chain: Vec<CertificateDer<'static>>,
        key: Zeroizing<Vec<u8>>,
        format: KeyFormat,
    ) -> TlsIdentity {
        TlsIdentity { chain, key, format }
    }

    /// The private key as DER, borrowed (rustls and ring read it without keeping a copy).
    pub(crate) fn key_der(&self) -> PrivateKeyDer<'_> {
        let bytes = self.key.as_slice();
        match self.format {
            KeyFormat::Pkcs8 => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(bytes)),
            KeyFormat::Pkcs1 => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(bytes)),
            KeyFormat::Sec1 => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(bytes)),
        }
    }

    /// The certificate chain as PEM (what a client adds to its trusted certificates).
    pub fn certificate_pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = String::new();
        for cert in &self.chain {
            out.push_str("-----BEGIN CERTIFICATE-----\n");
            let text = b64.encode(cert.as_ref());
            for line in text.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(line));
                out.push('\n');
            }
            out.push_str("-----END CERTIFICATE-----\n");
        }
        out
    }

    /// SHA-256 of the server's own certificate, hex (as browsers show fingerprints).
    pub fn certificate_sha256(&self) -> String {
        let Some(leaf) = self.chain.first() else {
            return String::new();
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, leaf.as_ref());
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The rustls configuration serving this identity: fails when the chain is empty, the key
    /// is not one ring signs with (RSA, ECDSA P-256/P-384, Ed25519), or it is not the
    /// certificate's key.
    pub fn server_config(&self) -> Result<TlsConfig, TlsError> {
        if self.chain.is_empty() {
            return Err(TlsError::Unusable("the certificate chain is empty".into()));
        }
        // ring parses the key from our buffer; its own signing key lives as long as the config.
        let signer = rustls::crypto::ring::sign::any_supported_type(&self.key_der())
            .map_err(|e| TlsError::Unusable(format!("the private key: {e}")))?;
        let certified = CertifiedKey::new(self.chain.clone(), signer);
        match certified.keys_match() {
            Ok(()) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::Mismatch)
            }
            Err(e) => return Err(TlsError::Unusable(format!("the certificate: {e}"))),
        }
        let mut config = ServerConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Unusable(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneCertificate(Arc::new(certified))));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig(Arc::new(config)))
    }
}

/// rustls' ring provider: TLS 1.3 and 1.2 suites with AES-GCM and ChaCha20-Poly1305, key exchange
/// over X25519, P-256 and P-384. rustls 0.23.48 deprecates it for lacking the post-quantum hybrid
/// key exchange (X25519MLKEM768), which only its aws-lc provider has; Strata stays on ring (one
/// crypto library, no C toolchain), as docs/gateway.md ("TLS") says.
#[allow(deprecated)]
pub(crate) fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Serves the one certificate whatever name the client asks for. `Debug` shows nothing of the
/// key (rustls requires the trait of a resolver).
struct OneCertificate(Arc<CertifiedKey>);

impl std::fmt::Debug for OneCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneCertificate(<redacted>)")
    }
}

impl ResolvesServerCert for OneCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A ready rustls server configuration (cheap to clone). `Debug` shows nothing of it, so
/// printing `ServeOptions` cannot reach the signing key.
#[derive(Clone)]
pub struct TlsConfig(pub(crate) Arc<ServerConfig>);

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig(<redacted>)")
    }
}
