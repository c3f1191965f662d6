//! A container's conflict feed: the changes `sync` could not apply because the container's
//! conflict-resolution policy is custom (no resolver) and the item had also changed locally.
//! Each record is sealed in the store like all data; it can be read (charged like a feed page)
//! and deleted one by one. Also the container's policy accessor. See docs/sync.md.

use serde_json::{json, Value};

use super::container::{parse_stored, Container};
use crate::document::{lsn_key, lsn_keys_end, lsn_of, ConflictResolutionPolicy, PartitionKey};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use crate::metering::feed_charge;
use crate::options::Durability;
use strata_lsm::WriteBatch;

/// The conflicts of a container, oldest first.
#[derive(Clone, Debug)]
pub struct ConflictsResponse {
    /// `{"id", "operationType", "resourceId", "partitionKey"?, "content"?, "sourceAccount",
    /// "_ts"}`; `content` is the change that lost (absent for a delete).
    pub conflicts: Vec<Value>,
    pub request_charge: f64,
}

/// A conflicting change `sync` recorded instead of applying.
pub(crate) struct Conflict<'a> {
    pub(crate) operation: &'static str,
    pub(crate) id: &'a str,
    pub(crate) pk: &'a PartitionKey,
    pub(crate) content: Option<&'a Value>,
    pub(crate) source_account: &'a str,
}

impl Container {
    /// The container's conflict-resolution policy (404 if it does not exist).
    pub fn conflict_resolution_policy(&self) -> Result<ConflictResolutionPolicy> {
        Ok(self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .conflict_policy
            .clone()
            .unwrap_or_default())
    }

    /// Records a conflict in the container `container_id` (one of this account's).
    pub(crate) fn record_conflict(&self, container_id: u32, c: &Conflict<'_>) -> Result<()> {
        let ticket = self
            .inner
            .lsns
            .begin(&*self.inner.store_for(container_id)?, container_id)?;
        let mut rec = json!({
            "id": ticket.lsn.to_string(),
            "operationType": c.operation,
            "resourceId": c.id,
            "sourceAccount": c.source_account,
            "_ts": self.inner.opts.wall_clock.now_secs(),
        });
        if let Some(pk) = c.pk.to_json() {
            rec["partitionKey"] = pk;
        }
        if let Some(content) = c.content {
            rec["content"] = content.clone();
        }
        let body =
            serde_json::to_vec(&rec).map_err(|e| Error::Internal(format!("serialising a conflict: {e}")))?;
        let mut batch = WriteBatch::new();
        batch.put(lsn_key(KeySpace::Conflict, container_id, ticket.lsn), body);
        self.inner
            .store_for(container_id)?
            .write(batch, Durability::Buffered)?;
        drop(ticket);
        Ok(())
    }

    /// Every recorded conflict of the container, oldest first; charged like a change-feed page
    /// of the same records.
    pub fn read_conflicts(&self) -> Result<ConflictsResponse> {
        self.retrying(|| {
            let r = self.resolve()?;
            let raw = self.inner.store_for(r.id)?.scan_range(
                &lsn_key(KeySpace::Conflict, r.id, 0),
                &lsn_keys_end(KeySpace::Conflict, r.id),
                usize::MAX,
            )?;
            let sizes: Vec<usize> = raw.iter().map(|(_, v)| v.len()).collect();
            let conflicts = raw
                .iter()
                .map(|(_, v)| parse_stored(v))
                .collect::<Result<Vec<_>>>()?;
            let charge = feed_charge(sizes, self.inner.container_cmk(r.id));
            self.charge(&r, charge)?;
            Ok(ConflictsResponse {
                conflicts,
                request_charge: charge,
            })
        })
    }

    /// Deletes one recorded conflict (the item is not touched). 404 if there is no such conflict.
    pub fn delete_conflict(&self, conflict_id: &str) -> Result<()> {
        let r = self.resolve()?;
        let not_found = || {
            Error::NotFound(format!(
                "conflict '{conflict_id}' does not exist in container '{}'; list them with read_conflicts",
                self.name()
            ))
        };
        let n = conflict_id.parse::<u64>().map_err(|_| not_found())?;
        let key = lsn_key(KeySpace::Conflict, r.id, n);
        if lsn_of(&key)? != n || self.inner.store_for(r.id)?.get(&key)?.is_none() {
            return Err(not_found());
        }
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.inner
            .store_for(r.id)?
            .write(batch, self.inner.default_durability())?;
        Ok(())
    }
}
