//! The compaction-filter seam: a hook a layer above the LSM installs (`DbOptions::compaction_filter`)
//! to drop records during compaction (e.g. expired items). It sees only keys and value bytes;
//! the LSM never learns what they mean. Implementations must be thread-safe and cheap.
//! See docs/compaction.md, "Compaction filter".

use std::fmt::Debug;

/// Decides, for each newest live version (a put) a compaction carries over, whether to keep it.
pub trait CompactionFilter: Debug + Send + Sync {
    /// `false`: the record is dropped (replaced by a tombstone while deeper levels may still
    /// hold older versions of the key). Must answer the same for the same input within one
    /// compaction; it may change over time (e.g. as a clock moves).
    fn keep(&self, key: &[u8], value: &[u8]) -> bool;
}
