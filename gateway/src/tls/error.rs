//! Why a TLS identity could not be loaded, made or used. Messages name the file and say what to
//! do; they never carry key bytes.

use std::path::PathBuf;

/// A TLS identity that cannot be used.
#[derive(Debug)]
pub enum TlsError {
    /// A given PEM file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file can be read by group or others.
    KeyNotPrivate {
        path: PathBuf,
        mode: u32,
    },
    /// A given file is not PEM (or a PEM section is damaged).
    InvalidPem {
        path: PathBuf,
        detail: String,
    },
    /// The certificate file holds no `CERTIFICATE` section.
    NoCertificate(PathBuf),
    /// The key file holds no private key section (PKCS#8, PKCS#1 or SEC1).
    NoKey(PathBuf),
    /// The key is not one rustls on ring can sign with, or the certificate does not parse.
    Unusable(String),
    /// The key is not the certificate's.
    Mismatch,
    /// Generating the self-signed certificate failed.
    Generate(String),
    /// The stored self-signed identity does not decode.
    Stored(String),
    Engine(strata_engine::Error),
}

impl TlsError {
    /// The status a caller reports: 400 for what the operator gave, 500 for the server's own.
    pub fn status(&self) -> u16 {
        match self {
            TlsError::Generate(_) | TlsError::Stored(_) => 500,
            TlsError::Engine(e) => e.status(),
            _ => 400,
        }
    }
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            TlsError::KeyNotPrivate { path, mode } => write!(
                f,
                "the TLS key file {} is accessible by group or others (mode {mode:04o}); a private \
                 key must be private to its owner: run `chmod 600 {}` and retry",
                path.display(),
                path.display()
            ),
            TlsError::InvalidPem { path, detail } => {
                write!(f, "{} is not valid PEM: {detail}", path.display())
            }
            TlsError::NoCertificate(path) => write!(
                f,
                "{} holds no certificate: give a PEM file with a \"BEGIN CERTIFICATE\" section \
                 (the server's certificate first, then its chain)",
                path.display()
            ),
            TlsError::NoKey(path) => write!(
                f,
                "{} holds no private key: give a PEM file with a \"BEGIN PRIVATE KEY\", \"BEGIN \
                 EC PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\" section",
                path.display()
            ),
            TlsError::Unusable(why) => write!(f, "the TLS certificate or key cannot be used: {why}"),
            TlsError::Mismatch => f.write_str(
                "the TLS key does not belong to the certificate (their public keys differ): give \
                 the key the certificate was issued for",
            ),
            TlsError::Generate(why) => write!(f, "generating the self-signed certificate failed: {why}"),
            TlsError::Stored(why) => write!(
                f,
                "the stored self-signed TLS identity cannot be read ({why}); was the data \
                 directory written by a newer strata?"
            ),
            TlsError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl From<strata_engine::Error> for TlsError {
    fn from(e: strata_engine::Error) -> TlsError {
        TlsError::Engine(e)
    }
}
