//! Removing containers and databases from an account with all their data: every key of the
//! container (items, change feed, latest-version index, LSN mark, conflicts, sync checkpoints,
//! superseded versions' images, secondary-index entries, the index's rebuild record, lifetime
//! metrics)
//! is deleted, the catalog entry removed, and a compaction drops the tombstones. Used by
//! point-in-time restore's `--only` and by `delete_container` / `delete_database` (delete.rs).
//! Thread-safe.

use super::handle::Account;
use crate::error::{Error, Result};
use strata_lsm::WriteBatch;

/// The key tags whose keys start with `tag | container_id: u32 BE` (docs/format.md).
const CONTAINER_KEY_TAGS: [u8; 10] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A];

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
            for tag in CONTAINER_KEY_TAGS {
                let mut prefix = vec![tag];
                prefix.extend_from_slice(&id.to_be_bytes());
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
