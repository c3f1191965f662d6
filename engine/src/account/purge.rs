//! Removing containers and databases from an account with all their data: every key of the
//! container, in every per-container key space of the registry (`KeySpace::ALL`, keyspace.rs:
//! items, feeds, images, conflicts, checkpoints, index entries, metrics...), is deleted, the
//! catalog entry removed, and a compaction drops the tombstones. Keeps no list of key spaces of
//! its own: a space added to the registry is purged without a change here. Used by
//! point-in-time restore's `--only` and by `delete_container` / `delete_database` (delete.rs).
//!
//! Crash-safe and bounded: one catalog edit takes the containers out of the catalog and puts
//! their ids on its `purging` list, so they vanish at once and whole; their keys are then read
//! lazily and deleted `PURGE_BATCH` at a time (memory holds one batch of keys, not the
//! container), and each id leaves the list when its keys are gone. A purge a crash interrupted
//! is finished when the account next opens (`resume_purges`). A container with its own
//! customer key has a store of its own: that store's directory and KEYRING entry are deleted
//! instead (`container_keys.rs`). Thread-safe.

use super::handle::{Account, AccountInner};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use strata_lsm::WriteBatch;

/// Keys deleted per write batch while purging.
pub(super) const PURGE_BATCH: usize = 4096;

impl Account {
    /// Removes every container for which `drop(database, container)` is true, its data, and
    /// every database left without containers that `drop_db(database)` says to remove.
    pub(crate) fn purge_containers(
        &self,
        drop: impl Fn(&str, &str) -> bool,
        drop_db: impl Fn(&str) -> bool,
    ) -> Result<()> {
        self.inner.edit_catalog(|c| {
            let mut ids = Vec::new();
            for d in &mut c.databases {
                let name = d.name.clone();
                d.containers.retain(|k| {
                    let gone = drop(&name, &k.name);
                    if gone {
                        ids.push(k.id);
                    }
                    !gone
                });
            }
            c.databases.retain(|d| !drop_db(&d.name));
            c.purging.extend(ids);
            Ok(())
        })?;
        self.inner.resume_purges()?;
        Ok(self.inner.db.compact()?)
    }
}

impl AccountInner {
    /// Deletes the keys and files of every container on the catalog's `purging` list, then
    /// takes it off the list. At open, this finishes a purge that a crash interrupted.
    pub(crate) fn resume_purges(&self) -> Result<()> {
        let ids = self.catalog()?.purging.clone();
        for id in ids {
            // A container with its own store goes with its directory; the others key by key.
            if !self.remove_own_store(id)? {
                self.purge_keys(id)?;
            }
            self.remove_analytical_files(id)?;
            self.edit_catalog(|c| {
                c.purging.retain(|p| *p != id);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Deletes every key of container `id`, one batch of `PURGE_BATCH` at a time, reading the
    /// keys lazily from one snapshot per key space.
    fn purge_keys(&self, id: u32) -> Result<()> {
        for space in KeySpace::ALL.iter().filter(|s| s.per_container()) {
            let prefix = space.container_prefix(id);
            let mut batch = WriteBatch::new();
            let mut queued = 0usize;
            for next in self.store_for(id)?.iter_prefix_from(&prefix, &prefix)? {
                let (key, _) = next?;
                batch.delete(key);
                queued += 1;
                if queued == PURGE_BATCH {
                    let full = std::mem::replace(&mut batch, WriteBatch::new());
                    self.store_for(id)?.write(full, self.default_durability())?;
                    queued = 0;
                }
            }
            if queued > 0 {
                self.store_for(id)?.write(batch, self.default_durability())?;
            }
        }
        Ok(())
    }

    /// The analytical tier's files of a removed container (its keys went with the purge).
    fn remove_analytical_files(&self, id: u32) -> Result<()> {
        let dir = super::analytical::analytical_dir_of(&self.data_dir, id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io_path(
                "removing a deleted container's analytical files",
                &dir,
                e,
            )),
        }
    }
}
