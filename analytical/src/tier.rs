//! One container's analytical tier fed from the engine: opens the container's store under
//! `DATA/analytical/<container id>` with the key the engine unwraps (through the vault as the
//! account's managed identity), tails the change feed into it without request units, and runs
//! the background replicator thread. The only module of this crate that knows the engine; it
//! holds no key beyond the `AnalyticalKey` the store owns, and never hands out the store: every
//! read and catch-up asks the container first (key revoked, identity no longer managed: 403).
//!
//! Catching up reads the latest-version feed (every live item changed since the applied LSN; not
//! subject to the feed's retention), then the all-versions feed (every change since, deletes
//! included), and applies their union in LSN order. The latest-version read comes first, so
//! every LSN at or below the highest one applied was visible to the all-versions read: a change
//! can be late, never skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use serde::Serialize;
use serde_json::Value;
use strata_engine::{
    AnalyticalSchema, ChangeFeedMode, ChangeFeedOptions, ChangeFeedStart, Container, PartitionKeyDefinition,
    PartitionKeyKind, SystemWallClock, WallClock,
};

use crate::change::Change;
use crate::error::{AnalyticalError, Result};
use crate::key::AnalyticalKey;
use crate::query::QueryResult;
use crate::schema::SchemaMode;
use crate::store::AnalyticalStore;
use crate::ttl::AnalyticalTtl;

/// Feed page size while catching up.
const PAGE: usize = 1000;
/// The replicator compacts once a store has this many files.
const COMPACT_AT_FILES: usize = 16;
/// Properties of an item that are not document data in the tier (`_lsn` is a system column).
const DROPPED_PROPERTIES: [&str; 3] = ["_lsn", "_self", "_attachments"];

/// What one catch-up did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CatchUp {
    /// Changes written into the tier.
    pub applied: usize,
    /// The highest LSN the tier now holds.
    pub applied_lsn: u64,
    /// Age in seconds (commit time to now) of the oldest change this catch-up applied; 0 when
    /// it applied none. The lag the tier had before catching up.
    pub oldest_change_age_secs: u64,
    /// Wall time the catch-up took, in milliseconds.
    pub took_ms: u64,
}

/// An open analytical tier of one container.
pub struct Tier {
    container: Container,
    pk_path: Vec<String>,
    /// A hierarchical key's definition (`None` for a single path): its rows carry the key as
    /// the change feed's deletes do, a JSON array of the levels.
    hierarchical: Option<PartitionKeyDefinition>,
    store: AnalyticalStore,
}

impl std::fmt::Debug for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tier")
            .field("container", &self.container)
            .field("store", &self.store)
            .finish()
    }
}

fn ttl_of(ttl: i64) -> AnalyticalTtl {
    match u64::try_from(ttl) {
        Ok(n) if n > 0 => AnalyticalTtl::Seconds(n),
        _ => AnalyticalTtl::Forever,
    }
}

impl Tier {
    /// Opens (creating on first use) the container's tier. 400 if the tier is not enabled;
    /// 403 if the customer key is revoked or the identity may not unwrap the tier's key.
    pub fn open(container: &Container) -> Result<Tier> {
        let settings = container.analytical_settings()?.ok_or_else(|| {
            AnalyticalError::BadRequest(format!(
                "the analytical tier of '{}/{}' is off; enable it first (strata analytics enable)",
                container.database_name(),
                container.name()
            ))
        })?;
        let key = AnalyticalKey::from_zeroizing(container.analytical_key()?);
        let mode = match settings.schema {
            AnalyticalSchema::WellDefined => SchemaMode::WellDefined,
            AnalyticalSchema::FullFidelity => SchemaMode::FullFidelity,
        };
        let ttl = ttl_of(settings.ttl);
        let mut store = AnalyticalStore::open_or_create(container.analytical_dir()?, key, mode, ttl)?;
        if store.ttl() != ttl {
            store.set_ttl(ttl)?;
        }
        let pk_path = container
            .partition_key_path()?
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let def = container.partition_key_definition()?;
        let hierarchical = (def.kind() == PartitionKeyKind::MultiHash).then_some(def);
        Ok(Tier {
            container: container.clone(),
            pk_path,
            hierarchical,
            store,
        })
    }

    /// The highest LSN the tier holds (bookkeeping, no item data: not checked).
    pub fn applied_lsn(&self) -> u64 {
        self.store.applied_lsn()
    }

    /// The tier's Parquet files (paths only: not checked).
    pub fn files(&self) -> Vec<PathBuf> {
        self.store.files()
    }

    /// The live rows at `now_secs` (see `AnalyticalStore::scan`). Like every read of an open
    /// tier, asks the container first: 403 once the key is revoked or, under a customer key,
    /// the default identity is no longer a managed one. The store is not handed out, so no read
    /// goes around this check.
    pub fn scan(&self, now_secs: i64) -> Result<RecordBatch> {
        self.container.check_analytical_access()?;
        self.store.scan(now_secs)
    }

    /// Runs a query of the supported subset (see `AnalyticalStore::query`); checked as `scan`.
    pub fn query(&self, sql: &str, now_secs: i64) -> Result<QueryResult> {
        self.container.check_analytical_access()?;
        self.store.query(sql, now_secs)
    }

    /// Writes the live rows to `out_dir` (see `AnalyticalStore::export`); checked as `scan`.
    pub fn export(&self, out_dir: impl AsRef<Path>, now_secs: i64) -> Result<PathBuf> {
        self.container.check_analytical_access()?;
        self.store.export(out_dir, now_secs)
    }

    /// Applies every change committed since the tier's applied LSN. 403 once the account's key
    /// is revoked or, under a customer key, its default identity is no longer a managed one:
    /// an open tier asks the container before every catch-up, as opening it did.
    pub fn catch_up(&mut self) -> Result<CatchUp> {
        self.container.check_analytical_access()?;
        let started = Instant::now();
        let after = self.store.applied_lsn();
        let mut changes: BTreeMap<u64, Change> = BTreeMap::new();
        let mut oldest_crts = u64::MAX;
        // Live items first (no retention), then every change with deletes. Each page is moved
        // into `changes` as it is read: no list of the whole feed is held beside it.
        self.for_each_change(ChangeFeedMode::LatestVersion, after, |page| {
            let lsn = page.get("_lsn").and_then(Value::as_u64).unwrap_or(0);
            let ts = page.get("_ts").and_then(Value::as_u64).unwrap_or(0);
            oldest_crts = oldest_crts.min(ts);
            changes.insert(lsn, self.upsert(page, lsn)?);
            Ok(())
        })?;
        self.for_each_change(ChangeFeedMode::AllVersionsAndDeletes, after, |mut rec| {
            let current = rec.get_mut("current").map(Value::take);
            let meta = &rec["metadata"];
            let lsn = meta["lsn"].as_u64().unwrap_or(0);
            let crts = meta["crts"].as_u64().unwrap_or(0);
            oldest_crts = oldest_crts.min(crts);
            let change = match current {
                Some(doc) => self.upsert(doc, lsn)?,
                None => Change::delete(
                    meta["id"].as_str().unwrap_or_default(),
                    meta.get("partitionKey").cloned().unwrap_or(Value::Null),
                    lsn,
                    i64::try_from(crts).unwrap_or(i64::MAX),
                ),
            };
            changes.insert(lsn, change);
            Ok(())
        })?;
        let batch: Vec<Change> = changes.into_values().collect();
        let report = self.store.apply(&batch)?;
        let now = SystemWallClock.now_secs();
        if self.store.files().len() >= COMPACT_AT_FILES {
            self.store.compact(i64::try_from(now).unwrap_or(i64::MAX))?;
        }
        Ok(CatchUp {
            applied: report.applied,
            applied_lsn: self.store.applied_lsn(),
            oldest_change_age_secs: if report.applied == 0 {
                0
            } else {
                now.saturating_sub(oldest_crts)
            },
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Hands every item or record of the feed in `mode` after LSN `after` to `f`, in LSN order,
    /// one page read at a time (unmetered); the first error stops the read.
    fn for_each_change(
        &self,
        mode: ChangeFeedMode,
        after: u64,
        mut f: impl FnMut(Value) -> Result<()>,
    ) -> Result<()> {
        let mut opts = ChangeFeedOptions {
            mode,
            start: ChangeFeedStart::AfterLsn(after),
            partition_key: None,
            max_item_count: PAGE,
        };
        loop {
            let page = self.container.read_change_feed_for_replication(&opts)?;
            if page.status_code == 304 {
                return Ok(());
            }
            page.items.into_iter().try_for_each(&mut f)?;
            opts.start = ChangeFeedStart::Continuation(page.continuation);
        }
    }

    /// An upsert change of `doc` at `lsn`, with the properties that are not data removed.
    fn upsert(&self, mut doc: Value, lsn: u64) -> Result<Change> {
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let pk = match &self.hierarchical {
            Some(def) => def.extract(&doc)?.to_json().unwrap_or(Value::Null),
            None => self
                .pk_path
                .iter()
                .try_fold(&doc, |cur, seg| cur.get(seg))
                .cloned()
                .unwrap_or(Value::Null),
        };
        let ts = doc.get("_ts").and_then(Value::as_i64).unwrap_or(0);
        if let Some(o) = doc.as_object_mut() {
            for p in DROPPED_PROPERTIES {
                o.shift_remove(p);
            }
        }
        Ok(Change::upsert(id, pk, lsn, ts, doc))
    }
}

/// What the background replicator has done so far.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicatorStatus {
    pub rounds: u64,
    pub applied: u64,
    pub applied_lsn: u64,
    /// The longest catch-up so far, in milliseconds: with the poll interval, the bound on how
    /// long a committed change waits before it is visible in the tier.
    pub max_round_ms: u64,
    pub last_error: Option<String>,
}

/// A thread that catches the tier up every `interval` until stopped (or dropped). Errors are
/// kept in the status and retried on the next round.
pub struct Replicator {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    status: Arc<Mutex<ReplicatorStatus>>,
    interval: Duration,
}

impl Replicator {
    /// Opens the tier (errors are returned here) and starts the thread.
    pub fn start(container: &Container, interval: Duration) -> Result<Replicator> {
        let mut tier = Tier::open(container)?;
        let status = Arc::new(Mutex::new(ReplicatorStatus {
            applied_lsn: tier.applied_lsn(),
            ..Default::default()
        }));
        let (tx, rx) = mpsc::channel::<()>();
        let shared = status.clone();
        let handle = std::thread::Builder::new()
            .name("strata-analytical".into())
            .spawn(move || loop {
                let result = tier.catch_up();
                if let Ok(mut s) = shared.lock() {
                    s.rounds += 1;
                    match result {
                        Ok(r) => {
                            s.applied += r.applied as u64;
                            s.applied_lsn = r.applied_lsn;
                            s.max_round_ms = s.max_round_ms.max(r.took_ms);
                            s.last_error = None;
                        }
                        Err(e) => s.last_error = Some(e.to_string()),
                    }
                }
                match rx.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| AnalyticalError::BadRequest(format!("cannot start the replicator thread: {e}")))?;
        Ok(Replicator {
            stop: Some(tx),
            handle: Some(handle),
            status,
            interval,
        })
    }

    pub fn status(&self) -> ReplicatorStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The poll interval the replicator was started with.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Stops the thread after its current round.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            // The thread may already have exited; then there is no one to tell.
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            // A panicked replicator thread has nothing left to clean up.
            let _ = h.join();
        }
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
