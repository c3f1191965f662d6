//! The backup manifest (`<backup-id>/BACKUP`): which files make up one backup, their sizes and
//! SHA-256, the account and the customer key id that wrapped the data key at backup time.
//! Plaintext JSON (names, sizes, hashes of ciphertext, key ids: all allowed in the clear) behind
//! an HMAC-SHA256 tag keyed from the service-layer DEK, as the catalog: a checksum alone would
//! let whoever can write the backup directory swap files and fix up the hashes. See
//! docs/format.md#backup-manifest.
//!
//! ```text
//! BACKUP  := meta_file(magic "STRBKUP1", version 1, payload)
//! payload := tag: [u8; 32] (HMAC-SHA256, key = HKDF(service DEK, "strata/v1/metadata-mac/backup"))
//!            | json
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::tagged;
use crate::error::{Error, Result};
use crate::format_version::{BACKUP_MAGIC, BACKUP_VERSION};
use strata_lsm::CipherSuite;

const MAC_LABEL: &str = "backup";

/// A copied metadata file (CATALOG, KEYRING, MANIFEST).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileEntry {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

/// A segment in the pool (`segments/<sha256>.seg`), restored as `lsm/seg/<id>.seg`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SegmentEntry {
    pub(crate) id: u64,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BackupManifest {
    pub(crate) backup_id: String,
    /// Unix seconds.
    pub(crate) created_at: u64,
    pub(crate) account: String,
    /// "service-managed" or "customer-managed".
    pub(crate) encryption: String,
    /// The versioned key id that wrapped the customer DEK at backup time (CMK).
    pub(crate) kid: Option<String>,
    pub(crate) files: Vec<FileEntry>,
    pub(crate) segments: Vec<SegmentEntry>,
    /// The commit time (Unix ms) the snapshot is consistent with: every write committed at or
    /// before it is in the backup, none after. Absent in backups taken before continuous backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pinned_ms: Option<u64>,
    /// The MANIFEST's log number: shipped WAL files from this id on continue the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_number: Option<u64>,
}

impl BackupManifest {
    pub(crate) fn encode(&self, suite: &CipherSuite) -> Result<Vec<u8>> {
        tagged::encode(self, suite, MAC_LABEL, (BACKUP_MAGIC, BACKUP_VERSION))
    }

    /// Reads and, with `suite`, authenticates a backup manifest. Without a suite (listing) the
    /// frame's CRC is checked but not the tag.
    pub(crate) fn read(path: &Path, suite: Option<&CipherSuite>) -> Result<BackupManifest> {
        tagged::read(
            path,
            suite,
            MAC_LABEL,
            (BACKUP_MAGIC, BACKUP_VERSION),
            "backup manifest",
        )?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "{} is not a backup: it has no BACKUP file",
                path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let m = BackupManifest {
            backup_id: "0000000000000001".into(),
            created_at: 1,
            account: "acct".into(),
            encryption: "service-managed".into(),
            kid: None,
            files: vec![FileEntry {
                name: "CATALOG".into(),
                size: 3,
                sha256: "ab".into(),
            }],
            segments: vec![SegmentEntry {
                id: 7,
                size: 9,
                sha256: "cd".into(),
            }],
            pinned_ms: Some(5),
            log_number: Some(6),
        };
        let path = dir.path().join("BACKUP");
        let bytes = m.encode(&suite).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(BackupManifest::read(&path, Some(&suite)).unwrap(), m);
        assert!(BackupManifest::read(&path, Some(&CipherSuite::ephemeral(false)))
            .unwrap_err()
            .is_corruption());
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            assert!(BackupManifest::read(&path, Some(&suite)).is_err(), "flip at {i}");
        }
    }
}
