//! The embedded SDK surface: `Account` (open/create, key holders), `Database`, `Container` and
//! item operations with their responses. Talks to the vault and the service key store to unwrap
//! the data keys, then only to `db`, `catalog`, `document` and `metering`. The handles share one
//! lifetime token; the account's background threads belong to its supervisor (`lifecycle.rs`,
//! docs/lifecycle.md).

mod access_keys;
mod analytical;
mod batch;
#[cfg(test)]
mod batch_power_tests;
mod bulk;
#[cfg(test)]
mod bulk_tests;
mod conflict;
mod container;
mod container_key_check;
mod container_keys;
#[cfg(test)]
mod container_keys_tests;
mod copy;
mod database;
mod delete;
mod enable_cmk;
#[cfg(test)]
mod fault_tests;
mod feed;
mod filter_scope;
mod gateway_tls;
mod handle;
mod identity;
mod index;
mod index_order;
mod index_stream;
mod key_check;
mod key_watch;
mod keys;
#[cfg(test)]
mod keyspace_tests;
mod lifecycle;
mod lsn;
mod metrics;
mod ordered;
mod partition_filter;
mod patch;
mod procedure;
mod procedure_host;
mod procedure_run;
mod purge;
mod query;
mod query_overlay;
mod query_spill;
mod response;
#[cfg(test)]
mod revocation_tests;
mod rotation;
mod scan_parse;
mod script_store;
mod script_sync;
mod script_tombstone;
mod sort_runs;
mod spill_registry;
mod staged;
mod stats;
mod sync;
mod tenant;
mod trigger;
mod trigger_run;
mod ttl;
mod typed_read;
mod udf;

pub(crate) use access_keys::AccessKeyPair;
pub use access_keys::{AccessKeyKind, AccessKeys, ACCESS_KEY_LEN};
pub use analytical::{AnalyticalSchema, AnalyticalSettings};
pub use batch::{
    parse_batch_operations, BatchOperation, BatchOperationResult, BatchOperationType, BatchResponse,
    FAILED_DEPENDENCY, MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS,
};
pub use bulk::{BulkOperation, BulkOptions, MAX_BULK_OPERATIONS};
pub use conflict::ConflictsResponse;
#[cfg(feature = "fuzzing")]
pub(crate) use container::parse_stored;
pub use container::Container;
pub use container_key_check::ContainerKeyStatus;
pub use database::{ContainerInfo, ContainerOptions, Database, DatabaseOptions};
pub use enable_cmk::MigrationStatus;
pub use feed::{ChangeFeedMode, ChangeFeedOptions, ChangeFeedResponse, ChangeFeedStart, DEFAULT_FEED_PAGE};
pub(crate) use gateway_tls::GatewayTlsSecret;
pub(crate) use handle::{now_secs, AccountInner};
pub use handle::{Account, Encryption};
pub use index::IndexStatus;
pub use key_check::KeyStatus;
pub(crate) use keys::{open_service, unwrap_customer, KEYRING_FILE};
pub(crate) use lifecycle::Signal;
pub use partition_filter::PartitionFilter;
pub use patch::PatchOptions;
pub use procedure::{StoredProcedure, MAX_PROCEDURE_BYTES};
pub use procedure_run::{ProcedureOptions, ProcedureResponse};
pub use query::{QueryOptions, QueryResponse, DEFAULT_MAX_ITEM_COUNT, MAX_PAGE_BYTES};
pub use response::{ItemOptions, ItemResponse};
pub use rotation::KeyRotation;
pub use stats::{AccountListing, ContainerListing, ContainerStats, DatabaseListing};
pub use sync::SyncReport;
pub use trigger::{Trigger, TriggerOperation, TriggerType};
pub use trigger_run::TriggerOptions;
pub use udf::UserDefinedFunction;

#[cfg(test)]
mod fuzz_tests;
