//! The shipped log's manifest (`<backup-dir>/log/LOG`): which WAL files were shipped and how many
//! of their bytes (always whole records), their SHA-256, where the log starts (the base taken
//! when continuous backup was turned on) and the commit time it is complete through
//! (`latestRestorableTimestamp`). Authenticated like the backup manifest. Plain data and its
//! encoding; the shipper and point-in-time restore use it. See docs/format.md#shipped-log.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::tagged;
use crate::error::Result;
use crate::format_version::{BACKUP_LOG_MAGIC, BACKUP_LOG_VERSION};
use strata_lsm::CipherSuite;

const MAC_LABEL: &str = "backup-log";

/// One shipped WAL file (`log/<id>.wal`): its first `size` bytes are a prefix of the WAL, with
/// that prefix's SHA-256. The same record as a pool segment's.
pub(crate) type ShippedWal = super::manifest::SegmentEntry;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogManifest {
    pub(crate) account: String,
    pub(crate) tier_days: u32,
    /// Commit time (Unix ms) of the base taken when the log started: the earliest restorable.
    pub(crate) start_ms: u64,
    /// WAL files from this id on are all shipped (the start base's log number).
    pub(crate) start_log_number: u64,
    /// Every write committed at or before this Unix ms is in the shipped log.
    pub(crate) through_ms: u64,
    pub(crate) wals: Vec<ShippedWal>,
}

impl LogManifest {
    pub(crate) fn encode(&self, suite: &CipherSuite) -> Result<Vec<u8>> {
        tagged::encode(self, suite, MAC_LABEL, (BACKUP_LOG_MAGIC, BACKUP_LOG_VERSION))
    }

    /// Reads and, with `suite`, authenticates the LOG; `Ok(None)` if there is none.
    pub(crate) fn read(path: &Path, suite: Option<&CipherSuite>) -> Result<Option<LogManifest>> {
        tagged::read(
            path,
            suite,
            MAC_LABEL,
            (BACKUP_LOG_MAGIC, BACKUP_LOG_VERSION),
            "shipped-log manifest",
        )
    }

    /// The start of the tier's window at `now_ms`.
    pub(crate) fn window_start(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(u64::from(self.tier_days) * 86_400_000)
    }

    pub(crate) fn shipped(&self, id: u64) -> Option<&ShippedWal> {
        self.wals.iter().find(|w| w.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_absent_and_bound_to_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let path = dir.path().join("LOG");
        assert_eq!(LogManifest::read(&path, Some(&suite)).unwrap(), None);
        let wals = vec![ShippedWal {
            id: 3,
            size: 100,
            sha256: "ab".into(),
        }];
        let m = LogManifest {
            account: "a".into(),
            tier_days: 7,
            start_ms: 1,
            start_log_number: 3,
            through_ms: 9,
            wals,
        };
        std::fs::write(&path, m.encode(&suite).unwrap()).unwrap();
        assert_eq!(LogManifest::read(&path, Some(&suite)).unwrap(), Some(m));
        // Tampering is caught as for the backup manifest (same framing, tagged.rs).
        let other = CipherSuite::ephemeral(false);
        assert!(LogManifest::read(&path, Some(&other))
            .unwrap_err()
            .is_corruption());
    }
}
