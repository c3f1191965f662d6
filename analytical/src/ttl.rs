//! The analytical tier's time-to-live setting and the rule it applies to a row: whether an item
//! last modified at `_ts` is still in the tier. Pure values; knows no files, batches or keys.

use serde::{Deserialize, Serialize};

/// Analytical time-to-live, counted from an item's `_ts` (last modification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnalyticalTtl {
    /// The tier keeps nothing: changes advance the applied LSN but no rows are written.
    Off,
    /// Items stay until deleted.
    Forever,
    /// An item is gone from the tier once `now >= _ts + n`.
    Seconds(u64),
}

/// Whether an item last modified at `ts` is still in the tier at `now`.
pub(crate) fn is_live(ttl: AnalyticalTtl, ts: i64, now: i64) -> bool {
    match ttl {
        AnalyticalTtl::Off => false,
        AnalyticalTtl::Forever => true,
        AnalyticalTtl::Seconds(n) => ts.saturating_add(i64::try_from(n).unwrap_or(i64::MAX)) > now,
    }
}
