//! The store's state file `STATE`: mode, TTL, applied LSN, live file list and schema, sealed with
//! AES-256-GCM under a key derived from the analytical key. The single source of truth for which
//! Parquet files are live. Layout (see docs/analytical.md):
//! `state := magic "STRAST01" (8) | nonce (12) | AES-256-GCM(json) with AAD = magic (ciphertext | tag 16)`

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{AnalyticalError, Result};
use crate::fsutil;
use crate::key::AnalyticalKey;
use crate::schema::Schema;
use crate::store::AnalyticalTtl;

pub(crate) const STATE_FILE: &str = "STATE";
const MAGIC: &[u8; 8] = b"STRAST01";
const NONCE_LEN: usize = 12;
const FORMAT_VERSION: u32 = 1;

/// One live data file: its name under `data/` and the SHA-256 of its bytes (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataFile {
    pub name: String,
    pub sha256: String,
}

impl DataFile {
    pub(crate) fn new(name: String, digest: &[u8; 32]) -> Self {
        DataFile {
            name,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The digest as bytes; `None` if the hex text is malformed.
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        if self.sha256.len() != 64 {
            return None;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(self.sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub version: u32,
    pub ttl: AnalyticalTtl,
    pub applied_lsn: u64,
    /// Sequence number of the next data file.
    pub next_file: u64,
    /// Live data files, oldest first.
    pub files: Vec<DataFile>,
    pub schema: Schema,
}

impl State {
    pub(crate) fn new(ttl: AnalyticalTtl, schema: Schema) -> Self {
        State {
            version: FORMAT_VERSION,
            ttl,
            applied_lsn: 0,
            next_file: 1,
            files: Vec::new(),
            schema,
        }
    }

    pub(crate) fn save(&self, path: &Path, key: &AnalyticalKey) -> Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: format!("cannot encode state: {e}"),
        })?;
        let state_key = key.state_key()?;
        let cipher = Aes256Gcm::new_from_slice(state_key.as_ref())
            .map_err(|_| AnalyticalError::BadRequest("invalid state key length".into()))?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &json,
                    aad: MAGIC,
                },
            )
            .map_err(|_| AnalyticalError::Corrupt {
                file: path.to_path_buf(),
                detail: "state encryption failed".into(),
            })?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        fsutil::write_bytes_atomic(path, &out)
    }

    pub(crate) fn load(path: &Path, key: &AnalyticalKey) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| AnalyticalError::io(path, e))?;
        let corrupt = |detail: &str| AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: detail.into(),
        };
        if bytes.len() < MAGIC.len() + NONCE_LEN + 16 || !bytes.starts_with(MAGIC) {
            return Err(corrupt(
                "not a strata analytical state file (bad magic or too short)",
            ));
        }
        let (nonce, sealed) = bytes[MAGIC.len()..].split_at(NONCE_LEN);
        let state_key = key.state_key()?;
        let cipher = Aes256Gcm::new_from_slice(state_key.as_ref())
            .map_err(|_| AnalyticalError::BadRequest("invalid state key length".into()))?;
        let json = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: MAGIC,
                },
            )
            .map_err(|_| AnalyticalError::Decrypt {
                file: path.to_path_buf(),
            })?;
        let mut state: State =
            serde_json::from_slice(&json).map_err(|e| corrupt(&format!("state does not parse: {e}")))?;
        if state.version != FORMAT_VERSION {
            return Err(corrupt(&format!(
                "unsupported state format version {}",
                state.version
            )));
        }
        state.schema.reindex();
        Ok(state)
    }
}
