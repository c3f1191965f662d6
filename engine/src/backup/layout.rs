//! Names and paths of a backup directory. See docs/backup.md#layout.
//!
//! ```text
//! <backup-dir>/LOCK                      held while a backup or prune runs
//! <backup-dir>/segments/<sha256>.seg     the shared pool: each sealed segment stored once
//! <backup-dir>/<backup-id>/BACKUP        the backup manifest (authenticated)
//! <backup-dir>/<backup-id>/CATALOG       copies of DATA/CATALOG, DATA/KEYRING, DATA/lsm/MANIFEST
//! <backup-dir>/<backup-id>/KEYRING
//! <backup-dir>/<backup-id>/MANIFEST
//! <backup-dir>/log/LOCK                  held while the log is shipped
//! <backup-dir>/log/LOG                   the shipped log's manifest (authenticated)
//! <backup-dir>/log/<id>.wal              a shipped WAL file: a byte-exact prefix of lsm/wal/<id>.wal
//! ```

use std::path::{Path, PathBuf};

pub(crate) const BACKUP_FILE: &str = "BACKUP";
pub(crate) const CATALOG_COPY: &str = "CATALOG";
pub(crate) const KEYRING_COPY: &str = "KEYRING";
pub(crate) const MANIFEST_COPY: &str = "MANIFEST";
const POOL_DIR: &str = "segments";
const LOG_DIR: &str = "log";
pub(crate) const LOG_FILE: &str = "LOG";
/// Prefix of a backup folder being written; never listed, never restored.
pub(crate) const TMP_PREFIX: &str = ".tmp-";

pub(crate) fn pool_dir(backup_dir: &Path) -> PathBuf {
    backup_dir.join(POOL_DIR)
}

/// Where continuous backup ships the WAL.
pub(crate) fn log_dir(backup_dir: &Path) -> PathBuf {
    backup_dir.join(LOG_DIR)
}

pub(crate) fn pool_file(backup_dir: &Path, sha256: &str) -> PathBuf {
    pool_dir(backup_dir).join(pool_name(sha256))
}

pub(crate) fn pool_name(sha256: &str) -> String {
    format!("{sha256}.seg")
}

/// The pool of the backup directory that holds the backup folder `backup`.
pub(crate) fn pool_of(backup: &Path) -> PathBuf {
    backup.parent().map_or_else(|| PathBuf::from(POOL_DIR), pool_dir)
}

/// A backup id: the UTC creation time in milliseconds, zero-padded so ids sort by time.
pub(crate) fn backup_id(unix_millis: u128) -> String {
    format!("{unix_millis:016}")
}
