//! `Account::verify_backup`: recomputes the SHA-256 of every file of one backup (its copies and
//! its pool segments) against its manifest, and authenticates the manifest under the service
//! key (through the backup's KEYRING copy and the home's service key store). The first damaged
//! file is reported by path. Needs no vault and no open account. Read-only; thread-safe.

use std::path::Path;

use super::copy::hash_file;
use super::info::VerifyReport;
use super::layout::{pool_name, pool_of, BACKUP_FILE};
use super::manifest::BackupManifest;
use super::progress;
use crate::account::{open_service, Account};
use crate::error::{Error, Result};
use crate::options::AccountOptions;
use {strata_base::seal::Dek, strata_lsm::CipherSuite};

impl Account {
    /// Checks the backup folder `backup` (as listed by `list_backups`): 500.1002 naming the
    /// first file whose bytes differ from the manifest, or whose manifest fails authentication.
    /// `opts.home` must hold the service key the account was created with.
    pub fn verify_backup(opts: &AccountOptions, backup: &Path) -> Result<VerifyReport> {
        let (m, _) = verified(opts, backup)?;
        Ok(VerifyReport {
            id: m.backup_id.clone(),
            files_checked: m.files.len() + m.segments.len() + 1,
            bytes_checked: m
                .files
                .iter()
                .map(|f| f.size)
                .chain(m.segments.iter().map(|s| s.size))
                .sum(),
        })
    }
}

/// The authenticated manifest of `backup` and the service DEK, after every file was checked.
pub(crate) fn verified(opts: &AccountOptions, backup: &Path) -> Result<(BackupManifest, Dek)> {
    let manifest_path = backup.join(BACKUP_FILE);
    let unauthenticated = BackupManifest::read(&manifest_path, None)?;
    progress::plan(
        unauthenticated
            .files
            .iter()
            .map(|f| f.size)
            .chain(unauthenticated.segments.iter().map(|s| s.size))
            .sum(),
    );
    for f in &unauthenticated.files {
        check(&backup.join(&f.name), f.size, &f.sha256)?;
        progress::advance(f.size);
    }
    let (_, service) = open_service(opts, backup)?;
    let m = BackupManifest::read(&manifest_path, Some(&CipherSuite::new(service.clone(), None)))?;
    let pool = pool_of(backup);
    for s in &m.segments {
        check(&pool.join(pool_name(&s.sha256)), s.size, &s.sha256)?;
        progress::advance(s.size);
    }
    Ok((m, service))
}

/// Checks one file of a backup: missing, wrong size or wrong hash is corruption of the backup.
fn check(path: &Path, size: u64, sha256: &str) -> Result<()> {
    if !path.is_file() {
        return Err(Error::corruption(path, 0, "a file of the backup is missing"));
    }
    let (got, len) = hash_file(path)?;
    if len != size {
        return Err(Error::corruption(
            path,
            len.min(size),
            format!("backup file is {len} bytes, its manifest says {size}"),
        ));
    }
    if got != sha256 {
        return Err(Error::corruption(
            path,
            0,
            "backup file's SHA-256 differs from its manifest: the file was damaged or altered",
        ));
    }
    Ok(())
}
