//! `Account::ship_log_now`: continuous backup's log shipping. Copies what each WAL file gained
//! since the last shipment (whole records only, ciphertext as it is: nothing is opened) into
//! `<backup-dir>/log/`, fsyncs it, drops history older than the window (trim.rs), replaces the
//! authenticated LOG, then lets the store delete WAL files that are shipped whole and already in
//! segments. Serialised per backup
//! directory by `log/LOCK`. See docs/backup.md#continuous-backup.

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use super::copy::copy_range;
use super::info::ShipReport;
use super::layout::{log_dir, LOG_FILE};
use super::log_manifest::{LogManifest, ShippedWal};
use super::snapshot::default_dir;
use super::trim::{remove_dropped, trim};
use crate::account::{Account, AccountInner};
use crate::error::{Error, Result};
use strata_base::fs::{sync_dir, write_atomic};
use strata_lsm::db::{Db, DirLock};
use strata_lsm::files::wal_file_name;
use strata_lsm::CipherSuite;

impl Account {
    /// Ships the write-ahead log to the continuous backup directory now (the background shipper
    /// does this every few seconds). 400 if continuous backup is off.
    pub fn ship_log_now(&self) -> Result<ShipReport> {
        ship_account(&self.inner)
    }

    /// Held while this process ships or rewrites the LOG.
    pub(crate) fn ship_guard(&self) -> Result<MutexGuard<'_, ()>> {
        ship_guard_of(&self.inner)
    }

    /// The backup directory continuous backup ships to; 400 if it is off.
    pub(crate) fn continuous_dir(&self) -> Result<PathBuf> {
        continuous_dir_of(&self.inner)
    }
}

/// `ship_log_now` on the account's shared state (the background shipper holds no `Account`).
pub(crate) fn ship_account(inner: &AccountInner) -> Result<ShipReport> {
    let log = log_dir(&continuous_dir_of(inner)?);
    let _serial = ship_guard_of(inner)?;
    let _lock = DirLock::acquire(&log)?;
    ship(&inner.db, &log, &inner.suite)
}

fn ship_guard_of(inner: &AccountInner) -> Result<MutexGuard<'_, ()>> {
    inner
        .ship_lock
        .lock()
        .map_err(|_| Error::Poisoned("a thread panicked while shipping the log".into()))
}

/// The backup directory continuous backup ships to; 400 if it is off.
fn continuous_dir_of(inner: &AccountInner) -> Result<PathBuf> {
    let c = inner.catalog()?;
    let policy = c.continuous_backup.clone().ok_or_else(|| {
        Error::BadRequest(
            "continuous backup is off; turn it on with `strata backup policy --continuous 7|30`".into(),
        )
    })?;
    Ok(policy
        .backup_dir
        .unwrap_or_else(|| default_dir(&inner.opts.home, &c.account)))
}

/// Ships into `log` (its LOCK held) and returns what was copied.
pub(crate) fn ship(db: &Db, log: &Path, suite: &CipherSuite) -> Result<ShipReport> {
    let path = log.join(LOG_FILE);
    let mut m = LogManifest::read(&path, Some(suite))?
        .ok_or_else(|| Error::corruption(&path, 0, "the shipped log's manifest is missing"))?;
    let view = db.log_view()?;
    let (mut files, mut bytes) = (0, 0);
    let mut whole = Vec::new();
    for w in &view.wals {
        if w.id < m.start_log_number {
            // Older than the log: its data is in the start base.
            whole.push(w.id);
            continue;
        }
        let have = m.shipped(w.id).map_or(0, |s| s.size);
        if w.len < have {
            return Err(Error::Internal(format!(
                "WAL {} is shorter ({} bytes) than what was shipped of it ({have})",
                w.path.display(),
                w.len
            )));
        }
        if w.len > have {
            let (sha256, size) = copy_range(&w.path, &log.join(wal_file_name(w.id)), have, w.len)?;
            m.wals.retain(|s| s.id != w.id);
            m.wals.push(ShippedWal {
                id: w.id,
                size,
                sha256,
            });
            files += 1;
            bytes += w.len - have;
        }
        if w.sealed {
            whole.push(w.id);
        }
    }
    m.wals.sort_by_key(|s| s.id);
    m.through_ms = m.through_ms.max(view.through_ms);
    let dropped = match log.parent() {
        Some(backup_dir) => trim(backup_dir, &mut m, view.through_ms)?,
        None => Vec::new(),
    };
    sync_dir(log)?;
    write_atomic(&path, &m.encode(suite)?, false)?;
    remove_dropped(log, &dropped)?;
    db.release_wals(&whole)?;
    Ok(ShipReport {
        wal_files: files,
        bytes_shipped: bytes,
        latest_restorable_timestamp: m.through_ms,
    })
}
