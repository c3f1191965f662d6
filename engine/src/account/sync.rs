//! Synchronising two accounts, as an edge replica syncs with a central one: `Account::sync_from`
//! applies the source's changes since the last sync (read from its change feed) to this account;
//! `Account::sync_both_ways` does it in both directions. A change meets a conflict when the same
//! item also changed here since the last sync; the container's policy then decides
//! (last-writer-wins: resolved, not recorded; custom: recorded in the conflict feed, the local
//! item stays). Replicated versions keep their `_ts`, `_etag` and `_rid`, so a version that
//! comes back the other way is recognised (same etag) and skipped. Checkpoints (how far the
//! source's feed was applied, and this account's LSN after the sync) are sealed records of this
//! account's store. Replication is not metered (no RU). See docs/sync.md.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::conflict::Conflict;
use super::container::{parse_stored, Container, Resolved, Version};
use super::handle::Account;
use super::index::IndexChange;
use super::ContainerOptions;
use crate::document::{
    item_key, item_lsn, lsn_key, lsn_of, record_partition_key, split_value, PartitionKey, Verdict,
    MAX_ITEM_BYTES,
};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use crate::options::Durability;
use strata_lsm::WriteBatch;

/// What one direction of a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Containers looked at (and created here when missing).
    pub containers: usize,
    pub containers_created: usize,
    /// Changed items of the source looked at.
    pub changes: usize,
    /// Versions and deletes written here.
    pub applied: usize,
    /// Changes already present here (the same version), skipped.
    pub unchanged: usize,
    /// Conflicts resolved by last-writer-wins (not recorded).
    pub conflicts_resolved: usize,
    /// Conflicts recorded in a conflict feed (custom policy).
    pub conflicts_recorded: usize,
    /// Stored procedures, triggers and user-defined functions created or replaced here.
    pub scripts_copied: usize,
    /// Stored procedures, triggers and user-defined functions deleted here because the source
    /// deleted them later than this side last changed them.
    pub scripts_deleted: usize,
}

/// How far a source container's feed has been applied to a container here.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checkpoint {
    /// The source's LSN up to which every change has been applied.
    source_lsn: u64,
    /// This container's LSN right after that sync: later local changes are this side's own.
    local_lsn: u64,
}

/// The latest state of one item of the source: a version, or deleted.
struct Incoming {
    pk: PartitionKey,
    id: String,
    version: Option<Value>,
}

impl Account {
    /// Applies every change `source` made since the last sync from it, container by container
    /// (creating missing databases and containers here with the source's partition key and
    /// conflict policy). 400 if both are the same account; 403 while either customer key is
    /// revoked; 409 if a container exists on both sides with different partition keys.
    pub fn sync_from(&self, source: &Account) -> Result<SyncReport> {
        if self.inner.same_account(&source.inner) {
            return Err(Error::BadRequest("an account cannot sync from itself".into()));
        }
        let source_id = source.account_id()?;
        if source_id == self.account_id()? {
            return Err(Error::BadRequest(
                "source and destination are the same account (same account id); sync needs two".into(),
            ));
        }
        let mut report = SyncReport::default();
        for db in source.list_databases()? {
            if !self.list_databases()?.contains(&db) {
                self.create_database(&db)?;
            }
            for info in source.database(&db).list_containers()? {
                let src = source.database(&db).container(&info.name);
                let here = self.ensure_container(&db, &src, &info.partition_key_paths, &mut report)?;
                self.sync_container(&source_id, &source.name(), &src, &here, &mut report)?;
                let scripts = here.sync_scripts_from(&src)?;
                report.scripts_copied += scripts.copied;
                report.scripts_deleted += scripts.deleted;
                report.containers += 1;
            }
        }
        Ok(report)
    }

    /// `b.sync_from(a)` then `a.sync_from(b)`: afterwards both hold the same items, except where
    /// a custom policy recorded conflicts.
    pub fn sync_both_ways(a: &Account, b: &Account) -> Result<(SyncReport, SyncReport)> {
        let a_to_b = b.sync_from(a)?;
        let b_to_a = a.sync_from(b)?;
        Ok((a_to_b, b_to_a))
    }

    /// The account's id, created and stored on first use for catalogs written before it existed.
    pub(crate) fn account_id(&self) -> Result<String> {
        let existing = self.inner.catalog()?.account_id.clone();
        if let Some(id) = existing {
            return Ok(id);
        }
        self.inner.edit_catalog(|c| {
            let id = crate::catalog::new_account_id();
            c.account_id = Some(id.clone());
            Ok(id)
        })
    }

    fn ensure_container(
        &self,
        db: &str,
        src: &Container,
        pk_paths: &[String],
        report: &mut SyncReport,
    ) -> Result<Container> {
        let here = self.database(db);
        match here.list_containers()?.into_iter().find(|c| c.name == src.name()) {
            Some(c) if c.partition_key_paths != pk_paths => Err(Error::Conflict(format!(
                "container '{db}/{}' is partitioned on {} here but on {} in the source; \
                 sync needs the same partition key on both sides",
                c.name,
                c.partition_key_paths.join(", "),
                pk_paths.join(", ")
            ))),
            Some(_) => Ok(here.container(src.name())),
            None => {
                report.containers_created += 1;
                here.create_container_with_paths(
                    src.name(),
                    pk_paths,
                    ContainerOptions {
                        conflict_resolution: Some(src.conflict_resolution_policy()?),
                        default_ttl: src.default_ttl()?,
                        indexing_policy: Some(src.indexing_policy()?),
                        throughput: None,
                        // The target's own choice: a synced container uses the target's keys.
                        customer_key: None,
                    },
                )
            }
        }
    }

    fn sync_container(
        &self,
        source_id: &str,
        source_name: &str,
        src: &Container,
        here: &Container,
        report: &mut SyncReport,
    ) -> Result<()> {
        let (sr, hr) = (src.resolve()?, here.resolve()?);
        let ckpt_key = checkpoint_key(hr.id, source_id, sr.id);
        let ckpt = match self.inner.store_for(hr.id)?.get(&ckpt_key)? {
            Some(v) => serde_json::from_slice::<Checkpoint>(&v)
                .map_err(|e| Error::Internal(format!("a sync checkpoint does not parse: {e}")))?,
            None => Checkpoint::default(),
        };
        let source_limit = src
            .inner
            .lsns
            .visible_limit(&*src.inner.store_for(sr.id)?, sr.id)?;
        let local_limit = self
            .inner
            .lsns
            .visible_limit(&*self.inner.store_for(hr.id)?, hr.id)?;
        let changed_here = changed_items(here, &hr, ckpt.local_lsn, local_limit)?;
        let incoming = source_changes(src, &sr, ckpt.source_lsn, source_limit)?;
        let policy = here.conflict_resolution_policy()?;
        for inc in incoming.into_values() {
            report.changes += 1;
            let key = item_key(hr.id, &inc.pk, &inc.id)?;
            let _guard = self.inner.item_lock(&key)?;
            let stored = here.stored_item(&key)?;
            let mut index = here.index_change(hr.id, stored.as_ref())?;
            let local = stored.as_ref().filter(|v| here.is_live(&hr, v));
            if etag(inc.version.as_ref()) == etag(local) {
                report.unchanged += 1;
                continue;
            }
            if changed_here.contains(&key) {
                match policy.resolve(inc.version.as_ref(), local) {
                    Verdict::Local => {
                        report.conflicts_resolved += 1;
                        continue;
                    }
                    Verdict::Record => {
                        here.record_conflict(
                            hr.id,
                            &Conflict {
                                operation: match (&inc.version, &local) {
                                    (None, _) => "delete",
                                    (Some(_), None) => "create",
                                    (Some(_), Some(_)) => "replace",
                                },
                                id: &inc.id,
                                pk: &inc.pk,
                                content: inc.version.as_ref(),
                                source_account: source_name,
                            },
                        )?;
                        report.conflicts_recorded += 1;
                        continue;
                    }
                    Verdict::Incoming => report.conflicts_resolved += 1,
                }
            }
            match inc.version {
                Some(v) => here.put_replicated(
                    &hr,
                    key,
                    (&inc.pk, &inc.id),
                    v,
                    (local.is_some(), stored.as_ref()),
                    &mut index,
                )?,
                None if local.is_some() => here.write_delete(
                    hr.id,
                    key,
                    &inc.pk,
                    &inc.id,
                    stored.as_ref(),
                    &index,
                    false,
                    Durability::Buffered,
                )?,
                None => continue,
            }
            report.applied += 1;
        }
        // Everything applied is durable before the checkpoint says so.
        self.inner.store_for(hr.id)?.sync()?;
        let next = Checkpoint {
            source_lsn: source_limit,
            local_lsn: self
                .inner
                .lsns
                .visible_limit(&*self.inner.store_for(hr.id)?, hr.id)?,
        };
        let body = serde_json::to_vec(&next)
            .map_err(|e| Error::Internal(format!("serialising a checkpoint: {e}")))?;
        let mut batch = WriteBatch::new();
        batch.put(ckpt_key, body);
        self.inner.store_for(hr.id)?.write(batch, Durability::Sync)?;
        Ok(())
    }
}

impl Container {
    /// Stores a version replicated from another account as it is (its `_ts`, `_etag` and `_rid`
    /// kept), with a new local `_lsn`. The caller holds the item's lock.
    pub(super) fn put_replicated(
        &self,
        r: &Resolved,
        key: Vec<u8>,
        (pk, id): (&PartitionKey, &str),
        mut item: Value,
        (existed, stored): (bool, Option<&Value>),
        index: &mut IndexChange,
    ) -> Result<()> {
        let ticket = self.inner.lsns.begin(&*self.inner.store_for(r.id)?, r.id)?;
        if let Some(o) = item.as_object_mut() {
            o.insert("_lsn".into(), Value::from(ticket.lsn));
        }
        index.set_new(&item);
        let bytes =
            serde_json::to_vec(&item).map_err(|e| Error::Internal(format!("serialising an item: {e}")))?;
        if bytes.len() > MAX_ITEM_BYTES + 64 {
            return Err(Error::Internal(format!(
                "a replicated item of {} bytes is over the limit",
                bytes.len()
            )));
        }
        self.put_version(
            &Version {
                container_id: r.id,
                key,
                id,
                pk,
                bytes,
                lsn: ticket.lsn,
                crts: self.inner.opts.wall_clock.now_secs(),
                existed,
                stored,
                index,
            },
            Durability::Buffered,
        )
    }
}

fn checkpoint_key(container_id: u32, source_id: &str, source_container: u32) -> Vec<u8> {
    let mut k = KeySpace::SyncCheckpoint.container_prefix(container_id);
    k.extend_from_slice(source_id.as_bytes());
    k.extend_from_slice(&source_container.to_be_bytes());
    k
}

fn etag(v: Option<&Value>) -> Option<&str> {
    v.and_then(|v| v.get("_etag")).and_then(Value::as_str)
}

/// The item keys of this container that changed here (by anyone, sync included) with an LSN in
/// `(after, upto]`: read from the all-versions feed, so within its retention.
fn changed_items(c: &Container, r: &Resolved, after: u64, upto: u64) -> Result<HashSet<Vec<u8>>> {
    let mut out = HashSet::new();
    if upto <= after {
        return Ok(out);
    }
    let records = c.inner.store_for(r.id)?.scan_range(
        &lsn_key(KeySpace::Feed, r.id, after + 1),
        &lsn_key(KeySpace::Feed, r.id, upto.saturating_add(1)),
        usize::MAX,
    )?;
    for (_, v) in records {
        let rec = parse_stored(split_value(&v)?.1)?;
        let id = rec["metadata"]["id"].as_str().unwrap_or_default();
        out.insert(r.item_key(&record_partition_key(&rec)?, id)?);
    }
    Ok(out)
}

/// The latest state of every item of the source that changed with an LSN in `(after, upto]`:
/// live versions from the latest-version pointers (no retention), deletes from the
/// all-versions feed (for items absent now). Keyed by the source's item key, so in key order.
fn source_changes(c: &Container, r: &Resolved, after: u64, upto: u64) -> Result<BTreeMap<Vec<u8>, Incoming>> {
    let mut out = BTreeMap::new();
    if upto <= after {
        return Ok(out);
    }
    let db = c.inner.store_for(r.id)?;
    let (from, to) = (after + 1, upto.saturating_add(1));
    for (k, v) in db.scan_range(
        &lsn_key(KeySpace::Latest, r.id, from),
        &lsn_key(KeySpace::Latest, r.id, to),
        usize::MAX,
    )? {
        let lsn = lsn_of(&k)?;
        let item_key = split_value(&v)?.1.to_vec();
        let Some(bytes) = db.get(&item_key)? else {
            continue;
        };
        let item = parse_stored(&bytes)?;
        // A newer version past `upto` is picked up by the next sync.
        if item_lsn(&item) != Some(lsn) || !c.is_live(r, &item) {
            continue;
        }
        let pk = r.pk.extract(&item)?;
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut version = item;
        if let Some(o) = version.as_object_mut() {
            o.shift_remove("_lsn");
        }
        out.insert(
            item_key,
            Incoming {
                pk,
                id,
                version: Some(version),
            },
        );
    }
    for (_, v) in db.scan_range(
        &lsn_key(KeySpace::Feed, r.id, from),
        &lsn_key(KeySpace::Feed, r.id, to),
        usize::MAX,
    )? {
        let rec = parse_stored(split_value(&v)?.1)?;
        if rec["metadata"]["operationType"] != "delete" {
            continue;
        }
        let pk = record_partition_key(&rec)?;
        let id = rec["metadata"]["id"].as_str().unwrap_or_default().to_string();
        let key = r.item_key(&pk, &id)?;
        if out.contains_key(&key) || c.live(r, db.get(&key)?)?.is_some() {
            continue;
        }
        out.insert(
            key,
            Incoming {
                pk,
                id,
                version: None,
            },
        );
    }
    Ok(out)
}
