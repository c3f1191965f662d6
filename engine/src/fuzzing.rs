//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off by default): thin
//! wrappers that hand the crate-private decoders of the document layer — the item validator, the
//! stored-item parser, query preparation — plain types. The WAL and segment entry points are the
//! LSM's (`strata_lsm::fuzzing`). Holds no logic of its own and must not be used outside fuzzing.
//! See docs/reliability.md ("Coverage-guided fuzzing").

use serde_json::Value;

use crate::document::{validate_item as validate, ItemRules, PartitionKey};
use crate::error::Result;
use crate::query::Prepared;

/// The item validator of every create, replace and upsert (`cmk`: the customer-managed-key
/// rules); returns the item's id.
pub fn validate_item(item: &Value, cmk: bool) -> Result<String> {
    validate(item, &ItemRules { cmk }).map(str::to_string)
}

/// How a stored item's bytes are parsed on every read.
pub fn parse_stored(bytes: &[u8]) -> Result<Value> {
    crate::account::parse_stored(bytes)
}

/// The partition key of `item` at the property path `path`, as a write extracts it.
pub fn partition_key(item: &Value, path: &[String]) -> Result<PartitionKey> {
    PartitionKey::extract(item, path)
}

/// A query parsed and checked with its parameters, as every query request prepares it.
#[derive(Debug)]
pub struct PreparedQuery(Prepared);

impl PreparedQuery {
    /// Parses and checks `sql`; parameter names with or without the `@`.
    pub fn new(sql: &str, params: &[(String, Value)]) -> Result<PreparedQuery> {
        Prepared::new(sql, params).map(PreparedQuery)
    }

    /// Runs the query over `docs`, as the executor does over a container's items.
    pub fn run(&self, docs: Vec<Value>) -> Result<Vec<Value>> {
        self.0.run(docs)
    }
}
