//! Time to live in the account layer: `Container::{default_ttl, set_default_ttl}`, the shared
//! table of container default TTLs (refreshed whenever the catalog changes) and the compaction
//! filter that removes expired items from the store. Thread-safe. See docs/query.md, "Time to live".

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::container::{parse_stored, Container, Resolved};
use super::feed::keep_feed_record;
use crate::document::{container_of, is_expired, validate_default_ttl};
use crate::error::Result;
use crate::options::AccountOptions;
use strata_base::wall_clock::WallClock;
use strata_lsm::db::DbOptions;
use strata_lsm::CompactionFilter;

/// Container id -> `defaultTtl`, for the containers with TTL on; shared by the account and the
/// store's compaction filter.
pub(crate) type TtlTable = Arc<RwLock<BTreeMap<u32, i64>>>;

/// The store's options for an account, with the TTL filter reading `table`.
pub(crate) fn db_options(opts: &AccountOptions, table: &TtlTable) -> DbOptions {
    DbOptions {
        compaction_filter: Some(Arc::new(TtlFilter {
            table: table.clone(),
            clock: opts.wall_clock.clone(),
            retention_secs: opts.change_feed_retention.as_secs(),
        })),
        ..opts.db_options()
    }
}

/// Drops change-feed records older than the feed's retention window, and items that expired
/// (TTL) longer ago than that window: an expiry is normally turned into a recorded delete by the
/// feed's sweep (`feed.rs`), and by the time the filter drops an unswept one, its delete would
/// have left the all-versions feed anyway. Keeps everything else, including any value it
/// cannot read.
#[derive(Debug)]
struct TtlFilter {
    table: TtlTable,
    clock: Arc<dyn WallClock>,
    retention_secs: u64,
}

impl CompactionFilter for TtlFilter {
    fn keep(&self, key: &[u8], value: &[u8]) -> bool {
        let now = self.clock.now_secs();
        if let Some(keep) = keep_feed_record(key, value, now, self.retention_secs) {
            return keep;
        }
        let Some(id) = container_of(key) else {
            return true;
        };
        let default = match self.table.read() {
            Ok(t) => t.get(&id).copied(),
            Err(_) => return true,
        };
        if default.is_none() {
            return true;
        }
        match parse_stored(value) {
            Ok(item) => !is_expired(default, &item, now.saturating_sub(self.retention_secs)),
            Err(_) => true,
        }
    }
}

impl Container {
    /// The container's `defaultTtl`: `None` = TTL off, `-1` = on without a default, n = seconds.
    /// 404 if the container does not exist.
    pub fn default_ttl(&self) -> Result<Option<i64>> {
        Ok(self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .default_ttl)
    }

    /// Sets `defaultTtl` (`None` turns TTL off); takes effect at once for reads, queries and
    /// compaction. 400 unless -1 or positive, 404 if the container does not exist, 403 while
    /// the customer key is revoked.
    pub fn set_default_ttl(&self, ttl: Option<i64>) -> Result<()> {
        validate_default_ttl(ttl)?;
        self.inner.require_key_access()?;
        let (db, name) = (self.database_name(), self.name());
        self.inner.edit_catalog(|c| {
            c.container_mut(db, name)?.default_ttl = ttl;
            Ok(())
        })
    }

    /// Whether a stored item is still visible (not expired) now.
    pub(crate) fn is_live(&self, r: &Resolved, item: &Value) -> bool {
        r.default_ttl.is_none() || !is_expired(r.default_ttl, item, self.inner.opts.wall_clock.now_secs())
    }

    /// The stored bytes of an item if it is still visible; `None` if absent or expired.
    pub(crate) fn live(&self, r: &Resolved, stored: Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
        match stored {
            Some(bytes) if r.default_ttl.is_some() => {
                let item = parse_stored(&bytes)?;
                Ok(self.is_live(r, &item).then_some(bytes))
            }
            other => Ok(other),
        }
    }
}
