//! `Container`: item operations (create, read, replace, upsert, delete) with their status codes,
//! etags and request charges. Conditional operations hold a per-item lock stripe between the
//! read of the current version and the write, so a concurrent writer cannot slip in between.
//! Each operation draws its charge from the provisioned throughput before it writes or returns
//! anything (429 otherwise), and is retried on 429 as the account's `RetryPolicy` says. Expired
//! items (TTL, see `ttl.rs`) are absent to every operation.

use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::feed::record_change;
use super::index::IndexChange;
use super::lifecycle::AccountRef;
use super::response::{ItemOptions, ItemResponse};
use super::typed_read::decode_typed;
use crate::document::{
    item_key, item_lsn, json_nesting_depth, remove_system_properties, Change, OperationType, PartitionKey,
    PartitionKeyDefinition,
};
use crate::error::{Error, Result};
use crate::metering::{point_read_charge, validate_throughput, with_retry, BucketKey, Provisioned};
use crate::options::Durability;
use strata_base::seal::hex;
use strata_lsm::WriteBatch;

/// A user handle: keeps the account open like an `Account`, and closes it if it is the last one
/// to drop (see `Account::close`).
#[derive(Clone)]
pub struct Container {
    pub(crate) inner: AccountRef,
    db: String,
    name: String,
}

pub(crate) struct Resolved {
    pub(crate) id: u32,
    /// Shared with the catalog entry, which parsed it once.
    pub(crate) pk: std::sync::Arc<PartitionKeyDefinition>,
    /// The throughput the container draws from (its own, or its database's); `None`: unlimited.
    pub(crate) throughput: Option<Provisioned>,
    /// The container's `defaultTtl` (`None`: TTL off).
    pub(crate) default_ttl: Option<i64>,
    /// A query's partition filter (`QueryOptions::partition_filter`); `None` elsewhere.
    pub(crate) scope_filter: Option<super::PartitionFilter>,
}

impl Resolved {
    /// The key of the item `id` in partition `pk`: 400 unless `pk` is a full key of the
    /// container's kind (one value, or every level of a hierarchical key).
    pub(crate) fn item_key(&self, pk: &PartitionKey, id: &str) -> Result<Vec<u8>> {
        self.pk.check_full(pk)?;
        item_key(self.id, pk, id)
    }
}

/// Which write an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Create,
    Replace,
    Upsert,
}

/// `n` random bytes as hex, for the ids an item write makes (`_rid`, `_etag`): unique and
/// unguessable, but not keys. Drawn from the thread's ChaCha generator (`rand::thread_rng`,
/// seeded and periodically reseeded from the OS) rather than from the OS on every call: two
/// `getrandom` system calls were ~9% of an item write's foreground CPU (docs/bench.md,
/// "Load change D"). Key material keeps coming from `OsRng`.
pub(crate) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(&b)
}

/// A random GUID, as the managed service spells one (`8-4-4-4-12` hex digits).
pub(crate) fn new_guid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub(crate) fn new_etag() -> String {
    format!("\"{}\"", new_guid())
}

/// Parses a stored item. Without serde_json's recursion limit (128 containers, one short of the
/// 128 nesting levels an item may have): stored items were validated (iteratively) on write and
/// are authenticated, so their depth is bounded by `MAX_DEPTH`, never by the input. Bytes nested
/// deeper than `MAX_STORED_NESTING` (which only a bug or a key holder could store) are refused
/// before the recursive parse, which would overflow the stack.
pub(crate) fn parse_stored(bytes: &[u8]) -> Result<Value> {
    use serde::Deserialize;
    // Nearly every item fits serde_json's limit: only the deepest pay for the nesting scan.
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    if json_nesting_depth(bytes) > MAX_STORED_NESTING {
        return Err(Error::Internal(format!(
            "a stored item nests deeper than {MAX_STORED_NESTING} levels"
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Error::Internal(format!("a stored item does not parse as JSON: {e}")))
}

/// Deepest nesting `parse_stored` parses: an item's 128 levels, with room for the change-feed
/// record around it (`{"current": item}`).
const MAX_STORED_NESTING: usize = 256;

/// An item as reads, writes and queries return it: `_lsn` is internal to the change feed (which
/// returns it), as in the managed service.
pub(crate) fn without_lsn(mut item: Value) -> Value {
    if let Some(o) = item.as_object_mut() {
        o.shift_remove("_lsn");
    }
    item
}

/// The size of a stored item as its owner sees it (`without_lsn`), from its stored length:
/// what limits and charges count, so that internal bookkeeping never changes a bill. Exact for
/// compact JSON, where `_lsn` adds `,"_lsn":N` (an item always has an `id` beside it).
pub(crate) fn public_size(stored_len: usize, item: &Value) -> usize {
    public_size_for_lsn(stored_len, item_lsn(item))
}

/// `public_size` from the item's `_lsn` alone (`None`: it has none that `item_lsn` reads).
pub(crate) fn public_size_for_lsn(stored_len: usize, lsn: Option<u64>) -> usize {
    match lsn {
        Some(lsn) => stored_len.saturating_sub(",\"_lsn\":".len() + lsn.to_string().len()),
        None => stored_len,
    }
}

fn to_typed<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        Error::BadRequest(format!(
            "the item does not deserialize into the requested type: {e}"
        ))
    })
}

impl Container {
    pub(crate) fn new(inner: AccountRef, db: &str, name: &str) -> Container {
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

    /// The container's (first) partition-key path, e.g. `/tenant` (404 if the container does
    /// not exist). A hierarchical key has more: see `partition_key_definition`.
    pub fn partition_key_path(&self) -> Result<String> {
        Ok(self
            .inner
            .catalog()?
            .container(&self.db, &self.name)?
            .partition_key_path
            .clone())
    }

    /// The container's partition-key paths and kind (404 if the container does not exist).
    pub fn partition_key_definition(&self) -> Result<PartitionKeyDefinition> {
        self.inner
            .catalog()?
            .container(&self.db, &self.name)?
            .pk_definition()
    }

    /// The partition key of `item` under the container's definition: its value at each path,
    /// none where a path is missing (400 for an object or array there).
    pub fn partition_key_of(&self, item: &Value) -> Result<PartitionKey> {
        self.partition_key_definition()?.extract(item)
    }

    /// The container's id and partition-key path; the gate of every data-plane call, so it
    /// first refuses (403) while the account's customer key is revoked.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        self.inner.require_key_access()?;
        let cat = self.inner.catalog()?;
        let c = cat.container(&self.db, &self.name)?;
        // A container with its own customer key answers 403 while that key is refused.
        self.inner.own_stores.store(c.id)?;
        let throughput = match c.throughput {
            Some(ru_per_sec) => Some(Provisioned {
                key: BucketKey::Container(c.id),
                ru_per_sec,
                scope: format!("container '{}/{}'", self.db, self.name),
            }),
            None => cat.database(&self.db)?.throughput.map(|ru_per_sec| Provisioned {
                key: BucketKey::Database(self.db.clone()),
                ru_per_sec,
                scope: format!("database '{}' (throughput shared by its containers)", self.db),
            }),
        };
        Ok(Resolved {
            id: c.id,
            pk: c.pk_definition_shared()?,
            throughput,
            default_ttl: c.default_ttl,
            scope_filter: None,
        })
    }

    /// Runs a data-plane operation, retrying it on 429 as the account's `RetryPolicy` says.
    /// `op` must have no effect when it answers 429.
    pub(crate) fn retrying<T>(&self, op: impl FnMut() -> Result<T>) -> Result<T> {
        with_retry(&self.inner.opts.retry_policy, self.inner.opts.clock.as_ref(), op)
    }

    /// The container's own RU/s; `None` when it has none (it then uses its database's shared
    /// throughput, if any, else is unlimited). 404 if the container does not exist.
    pub fn throughput(&self) -> Result<Option<u32>> {
        Ok(self.inner.catalog()?.container(&self.db, &self.name)?.throughput)
    }

    /// Sets (or, with `None`, removes) the container's own throughput; takes effect on the next
    /// operation. 400 for an invalid RU/s, 404 if the container does not exist, 403 while the
    /// customer key is revoked.
    pub fn set_throughput(&self, ru_per_sec: Option<u32>) -> Result<()> {
        validate_throughput(ru_per_sec)?;
        self.inner.require_key_access()?;
        let (db, name) = (self.db.as_str(), self.name.as_str());
        self.inner.edit_catalog(|c| {
            c.container_mut(db, name)?.throughput = ru_per_sec;
            Ok(())
        })
    }

    pub(crate) fn not_found(&self, pk: &PartitionKey, id: &str) -> Error {
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

    /// Creates `item` as `create_item_with` does, but takes the parsed item by value and
    /// returns no content (`item` is `None`; status, etag and charge as usual), as the SDKs do
    /// with content response on write turned off: a bulk loader that already holds its items
    /// saves the copy going in and the one coming back.
    pub fn create_item_value(
        &self,
        pk: impl Into<PartitionKey>,
        item: Value,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<()>> {
        self.write_value(WriteKind::Create, pk.into(), item, opts)
    }

    /// `upsert_item_with` without content back; see `create_item_value`.
    pub fn upsert_item_value(
        &self,
        pk: impl Into<PartitionKey>,
        item: Value,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<()>> {
        self.write_value(WriteKind::Upsert, pk.into(), item, opts)
    }

    fn write_value(
        &self,
        kind: WriteKind,
        pk: PartitionKey,
        mut item: Value,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<()>> {
        let (status_code, etag, request_charge) = self.retrying(|| {
            let written = self.write_value_once(kind, &pk, &mut item, opts);
            if written.is_err() {
                // A retry (after a 429) starts from the item as given, not as this attempt
                // stamped it (a CMK account refuses system properties in what it is given).
                remove_system_properties(&mut item);
            }
            written
        })?;
        Ok(ItemResponse {
            item: None,
            status_code,
            etag: Some(etag),
            request_charge,
        })
    }

    fn write_item<T: Serialize + DeserializeOwned>(
        &self,
        kind: WriteKind,
        pk: PartitionKey,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        self.retrying(|| self.write_item_once(kind, &pk, item, opts))
    }

    fn write_item_once<T: Serialize + DeserializeOwned>(
        &self,
        kind: WriteKind,
        pk: &PartitionKey,
        item: &T,
        opts: &ItemOptions,
    ) -> Result<ItemResponse<T>> {
        let mut value = serde_json::to_value(item)
            .map_err(|e| Error::BadRequest(format!("the item does not serialize to JSON: {e}")))?;
        let (status_code, etag, request_charge) = self.write_value_once(kind, pk, &mut value, opts)?;
        Ok(ItemResponse {
            item: Some(to_typed(without_lsn(value))?),
            status_code,
            etag: Some(etag),
            request_charge,
        })
    }

    /// One attempt at writing `value`, which it stamps with the system properties: the status
    /// (201 created, 200 replaced), the new etag and the charge.
    fn write_value_once(
        &self,
        kind: WriteKind,
        pk: &PartitionKey,
        value: &mut Value,
        opts: &ItemOptions,
    ) -> Result<(u16, String, f64)> {
        let r = self.resolve()?;
        let (id, key) = self.check_item(&r, pk, value)?;
        let _guard = self.inner.item_lock(&key)?;
        // An expired item is absent: create succeeds over it, replace answers 404.
        let current = self.current(&key)?;
        let staged = self.stage_write(&r, kind, (pk, &id, key), value, opts.if_match.as_deref(), current)?;
        self.commit_one(&r, &staged, opts.durability)?;
        Ok((
            staged.status,
            staged.etag.clone().unwrap_or_default(),
            staged.charge,
        ))
    }

    /// 412 unless `want` (when given) is the etag of `current`.
    pub(crate) fn check_if_match(&self, want: Option<&str>, current: &Value) -> Result<()> {
        let Some(want) = want else {
            return Ok(());
        };
        let have = current.get("_etag").and_then(Value::as_str).unwrap_or_default();
        if !bool::from(want.as_bytes().ct_eq(have.as_bytes())) {
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
        self.retrying(|| self.read_item_once(&pk, id))
    }

    fn read_item_once<T: DeserializeOwned>(&self, pk: &PartitionKey, id: &str) -> Result<ItemResponse<T>> {
        let r = self.resolve()?;
        let key = r.item_key(pk, id)?;
        let cmk = self.inner.container_cmk(r.id);
        let Some(bytes) = self.live(&r, self.inner.store_for(r.id)?.get(&key)?)? else {
            let charge = point_read_charge(0, cmk);
            self.charge(&r, charge)?;
            return Err(self.not_found(pk, id).with_charge(charge));
        };
        // One pass straight into `T`; anything it cannot decode takes the two-pass path below,
        // which alone reports errors.
        if let Some(t) = decode_typed::<T>(&bytes) {
            let charge = point_read_charge(public_size_for_lsn(bytes.len(), t.lsn), cmk);
            self.charge(&r, charge)?;
            return Ok(ItemResponse {
                item: Some(t.item),
                status_code: 200,
                etag: t.etag,
                request_charge: charge,
            });
        }
        let value = parse_stored(&bytes)?;
        let charge = point_read_charge(public_size(bytes.len(), &value), cmk);
        self.charge(&r, charge)?;
        let etag = value.get("_etag").and_then(Value::as_str).map(str::to_string);
        Ok(ItemResponse {
            item: Some(to_typed(without_lsn(value))?),
            status_code: 200,
            etag,
            request_charge: charge,
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
        self.retrying(|| self.delete_item_once(&pk, id, opts))
    }

    fn delete_item_once(&self, pk: &PartitionKey, id: &str, opts: &ItemOptions) -> Result<ItemResponse<()>> {
        let r = self.resolve()?;
        let key = r.item_key(pk, id)?;
        let _guard = self.inner.item_lock(&key)?;
        let current = self.current(&key)?;
        let staged = self.stage_delete(&r, (pk, id, key), opts.if_match.as_deref(), current)?;
        self.commit_one(&r, &staged, opts.durability)?;
        Ok(ItemResponse {
            item: None,
            status_code: 204,
            etag: None,
            request_charge: staged.charge,
        })
    }
}

/// A new version of an item, ready to store.
pub(crate) struct Version<'a> {
    pub(crate) container_id: u32,
    pub(crate) key: Vec<u8>,
    pub(crate) id: &'a str,
    pub(crate) pk: &'a PartitionKey,
    /// The item with its system properties (`_lsn` included), serialised.
    pub(crate) bytes: Vec<u8>,
    pub(crate) lsn: u64,
    pub(crate) crts: u64,
    /// Whether a live version existed (a replace) or not (a create).
    pub(crate) existed: bool,
    /// Whatever was stored under the key (live or expired): the version this one supersedes.
    pub(crate) stored: Option<&'a Value>,
    /// The index entries to remove and add, written in the same batch.
    pub(crate) index: &'a IndexChange,
}

impl Container {
    /// The item stored under `key`, parsed, live or expired; `None` if absent.
    pub(crate) fn stored_item(&self, key: &[u8]) -> Result<Option<Value>> {
        self.inner
            .store_for_key(key)?
            .get(key)?
            .map(|b| parse_stored(&b))
            .transpose()
    }

    /// Writes a version and its change-feed records in one batch. The caller holds the item's
    /// lock and the LSN ticket.
    pub(crate) fn put_version(&self, v: &Version<'_>, durability: Durability) -> Result<()> {
        let mut batch = WriteBatch::new();
        add_version(&mut batch, v)?;
        self.inner.store_for(v.container_id)?.write(batch, durability)?;
        Ok(())
    }
}

/// Adds a version, its change-feed records and its index changes to `batch`.
pub(crate) fn add_version(batch: &mut WriteBatch, v: &Version<'_>) -> Result<()> {
    let change = Change {
        op: if v.existed {
            OperationType::Replace
        } else {
            OperationType::Create
        },
        lsn: v.lsn,
        crts: v.crts,
        previous_lsn: if v.existed {
            v.stored.and_then(item_lsn)
        } else {
            None
        },
        id: v.id,
        pk: v.pk,
        ttl_expired: false,
    };
    record_change(batch, v.container_id, &v.key, &change, v.stored)?;
    v.index.apply(batch, v.container_id, &v.key);
    batch.put(v.key.clone(), v.bytes.clone());
    Ok(())
}

/// Adds the delete of the item under `key`, its change-feed records and its index changes to
/// `batch`; `old` is what was stored under the key.
pub(crate) fn add_delete(
    batch: &mut WriteBatch,
    container_id: u32,
    key: &[u8],
    change: &Change<'_>,
    old: Option<&Value>,
    index: &IndexChange,
) -> Result<()> {
    record_change(batch, container_id, key, change, old)?;
    index.apply(batch, container_id, key);
    batch.delete(key.to_vec());
    Ok(())
}

impl Container {
    /// Deletes a stored item and records the delete in the change feed (as a TTL expiry when
    /// `ttl_expired`). The caller holds the item's lock.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_delete(
        &self,
        container_id: u32,
        key: Vec<u8>,
        pk: &PartitionKey,
        id: &str,
        old: Option<&Value>,
        index: &IndexChange,
        ttl_expired: bool,
        durability: Durability,
    ) -> Result<()> {
        let ticket = self
            .inner
            .lsns
            .begin(&*self.inner.store_for(container_id)?, container_id)?;
        let change = Change {
            op: OperationType::Delete,
            lsn: ticket.lsn,
            crts: self.inner.opts.wall_clock.now_secs(),
            previous_lsn: old.and_then(item_lsn),
            id,
            pk,
            ttl_expired,
        };
        let mut batch = WriteBatch::new();
        add_delete(&mut batch, container_id, &key, &change, old, index)?;
        self.inner.store_for(container_id)?.write(batch, durability)?;
        drop(ticket);
        Ok(())
    }
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Container({}/{})", self.db, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, Encryption};
    use crate::options::AccountOptions;
    use serde_json::json;

    #[test]
    fn items_written_by_value_read_back_as_written_with_no_content_returned() {
        let dir = tempfile::tempdir().unwrap();
        let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
        let account = Account::create(opts, "a", Encryption::ServiceManaged).unwrap();
        let c = account
            .create_database("d")
            .unwrap()
            .create_container("c", "/pk")
            .unwrap();
        let item = json!({"id": "1", "pk": "p", "n": 1});
        let created = c
            .create_item_value("p", item.clone(), &ItemOptions::default())
            .unwrap();
        assert_eq!((created.status_code, created.item), (201, None));
        assert!(created.request_charge > 0.0);
        let read = c.read_item::<Value>("p", "1").unwrap().item.unwrap();
        assert_eq!(
            (&read["n"], read["_etag"].as_str()),
            (&json!(1), created.etag.as_deref())
        );
        let again = c
            .create_item_value("p", item, &ItemOptions::default())
            .unwrap_err();
        assert_eq!(again.status(), 409);
        let upserted = c
            .upsert_item_value(
                "p",
                json!({"id": "1", "pk": "p", "n": 2}),
                &ItemOptions::default(),
            )
            .unwrap();
        assert_eq!(upserted.status_code, 200);
        assert_ne!(upserted.etag, created.etag);
        let read = c.read_item::<Value>("p", "1").unwrap().item.unwrap();
        assert_eq!(read["n"], 2);
    }

    #[test]
    fn public_size_is_the_size_without_lsn() {
        for lsn in [1u64, 9, 10, 12_345, u64::MAX] {
            for item in [
                json!({"id": "a"}),
                json!({"id": "a", "_ts": 5, "zz": [1, {"b": null}]}),
            ] {
                let mut stored = item.clone();
                stored["_lsn"] = json!(lsn);
                let len = serde_json::to_vec(&stored).unwrap().len();
                let public = serde_json::to_vec(&without_lsn(stored.clone())).unwrap().len();
                assert_eq!(public_size(len, &stored), public, "{stored}");
            }
        }
        let plain = json!({"id": "a"});
        assert_eq!(public_size(10, &plain), 10);
    }
}
