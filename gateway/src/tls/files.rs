//! `--tls-cert FILE --tls-key FILE`: a certificate chain and its private key from PEM files the
//! operator brings. Refuses a key file group or others can access (as ssh refuses a private
//! key), checked on the opened file before reading it; keeps the key's PEM and DER in zeroized
//! buffers. Checks the pair only as far as reading goes: `TlsIdentity::server_config` checks
//! that the key is the certificate's.

use std::path::Path;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::{Zeroize, Zeroizing};

use super::error::TlsError;
use super::identity::{KeyFormat, TlsIdentity};

/// Largest PEM file read (a long chain is a few tens of KiB).
const MAX_PEM_BYTES: u64 = 1 << 20;

impl TlsIdentity {
    /// Reads the certificate chain from `cert` (its own certificate first) and the private key
    /// from `key` (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let cert_pem = read_bounded(cert, false)?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(cert, e))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.to_path_buf()));
        }
        let key_pem = Zeroizing::new(read_bounded(key, true)?);
        let mut parsed = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(k) => k,
            Err(pem::Error::NoItemsFound) => return Err(TlsError::NoKey(key.to_path_buf())),
            Err(e) => return Err(pem_error(key, e)),
        };
        let format = match &parsed {
            PrivateKeyDer::Pkcs8(_) => KeyFormat::Pkcs8,
            PrivateKeyDer::Pkcs1(_) => KeyFormat::Pkcs1,
            PrivateKeyDer::Sec1(_) => KeyFormat::Sec1,
            _ => {
                parsed.zeroize();
                return Err(TlsError::NoKey(key.to_path_buf()));
            }
        };
        let der = Zeroizing::new(parsed.secret_der().to_vec());
        // pki-types' owned key is not wiped on drop: wipe it here.
        parsed.zeroize();
        Ok(TlsIdentity::new(chain, der, format))
    }
}

/// The file's bytes; with `private`, only once its mode (of the opened file, so a swap after the
/// check does not pass) shows group and others have no access.
fn read_bounded(path: &Path, private: bool) -> Result<Vec<u8>, TlsError> {
    use std::io::Read;
    let read_err = |source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    if private {
        require_private(path, &file.metadata().map_err(read_err)?)?;
    }
    // Room for the whole bound up front: a buffer that grew would leave copies of a key behind.
    let mut bytes = Vec::with_capacity(MAX_PEM_BYTES as usize + 1);
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        bytes.zeroize();
        return Err(TlsError::InvalidPem {
            path: path.to_path_buf(),
            detail: format!("it is larger than {MAX_PEM_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

fn pem_error(path: &Path, e: pem::Error) -> TlsError {
    TlsError::InvalidPem {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Refuses a key file that group or others may access (the mode is the owner's to change).
fn require_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), TlsError> {
    match strata_base::fs::shared_mode(meta) {
        Some(mode) => Err(TlsError::KeyNotPrivate {
            path: path.to_path_buf(),
            mode,
        }),
        None => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;
    use crate::tls::TlsConfig;

    /// A certificate for localhost and its key, as PEM.
    fn pair() -> (String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn a_good_pair_loads_and_every_bad_one_says_why() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let (cert, key) = pair();
        let (other_cert, _) = pair();
        let cert_file = write(d, "cert.pem", &cert, 0o644);
        let key_file = write(d, "key.pem", &key, 0o600);
        let id = TlsIdentity::from_pem_files(&cert_file, &key_file).unwrap();
        id.server_config().unwrap();
        assert_eq!(id.certificate_pem(), cert.replace("\r\n", "\n"));

        let other = write(d, "other.pem", &other_cert, 0o644);
        let open_key = write(d, "open.pem", &key, 0o640);
        let no_key = write(d, "nokey.pem", &cert, 0o600);
        let text = write(d, "text.pem", "hello\n", 0o600);
        let damaged = write(
            d,
            "damaged.pem",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            0o600,
        );
        let missing = d.join("missing.pem");
        let load = |c: &Path, k: &Path| TlsIdentity::from_pem_files(c, k).and_then(|i| i.server_config());
        let cases: Vec<(&str, Result<TlsConfig, TlsError>, &str)> = vec![
            ("mismatched", load(&other, &key_file), "does not belong"),
            ("open key", load(&cert_file, &open_key), "chmod 600"),
            ("no key", load(&cert_file, &no_key), "holds no private key"),
            ("no certificate", load(&text, &key_file), "holds no certificate"),
            ("damaged", load(&damaged, &key_file), "not valid PEM"),
            ("missing cert", load(&missing, &key_file), "cannot read"),
            ("missing key", load(&cert_file, &missing), "cannot read"),
        ];
        for (why, got, says) in cases {
            let e = got.unwrap_err();
            assert_eq!(e.status(), 400, "{why}: {e}");
            assert!(e.to_string().contains(says), "{why}: {e}");
            assert!(!e.to_string().contains("PRIVATE KEY-----"), "{why}: {e}");
        }
    }
}
