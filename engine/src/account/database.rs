//! `Database`: a handle naming one database of an account; creates and lists its containers.

use std::sync::Arc;

use super::container::Container;
use super::handle::AccountInner;
use crate::catalog::{validate_name, validate_partition_key_path, ContainerEntry};
use crate::error::{Error, Result};

/// What the catalog says of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    pub name: String,
    pub partition_key_path: String,
}

#[derive(Clone)]
pub struct Database {
    inner: Arc<AccountInner>,
    name: String,
}

impl Database {
    pub(crate) fn new(inner: Arc<AccountInner>, name: &str) -> Database {
        Database {
            inner,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// 404 if the database does not exist, 409 if the container does, 400 for a bad name or path.
    pub fn create_container(&self, name: &str, partition_key_path: &str) -> Result<Container> {
        validate_name("container", name)?;
        validate_partition_key_path(partition_key_path)?;
        let db = self.name.clone();
        self.inner.edit_catalog(|c| {
            let id = c.next_container_id;
            let entry =
                c.databases.iter_mut().find(|d| d.name == db).ok_or_else(|| {
                    Error::NotFound(format!("database '{db}' does not exist; create it first"))
                })?;
            if entry.containers.iter().any(|x| x.name == name) {
                return Err(Error::Conflict(format!(
                    "container '{name}' already exists in database '{db}'"
                )));
            }
            entry.containers.push(ContainerEntry {
                name: name.to_string(),
                id,
                partition_key_path: partition_key_path.to_string(),
            });
            c.next_container_id = id
                .checked_add(1)
                .ok_or_else(|| Error::BadRequest("the account has run out of container ids".into()))?;
            Ok(())
        })?;
        Ok(self.container(name))
    }

    /// A handle; item operations through it answer 404 if the container does not exist.
    pub fn container(&self, name: &str) -> Container {
        Container::new(self.inner.clone(), &self.name, name)
    }

    pub fn list_containers(&self) -> Result<Vec<ContainerInfo>> {
        Ok(self
            .inner
            .catalog()?
            .database(&self.name)?
            .containers
            .iter()
            .map(|c| ContainerInfo {
                name: c.name.clone(),
                partition_key_path: c.partition_key_path.clone(),
            })
            .collect())
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.name)
    }
}
