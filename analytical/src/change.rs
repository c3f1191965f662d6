//! The input of the tier: one change-feed record. Plain data; the engine fills it from its feed.

use serde_json::Value;

/// Whether a change creates/replaces an item or removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Upsert,
    Delete,
}

/// One change as the change feed delivers it. Deletes carry no document.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub op: ChangeOp,
    /// The item id.
    pub id: String,
    /// The partition-key value (stored as its JSON text in the `_pk` column).
    pub partition_key: Value,
    /// Log sequence number; strictly increasing per container. Must be at most `i64::MAX`.
    pub lsn: u64,
    /// Last-modified time in seconds since the Unix epoch (the item's `_ts`).
    pub ts: i64,
    /// The document body for upserts; `None` for deletes.
    pub doc: Option<Value>,
}

impl Change {
    /// An upsert of `doc`.
    pub fn upsert(id: impl Into<String>, partition_key: Value, lsn: u64, ts: i64, doc: Value) -> Self {
        Change {
            op: ChangeOp::Upsert,
            id: id.into(),
            partition_key,
            lsn,
            ts,
            doc: Some(doc),
        }
    }

    /// A delete (tombstone) of the item.
    pub fn delete(id: impl Into<String>, partition_key: Value, lsn: u64, ts: i64) -> Self {
        Change {
            op: ChangeOp::Delete,
            id: id.into(),
            partition_key,
            lsn,
            ts,
            doc: None,
        }
    }
}
