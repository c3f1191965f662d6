//! Tuning of the raw key-value store. Plain data (and the optional compaction filter hook).

use std::sync::Arc;

use crate::compaction::CompactionFilter;
use strata_base::wall_clock::WallClock;

/// When a write is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync the write-ahead log before acknowledging (survives power loss). The default.
    #[default]
    Sync,
    /// Acknowledge once the record is written to the OS (survives a process crash, not a power
    /// loss). For bulk loads.
    Buffered,
}

/// Which keys a segment's bloom filter holds: `true` for a key that `Db::get` may look up. A
/// key left out is still found by `get` (which then skips the filter for it), only without the
/// filter's shortcut; keys that are only ever scanned need no place in it. For an existing store
/// the policy may only be narrowed, never widened: a segment written under a narrower policy
/// has no bits for the keys it left out.
pub type FilterKeys = fn(&[u8]) -> bool;

/// The default `FilterKeys`: every key.
pub fn every_key(_key: &[u8]) -> bool {
    true
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Durability of `put`/`delete` (and of `write` calls that say so).
    pub durability: Durability,
    /// Byte bound of the block cache.
    pub cache_bytes: usize,
    /// Memtable size at which it is frozen and flushed.
    pub memtable_bytes: usize,
    /// Number of L0 segments that triggers an L0 -> L1 compaction.
    pub l0_compaction_trigger: usize,
    /// Size of L1; each deeper level is ten times larger.
    pub base_level_bytes: u64,
    /// Compaction output files are cut at this size.
    pub target_file_size: u64,
    /// Run compactions in the background thread (tests turn it off to drive them by hand).
    pub background_compaction: bool,
    /// Consulted by compaction for every put it carries over; `None`: keep everything.
    pub compaction_filter: Option<Arc<dyn CompactionFilter>>,
    /// Stamps each group commit's time (Unix ms) into its WAL record; `None`: the system clock.
    pub commit_clock: Option<Arc<dyn WallClock>>,
    /// Recovery replays only the records committed at or before this Unix ms, and drops the
    /// rest (point-in-time restore). `None`: every record.
    pub replay_until_ms: Option<u64>,
    /// Which keys the segments' bloom filters hold (`every_key` by default).
    pub filter_keys: FilterKeys,
    /// Keep WAL files whose data is already in segments until they are released (continuous
    /// backup ships them first; see db/ship.rs). Can be changed on an open store.
    pub retain_wals: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            durability: Durability::Sync,
            cache_bytes: 64 << 20,
            memtable_bytes: 32 << 20,
            l0_compaction_trigger: 4,
            base_level_bytes: 128 << 20,
            target_file_size: 8 << 20,
            background_compaction: true,
            compaction_filter: None,
            commit_clock: None,
            replay_until_ms: None,
            retain_wals: false,
            filter_keys: every_key,
        }
    }
}
