//! What backup calls report to their callers (and the CLI prints). Plain data.

use std::path::PathBuf;

use serde::Serialize;

/// One backup: what `backup_now` took, or what `list_backups` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupInfo {
    pub id: String,
    /// The backup's folder: what `verify_backup` and `restore` take.
    pub path: PathBuf,
    /// Unix time (seconds) the snapshot was taken.
    pub created_at: u64,
    /// The commit time (Unix ms) the backup is consistent with: every write committed at or
    /// before it is in the backup, none after. Absent in backups of older builds.
    pub consistent_at_ms: Option<u64>,
    pub account: String,
    /// The versioned customer key id that wrapped the customer data key at backup time (CMK).
    pub kid: Option<String>,
    /// Segment files the backup references, and their total size.
    pub segments: usize,
    pub bytes: u64,
    /// Of those, how many this backup copied into the pool (the rest were already there from an
    /// earlier backup). Zero in `list_backups`.
    pub segments_copied: usize,
    pub bytes_copied: u64,
    /// Ids of older backups that `backup_now` removed under the retention policy.
    pub pruned: Vec<String>,
}

/// What `verify_backup` checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub id: String,
    pub files_checked: usize,
    pub bytes_checked: u64,
}

/// The state of an account's continuous backup (`backup status`, `backup list`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousStatus {
    pub tier_days: u32,
    pub backup_dir: PathBuf,
    /// The earliest moment (Unix ms) a point-in-time restore can reach now.
    pub earliest_restorable_timestamp: u64,
    /// Every write committed at or before this moment (Unix ms) is shipped.
    pub latest_restorable_timestamp: u64,
    /// Why the last background shipping failed, if it did (cleared by the next success).
    pub last_error: Option<String>,
}

/// What one `ship_log_now` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipReport {
    pub wal_files: usize,
    pub bytes_shipped: u64,
    pub latest_restorable_timestamp: u64,
}
