//! Deleting a container or a whole database with all its data (`Database::delete_container`,
//! `Account::delete_database`): the catalog entry goes, and every key of the container —
//! items, feeds, conflicts, checkpoints, index entries — is deleted and compacted away
//! (purge.rs). A deleted container can be brought back from a continuous backup
//! (`Account::restore_deleted`, backup/undelete.rs). Refused while the customer key is revoked.

use super::database::Database;
use super::handle::Account;
use crate::error::{Error, Result};

impl Database {
    /// Deletes the container and its data: 204; 404 if it does not exist.
    pub fn delete_container(&self, name: &str) -> Result<()> {
        self.inner.require_key_access()?;
        let db = self.name().to_string();
        self.inner.catalog()?.container(&db, name)?;
        Account {
            inner: self.inner.clone(),
        }
        .purge_containers(|d, c| d == db && c == name, |_| false)
    }
}

impl Account {
    /// Deletes the database, its containers and all their data: 204; 404 if it does not exist.
    pub fn delete_database(&self, name: &str) -> Result<()> {
        self.inner.require_key_access()?;
        if !self.inner.catalog()?.databases.iter().any(|d| d.name == name) {
            return Err(Error::NotFound(format!("database '{name}' does not exist")));
        }
        self.purge_containers(|d, _| d == name, |d| d == name)
    }
}
