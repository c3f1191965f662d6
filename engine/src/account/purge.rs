//! Removing containers and databases from an account with all their data: every key of the
//! container, in every per-container key space of the registry (`KeySpace::ALL`, keyspace.rs:
//! items, feeds, images, conflicts, checkpoints, index entries, metrics...), is deleted, the
//! catalog entry removed, and a compaction drops the tombstones. Keeps no list of key spaces of
//! its own: a space added to the registry is purged without a change here. Used by
//! point-in-time restore's `--only` and by `delete_container` / `delete_database` (delete.rs).
//! Thread-safe.

use super::handle::Account;
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use strata_lsm::WriteBatch;

impl Account {
    /// Removes every container for which `drop(database, container)` is true, its data, and
    /// every database left without containers that `drop_db(database)` says to remove.
    pub(crate) fn purge_containers(
        &self,
        drop: impl Fn(&str, &str) -> bool,
        drop_db: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let ids: Vec<u32> = {
            let c = self.inner.catalog()?;
            c.databases
                .iter()
                .flat_map(|d| {
                    d.containers
                        .iter()
                        .filter(|k| drop(&d.name, &k.name))
                        .map(|k| k.id)
                })
                .collect()
        };
        for id in &ids {
            for space in KeySpace::ALL.iter().filter(|s| s.per_container()) {
                let prefix = space.container_prefix(*id);
                let mut batch = WriteBatch::new();
                for (k, _) in self.inner.db.scan_prefix(&prefix)? {
                    batch.delete(k);
                }
                self.inner.db.write(batch, self.inner.default_durability())?;
            }
        }
        self.inner.edit_catalog(|c| {
            for d in &mut c.databases {
                let name = d.name.clone();
                d.containers.retain(|k| !drop(&name, &k.name));
            }
            c.databases.retain(|d| !drop_db(&d.name));
            Ok(())
        })?;
        // The analytical tier's files of the removed containers (their keys went with them).
        for id in &ids {
            let dir = super::analytical::analytical_dir_of(&self.inner.data_dir, *id);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io_path(
                        "removing a deleted container's analytical files",
                        &dir,
                        e,
                    ))
                }
            }
        }
        Ok(self.inner.db.compact()?)
    }
}
