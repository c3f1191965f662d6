//! `Account::backup_now`: an online backup. Pins a consistent snapshot of the store (db/pin.rs),
//! copies the CATALOG and KEYRING (read together under the catalog lock, which rotations and
//! catalog edits hold) and the sealed MANIFEST and segments as they are, writes the authenticated
//! backup manifest, renames the finished folder into place, then applies retention. Also the
//! backup policy and listing. Writers are never blocked. See docs/backup.md.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::copy::{hash_bytes, write_file};
use super::info::BackupInfo;
use super::layout::{
    backup_id, pool_dir, BACKUP_FILE, CATALOG_COPY, KEYRING_COPY, MANIFEST_COPY, TMP_PREFIX,
};
use super::manifest::{BackupManifest, FileEntry};
use super::policy::BackupPolicy;
use super::pool;
use super::progress;
use super::retention::{prune, scan};
use crate::account::{now_secs, Account, KEYRING_FILE};
use crate::catalog::CATALOG_FILE;
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::options::AccountOptions;
use strata_base::fs::{create_dir, sync_dir};
use strata_lsm::db::DirLock;

impl Account {
    /// Sets the periodic backup policy (400 if invalid); stored sealed in the catalog.
    pub fn set_backup_policy(&self, policy: BackupPolicy) -> Result<()> {
        policy.validate()?;
        self.inner.edit_catalog(|c| {
            c.backup_policy = Some(policy);
            Ok(())
        })
    }

    /// The periodic backup policy (the default one if none was set).
    pub fn backup_policy(&self) -> Result<BackupPolicy> {
        Ok(self.inner.catalog()?.backup_policy.unwrap_or_default())
    }

    /// `$STRATA_HOME/backups/<account>`: the default backup directory, outside the data directory.
    pub fn default_backup_dir(&self) -> PathBuf {
        default_dir(&self.inner.opts.home, &self.name())
    }

    /// The default backup directory of the account in `opts.data_dir`, without opening it.
    pub fn default_backup_dir_at(opts: &AccountOptions) -> Result<PathBuf> {
        Ok(default_dir(&opts.home, &Account::name_at(opts)?))
    }

    /// Takes a backup into `backup_dir` now, then removes backups older than the policy's
    /// retention. 400 if `backup_dir` is inside the data directory; 423 while another backup
    /// of that directory runs.
    pub fn backup_now(&self, backup_dir: &Path) -> Result<BackupInfo> {
        let _serial = self.backup_guard()?;
        self.backup_now_locked(backup_dir)
    }

    /// Held while this process takes a backup.
    pub(crate) fn backup_guard(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.inner
            .backup_lock
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while taking a backup".into()))
    }

    /// `backup_now`, the caller holding `backup_guard`.
    pub(crate) fn backup_now_locked(&self, backup_dir: &Path) -> Result<BackupInfo> {
        self.inner.refuse_with_own_keys("backups")?;
        self.refuse_inside_data_dir(backup_dir)?;
        create_dir(&pool_dir(backup_dir), false)?;
        let _lock = DirLock::acquire(backup_dir)?;
        let snap = self.inner.db.pinned_snapshot()?;
        // Every write in the pinned files was committed by now (commit times never decrease).
        let pinned_ms = self.inner.db.commit_time_now()?;
        let log_number = snap.log_number;
        let (catalog, keyring, account, encryption, policy, continuous) = {
            let c = self.inner.catalog()?;
            (
                read(&self.inner.data_dir.join(CATALOG_FILE))?,
                read(&self.inner.data_dir.join(KEYRING_FILE))?,
                c.account.clone(),
                c.encryption.clone(),
                c.backup_policy.unwrap_or_default(),
                c.continuous_backup.clone(),
            )
        };
        let mut segments = Vec::with_capacity(snap.segments.len());
        let (mut copied, mut bytes_copied) = (0, 0);
        let sizes: Vec<u64> = snap
            .segments
            .iter()
            .map(|s| std::fs::metadata(&s.path).map_or(0, |m| m.len()))
            .collect();
        progress::plan(
            sizes.iter().sum::<u64>() + (catalog.len() + keyring.len() + snap.manifest.len()) as u64,
        );
        for (seg, size) in snap.segments.iter().zip(sizes) {
            let (entry, was_copied) = pool::put(backup_dir, seg)?;
            if was_copied {
                copied += 1;
                bytes_copied += entry.size;
            }
            progress::advance(size);
            segments.push(entry);
        }
        if copied > 0 {
            // The pool files' directory entries (renamed into place) are durable before the
            // backup that names them is: found missing by the power-loss sweep.
            sync_dir(&super::layout::pool_dir(backup_dir))?;
        }
        let manifest_bytes = snap.manifest.clone();
        drop(snap);

        let (id, created_at) = new_id(backup_dir);
        let tmp = backup_dir.join(format!("{TMP_PREFIX}{id}"));
        let written = self.write_folder(
            &tmp,
            &[
                (CATALOG_COPY, catalog),
                (KEYRING_COPY, keyring),
                (MANIFEST_COPY, manifest_bytes),
            ],
            |files, kid| BackupManifest {
                backup_id: id.clone(),
                created_at,
                account: account.clone(),
                encryption: encryption.clone(),
                kid,
                files,
                segments: segments.clone(),
                pinned_ms: Some(pinned_ms),
                log_number: Some(log_number),
            },
        );
        let manifest = match written {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        progress::advance(manifest_bytes_len(&manifest));
        let path = backup_dir.join(&id);
        strata_base::faults::rename(&tmp, &path)
            .map_err(|e| Error::io_path("renaming into place", &path, e))?;
        sync_dir(backup_dir)?;
        // Under continuous backup, bases are kept for the whole restore window and one periodic
        // retention beyond it, so that a base at or before the window's start remains.
        let retention = continuous.map_or(0, |c| c.window_ms() / 1000) + policy.retention_secs();
        let pruned = prune(backup_dir, now_secs(), retention, &id)?;
        let mut info = info_of(&path, &manifest);
        info.segments_copied = copied;
        info.bytes_copied = bytes_copied;
        info.pruned = pruned;
        Ok(info)
    }

    pub(crate) fn refuse_inside_data_dir(&self, backup_dir: &Path) -> Result<()> {
        let data = self
            .inner
            .data_dir
            .canonicalize()
            .map_err(|e| Error::io_path("resolving", &self.inner.data_dir, e))?;
        if resolved(backup_dir)?.starts_with(data) {
            return Err(Error::BadRequest(format!(
                "backup directory {} is inside the data directory; choose a directory outside it \
                 (the default is $STRATA_HOME/backups/<account>)",
                backup_dir.display()
            )));
        }
        Ok(())
    }

    /// Writes the copies and the backup manifest into the new folder `tmp`, durably.
    fn write_folder(
        &self,
        tmp: &Path,
        copies: &[(&str, Vec<u8>)],
        manifest: impl FnOnce(Vec<FileEntry>, Option<String>) -> BackupManifest,
    ) -> Result<BackupManifest> {
        create_dir(tmp, false)?;
        let mut files = Vec::new();
        for (name, bytes) in copies {
            write_file(&tmp.join(name), bytes)?;
            files.push(FileEntry {
                name: (*name).to_string(),
                size: bytes.len() as u64,
                sha256: hash_bytes(bytes),
            });
        }
        let ring_path = tmp.join(KEYRING_COPY);
        let ring = Keyring::read(&ring_path)?
            .ok_or_else(|| Error::corruption(&ring_path, 0, "the keyring copy is missing"))?;
        let m = manifest(files, ring.customer.map(|c| c.kid));
        write_file(&tmp.join(BACKUP_FILE), &m.encode(&self.inner.suite)?)?;
        sync_dir(tmp)?;
        Ok(m)
    }

    /// The backups in `backup_dir`, oldest first (manifests CRC-checked; `verify_backup`
    /// authenticates one).
    pub fn list_backups(backup_dir: &Path) -> Result<Vec<BackupInfo>> {
        scan(backup_dir)?
            .into_iter()
            .map(|(id, m)| m.map(|m| info_of(&backup_dir.join(id), &m)))
            .collect()
    }
}

/// `path` made absolute with symlinks resolved, even where it does not exist yet: its deepest
/// existing ancestor canonicalized, plus the rest.
fn resolved(path: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(path).map_err(|e| Error::io_path("resolving", path, e))?;
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = base.canonicalize() {
            return Ok(rest.iter().rev().fold(c, |acc, part| acc.join(part)));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return Ok(abs),
        }
    }
}

pub(crate) fn default_dir(home: &Path, account: &str) -> PathBuf {
    home.join("backups").join(account)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    strata_base::faults::read(path).map_err(|e| Error::io_path("reading", path, e))
}

/// A fresh backup id (creation time in ms, bumped past any existing folder) and the time in s.
fn new_id(backup_dir: &Path) -> (String, u64) {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut n = ms;
    while backup_dir.join(backup_id(n)).exists() {
        n += 1;
    }
    (backup_id(n), (ms / 1000) as u64)
}

/// Bytes of the small files a backup folder holds (catalog, keyring, manifest copies).
fn manifest_bytes_len(m: &BackupManifest) -> u64 {
    m.files.iter().map(|f| f.size).sum()
}

fn info_of(path: &Path, m: &BackupManifest) -> BackupInfo {
    BackupInfo {
        id: m.backup_id.clone(),
        path: path.to_path_buf(),
        created_at: m.created_at,
        consistent_at_ms: m.pinned_ms,
        account: m.account.clone(),
        kid: m.kid.clone(),
        segments: m.segments.len(),
        bytes: m.segments.iter().map(|s| s.size).sum(),
        segments_copied: 0,
        bytes_copied: 0,
        pruned: Vec::new(),
    }
}
