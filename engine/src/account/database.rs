//! `Database`: a handle naming one database of an account; creates and lists its containers and
//! sets the throughput they share (see docs/ru-model.md, "Provisioned throughput").

use super::container::Container;
use super::lifecycle::AccountRef;
use crate::catalog::{validate_name, ContainerEntry};
use crate::document::{validate_default_ttl, ConflictResolutionPolicy, PartitionKeyDefinition};
use crate::error::{Error, Result};
use crate::index::IndexingPolicy;
use crate::metering::validate_throughput;
use strata_vault::KeyUri;

/// Options of `Account::create_database_with`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// RU/s shared by the database's containers that have none of their own (at least 400, in
    /// steps of 100); `None`: unlimited (the default).
    pub throughput: Option<u32>,
}

/// Options of `Database::create_container_with`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerOptions {
    /// RU/s of this container alone (at least 400, in steps of 100); `None`: the database's
    /// shared throughput if it has one, else unlimited (the default).
    pub throughput: Option<u32>,
    /// `defaultTtl`: `None` = TTL off (the default), `-1` = on without a default (items expire
    /// only by their own `ttl`), n > 0 = items expire n seconds after their last write.
    pub default_ttl: Option<i64>,
    /// How changes that conflict during `sync` are resolved (fixed at creation); `None`:
    /// last-writer-wins on `_ts`.
    pub conflict_resolution: Option<ConflictResolutionPolicy>,
    /// Which paths are indexed; `None`: everything but `_etag` (the default policy).
    /// Changeable later with `Container::set_indexing_policy`.
    pub indexing_policy: Option<IndexingPolicy>,
    /// A customer-managed key of the container's own (a key URI, e.g.
    /// `vault://v/keys/k`): its data goes to a store of its own, sealed inside by a data key
    /// that this key wraps, in a service-managed account as in a customer-managed one (which
    /// then does not use its own key for this container). `None`: the account's keys (the
    /// default). Fixed at creation; see docs/keys.md#per-container-customer-keys.
    pub customer_key: Option<String>,
}

/// What the catalog says of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    pub name: String,
    /// The first (for a `Hash` key, the only) partition-key path.
    pub partition_key_path: String,
    /// Every path: one for a `Hash` key, two or three for a hierarchical (`MultiHash`) one.
    pub partition_key_paths: Vec<String>,
    /// The URI of the container's own customer key; `None`: it uses the account's keys.
    pub customer_key: Option<String>,
}

/// A user handle: keeps the account open like an `Account` (see `Account::close`).
#[derive(Clone)]
pub struct Database {
    pub(crate) inner: AccountRef,
    name: String,
}

impl Database {
    pub(crate) fn new(inner: AccountRef, name: &str) -> Database {
        Database {
            inner,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// 404 if the database does not exist, 409 if the container does, 400 for a bad name or path,
    /// 403 while the customer key is revoked.
    pub fn create_container(&self, name: &str, partition_key_path: &str) -> Result<Container> {
        self.create_container_with(name, partition_key_path, ContainerOptions::default())
    }

    /// As `create_container`, with the container's own throughput (400 unless at least 400 RU/s
    /// in steps of 100) and `defaultTtl` (400 unless -1 or positive).
    pub fn create_container_with(
        &self,
        name: &str,
        partition_key_path: &str,
        opts: ContainerOptions,
    ) -> Result<Container> {
        self.create_container_with_paths(name, &[partition_key_path], opts)
    }

    /// As `create_container_with`, partitioned on one path (`Hash`) or on two or three
    /// (`MultiHash`, a hierarchical key: items are addressed by one value per path, and queries
    /// and the change feed may be scoped to a prefix of them). 400 for more than three paths,
    /// or paths that repeat or nest.
    pub fn create_container_with_paths<S: AsRef<str>>(
        &self,
        name: &str,
        partition_key_paths: &[S],
        opts: ContainerOptions,
    ) -> Result<Container> {
        validate_name("container", name)?;
        let pk = PartitionKeyDefinition::new(partition_key_paths)?;
        validate_throughput(opts.throughput)?;
        validate_default_ttl(opts.default_ttl)?;
        if let Some(p) = &opts.conflict_resolution {
            p.validate()?;
        }
        let indexing_policy = opts
            .indexing_policy
            .clone()
            .map(IndexingPolicy::normalized)
            .transpose()?;
        // Refused before the catalog records anything: marking the new index ready below writes
        // to the store, which a revoked key refuses, and would leave the container half made.
        self.inner.require_key_access()?;
        let customer_key = opts
            .customer_key
            .as_deref()
            .map(|k| KeyUri::parse(k).map(|u| u.to_string()))
            .transpose()?;
        let db = self.name.clone();
        let (id, own) = self.inner.edit_catalog(|c| {
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
            let mut container = ContainerEntry {
                name: name.to_string(),
                id,
                partition_key_path: String::new(),
                partition_key_paths: Vec::new(),
                throughput: opts.throughput,
                default_ttl: opts.default_ttl,
                conflict_policy: opts.conflict_resolution.clone(),
                analytical: None,
                indexing_policy,
                index_generation: 0,
                stored_procedures: Vec::new(),
                parsed_pk: crate::catalog::ParsedPk::default(),
            };
            container.set_pk_definition(&pk);
            entry.containers.push(container);
            c.next_container_id = id
                .checked_add(1)
                .ok_or_else(|| Error::BadRequest("the account has run out of container ids".into()))?;
            // Its own store and KEYRING entry first; the catalog, written when this returns,
            // makes the container exist (container_keys.rs).
            if customer_key.is_some() && c.continuous_backup.is_some() {
                return Err(Error::BadRequest(
                    "continuous backups of accounts with per-container customer keys are not built \
                     yet: turn continuous backup off to create a container with its own key"
                        .into(),
                ));
            }
            let own = match &customer_key {
                Some(uri) => Some(self.inner.create_own_store(c, id, uri)?),
                None => None,
            };
            Ok((id, own))
        })?;
        if let Some(own) = own {
            self.inner.arc().install_own_store(own)?;
        }
        let container = self.container(name);
        // A new container's index is complete (it is empty); were this lost in a crash, the
        // indexer would rebuild the empty index at the next open.
        container.mark_index_ready(id)?;
        Ok(container)
    }

    /// The RU/s shared by the database's containers, `None` for unlimited (404 if the database
    /// does not exist).
    pub fn throughput(&self) -> Result<Option<u32>> {
        Ok(self.inner.catalog()?.database(&self.name)?.throughput)
    }

    /// Sets (or, with `None`, removes) the throughput shared by the containers without their
    /// own; takes effect on their next operation. 400 for an invalid RU/s, 404 if missing, 403
    /// while the customer key is revoked.
    pub fn set_throughput(&self, ru_per_sec: Option<u32>) -> Result<()> {
        validate_throughput(ru_per_sec)?;
        self.inner.require_key_access()?;
        let db = self.name.clone();
        self.inner.edit_catalog(|c| {
            let entry =
                c.databases.iter_mut().find(|d| d.name == db).ok_or_else(|| {
                    Error::NotFound(format!("database '{db}' does not exist; create it first"))
                })?;
            entry.throughput = ru_per_sec;
            Ok(())
        })
    }

    /// A handle; item operations through it answer 404 if the container does not exist.
    pub fn container(&self, name: &str) -> Container {
        Container::new(self.inner.clone(), &self.name, name)
    }

    pub fn list_containers(&self) -> Result<Vec<ContainerInfo>> {
        // The catalog lock before the own stores' (the order a key rotation takes them in).
        let catalog = self.inner.catalog()?;
        let own = self.inner.own_stores.read()?;
        Ok(catalog
            .database(&self.name)?
            .containers
            .iter()
            .map(|c| ContainerInfo {
                name: c.name.clone(),
                partition_key_path: c.partition_key_path.clone(),
                partition_key_paths: c.pk_paths(),
                customer_key: own.get(&c.id).map(|s| s.key_uri.clone()),
            })
            .collect())
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.name)
    }
}
