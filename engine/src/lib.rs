//! Strata engine: an embedded, log-structured, encrypted document store.
//!
//! Layers, top to bottom (data flows one way): `account` (the SDK-shaped API) -> `document`,
//! `index`, `query`, `metering`, `catalog`, `backup` -> the key-value store `strata_lsm::Db`
//! (sealing with the data keys handed to it) -> files through `strata_base`'s I/O seam. Keys come
//! from `strata_vault`: the customer key vault and the service key store, reached only from
//! `account` and `keyring`. See docs/architecture.md.

mod account;
mod backup;
mod catalog;
mod document;
pub mod error;
mod format_version;
mod geojson;
mod index;
mod keyring;
mod keyspace;
mod metering;
pub mod options;
mod query;

/// The encryption at rest the store applies (`strata_lsm::cipher`).
pub mod crypto {
    pub use strata_lsm::cipher::*;
}

/// The raw key-value store (`strata_lsm::db`) and its error.
pub mod db {
    pub use strata_lsm::db::*;
    pub use strata_lsm::error::{Error, Result};
}

/// The customer key vault and the service key store (`strata_vault`).
pub mod vault {
    pub use strata_vault::*;
}

/// Fault injection for tests of code built on the engine (docs/reliability.md, "Fault
/// injection"): make the n-th create, write, fsync, rename or read under a directory fail, or
/// cut the power there and keep only what fsyncs made durable ("Power loss").
#[cfg(feature = "fault-injection")]
pub mod fault_injection {
    pub use strata_base::fault_plan::{inject, FaultGuard, FaultPlan};
    pub use strata_base::faults::FaultKind;
    pub use strata_base::power_loss::{record as record_power, PowerGuard, Recorder};
}

/// Entry points for the cargo-fuzz targets in `fuzz/` (docs/reliability.md, "Coverage-guided
/// fuzzing"). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
#[global_allocator]
static PROBE: strata_base::fuzz_support::Probe = strata_base::fuzz_support::Probe;

pub use account::{
    parse_batch_operations, AccessKeyKind, AccessKeys, Account, AccountListing, AnalyticalSchema,
    AnalyticalSettings, BatchOperation, BatchOperationResult, BatchOperationType, BatchResponse,
    BulkOperation, BulkOptions, ChangeFeedMode, ChangeFeedOptions, ChangeFeedResponse, ChangeFeedStart,
    ConflictsResponse, Container, ContainerInfo, ContainerKeyStatus, ContainerListing, ContainerOptions,
    ContainerStats, Database, DatabaseListing, DatabaseOptions, Encryption, IndexStatus, ItemOptions,
    ItemResponse, KeyRotation, KeyStatus, MigrationStatus, PartitionFilter, PatchOptions, ProcedureOptions,
    ProcedureResponse, QueryOptions, QueryResponse, StoredProcedure, SyncReport, Trigger, TriggerOperation,
    TriggerOptions, TriggerType, UserDefinedFunction, ACCESS_KEY_LEN, DEFAULT_FEED_PAGE,
    DEFAULT_MAX_ITEM_COUNT, FAILED_DEPENDENCY, MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS, MAX_BULK_OPERATIONS,
    MAX_PAGE_BYTES, MAX_PROCEDURE_BYTES,
};
pub use backup::{
    observe_progress, BackupInfo, BackupPolicy, ContinuousPolicy, ContinuousStatus, PointInTimeRestore,
    Progress, ShipReport, UndeleteReport, VerifyReport,
};
pub use document::{
    apply_patch, json_nesting_depth, parse_patch_operations, validate_patch, ConflictResolutionPolicy,
    OperationType, PartitionKey, PartitionKeyDefinition, PartitionKeyKind, PatchOp, PatchOperation,
    MAX_ITEM_DEPTH, MAX_PARTITION_KEY_LEVELS, MAX_PATCH_OPERATIONS,
};
pub use error::{substatus, Error, Result};
pub use index::{
    CompositeOrder, CompositePath, IndexingMode, IndexingPolicy, PolicyPath, SpatialIndex, SpatialType,
    MAX_COMPOSITE_PATHS,
};
pub use metering::{
    Clock, ContainerMetrics, ManualClock, MonotonicClock, RetryPolicy, MIN_THROUGHPUT, THROUGHPUT_STEP,
};
pub use options::{AccountOptions, Durability, DEFAULT_KEY_CHECK_INTERVAL};
pub use query::{projection_names, query_values};
pub use strata_base::wall_clock::{ManualWallClock, SystemWallClock, WallClock};
pub use strata_lsm::{
    CacheStats, CipherSuite, CompactionFilter, CryptoStats, Db, DbOptions, DbStats, RecoveryReport,
    SealProgress, WriteBatch,
};
/// The limits of one stored procedure's execution (time, memory, stack, operations).
pub use strata_script::Limits as ScriptLimits;
/// The most bytes of a stored procedure's script log returned, and what ends a log cut there.
pub use strata_script::{LOG_TRUNCATED as SCRIPT_LOG_TRUNCATED, MAX_LOG_BYTES as MAX_SCRIPT_LOG_BYTES};
pub use strata_vault::{
    check_tenant_id, key_size_warning, AuditEntry, AuditFilter, Identities, KeyInfo, KeyUri, KeyVault,
    LocalVault, NetworkAccess, Permission, PermissionModel, Principal, Role, RoleAssignment, RotationPolicy,
    UserIdentity, VaultHome, VaultProperties, MAX_ROTATION_DAYS, MIN_ROTATION_DAYS,
};
