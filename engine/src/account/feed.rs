//! The change feed of a container: `Container::read_change_feed` in latest-version mode (creates
//! and updates, each item once at its newest version) or all-versions-and-deletes mode (every
//! create, replace and delete, TTL expiries included, within the retention window), for the
//! whole container or one partition key, from the beginning, a time, now, or a continuation
//! token. An empty page answers 304 with the same continuation. Pages are charged like point
//! reads of the items returned (see docs/change-feed.md). Reads only up to the LSN below which
//! every write has finished (`lsn.rs`), so a token never skips a write that commits late.
//! Also the write side (`record_change`), the sweep that turns TTL expiries into recorded
//! deletes, and the retention rule the store's compaction filter applies to feed records.
//! A page and a sweep are each one lazy scan: they must never collect the feed or the container
//! into memory (a page holds what it returns, a sweep one item at a time).

use serde_json::Value;

use super::container::{parse_stored, Container, Resolved};
use crate::document::{
    expires_at, image_value, item_key, item_lsn, latest_value, lsn_key, lsn_mark_key, lsn_of,
    record_partition_key, split_value, Change, OperationType, PartitionKey, INLINE_IMAGE_OVERHEAD,
};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use crate::metering::feed_charge;
use crate::options::Durability;
use strata_lsm::WriteBatch;

/// Default and largest page size of a change-feed read.
pub const DEFAULT_FEED_PAGE: usize = 100;
const MAX_FEED_PAGE: usize = 10_000;

/// Which changes the feed returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChangeFeedMode {
    /// Creates and updates; each item once, at its latest version, in LSN order.
    #[default]
    LatestVersion,
    /// Every create, replace and delete (TTL deletes included) with its metadata, within the
    /// retention window (`AccountOptions::change_feed_retention`).
    AllVersionsAndDeletes,
}

impl ChangeFeedMode {
    fn tag(self) -> &'static str {
        match self {
            ChangeFeedMode::LatestVersion => "latest",
            ChangeFeedMode::AllVersionsAndDeletes => "all",
        }
    }
}

/// Where a change-feed read starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ChangeFeedStart {
    /// The oldest change still held.
    #[default]
    Beginning,
    /// Only changes made after this read.
    Now,
    /// Changes committed at or after this Unix second.
    Time(u64),
    /// Where a previous page left off.
    Continuation(String),
    /// The changes with an LSN above this one (for consumers that track the LSNs they applied).
    AfterLsn(u64),
}

/// Options of `Container::read_change_feed`.
#[derive(Clone, Debug)]
pub struct ChangeFeedOptions {
    pub mode: ChangeFeedMode,
    pub start: ChangeFeedStart,
    /// Read one partition key's feed range only; `None`: the whole container.
    pub partition_key: Option<PartitionKey>,
    /// Most items per page (1..=10,000; default 100).
    pub max_item_count: usize,
}

impl Default for ChangeFeedOptions {
    fn default() -> Self {
        ChangeFeedOptions {
            mode: ChangeFeedMode::default(),
            start: ChangeFeedStart::default(),
            partition_key: None,
            max_item_count: DEFAULT_FEED_PAGE,
        }
    }
}

/// One page of the change feed.
#[derive(Clone, Debug)]
pub struct ChangeFeedResponse {
    /// 200 with changes, or 304 (not modified) when there were none.
    pub status_code: u16,
    /// Latest-version mode: the items (with `_lsn`). All-versions mode: records
    /// `{"current": item?, "metadata": {operationType, lsn, crts, previousImageLSN?, id,
    /// partitionKey?, timeToLiveExpired?}}`.
    pub items: Vec<Value>,
    /// Pass it back (`ChangeFeedStart::Continuation`) to read on; always present.
    pub continuation: String,
    pub request_charge: f64,
}

/// Adds the change-feed entries of `change` to `batch`: the all-versions record, the item's new
/// latest-version pointer (none for a delete) replacing its previous one, the image of the
/// version it supersedes (`previous`, the item as stored under `item_key` until now, live or
/// expired), and the LSN mark.
pub(crate) fn record_change(
    batch: &mut WriteBatch,
    container_id: u32,
    item_key: &[u8],
    change: &Change<'_>,
    previous: Option<&Value>,
) -> Result<()> {
    batch.put(
        lsn_key(KeySpace::Feed, container_id, change.lsn),
        change.encode()?,
    );
    if let Some(old_lsn) = previous.and_then(item_lsn) {
        batch.delete(lsn_key(KeySpace::Latest, container_id, old_lsn));
        if let Some(old) = previous {
            // Serialised from the parsed stored item, which the stored bytes were serialised
            // from: the same JSON. Timestamped now, so it outlives its all-versions record.
            let stored = serde_json::to_vec(old)
                .map_err(|e| Error::Internal(format!("serialising a superseded version: {e}")))?;
            batch.put(
                lsn_key(KeySpace::Image, container_id, old_lsn),
                image_value(change.crts, &stored),
            );
        }
    }
    if change.op != OperationType::Delete {
        batch.put(
            lsn_key(KeySpace::Latest, container_id, change.lsn),
            latest_value(change.crts, item_key),
        );
    }
    batch.put(lsn_mark_key(container_id), change.lsn.to_be_bytes().to_vec());
    Ok(())
}

/// Whether an all-versions record committed at `crts` has left the retention window at `now`.
pub(crate) fn beyond_retention(crts: u64, now: u64, retention_secs: u64) -> bool {
    crts.saturating_add(retention_secs) < now
}

/// For the compaction filter: `Some(false)` for a feed record past retention (drop it),
/// `Some(true)` for one to keep, `None` for a key that is not a feed record.
pub(crate) fn keep_feed_record(key: &[u8], value: &[u8], now: u64, retention_secs: u64) -> Option<bool> {
    if !matches!(KeySpace::of(key), Some(KeySpace::Feed | KeySpace::Image)) {
        return None;
    }
    Some(match split_value(value) {
        Ok((crts, _)) => !beyond_retention(crts, now, retention_secs),
        Err(_) => true,
    })
}

/// A continuation token: `cf1:<mode>:<container id>:<range>:<next lsn>`, where range is `*` for
/// the whole container or a checksum of the partition key.
struct Token {
    next: u64,
}

fn range_tag(pk: Option<&PartitionKey>) -> String {
    match pk {
        None => "*".into(),
        Some(pk) => format!("{:08x}", crc32fast::hash(&pk.encode().unwrap_or_default())),
    }
}

fn encode_token(mode: ChangeFeedMode, container_id: u32, pk: Option<&PartitionKey>, next: u64) -> String {
    format!("cf1:{}:{container_id}:{}:{next}", mode.tag(), range_tag(pk))
}

fn decode_token(
    token: &str,
    mode: ChangeFeedMode,
    container_id: u32,
    pk: Option<&PartitionKey>,
) -> Result<Token> {
    let bad = |why: &str| {
        Error::BadRequest(format!(
            "the change-feed continuation token '{token}' {why}; pass a token returned by a read of \
             this container's feed in the same mode and feed range"
        ))
    };
    let parts: Vec<&str> = token.split(':').collect();
    let [v, m, c, range, next] = parts.as_slice() else {
        return Err(bad("is malformed"));
    };
    if *v != "cf1" {
        return Err(bad("is not a change-feed token of this version"));
    }
    if *m != mode.tag() {
        return Err(bad("was issued for the other feed mode"));
    }
    if c.parse::<u32>().ok() != Some(container_id) {
        return Err(bad("belongs to another container"));
    }
    if *range != range_tag(pk) {
        return Err(bad("belongs to another feed range (partition key)"));
    }
    let next = next.parse::<u64>().map_err(|_| bad("is malformed"))?;
    Ok(Token { next })
}

impl Container {
    /// Reads one page of the container's change feed. 400 for a bad token or page size, 403
    /// while the customer key is revoked, 404 if the container does not exist, 429 when over
    /// the provisioned throughput.
    pub fn read_change_feed(&self, opts: &ChangeFeedOptions) -> Result<ChangeFeedResponse> {
        check_page_size(opts)?;
        self.retrying(|| self.read_change_feed_once(opts, true))
    }

    /// As `read_change_feed`, but free and outside the provisioned throughput: the read of the
    /// account's own replicators (the analytical tier), which use no request units.
    /// `request_charge` still says what the page would have cost.
    pub fn read_change_feed_for_replication(&self, opts: &ChangeFeedOptions) -> Result<ChangeFeedResponse> {
        check_page_size(opts)?;
        self.read_change_feed_once(opts, false)
    }

    fn read_change_feed_once(&self, opts: &ChangeFeedOptions, metered: bool) -> Result<ChangeFeedResponse> {
        let r = self.resolve()?;
        if opts.mode == ChangeFeedMode::AllVersionsAndDeletes && r.default_ttl.is_some() {
            // Expired items become recorded deletes before the feed is read; expiry has a
            // granularity of one second, so one sweep per container per second suffices.
            let now = self.inner.opts.wall_clock.now_secs();
            let due = {
                let mut swept = self
                    .inner
                    .ttl_swept
                    .lock()
                    .map_err(|_| Error::Poisoned("a thread panicked while sweeping TTL".into()))?;
                let last = swept.insert(r.id, now);
                last.is_none_or(|l| l < now)
            };
            if due {
                self.sweep_expired(&r)?;
            }
        }
        let db = self.inner.store_for(r.id)?;
        let limit = self.inner.lsns.visible_limit(&db, r.id)?;
        let space = match opts.mode {
            ChangeFeedMode::LatestVersion => KeySpace::Latest,
            ChangeFeedMode::AllVersionsAndDeletes => KeySpace::Feed,
        };
        let scope = opts.partition_key.as_ref().map(|pk| r.pk.scope(pk)).transpose()?;
        let pk = scope.as_ref();
        let mut next = match &opts.start {
            ChangeFeedStart::Beginning => 1,
            ChangeFeedStart::Now => limit + 1,
            ChangeFeedStart::Continuation(t) => decode_token(t, opts.mode, r.id, pk)?.next,
            ChangeFeedStart::AfterLsn(lsn) => lsn.saturating_add(1),
            ChangeFeedStart::Time(t) => self.first_lsn_at(space, r.id, *t, limit)?,
        };
        let now = self.inner.opts.wall_clock.now_secs();
        let retention = self.inner.opts.change_feed_retention.as_secs();
        let mut items = Vec::new();
        let mut sizes = Vec::new();
        if next <= limit {
            // One lazy scan over one snapshot for the page: records are pulled one at a time, so
            // a page holds only what it returns, whatever the length of the feed.
            let mut records =
                db.iter_prefix_from(&space.container_prefix(r.id), &lsn_key(space, r.id, next))?;
            while items.len() < opts.max_item_count {
                let Some(record) = records.next() else {
                    next = limit + 1;
                    break;
                };
                let (k, v) = record?;
                let lsn = lsn_of(&k)?;
                if lsn > limit {
                    next = limit + 1;
                    break;
                }
                let (crts, body) = split_value(&v)?;
                let found = match opts.mode {
                    ChangeFeedMode::LatestVersion => self.latest_item(&r, lsn, body, pk)?,
                    ChangeFeedMode::AllVersionsAndDeletes if beyond_retention(crts, now, retention) => None,
                    ChangeFeedMode::AllVersionsAndDeletes => self.all_versions_record(r.id, lsn, body, pk)?,
                };
                next = lsn + 1;
                if let Some((value, size)) = found {
                    items.push(value);
                    sizes.push(size);
                }
            }
        }
        let charge = feed_charge(sizes, self.inner.container_cmk(r.id));
        if metered {
            self.charge(&r, charge)?;
        }
        Ok(ChangeFeedResponse {
            status_code: if items.is_empty() { 304 } else { 200 },
            items,
            continuation: encode_token(opts.mode, r.id, pk, next),
            request_charge: charge,
        })
    }

    /// An all-versions record as returned, with the image of its version, if it is in the
    /// requested feed range.
    fn all_versions_record(
        &self,
        container_id: u32,
        lsn: u64,
        body: &[u8],
        pk: Option<&PartitionKey>,
    ) -> Result<Option<(Value, usize)>> {
        let mut rec = parse_stored(body)?;
        let rec_pk = record_partition_key(&rec)?;
        if pk.is_some_and(|want| !want.covers(&rec_pk)) {
            return Ok(None);
        }
        // A delete has no image; a record written before 2026-11-26 carries its own.
        if rec["metadata"]["operationType"] == "delete" || rec.get("current").is_some() {
            return Ok(Some((rec, body.len())));
        }
        let id = rec["metadata"]["id"].as_str().unwrap_or_default().to_string();
        let mut size = body.len();
        if let Some((image, len)) = self.version_image(container_id, lsn, &rec_pk, &id)? {
            size += len + INLINE_IMAGE_OVERHEAD;
            if let Some(o) = rec.as_object_mut() {
                o.insert("current".into(), image);
            }
        }
        Ok(Some((rec, size)))
    }

    /// The image of version `lsn` of an item, and its stored size: under its image key once a
    /// later write superseded it, else under the item's key while it is the newest. `None` when
    /// neither holds it: the version expired and compaction purged it before a sweep recorded
    /// its delete (the record is then returned without `current`; docs/change-feed.md).
    fn version_image(
        &self,
        container_id: u32,
        lsn: u64,
        pk: &PartitionKey,
        id: &str,
    ) -> Result<Option<(Value, usize)>> {
        let db = self.inner.store_for(container_id)?;
        let image_key = lsn_key(KeySpace::Image, container_id, lsn);
        let superseded = |v: Vec<u8>| -> Result<(Value, usize)> {
            let stored = split_value(&v)?.1;
            Ok((parse_stored(stored)?, stored.len()))
        };
        if let Some(v) = db.get(&image_key)? {
            return superseded(v).map(Some);
        }
        if let Some(bytes) = db.get(&item_key(container_id, pk, id)?)? {
            let item = parse_stored(&bytes)?;
            if item_lsn(&item) == Some(lsn) {
                return Ok(Some((item, bytes.len())));
            }
        }
        // Superseded between the two reads: the write that did so stored the image in its batch.
        db.get(&image_key)?.map(superseded).transpose()
    }

    /// The item a latest-version pointer at `lsn` names, if that is still its newest version,
    /// it is live, and it is in the requested feed range.
    fn latest_item(
        &self,
        r: &Resolved,
        lsn: u64,
        item_key: &[u8],
        pk: Option<&PartitionKey>,
    ) -> Result<Option<(Value, usize)>> {
        let Some(bytes) = self.inner.store_for(r.id)?.get(item_key)? else {
            return Ok(None);
        };
        let item = parse_stored(&bytes)?;
        if item_lsn(&item) != Some(lsn) || !self.is_live(r, &item) {
            return Ok(None);
        }
        if let Some(want) = pk {
            if !want.covers(&r.pk.extract(&item)?) {
                return Ok(None);
            }
        }
        Ok(Some((item, bytes.len())))
    }

    /// The first LSN committed at or after Unix second `t` (or `limit + 1`).
    fn first_lsn_at(&self, space: KeySpace, container_id: u32, t: u64, limit: u64) -> Result<u64> {
        let prefix = space.container_prefix(container_id);
        for record in self
            .inner
            .store_for(container_id)?
            .iter_prefix_from(&prefix, &lsn_key(space, container_id, 1))?
        {
            let (k, v) = record?;
            let lsn = lsn_of(&k)?;
            if lsn > limit {
                break;
            }
            if split_value(&v)?.0 >= t {
                return Ok(lsn);
            }
        }
        Ok(limit + 1)
    }

    /// Deletes every expired item of the container through the recorded-delete path (so the
    /// all-versions feed shows each TTL expiry once). Returns how many it deleted. Free of RU,
    /// as the service's background TTL deletion.
    pub fn remove_expired_items(&self) -> Result<usize> {
        let r = self.resolve()?;
        if r.default_ttl.is_none() {
            return Ok(0);
        }
        self.sweep_expired(&r)
    }

    fn sweep_expired(&self, r: &Resolved) -> Result<usize> {
        let now = self.inner.opts.wall_clock.now_secs();
        let mut removed = 0;
        // Streamed over one snapshot (the deletes it writes go to later ones): memory is bounded
        // by one item, not by the container.
        let prefix = crate::document::container_prefix(r.id);
        for record in self.inner.store_for(r.id)?.iter_prefix_from(&prefix, &prefix)? {
            let (key, bytes) = record?;
            let item = parse_stored(&bytes)?;
            if expires_at(r.default_ttl, &item).is_none_or(|at| now < at) {
                continue;
            }
            let _guard = self.inner.item_lock(&key)?;
            // Re-read under the lock: a writer may have replaced it meanwhile.
            let Some(current) = self.inner.store_for(r.id)?.get(&key)? else {
                continue;
            };
            let current = parse_stored(&current)?;
            if self.is_live(r, &current) {
                continue;
            }
            let pk = r.pk.extract(&current)?;
            let index = self.index_change(r.id, Some(&current))?;
            let id = current
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            self.write_delete(
                r.id,
                key,
                &pk,
                &id,
                Some(&current),
                &index,
                true,
                Durability::Buffered,
            )?;
            removed += 1;
        }
        Ok(removed)
    }
}

fn check_page_size(opts: &ChangeFeedOptions) -> Result<()> {
    if opts.max_item_count == 0 || opts.max_item_count > MAX_FEED_PAGE {
        return Err(Error::BadRequest(format!(
            "max item count must be between 1 and {MAX_FEED_PAGE}, not {}",
            opts.max_item_count
        )));
    }
    Ok(())
}
