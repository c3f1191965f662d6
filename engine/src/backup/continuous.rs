//! Turning continuous backup on and off, and its status. Turning it on (or back on) refuses a
//! customer-key account that calls the vault as the first-party identity, makes the store keep
//! WAL files until they are shipped, takes the base backup the log starts from, writes a fresh
//! LOG, ships once and starts the background shipper. See docs/backup.md#continuous-backup.

use std::path::Path;

use super::continuous_policy::ContinuousPolicy;
use super::info::ContinuousStatus;
use super::layout::BACKUP_FILE;
use super::layout::{log_dir, LOG_FILE};
use super::log_manifest::LogManifest;
use super::manifest::BackupManifest;
use super::shipper::{Shipper, SHIPPER};
use crate::account::Account;
use crate::error::{Error, Result};
use crate::options::AccountOptions;
use strata_base::fs::{create_dir, write_atomic};
use strata_lsm::db::DirLock;
use strata_vault::Principal;

impl Account {
    /// Turns continuous backup on, or changes its tier. Returns a warning when the tier is
    /// lowered (30 -> 7 days: older history is lost). 400 if the tier is not 7 or 30, if the
    /// backup directory is inside the data directory, or if the account has a customer key and
    /// calls the vault as the first-party identity (a system- or user-assigned identity is
    /// required).
    pub fn set_continuous_backup(&self, mut policy: ContinuousPolicy) -> Result<Option<String>> {
        policy.validate()?;
        self.inner.refuse_with_own_keys("continuous backups")?;
        // Stored absolute: every later process ships to the same place whatever its directory.
        if let Some(d) = &policy.backup_dir {
            policy.backup_dir = Some(std::path::absolute(d).map_err(|e| Error::io_path("resolving", d, e))?);
        }
        if self.inner.is_cmk() && self.default_identity()? == Principal::FirstParty {
            return Err(Error::BadRequest(
                "continuous backup of a customer-managed-key account needs a managed identity: set \
                 the account's default identity to its system-assigned identity or a user-assigned \
                 one (`strata account set-identity`), grant it get/wrapKey/unwrapKey on the key, \
                 then turn continuous backup on"
                    .into(),
            ));
        }
        let dir = policy
            .backup_dir
            .clone()
            .unwrap_or_else(|| self.default_backup_dir());
        self.refuse_inside_data_dir(&dir)?;
        let old = self.inner.catalog()?.continuous_backup.clone();
        let warning = policy.warning_from(old.as_ref());
        let same_dir = old
            .as_ref()
            .is_some_and(|o| o.backup_dir.clone().unwrap_or_else(|| self.default_backup_dir()) == dir);
        self.inner.db.set_retain_wals(true);
        let log = log_dir(&dir);
        create_dir(&log, false)?;
        {
            let _serial = self.ship_guard()?;
            let _lock = DirLock::acquire(&log)?;
            let current = LogManifest::read(&log.join(LOG_FILE), Some(&self.inner.suite))?;
            let next = match current.filter(|_| same_dir) {
                Some(m) => LogManifest {
                    tier_days: policy.tier_days,
                    ..m
                },
                None => self.start_log(&dir, &log, policy.tier_days)?,
            };
            write_atomic(&log.join(LOG_FILE), &next.encode(&self.inner.suite)?, false)?;
        }
        self.inner.edit_catalog(|c| {
            c.continuous_backup = Some(policy.clone());
            Ok(())
        })?;
        self.ship_log_now()?;
        self.start_shipper()?;
        Ok(warning)
    }

    /// Turns continuous backup off: the shipper stops and the store deletes WAL files as soon as
    /// they are in segments again. What was shipped stays in the backup directory.
    pub fn disable_continuous_backup(&self) -> Result<()> {
        self.inner.edit_catalog(|c| {
            c.continuous_backup = None;
            Ok(())
        })?;
        self.restart_shipper()?;
        self.inner.db.set_retain_wals(false);
        Ok(())
    }

    /// The continuous backup policy, if it is on.
    pub fn continuous_backup(&self) -> Result<Option<ContinuousPolicy>> {
        Ok(self.inner.catalog()?.continuous_backup.clone())
    }

    /// Where continuous backup stands: the restore window, and the last shipping failure.
    /// `None` if it is off.
    pub fn continuous_status(&self) -> Result<Option<ContinuousStatus>> {
        let Some(policy) = self.continuous_backup()? else {
            return Ok(None);
        };
        let dir = self.continuous_dir()?;
        let path = log_dir(&dir).join(LOG_FILE);
        let m = LogManifest::read(&path, Some(&self.inner.suite))?
            .ok_or_else(|| Error::corruption(&path, 0, "the shipped log's manifest is missing"))?;
        let now = self.inner.opts.wall_clock.now_millis();
        let last_error = self
            .inner
            .shipper
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while holding the log shipper".into()))?
            .as_ref()
            .and_then(Shipper::last_error);
        Ok(Some(ContinuousStatus {
            tier_days: policy.tier_days,
            backup_dir: dir,
            earliest_restorable_timestamp: earliest(&m, now),
            latest_restorable_timestamp: m.through_ms,
            last_error,
        }))
    }

    /// The restore window of the continuous backup in `backup_dir`, from its LOG (CRC-checked,
    /// not authenticated, as `list_backups`); `None` if the directory holds none. Needs no
    /// open account.
    pub fn restore_window(opts: &AccountOptions, backup_dir: &Path) -> Result<Option<ContinuousStatus>> {
        let Some(m) = LogManifest::read(&log_dir(backup_dir).join(LOG_FILE), None)? else {
            return Ok(None);
        };
        Ok(Some(ContinuousStatus {
            tier_days: m.tier_days,
            backup_dir: backup_dir.to_path_buf(),
            earliest_restorable_timestamp: earliest(&m, opts.wall_clock.now_millis()),
            latest_restorable_timestamp: m.through_ms,
            last_error: None,
        }))
    }

    /// A new log: the base backup it starts from, and an empty list of shipped files. Files of
    /// an earlier log in this directory are removed (their history has a gap since).
    fn start_log(&self, dir: &Path, log: &Path, tier_days: u32) -> Result<LogManifest> {
        for e in std::fs::read_dir(log)
            .map_err(|e| Error::io_path("listing", log, e))?
            .flatten()
        {
            if e.file_name().to_string_lossy().ends_with(".wal") {
                std::fs::remove_file(e.path()).map_err(|err| Error::io_path("removing", &e.path(), err))?;
            }
        }
        let base = self.backup_now(dir)?;
        let m = BackupManifest::read(&base.path.join(BACKUP_FILE), None)?;
        let (Some(start_ms), Some(start_log_number)) = (m.pinned_ms, m.log_number) else {
            return Err(Error::Internal("a new base backup lacks its commit time".into()));
        };
        Ok(LogManifest {
            account: m.account,
            tier_days,
            start_ms,
            start_log_number,
            through_ms: start_ms,
            wals: Vec::new(),
        })
    }

    /// Starts the background thread (log shipping, base and scheduled backups) if continuous
    /// backup is on or periodic backups are scheduled, and none runs.
    pub(crate) fn start_shipper(&self) -> Result<()> {
        let wanted = {
            let c = self.inner.catalog()?;
            c.continuous_backup.is_some() || c.backup_schedule.is_some()
        };
        if !wanted {
            return Ok(());
        }
        let mut slot = self.shipper_slot()?;
        if slot.is_none() {
            *slot = Shipper::start(self.inner.arc())?;
        }
        Ok(())
    }

    /// Stops the background thread (and waits for it), and starts it again if it still has
    /// work (after a change of the continuous policy or the backup schedule). An error of the
    /// old thread (it panicked) is returned after the new one has started.
    pub(crate) fn restart_shipper(&self) -> Result<()> {
        let stopped = {
            // Held while the thread stops: no other call starts one meanwhile (the thread
            // itself never takes this lock).
            let mut slot = self.shipper_slot()?;
            slot.take();
            self.inner.supervisor.stop(SHIPPER)
        };
        self.start_shipper()?;
        stopped
    }

    fn shipper_slot(&self) -> Result<std::sync::MutexGuard<'_, Option<Shipper>>> {
        self.inner
            .shipper
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while holding the log shipper".into()))
    }
}

/// The earliest restorable moment: the log's start, or the window's start if later.
pub(crate) fn earliest(m: &LogManifest, now_ms: u64) -> u64 {
    m.start_ms.max(m.window_start(now_ms))
}
