//! `Container`: item operations (create, read, replace, upsert, delete) with their status codes,
//! etags and request charges. Conditional operations hold a per-item lock stripe between the
//! read of the current version and the write, so a concurrent writer cannot slip in between.

use std::sync::Arc;

use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::handle::{now_secs, AccountInner};
use super::response::{ItemOptions, ItemResponse};
use crate::catalog::validate_partition_key_path;
use crate::crypto::hex;
use crate::document::{
    item_key, stamp_system_properties, validate_item, ItemRules, PartitionKey, MAX_ITEM_BYTES,
};
use crate::error::{Error, Result};
use crate::kv::WriteBatch;
use crate::metering::{point_read_charge, write_charge};

#[derive(Clone)]
pub struct Container {
    pub(crate) inner: Arc<AccountInner>,
    db: String,
    name: String,
}

pub(crate) struct Resolved {
    pub(crate) id: u32,
    pub(crate) pk_path: Vec<String>,
}

/// Which write an operation is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Create,
    Replace,
    Upsert,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(&b)
}

fn new_etag() -> String {
    let h = random_hex(16);
    format!(
        "\"{}-{}-{}-{}-{}\"",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub(crate) fn parse_stored(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("a stored item does not parse as JSON: {e}")))
}

fn to_typed<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        Error::BadRequest(format!(
            "the item does not deserialize into the requested type: {e}"
        ))
    })
}

impl Container {
    pub(crate) fn new(inner: Arc<AccountInner>, db: &str, name: &str) -> Container {
        Container {
            inner,
            db: db.to_string(),
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn database_name(&self) -> &str {
        &self.db
    }

    /// The container's partition-key path, e.g. `/tenant` (404 if the container does not exist).
    pub fn partition_key_path(&self) -> Result<String> {
        Ok(self
            .inner
            .catalog()?
            .container(&self.db, &self.name)?
            .partition_key_path
            .clone())
    }

    /// The container's id and partition-key path; the gate of every data-plane call, so it
    /// first refuses (403) while the account's customer key is revoked.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        self.inner.require_key_access()?;
        let cat = self.inner.catalog()?;
        let c = cat.container(&self.db, &self.name)?;
        Ok(Resolved {
            id: c.id,
            pk_path: validate_partition_key_path(&c.partition_key_path)?,
        })
    }

    fn not_found(&self, pk: &PartitionKey, id: &str) -> Error {
        Error::NotFound(format!(
            "item '{id}' with partition key {pk} does not exist in container '{}'",
            self.name
        ))
    }

    pub fn create_item<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Create, pk.into(), item, &ItemOptions::default())
    }

    pub fn create_item_with<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Create, pk.into(), item, opts)
    }

    pub fn replace_item<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Replace, pk.into(), item, &ItemOptions::default())
    }

    pub fn replace_item_with<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Replace, pk.into(), item, opts)
    }

    pub fn upsert_item<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Upsert, pk.into(), item, &ItemOptions::default())
    }

    pub fn upsert_item_with<T: Serialize + DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        self.write_item(WriteKind::Upsert, pk.into(), item, opts)
    }

    fn write_item<T: Serialize + DeserializeOwned>(
        &self,
        kind: WriteKind,
        pk: PartitionKey,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        let r = self.resolve()?;
        let mut value = serde_json::to_value(item)
            .map_err(|e| Error::BadRequest(format!("the item does not serialize to JSON: {e}")))?;
        let cmk = self.inner.is_cmk();
        let id = validate_item(&value, &ItemRules { cmk })?.to_string();
        let in_item = PartitionKey::extract(&value, &r.pk_path)?;
        if in_item != pk {
            return Err(Error::BadRequest(format!(
                "the partition key given ({pk}) does not match the item's value at {} ({in_item})",
                "/".to_string() + &r.pk_path.join("/")
            )));
        }
        let key = item_key(r.id, &pk, &id)?;
        let _guard = self.inner.item_lock(&key)?;
        let existing = self.inner.db.get(&key)?;
        let rid = match (&existing, kind) {
            (Some(_), WriteKind::Create) => {
                return Err(Error::Conflict(format!(
                    "an item with id '{id}' already exists in partition {pk} of container '{}'",
                    self.name
                )))
            }
            (None, WriteKind::Replace) => return Err(self.not_found(&pk, &id)),
            (Some(old), _) => {
                let old = parse_stored(old)?;
                self.check_if_match(opts, &old)?;
                old.get("_rid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| random_hex(12))
            }
            (None, _) => {
                if opts.if_match.is_some() {
                    // An If-Match on an item that does not exist cannot match.
                    return Err(Error::PreconditionFailed(format!(
                        "If-Match was given but item '{id}' does not exist"
                    )));
                }
                random_hex(12)
            }
        };
        let etag = new_etag();
        let self_link = format!("dbs/{}/colls/{}/docs/{rid}/", self.db, self.name);
        stamp_system_properties(&mut value, &rid, &self_link, &etag, now_secs());
        let bytes =
            serde_json::to_vec(&value).map_err(|e| Error::Internal(format!("serialising an item: {e}")))?;
        if bytes.len() > MAX_ITEM_BYTES {
            return Err(Error::TooLarge(format!(
                "the item is {} bytes with its system properties; the limit is {MAX_ITEM_BYTES} bytes (2 MB)",
                bytes.len()
            )));
        }
        let mut batch = WriteBatch::new();
        batch.put(key, bytes.clone());
        self.inner
            .db
            .write(batch, opts.durability.unwrap_or(self.inner.default_durability()))?;
        let status = if existing.is_some() { 200 } else { 201 };
        Ok(ItemResponse {
            item: Some(to_typed(value)?),
            status_code: status,
            etag: Some(etag),
            request_charge: write_charge(bytes.len(), 0, cmk),
        })
    }

    fn check_if_match(&self, opts: &ItemOptions, current: &Value) -> Result<()> {
        let Some(want) = &opts.if_match else {
            return Ok(());
        };
        let have = current.get("_etag").and_then(Value::as_str).unwrap_or_default();
        if want != have {
            return Err(Error::PreconditionFailed(format!(
                "the item's etag is {have}, not {want}: it changed since you read it; read it again and retry"
            )));
        }
        Ok(())
    }

    /// 200 with the item, or 404.
    pub fn read_item<T: DeserializeOwned>(
        &self,
        pk: impl Into<PartitionKey>,
        id: &str,
    ) -> Result<ItemResponse<T>> {
        let pk = pk.into();
        let r = self.resolve()?;
        let key = item_key(r.id, &pk, id)?;
        let cmk = self.inner.is_cmk();
        let bytes = self
            .inner
            .db
            .get(&key)?
            .ok_or_else(|| self.not_found(&pk, id).with_charge(point_read_charge(0, cmk)))?;
        let value = parse_stored(&bytes)?;
        let etag = value.get("_etag").and_then(Value::as_str).map(str::to_string);
        Ok(ItemResponse {
            item: Some(to_typed(value)?),
            status_code: 200,
            etag,
            request_charge: point_read_charge(bytes.len(), cmk),
        })
    }

    /// 204, or 404; 412 if If-Match does not match.
    pub fn delete_item(&self, pk: impl Into<PartitionKey>, id: &str) -> Result<ItemResponse<()>> {
        self.delete_item_with(pk, id, &ItemOptions::default())
    }

    pub fn delete_item_with(
        &self,
        pk: impl Into<PartitionKey>,
        id: &str,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<()>> {
        let pk = pk.into();
        let r = self.resolve()?;
        let key = item_key(r.id, &pk, id)?;
        let _guard = self.inner.item_lock(&key)?;
        let old = self.inner.db.get(&key)?.ok_or_else(|| self.not_found(&pk, id))?;
        self.check_if_match(opts, &parse_stored(&old)?)?;
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.inner
            .db
            .write(batch, opts.durability.unwrap_or(self.inner.default_durability()))?;
        Ok(ItemResponse {
            item: None,
            status_code: 204,
            etag: None,
            request_charge: write_charge(old.len(), 0, self.inner.is_cmk()),
        })
    }
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Container({}/{})", self.db, self.name)
    }
}
