//! strata-analytical: the analytical tier of Strata. It turns a container's change feed into Arrow
//! record batches stored as encrypted Parquet (uniform modular encryption, AES_GCM_V1, 32-byte key)
//! that DuckDB, pyarrow and Spark can read with the key; merges on read, compacts, exports and runs a
//! small SQL subset. Only `tier` knows the engine (settings, key, change feed, replicator thread).
//! See docs/analytical.md.

mod batch;
mod change;
mod error;
mod fsutil;
mod key;
mod pqio;
pub mod query;
mod schema;
mod state;
mod store;
mod tier;
mod ttl;

pub use change::{Change, ChangeOp};
pub use error::{AnalyticalError, Result};
pub use key::{AnalyticalKey, KEY_LEN};
pub use query::QueryResult;
pub use schema::{ColumnDef, Schema, SchemaMode, ValueKind, MAX_COLUMNS, MAX_DEPTH, SYSTEM_COLUMNS};
pub use store::{AnalyticalStore, ApplyReport, EXPORT_FILE};
pub use tier::{CatchUp, Replicator, ReplicatorStatus, Tier};
pub use ttl::AnalyticalTtl;
