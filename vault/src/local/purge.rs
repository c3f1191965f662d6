//! Soft-delete bookkeeping and purge: the deletion time of a deleted key (a `deleted_at` file of
//! unix seconds inside `deleted/<name>/`), and `purge_key`, which removes a deleted key for good
//! unless purge protection holds it. Thread-safe (writer lock). See docs/keys.md, "Purge".

use std::fs;

use super::{LocalVault, Place, OWNER};
use crate::error::{Error, Result};
use crate::key_uri::check_key_name;
use strata_base::fs::{read_if_exists, sync_dir, write_atomic};

/// Inside a deleted key's directory: when it was deleted, unix seconds as decimal text.
pub(super) const DELETED_AT_FILE: &str = "deleted_at";
const DAY_SECS: u64 = 86_400;

impl LocalVault {
    /// Records now as the deletion time of the (just moved) deleted key `name`.
    pub(super) fn mark_deleted(&self, name: &str) -> Result<()> {
        let path = self.key_dir(Place::Deleted, name).join(DELETED_AT_FILE);
        Ok(write_atomic(&path, self.now().to_string().as_bytes(), true)?)
    }

    /// Removes the deletion time a recovered key carried back into `keys/<name>/`.
    pub(super) fn clear_deleted_mark(&self, name: &str) -> Result<()> {
        let path = self.key_dir(Place::Live, name).join(DELETED_AT_FILE);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io_path("removing", &path, e)),
        }
    }

    /// When the deleted key `name` was deleted; `None` for a key deleted before this was
    /// recorded (it counts as deleted now, the cautious choice).
    fn deleted_at(&self, name: &str) -> Result<Option<u64>> {
        let path = self.key_dir(Place::Deleted, name).join(DELETED_AT_FILE);
        let Some(bytes) = read_if_exists(&path)? else {
            return Ok(None);
        };
        let t = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| Error::corruption(&path, 0, "the deletion time is not a unix time"))?;
        Ok(Some(t))
    }

    /// Permanently removes the soft-deleted key `name` with all its versions. 404 if there is
    /// no deleted key of that name (409 if it is live: delete it first); 409 while purge
    /// protection is on and the key was deleted less than the retention period ago.
    pub fn purge_key(&self, name: &str) -> Result<()> {
        let res = self.purge_key_unaudited(name);
        self.audited(OWNER, "purge", Some(name), None, 200, res)
    }

    fn purge_key_unaudited(&self, name: &str) -> Result<()> {
        check_key_name(name).map_err(Error::BadRequest)?;
        let _w = self.lock();
        if !self.key_exists(Place::Deleted, name)? {
            return Err(if self.key_exists(Place::Live, name)? {
                Error::Conflict(format!(
                    "key {name} is not deleted; only a deleted key can be purged (`strata vault \
                     key delete {name}` first)"
                ))
            } else {
                Error::NotFound(format!("no deleted key named {name} in vault {}", self.name))
            });
        }
        if self.purge_protection {
            let now = self.now();
            let deleted = self.deleted_at(name)?.unwrap_or(now);
            let until = deleted.saturating_add(u64::from(self.retention_days) * DAY_SECS);
            if now < until {
                return Err(Error::Conflict(format!(
                    "key {name} cannot be purged: vault {} has purge protection, so a deleted key \
                     is kept for the retention period of {} days, until {until} (unix seconds); \
                     it can be recovered until then with `strata vault key recover {name}`",
                    self.name, self.retention_days
                )));
            }
        }
        // The key pairs first: a purge interrupted after this is finished by purging again
        // (destroying a pair that is gone already is not an error).
        for rec in self.versions(Place::Deleted, name)? {
            self.holder.destroy(&rec.held(&self.name))?;
        }
        let dir = self.key_dir(Place::Deleted, name);
        fs::remove_dir_all(&dir).map_err(|e| Error::io_path("removing", &dir, e))?;
        Ok(sync_dir(&self.place_dir(Place::Deleted))?)
    }
}
