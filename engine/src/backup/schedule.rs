//! Continuous backup's base scheduler: on each tick of the background shipper (and on demand), a
//! new base backup is taken into the continuous backup directory when the newest one is older
//! than the periodic policy's interval, so that a base at or before the window's start always
//! remains and a restore replays at most one interval of log. Decides and takes the backup
//! under the account's backup lock, so concurrent ticks take one base.

use super::info::BackupInfo;
use crate::account::Account;
use crate::error::Result;

impl Account {
    /// Takes a base backup into the continuous backup directory if the newest base there is
    /// older than `interval_hours` (by the account's wall clock); `None` if none was due. The
    /// background shipper calls this after every shipment. 400 if continuous backup is off.
    pub fn take_base_if_due(&self) -> Result<Option<BackupInfo>> {
        let dir = self.continuous_dir()?;
        let interval_ms = u64::from(self.backup_policy()?.interval_hours) * 3_600_000;
        let _serial = self.backup_guard()?;
        let now = self.inner.db.commit_time_now()?;
        let name = self.name();
        let newest = Account::list_backups(&dir)?
            .into_iter()
            .filter(|b| b.account == name)
            .filter_map(|b| b.consistent_at_ms)
            .max();
        if newest.is_some_and(|t| now.saturating_sub(t) < interval_ms) {
            return Ok(None);
        }
        self.backup_now_locked(&dir).map(Some)
    }
}
