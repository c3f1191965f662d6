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
