//! Strata engine: an embedded, log-structured, encrypted document store.
//!
//! Layers, top to bottom (data flows one way): `account` (the SDK-shaped API) -> `document`,
//! `metering`, `catalog` -> `db` (key-value orchestration) -> `wal`, `memtable`, `sst`, `cache`,
//! `version`, `compaction` -> `crypto` (seal/open) -> files. `vault` holds customer keys and is
//! reached only from `account`. See docs/ for formats, keys, errors and the RU model.

mod account;
mod backup;
mod cache;
mod catalog;
mod compaction;
pub mod crypto;
pub mod db;
mod document;
pub mod error;
mod format_version;
mod index;
mod kv;
mod memtable;
mod metering;
pub mod options;
mod query;
mod sst;
mod util;
pub mod vault;
mod version;
mod wal;

/// Fault injection for tests of code built on the engine (docs/reliability.md, "Fault
/// injection"): make the n-th create, write, fsync, rename or read under a directory fail, or
/// cut the power there and keep only what fsyncs made durable ("Power loss").
#[cfg(feature = "fault-injection")]
pub mod fault_injection {
    pub use crate::util::fault_plan::{inject, FaultGuard, FaultPlan};
    pub use crate::util::faults::FaultKind;
    pub use crate::util::power_loss::{record as record_power, PowerGuard, Recorder};
}

/// Entry points for the cargo-fuzz targets in `fuzz/` (docs/reliability.md, "Coverage-guided
/// fuzzing"). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use account::{
    Account, AccountListing, AnalyticalSchema, AnalyticalSettings, ChangeFeedMode, ChangeFeedOptions,
    ChangeFeedResponse, ChangeFeedStart, ConflictsResponse, Container, ContainerInfo, ContainerListing,
    ContainerOptions, ContainerStats, Database, DatabaseListing, DatabaseOptions, Encryption, IndexStatus,
    ItemOptions, ItemResponse, KeyRotation, KeyStatus, MigrationStatus, QueryOptions, QueryResponse,
    SyncReport, DEFAULT_FEED_PAGE, DEFAULT_MAX_ITEM_COUNT, MAX_PAGE_BYTES,
};
pub use backup::{
    observe_progress, BackupInfo, BackupPolicy, ContinuousPolicy, ContinuousStatus, PointInTimeRestore,
    Progress, ShipReport, UndeleteReport, VerifyReport,
};
pub use cache::CacheStats;
pub use compaction::CompactionFilter;
pub use crypto::{CipherSuite, CryptoStats};
pub use db::{Db, DbOptions, DbStats, RecoveryReport, SealProgress};
pub use document::{
    json_nesting_depth, ConflictResolutionPolicy, OperationType, PartitionKey, MAX_ITEM_DEPTH,
};
pub use error::{substatus, Error, Result};
pub use index::{
    CompositeOrder, CompositePath, IndexingMode, IndexingPolicy, PolicyPath, MAX_COMPOSITE_PATHS,
};
pub use kv::WriteBatch;
pub use metering::{
    Clock, ContainerMetrics, ManualClock, MonotonicClock, RetryPolicy, MIN_THROUGHPUT, THROUGHPUT_STEP,
};
pub use options::{AccountOptions, Durability};
pub use util::wall_clock::{ManualWallClock, SystemWallClock, WallClock};
pub use vault::{
    check_tenant_id, key_size_warning, AuditEntry, AuditFilter, Identities, KeyInfo, KeyUri, LocalVault,
    NetworkAccess, Permission, PermissionModel, Principal, Role, RoleAssignment, RotationPolicy,
    UserIdentity, VaultProperties, MAX_ROTATION_DAYS, MIN_ROTATION_DAYS,
};
