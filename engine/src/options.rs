//! Options of an account and of the raw key-value store: durability, cache and memtable sizes,
//! where the key holders live, how often a customer key is checked. Plain data; no I/O.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use strata_base::wall_clock::{SystemWallClock, WallClock};
pub use strata_lsm::Durability;
use strata_vault::VaultHome;

use crate::error::{Error, Result};
use crate::metering::{Clock, MonotonicClock, RetryPolicy};

/// How often a customer key is checked again by default (docs/keys.md#key-checks).
pub const DEFAULT_KEY_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Bytes of results an ORDER BY sorted outside the index holds in memory by default before it
/// writes a sorted run (`AccountOptions::sort_memory_bytes`).
pub const DEFAULT_SORT_MEMORY_BYTES: usize = 32 << 20;

/// How to open an account: the data directory and the two key holders outside it.
#[derive(Clone, Debug)]
pub struct AccountOptions {
    /// The data directory: ciphertext, wrapped keys and plaintext metadata only.
    pub data_dir: PathBuf,
    /// `$STRATA_HOME`: holds `service/` (the service-managed key) and `vault/` (customer keys).
    pub home: PathBuf,
    /// Default durability of writes that do not say otherwise.
    pub durability: Durability,
    /// Byte bound of the block cache of decrypted, decompressed blocks.
    pub cache_bytes: usize,
    /// Memtable size at which it is frozen and flushed to a segment.
    pub memtable_bytes: usize,
    /// How often a customer-managed-key account re-checks that it can still unwrap its data key:
    /// a background thread runs the check once this much time has passed since the last one
    /// (and a data-plane call does, should it come first). Default 60 s; zero is refused (400).
    pub key_check_interval: Duration,
    /// How a call refused with 429 (provisioned throughput exceeded) is retried. Default: as the
    /// official SDKs, 9 retries within 30 s; `RetryPolicy::none()` returns the 429 at once.
    pub retry_policy: RetryPolicy,
    /// The clock of the throughput buckets and of the retry waits (`ManualClock` in tests).
    pub clock: Arc<dyn Clock>,
    /// The wall clock that stamps `_ts` and decides TTL expiry (`ManualWallClock` in tests).
    pub wall_clock: Arc<dyn WallClock>,
    /// How long the all-versions-and-deletes change feed keeps a change (the retention window
    /// of continuous backup; 7 days by default).
    pub change_feed_retention: Duration,
    /// Whether a GROUP BY, DISTINCT or in-memory ORDER BY result longer than its first page
    /// spills the rest to a sealed file that later pages read (docs/query.md, "Spilled
    /// pages"); default true. A process that serves one page and exits (the CLI's `strata
    /// query`) turns it off: its spill would be removed by the next open before any page read
    /// it, so each page computes the result and pays a share of it, as before spills.
    pub query_spills: bool,
    /// Bytes of results (compact JSON) an ORDER BY sorted outside the index holds in memory
    /// before it writes them, sorted, to a sealed run file that the end of the query merges
    /// (docs/query.md, "Sorting outside memory"); default 32 MiB. Lower it to bound a query's
    /// memory further, at the cost of more runs.
    pub sort_memory_bytes: usize,
}

impl AccountOptions {
    pub fn new(data_dir: impl Into<PathBuf>, home: impl Into<PathBuf>) -> Self {
        AccountOptions {
            data_dir: data_dir.into(),
            home: home.into(),
            durability: Durability::Sync,
            cache_bytes: 64 << 20,
            memtable_bytes: 32 << 20,
            key_check_interval: DEFAULT_KEY_CHECK_INTERVAL,
            retry_policy: RetryPolicy::default(),
            clock: Arc::new(MonotonicClock::new()),
            wall_clock: Arc::new(SystemWallClock),
            change_feed_retention: Duration::from_secs(7 * 24 * 3600),
            query_spills: true,
            sort_memory_bytes: DEFAULT_SORT_MEMORY_BYTES,
        }
    }

    /// `$STRATA_HOME` if set, else `~/.strata`, else `./.strata`.
    pub fn default_home() -> PathBuf {
        if let Some(h) = std::env::var_os("STRATA_HOME") {
            return PathBuf::from(h);
        }
        match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".strata"),
            None => PathBuf::from(".strata"),
        }
    }

    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    pub fn cache_bytes(mut self, n: usize) -> Self {
        self.cache_bytes = n;
        self
    }

    pub fn memtable_bytes(mut self, n: usize) -> Self {
        self.memtable_bytes = n;
        self
    }

    pub fn key_check_interval(mut self, d: Duration) -> Self {
        self.key_check_interval = d;
        self
    }

    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry_policy = p;
        self
    }

    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }

    pub fn query_spills(mut self, on: bool) -> Self {
        self.query_spills = on;
        self
    }

    pub fn sort_memory_bytes(mut self, n: usize) -> Self {
        self.sort_memory_bytes = n;
        self
    }

    pub fn wall_clock(mut self, c: Arc<dyn WallClock>) -> Self {
        self.wall_clock = c;
        self
    }

    /// The customer key vault's directory (`strata_vault::VaultHome::default_dir`).
    pub fn vault_dir(&self) -> PathBuf {
        VaultHome::new(&self.home).default_dir()
    }

    /// The directory of the vault `name` made by `strata vault create`: `<home>/vaults/<name>`.
    /// The default vault (named `local`) lives in [`AccountOptions::vault_dir`] instead.
    pub fn named_vault_dir(&self, name: &str) -> PathBuf {
        VaultHome::new(&self.home).named_dir(name)
    }

    /// The directory of the vault key URIs name `vault`: its own under `<home>/vaults/` if one
    /// exists there, else the default vault's.
    pub fn vault_dir_for(&self, vault: &str) -> PathBuf {
        VaultHome::new(&self.home).dir_for(vault)
    }

    /// The service key store's directory.
    pub fn service_dir(&self) -> PathBuf {
        self.home.join("service")
    }

    /// 400 for options no account can run with: a zero key-check interval (the background
    /// check would never rest).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.key_check_interval.is_zero() {
            return Err(Error::BadRequest(
                "the key-check interval must be longer than zero (default 60 s)".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn db_options(&self) -> strata_lsm::DbOptions {
        strata_lsm::DbOptions {
            durability: self.durability,
            cache_bytes: self.cache_bytes,
            memtable_bytes: self.memtable_bytes,
            commit_clock: Some(self.wall_clock.clone()),
            filter_keys: crate::keyspace::in_filters,
            ..strata_lsm::DbOptions::default()
        }
    }
}
