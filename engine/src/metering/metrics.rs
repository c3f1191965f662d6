//! Request-unit metrics per container, in memory for the life of the open account: total RU
//! charged, operations, 429s, and RU/s over the last minute (a ring of one-second slots on the
//! account's monotonic clock). Thread-safe; one mutex held only for the arithmetic. Knows
//! nothing of containers beyond their ids.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};

/// Seconds the RU/s average looks back.
const WINDOW_SECS: u64 = 60;

/// What a container has been charged since the account was opened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerMetrics {
    /// Request units charged (operations that failed with a charge included, e.g. a 404 read).
    pub total_ru: f64,
    /// Operations charged.
    pub operations: u64,
    /// Operations refused with 429 (throughput exceeded).
    pub throttled: u64,
    /// RU charged in the last 60 seconds, divided by 60.
    pub ru_per_sec_last_minute: f64,
}

struct Counters {
    total_ru: f64,
    operations: u64,
    throttled: u64,
    /// (second, RU charged in it), indexed by second % WINDOW_SECS.
    window: [(u64, f64); WINDOW_SECS as usize],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            total_ru: 0.0,
            operations: 0,
            throttled: 0,
            window: [(0, 0.0); WINDOW_SECS as usize],
        }
    }
}

#[derive(Default)]
pub(crate) struct Metrics {
    by_container: Mutex<HashMap<u32, Counters>>,
}

impl Metrics {
    fn with<T>(&self, container_id: u32, f: impl FnOnce(&mut Counters) -> T) -> Result<T> {
        let mut map = self
            .by_container
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while recording metrics".into()))?;
        Ok(f(map.entry(container_id).or_default()))
    }

    /// Records a charge of `ru` at monotonic time `now`.
    pub(crate) fn charged(&self, container_id: u32, ru: f64, now: Duration) -> Result<()> {
        let sec = now.as_secs();
        self.with(container_id, |c| {
            c.total_ru += ru;
            c.operations += 1;
            let slot = &mut c.window[(sec % WINDOW_SECS) as usize];
            if slot.0 != sec {
                *slot = (sec, 0.0);
            }
            slot.1 += ru;
        })
    }

    /// Records a 429.
    pub(crate) fn throttled(&self, container_id: u32) -> Result<()> {
        self.with(container_id, |c| c.throttled += 1)
    }

    /// The container's metrics at monotonic time `now`.
    /// (container id, total RU, operations, 429s) of every container counted so far.
    pub(crate) fn totals(&self) -> Result<Vec<(u32, f64, u64, u64)>> {
        let map = self
            .by_container
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while recording metrics".into()))?;
        Ok(map
            .iter()
            .map(|(id, c)| (*id, c.total_ru, c.operations, c.throttled))
            .collect())
    }

    pub(crate) fn snapshot(&self, container_id: u32, now: Duration) -> Result<ContainerMetrics> {
        let sec = now.as_secs();
        self.with(container_id, |c| {
            let recent: f64 = c
                .window
                .iter()
                .filter(|(s, _)| *s + WINDOW_SECS > sec && *s <= sec)
                .map(|(_, ru)| ru)
                .sum();
            ContainerMetrics {
                total_ru: (c.total_ru * 100.0).round() / 100.0,
                operations: c.operations,
                throttled: c.throttled,
                ru_per_sec_last_minute: (recent / WINDOW_SECS as f64 * 100.0).round() / 100.0,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_a_sliding_minute() {
        let m = Metrics::default();
        let s = Duration::from_secs;
        m.charged(1, 60.0, s(100)).unwrap();
        m.charged(1, 60.0, s(130)).unwrap();
        m.charged(2, 5.0, s(130)).unwrap();
        m.throttled(1).unwrap();
        let a = m.snapshot(1, s(130)).unwrap();
        assert_eq!((a.total_ru, a.operations, a.throttled), (120.0, 2, 1));
        assert_eq!(a.ru_per_sec_last_minute, 2.0);
        // 61 s after the first charge only the second is in the window; later, none.
        assert_eq!(m.snapshot(1, s(160)).unwrap().ru_per_sec_last_minute, 1.0);
        assert_eq!(m.snapshot(1, s(1000)).unwrap().ru_per_sec_last_minute, 0.0);
        // A slot reused a minute later starts from zero.
        m.charged(1, 6.0, s(160)).unwrap();
        assert_eq!(m.snapshot(1, s(160)).unwrap().ru_per_sec_last_minute, 1.1);
        assert_eq!(m.snapshot(2, s(130)).unwrap().total_ru, 5.0);
        assert_eq!(m.snapshot(3, s(130)).unwrap(), ContainerMetrics::default());
    }
}
