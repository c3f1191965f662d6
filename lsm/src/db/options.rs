//! Tuning of the raw key-value store. Plain data (and the optional compaction filter hook).

use std::sync::Arc;

use crate::compaction::CompactionFilter;
use crate::error::{Error, Result};
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

/// zstd level of the deeper levels, where data settles and is rarely rewritten (every level's
/// before per-level compression; docs/bench.md, "Change 8").
pub const DEEP_ZSTD_LEVEL: i32 = 1;
/// zstd level of L0 and L1, whose segments compaction rewrites soon: a faster, looser level.
pub const UPPER_ZSTD_LEVEL: i32 = -1;

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
    /// zstd level of the data blocks written to each LSM level: entry n for level n (flushes
    /// write L0), the last entry for every deeper level. Segments of any level read the same:
    /// the level is not recorded, every one is a standard zstd frame. Not empty; each within
    /// zstd's range (`zstd::compression_level_range`, negative levels are the fast ones).
    pub zstd_levels: Vec<i32>,
    /// zstd level of whatever compaction writes to the bottom level (the deepest holding data,
    /// where it rests), whichever level that is; `None`: `zstd_levels` alone. A small store
    /// rests in L1, which would otherwise keep `zstd_levels`' fast level for good.
    pub bottom_zstd_level: Option<i32>,
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
            zstd_levels: vec![UPPER_ZSTD_LEVEL, UPPER_ZSTD_LEVEL, DEEP_ZSTD_LEVEL],
            bottom_zstd_level: Some(DEEP_ZSTD_LEVEL),
        }
    }
}

impl DbOptions {
    /// 400 for options no store can run with.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.zstd_levels.is_empty() {
            return Err(Error::BadRequest("zstd_levels needs at least one level".into()));
        }
        let range = zstd::compression_level_range();
        let levels = self.zstd_levels.iter().chain(self.bottom_zstd_level.iter());
        if let Some(bad) = levels.copied().find(|l| !range.contains(l)) {
            return Err(Error::BadRequest(format!(
                "zstd level {bad} is outside zstd's range {}..={}",
                range.start(),
                range.end()
            )));
        }
        Ok(())
    }
}

/// The zstd level of segments written to LSM level `level` under `levels`
/// (`DbOptions::zstd_levels`): the last entry past the end, `DEEP_ZSTD_LEVEL` if there is none.
pub(crate) fn zstd_level_for(levels: &[i32], level: usize) -> i32 {
    levels
        .get(level)
        .or(levels.last())
        .copied()
        .unwrap_or(DEEP_ZSTD_LEVEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_takes_its_entry_and_deeper_ones_the_last() {
        let levels = [-3, -1, 1];
        let got: Vec<i32> = (0..6).map(|l| zstd_level_for(&levels, l)).collect();
        assert_eq!(got, vec![-3, -1, 1, 1, 1, 1]);
        assert_eq!(zstd_level_for(&[5], 0), 5);
        assert_eq!(zstd_level_for(&[5], 4), 5);
        assert_eq!(zstd_level_for(&[], 2), DEEP_ZSTD_LEVEL);
    }

    #[test]
    fn the_levels_are_checked() {
        assert!(DbOptions::default().validate().is_ok());
        let with = |zstd_levels: Vec<i32>| DbOptions {
            zstd_levels,
            ..DbOptions::default()
        };
        for bad in [vec![], vec![1, 23], vec![i32::MIN]] {
            let e = with(bad.clone()).validate().unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}: {e}");
        }
        let bottom = |bottom_zstd_level| DbOptions {
            bottom_zstd_level,
            ..DbOptions::default()
        };
        assert_eq!(bottom(Some(99)).validate().unwrap_err().status(), 400);
        assert!(bottom(None).validate().is_ok() && bottom(Some(-3)).validate().is_ok());
        assert!(with(vec![-5, 3, 19]).validate().is_ok());
    }
}
