//! The backup schedules: scheduled periodic backups (taken on the policy's interval into a
//! chosen directory while the account is open), and continuous backup's base scheduler: on each tick of the background shipper (and on demand), a
//! new base backup is taken into the continuous backup directory when the newest one is older
//! than the periodic policy's interval, so that a base at or before the window's start always
//! remains and a restore replays at most one interval of log. Decides and takes the backup
//! under the account's backup lock, so concurrent ticks take one base.

use std::path::{Path, PathBuf};

use super::info::BackupInfo;
use crate::account::Account;
use crate::error::Result;

impl Account {
    /// Takes a base backup into the continuous backup directory if the newest base there is
    /// older than `interval_hours` (by the account's wall clock); `None` if none was due. The
    /// background shipper calls this after every shipment. 400 if continuous backup is off.
    pub fn take_base_if_due(&self) -> Result<Option<BackupInfo>> {
        let dir = self.continuous_dir()?;
        self.take_backup_if_due(&dir)
    }

    /// Schedules periodic backups into `dir` (taken on the policy's interval by the account's
    /// background thread while it is open, old ones removed by the retention), or with `None`
    /// stops them. 400 for a directory inside the data directory.
    pub fn set_backup_schedule(&self, dir: Option<&Path>) -> Result<()> {
        if let Some(d) = dir {
            self.refuse_inside_data_dir(d)?;
        }
        self.inner.edit_catalog(|c| {
            c.backup_schedule = dir.map(Path::to_path_buf);
            Ok(())
        })?;
        self.restart_shipper()
    }

    /// Where scheduled periodic backups go; `None` when none are scheduled.
    pub fn backup_schedule(&self) -> Result<Option<PathBuf>> {
        Ok(self.inner.catalog()?.backup_schedule.clone())
    }

    /// Takes a periodic backup into the scheduled directory when the newest there is older than
    /// the interval; `None` if none was due or nothing is scheduled. The background thread calls
    /// it on every tick.
    pub fn take_scheduled_backup_if_due(&self) -> Result<Option<BackupInfo>> {
        match self.backup_schedule()? {
            Some(dir) => self.take_backup_if_due(&dir),
            None => Ok(None),
        }
    }

    /// A backup into `dir` if its newest backup of this account is older than the interval.
    fn take_backup_if_due(&self, dir: &Path) -> Result<Option<BackupInfo>> {
        let interval_ms = u64::from(self.backup_policy()?.interval_hours) * 3_600_000;
        let _serial = self.backup_guard()?;
        let now = self.inner.db.commit_time_now()?;
        let name = self.name();
        let newest = Account::list_backups(dir)?
            .into_iter()
            .filter(|b| b.account == name)
            .filter_map(|b| b.consistent_at_ms)
            .max();
        if newest.is_some_and(|t| now.saturating_sub(t) < interval_ms) {
            return Ok(None);
        }
        self.backup_now_locked(dir).map(Some)
    }
}
