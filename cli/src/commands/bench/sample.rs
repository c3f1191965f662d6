//! The measurements of one workload under one mode (or one peer): every op's duration, time that
//! belongs to the workload outside the ops (the load's flush), the wall-clock time of concurrent
//! sections, request charges and CPU time. Plain data and arithmetic; it must not run an op.

use std::time::{Duration, Instant};

use super::sys::{cpu_time, Who};
use crate::error::{CliError, CliResult};

#[derive(Default)]
pub(super) struct Sample {
    pub nanos: Vec<u64>,
    /// Time spent outside the per-op timings that belongs to the workload (the load's flush).
    pub extra: Duration,
    /// Wall-clock time of concurrent sections (the multi-threaded durable writes): when set, it
    /// replaces the sum of the per-op times, which would count overlapping ops more than once.
    pub wall: Option<Duration>,
    pub charge: f64,
    /// CPU (user + system) of the whole process over the timed sections, background threads
    /// (flush, compaction, the other account's) included.
    pub cpu: Duration,
    /// CPU of the threads that ran the ops, over the same sections.
    pub fg_cpu: Duration,
    /// Time the mode's account spent sealing and opening blocks over the same sections, on any
    /// of its threads (`Account::crypto_stats`; peers: zero).
    pub crypto: Duration,
    /// Block-cache hits and misses of the mode's store over the same sections (peers: zero).
    pub cache_hits: u64,
    pub cache_misses: u64,
}

impl Sample {
    pub fn time<T, E: Into<CliError>>(&mut self, f: impl FnOnce() -> Result<T, E>) -> CliResult<T> {
        let t = Instant::now();
        let r = f();
        self.nanos.push(t.elapsed().as_nanos() as u64);
        r.map_err(Into::into)
    }

    pub fn total(&self) -> Duration {
        self.wall
            .unwrap_or_else(|| Duration::from_nanos(self.nanos.iter().sum()))
            + self.extra
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.nanos.len() as f64 / self.total().as_secs_f64().max(1e-9)
    }

    /// Process CPU microseconds per op.
    pub fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.nanos.len().max(1) as f64
    }

    /// CPU microseconds per op of the threads that ran the ops.
    pub fn fg_cpu_us_per_op(&self) -> f64 {
        self.fg_cpu.as_secs_f64() * 1e6 / self.nanos.len().max(1) as f64
    }

    /// Sealing and opening microseconds per op.
    pub fn crypto_us_per_op(&self) -> f64 {
        self.crypto.as_secs_f64() * 1e6 / self.nanos.len().max(1) as f64
    }

    /// The share of the process CPU spent sealing and opening this mode's blocks (`None` without
    /// CPU). Approximate: the CPU is the whole process's, the other mode's background threads
    /// included.
    pub fn crypto_share(&self) -> Option<f64> {
        (self.cpu > Duration::ZERO).then(|| self.crypto.as_secs_f64() / self.cpu.as_secs_f64())
    }

    /// The share of block-cache lookups that hit, in percent (`None` without a lookup: the
    /// workload read no segment block, or a peer ran it).
    pub fn cache_hit_pct(&self) -> Option<f64> {
        let lookups = self.cache_hits + self.cache_misses;
        (lookups > 0).then(|| self.cache_hits as f64 * 100.0 / lookups as f64)
    }

    /// Runs `f` (a timed section on this thread), adding the CPU it took, the time `account`
    /// spent sealing and opening blocks meanwhile, and its block-cache hits and misses (read
    /// outside the CPU meter).
    pub fn with_cpu_and_crypto<T>(
        &mut self,
        account: &strata_engine::Account,
        f: impl FnOnce(&mut Sample) -> T,
    ) -> T {
        let cache_before = cache_counts(account);
        let before = account.crypto_stats();
        let out = self.with_cpu(f);
        self.add_crypto(before, account.crypto_stats());
        if let (Some(b), Some(a)) = (cache_before, cache_counts(account)) {
            self.cache_hits += a.0.saturating_sub(b.0);
            self.cache_misses += a.1.saturating_sub(b.1);
        }
        out
    }

    /// Adds `other`'s ops, charges, CPU and crypto time to this sample.
    pub fn merge(&mut self, other: Sample) {
        self.nanos.extend(other.nanos);
        self.extra += other.extra;
        self.charge += other.charge;
        self.cpu += other.cpu;
        self.fg_cpu += other.fg_cpu;
        self.crypto += other.crypto;
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
    }

    /// Adds the sealing and opening time between two readings of `Account::crypto_stats`.
    pub fn add_crypto(&mut self, before: strata_engine::CryptoStats, after: strata_engine::CryptoStats) {
        let spent =
            (after.seal_nanos + after.open_nanos).saturating_sub(before.seal_nanos + before.open_nanos);
        self.crypto += Duration::from_nanos(spent);
    }

    /// The op durations, sorted for `percentile_us`.
    pub fn sorted(&self) -> Vec<u64> {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        sorted
    }

    pub fn percentile_us(sorted: &[u64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let i = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted.get(i).map_or(0.0, |n| *n as f64 / 1000.0)
    }

    /// Runs `f` (a timed section on this thread) and adds the CPU it took, process and thread,
    /// to the sample.
    pub fn with_cpu<T>(&mut self, f: impl FnOnce(&mut Sample) -> T) -> T {
        let meter = CpuMeter::start();
        let out = f(self);
        meter.stop_into(self);
        out
    }
}

/// The store's block-cache (hits, misses) so far; `None` if its stats cannot be read (a
/// poisoned store: the op itself reports that).
fn cache_counts(account: &strata_engine::Account) -> Option<(u64, u64)> {
    let c = account.store_stats().ok()?.cache;
    Some((c.hits, c.misses))
}

/// Process and calling-thread CPU at the start of a timed section.
pub(super) struct CpuMeter {
    process: Duration,
    thread: Duration,
}

impl CpuMeter {
    pub fn start() -> CpuMeter {
        CpuMeter {
            process: cpu_time(Who::Process),
            thread: cpu_time(Who::Thread),
        }
    }

    /// Adds the process CPU since `start` to `s.cpu` and this thread's to `s.fg_cpu`.
    pub fn stop_into(self, s: &mut Sample) {
        s.cpu += cpu_time(Who::Process).saturating_sub(self.process);
        s.fg_cpu += cpu_time(Who::Thread).saturating_sub(self.thread);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_replaces_the_sum_of_overlapping_ops() {
        let mut s = Sample {
            nanos: vec![1_000_000; 10],
            ..Sample::default()
        };
        assert!((s.ops_per_sec() - 1000.0).abs() < 1e-6);
        // Ten 1 ms ops overlapping in 2 ms of wall time: 5,000 ops/s.
        s.wall = Some(Duration::from_millis(2));
        assert!((s.ops_per_sec() - 5000.0).abs() < 1e-6);
        s.cpu = Duration::from_micros(30);
        assert!((s.cpu_us_per_op() - 3.0).abs() < 1e-9);
        let at = |n: u64| strata_engine::CryptoStats {
            seal_nanos: n,
            open_nanos: 2 * n,
            ..Default::default()
        };
        s.add_crypto(at(1_000), at(3_000));
        assert_eq!(s.crypto, Duration::from_micros(6));
        assert!((s.crypto_us_per_op() - 0.6).abs() < 1e-9);
        assert!((s.crypto_share().unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(s.cache_hit_pct(), None);
        s.merge(Sample {
            cache_hits: 3,
            cache_misses: 1,
            ..Sample::default()
        });
        assert_eq!(s.cache_hit_pct(), Some(75.0));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(Sample::percentile_us(&sorted, 0.5), 51.0);
        assert_eq!(Sample::percentile_us(&sorted, 0.99), 99.0);
        assert_eq!(Sample::percentile_us(&[], 0.5), 0.0);
    }
}
