//! `Account::restore_deleted`: brings a database or container that was deleted (or lost) back
//! into the existing account from its continuous backup, as it was at a chosen moment. The
//! moment is restored into a scratch sibling of the data directory (the point-in-time restore,
//! limited to the scope, under the account's own identity), then the container is created again
//! with its settings and its items are copied in with their `_ts`, `_etag` and `_rid` (new
//! change-feed LSNs; they appear in the feed as creates). The scratch copy is removed whatever
//! happens; containers half-filled by a failed copy are deleted again. Never writes into the
//! backup directory.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::pitr::{restore_point, PointInTimeRestore};
use super::scope::Scope;
use crate::account::{Account, ContainerOptions, DatabaseOptions};
use crate::error::{Error, Result};

/// What `restore_deleted` brought back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndeleteReport {
    /// `DB/CONT` of every container restored.
    pub containers: Vec<String>,
    /// Items copied (live and expired alike).
    pub items: u64,
}

impl Account {
    /// Restores `scope` (`DB` or `DB/CONT`) as it was at `at_ms` (Unix ms) from the continuous
    /// backup in `backup_dir` into this account: 201 with what was restored; 409 if the database
    /// or container exists now (delete it first, or restore into a new account); 404 if it did
    /// not exist at that moment; 400 for a moment outside the restore window; 403.x if the key
    /// refuses. On failure nothing stays: neither the scratch copy nor a partial container.
    pub fn restore_deleted(&self, backup_dir: &Path, at_ms: u64, scope: &str) -> Result<UndeleteReport> {
        self.inner.require_key_access()?;
        let wanted = Scope::parse(scope)?;
        self.refuse_existing(&wanted)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let scratch = super::restore::hidden_sibling(
            &self.inner.data_dir,
            &format!("undelete-{}-{nanos}", std::process::id()),
        );
        let identity = self.default_identity()?;
        let opts = crate::options::AccountOptions {
            data_dir: scratch.clone(),
            ..self.inner.opts.clone()
        };
        let req = PointInTimeRestore {
            at_ms,
            identity: None,
            only: vec![scope.to_string()],
        };
        let outcome = restore_point(backup_dir, opts, &req, Some(&identity)).and_then(|copy| {
            let report = self.copy_in(&copy, &wanted);
            drop(copy);
            report
        });
        let removed = match std::fs::remove_dir_all(&scratch) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io_path(
                "removing the scratch copy of an undelete",
                &scratch,
                e,
            )),
            _ => Ok(()),
        };
        let report = outcome?;
        removed?;
        Ok(report)
    }

    /// 409 when the scope's database (for `DB`) or container (for `DB/CONT`) exists.
    fn refuse_existing(&self, s: &Scope) -> Result<()> {
        let cat = self.inner.catalog()?;
        let db = cat.databases.iter().find(|d| d.name == s.database);
        let exists = match (&s.container, db) {
            (None, Some(_)) => true,
            (Some(c), Some(d)) => d.containers.iter().any(|k| &k.name == c),
            (_, None) => false,
        };
        if exists {
            let what = match &s.container {
                Some(c) => format!("container '{}/{c}'", s.database),
                None => format!("database '{}'", s.database),
            };
            return Err(Error::Conflict(format!(
                "{what} exists: delete it first, or restore the moment into a new account with \
                 `strata restore --at`; nothing was restored"
            )));
        }
        Ok(())
    }

    /// Creates the scope's containers in this account and copies the scratch copy's items in;
    /// deletes what it created if a step fails.
    fn copy_in(&self, copy: &Account, s: &Scope) -> Result<UndeleteReport> {
        let mut created = BTreeSet::new();
        let result = self.copy_containers(copy, s, &mut created);
        if result.is_err() {
            // Best effort: the error that stopped the copy is the one to report.
            let _ = self.purge_containers(
                |d, c| created.contains(&(d.to_string(), c.to_string())),
                |_| false,
            );
        }
        result
    }

    fn copy_containers(
        &self,
        copy: &Account,
        s: &Scope,
        created: &mut BTreeSet<(String, String)>,
    ) -> Result<UndeleteReport> {
        let mut report = UndeleteReport {
            containers: Vec::new(),
            items: 0,
        };
        let source_db = copy.database(&s.database);
        if !self.list_databases()?.contains(&s.database) {
            self.create_database_with(
                &s.database,
                DatabaseOptions {
                    throughput: source_db.throughput()?,
                },
            )?;
        }
        for info in source_db.list_containers()? {
            let from = source_db.container(&info.name);
            let opts = ContainerOptions {
                throughput: from.throughput()?,
                default_ttl: from.default_ttl()?,
                conflict_resolution: Some(from.conflict_resolution_policy()?),
                indexing_policy: Some(from.indexing_policy()?),
                customer_key: None,
            };
            let to = self.database(&s.database).create_container_with_paths(
                &info.name,
                &info.partition_key_paths,
                opts,
            )?;
            created.insert((s.database.clone(), info.name.clone()));
            report.items += to.copy_items_from(&from)?;
            report.containers.push(format!("{}/{}", s.database, info.name));
        }
        self.inner.sync_stores()?;
        Ok(report)
    }
}
