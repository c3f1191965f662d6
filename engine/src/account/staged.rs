//! A write checked and stamped but not yet stored: what a create, replace, upsert, delete or
//! patch will put in the store, its status, etag and charge. Single operations stage one and
//! write it alone; a transactional batch stages several and writes them in one atomic batch
//! (batch.rs). Staging reads nothing and writes nothing: the caller holds the item's lock, has
//! read its current version (`Container::current`), charges, and writes.

use serde_json::Value;

use super::container::{
    add_delete, add_version, new_etag, parse_stored, public_size, random_hex, Container, Resolved, Version,
    WriteKind,
};
use super::index::IndexChange;
use super::lsn::LsnTicket;
use crate::document::{
    item_lsn, stamp_system_properties, validate_item, Change, ItemRules, OperationType, PartitionKey,
    MAX_ITEM_BYTES,
};
use crate::error::{Error, Result};
use crate::metering::write_charge;
use crate::options::Durability;
use strata_lsm::WriteBatch;

/// What is stored under an item's key, live or expired: its stored length and the parsed item.
#[derive(Clone)]
pub(crate) struct Current {
    pub(crate) len: usize,
    pub(crate) item: Value,
}

/// The item a write addresses: its partition key, id and store key.
pub(crate) type Target<'a> = (&'a PartitionKey, &'a str, Vec<u8>);

/// A staged write. Holds its LSN ticket: the write counts as in flight until it drops.
pub(crate) struct Staged<'t> {
    /// 201 created, 200 replaced, 204 deleted.
    pub(crate) status: u16,
    /// The new version's etag (`None` for a delete).
    pub(crate) etag: Option<String>,
    pub(crate) charge: f64,
    key: Vec<u8>,
    id: String,
    pk: PartitionKey,
    /// The new version, serialised (`None`: the item is deleted).
    bytes: Option<Vec<u8>>,
    crts: u64,
    /// What was stored under the key until now (live or expired).
    stored: Option<Value>,
    existed: bool,
    index: IndexChange,
    ticket: LsnTicket<'t>,
}

impl Staged<'_> {
    /// What the key holds once this write is applied (`None`: deleted).
    pub(crate) fn after(&self) -> Result<Option<Current>> {
        self.bytes
            .as_ref()
            .map(|b| {
                Ok(Current {
                    len: b.len(),
                    item: parse_stored(b)?,
                })
            })
            .transpose()
    }

    /// The length of the new version as stored (0 for a delete).
    pub(crate) fn stored_len(&self) -> usize {
        self.bytes.as_ref().map_or(0, Vec::len)
    }

    /// Adds the write, its change-feed records and its index changes to `batch`.
    pub(crate) fn add_to(&self, batch: &mut WriteBatch, container_id: u32) -> Result<()> {
        match &self.bytes {
            Some(bytes) => add_version(
                batch,
                &Version {
                    container_id,
                    key: self.key.clone(),
                    id: &self.id,
                    pk: &self.pk,
                    bytes: bytes.clone(),
                    lsn: self.ticket.lsn,
                    crts: self.crts,
                    existed: self.existed,
                    stored: self.stored.as_ref(),
                    index: &self.index,
                },
            ),
            None => {
                let change = Change {
                    op: OperationType::Delete,
                    lsn: self.ticket.lsn,
                    crts: self.crts,
                    previous_lsn: self.stored.as_ref().and_then(item_lsn),
                    id: &self.id,
                    pk: &self.pk,
                    ttl_expired: false,
                };
                add_delete(
                    batch,
                    container_id,
                    &self.key,
                    &change,
                    self.stored.as_ref(),
                    &self.index,
                )
            }
        }
    }
}

impl Container {
    /// Takes the charge of one staged write (429 before anything is stored) and stores it.
    pub(crate) fn commit_one(
        &self,
        r: &Resolved,
        staged: &Staged<'_>,
        durability: Option<Durability>,
    ) -> Result<()> {
        self.charge(r, staged.charge)?;
        let mut batch = WriteBatch::new();
        staged.add_to(&mut batch, r.id)?;
        self.inner
            .store_for(r.id)?
            .write(batch, durability.unwrap_or(self.inner.default_durability()))?;
        Ok(())
    }

    /// What is stored under `key` (live or expired), parsed; `None` if nothing is.
    pub(crate) fn current(&self, key: &[u8]) -> Result<Option<Current>> {
        self.inner
            .store_for_key(key)?
            .get(key)?
            .map(|b| {
                Ok(Current {
                    len: b.len(),
                    item: parse_stored(&b)?,
                })
            })
            .transpose()
    }

    /// Checks an item against the rules and the partition key given for it: its id and key.
    pub(crate) fn check_item(
        &self,
        r: &Resolved,
        pk: &PartitionKey,
        value: &Value,
    ) -> Result<(String, Vec<u8>)> {
        let id = validate_item(
            value,
            &ItemRules {
                cmk: self.inner.container_cmk(r.id),
            },
        )?
        .to_string();
        r.pk.check_full(pk)?;
        let in_item = r.pk.extract(value)?;
        if in_item != *pk {
            return Err(Error::BadRequest(format!(
                "the partition key given ({pk}) does not match the item's value at {} ({in_item})",
                r.pk.paths().join(", ")
            )));
        }
        let key = r.item_key(pk, &id)?;
        Ok((id, key))
    }

    /// Stages a create, replace or upsert of `value` (checked with `check_item`), stamping it
    /// with its system properties: 409 for a create over a live item, 404 for a replace of an
    /// absent or expired one, 412 if `if_match` is not the current etag, 413 if too large.
    pub(crate) fn stage_write(
        &self,
        r: &Resolved,
        kind: WriteKind,
        (pk, id, key): Target<'_>,
        value: &mut Value,
        if_match: Option<&str>,
        current: Option<Current>,
    ) -> Result<Staged<'_>> {
        let stored = current.map(|c| c.item);
        let mut index = self.index_change(r.id, stored.as_ref())?;
        let existing = stored.as_ref().filter(|v| self.is_live(r, v));
        let rid = match (&existing, kind) {
            (Some(_), WriteKind::Create) => {
                return Err(Error::Conflict(format!(
                    "an item with id '{id}' already exists in partition {pk} of container '{}'",
                    self.name()
                )))
            }
            (None, WriteKind::Replace) => return Err(self.not_found(pk, id)),
            (Some(old), _) => {
                self.check_if_match(if_match, old)?;
                old.get("_rid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| random_hex(12))
            }
            (None, _) => {
                if if_match.is_some() {
                    // An If-Match on an item that does not exist cannot match.
                    return Err(Error::PreconditionFailed(format!(
                        "If-Match was given but item '{id}' does not exist"
                    )));
                }
                random_hex(12)
            }
        };
        let existed = existing.is_some();
        let etag = new_etag();
        let self_link = format!("dbs/{}/colls/{}/docs/{rid}/", self.database_name(), self.name());
        let ticket = self.inner.lsns.begin(&*self.inner.store_for(r.id)?, r.id)?;
        let now = self.inner.opts.wall_clock.now_secs();
        stamp_system_properties(value, &rid, &self_link, &etag, now, ticket.lsn);
        let bytes =
            serde_json::to_vec(value).map_err(|e| Error::Internal(format!("serialising an item: {e}")))?;
        let size = public_size(bytes.len(), value);
        if size > MAX_ITEM_BYTES {
            return Err(Error::TooLarge(format!(
                "the item is {size} bytes with its system properties; the limit is {MAX_ITEM_BYTES} bytes (2 MB)"
            )));
        }
        index.set_new(value);
        let charge = write_charge(size, index.charged_terms(existed), self.inner.container_cmk(r.id));
        Ok(Staged {
            status: if existed { 200 } else { 201 },
            etag: Some(etag),
            charge,
            key,
            id: id.to_string(),
            pk: pk.clone(),
            bytes: Some(bytes),
            crts: now,
            stored,
            existed,
            index,
            ticket,
        })
    }

    /// Stages the delete of the item: 404 if absent or expired, 412 if `if_match` is not its
    /// etag. Charged as a write of the deleted version.
    pub(crate) fn stage_delete(
        &self,
        r: &Resolved,
        (pk, id, key): Target<'_>,
        if_match: Option<&str>,
        current: Option<Current>,
    ) -> Result<Staged<'_>> {
        let Some(current) = current.filter(|c| self.is_live(r, &c.item)) else {
            return Err(self.not_found(pk, id));
        };
        self.check_if_match(if_match, &current.item)?;
        let index = self.index_change(r.id, Some(&current.item))?;
        let charge = write_charge(
            public_size(current.len, &current.item),
            index.charged_terms(true),
            self.inner.container_cmk(r.id),
        );
        let ticket = self.inner.lsns.begin(&*self.inner.store_for(r.id)?, r.id)?;
        Ok(Staged {
            status: 204,
            etag: None,
            charge,
            key,
            id: id.to_string(),
            pk: pk.clone(),
            bytes: None,
            crts: self.inner.opts.wall_clock.now_secs(),
            stored: Some(current.item),
            existed: true,
            index,
            ticket,
        })
    }
}
