//! The wall clock in Unix seconds: stamps `_ts` on items, decides TTL expiry, and is the key
//! vault's clock (key creation times, activation windows, autorotation). `SystemWallClock` in
//! production, `ManualWallClock` in tests (TTL and key-autorotation tests move it instead of
//! sleeping). Thread-safe.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in whole seconds.
pub trait WallClock: Debug + Send + Sync {
    fn now_secs(&self) -> u64;

    /// Unix time in milliseconds (the key vault's audit log); whole seconds unless overridden.
    fn now_millis(&self) -> u64 {
        self.now_secs().saturating_mul(1000)
    }
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A wall clock that moves only when told to. Cheap to clone; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualWallClock {
    now: Arc<AtomicU64>,
}

impl ManualWallClock {
    /// A clock showing `secs` (Unix seconds).
    pub fn at(secs: u64) -> ManualWallClock {
        ManualWallClock {
            now: Arc::new(AtomicU64::new(secs)),
        }
    }

    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }
}

impl WallClock for ManualWallClock {
    fn now_secs(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
