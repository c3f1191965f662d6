//! A rustls client configuration (ring, as the server) trusting only the certificates of a PEM
//! text, such as `strata serve --print-cert` prints: for Rust programs, tests and benchmarks that
//! call the gateway over HTTPS. Opens no connection.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::error::TlsError;
use super::identity::ring_provider;

/// A client configuration whose only trust anchors are the certificates in `pem`.
pub fn client_config_trusting(pem: &str) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| TlsError::Unusable(format!("a trusted certificate: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| TlsError::Unusable(format!("a trusted certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(TlsError::Unusable("no certificate to trust".into()));
    }
    let config = rustls::ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Unusable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_a_printed_certificate_and_refuses_nothing_to_trust() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        client_config_trusting(&cert.pem()).unwrap();
        for bad in [
            "",
            "hello\n",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        ] {
            let e = client_config_trusting(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}: {e}");
        }
    }
}
