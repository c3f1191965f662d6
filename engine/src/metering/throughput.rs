//! Provisioned throughput: a token bucket in request units per container (or per database, shared
//! by its containers), the clock that refills it, and the SDK-style retry loop on 429.
//! `TokenBucket` is pure (time is an argument); `Throttles` holds an account's buckets behind one
//! mutex (thread-safe). See docs/ru-model.md, section "Provisioned throughput".

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Smallest provisioned throughput, in RU/s.
pub const MIN_THROUGHPUT: u32 = 400;
/// Provisioned throughput is set in steps of this many RU/s.
pub const THROUGHPUT_STEP: u32 = 100;

/// Tokens are counted in nano-RU: a refill of `ns` nanoseconds at `r` RU/s adds exactly `ns · r`
/// tokens, and every charge (two decimals) is a whole number of them, so the bucket is exact.
const NANO_PER_RU: i128 = 1_000_000_000;
const NANO_PER_CENTI_RU: i128 = 10_000_000;
const NANOS_PER_MS: i128 = 1_000_000;

/// The time source of the throughput buckets and of the retry loop's waits: `MonotonicClock` in
/// production, `ManualClock` in tests. Must be monotonic (never go back).
pub trait Clock: Debug + Send + Sync {
    /// Time since an arbitrary, fixed origin.
    fn now(&self) -> Duration;
    /// Waits `d` (the manual clock advances itself by `d` instead).
    fn sleep(&self, d: Duration);
}

/// The real clock: `std::time::Instant`, and `std::thread::sleep` to wait.
#[derive(Debug)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub fn new() -> MonotonicClock {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that moves only when told to (`advance`), or by the amount a retry "sleeps": tests
/// of throttling are deterministic and take no wall time. Cheap to clone; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now = now.saturating_add(d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

/// How the API retries an operation refused with 429, as the official SDKs do: wait the
/// retry-after the error carries and try again, at most `max_attempts` more times and while the
/// total wait stays within `max_wait`; then return the 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the SDKs' "max retry attempts on throttled requests").
    pub max_attempts: u32,
    /// The most time spent waiting, summed over the retries of one call.
    pub max_wait: Duration,
}

impl RetryPolicy {
    /// Never retry: a 429 is returned at once.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 0,
            max_wait: Duration::ZERO,
        }
    }
}

impl Default for RetryPolicy {
    /// The official SDKs' defaults: 9 retries, 30 seconds of waiting in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 9,
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Runs `op`, and again after each 429 as `policy` allows, waiting on `clock`. Operations given
/// here must have no effect when they answer 429 (they are refused before any write).
pub(crate) fn with_retry<T>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    mut op: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut retries = 0u32;
    let mut waited = Duration::ZERO;
    loop {
        let err = match op() {
            Err(e) => e,
            ok => return ok,
        };
        let Some(ms) = err.retry_after() else {
            return Err(err);
        };
        let wait = Duration::from_millis(ms);
        let total = waited.saturating_add(wait);
        if retries >= policy.max_attempts || total > policy.max_wait {
            return Err(err);
        }
        clock.sleep(wait);
        waited = total;
        retries += 1;
    }
}

/// 400 unless `ru_per_sec` is unlimited (`None`) or at least 400 in steps of 100.
pub(crate) fn validate_throughput(ru_per_sec: Option<u32>) -> Result<()> {
    match ru_per_sec {
        Some(n) if n < MIN_THROUGHPUT || n % THROUGHPUT_STEP != 0 => Err(Error::BadRequest(format!(
            "throughput {n} RU/s is invalid: provision at least {MIN_THROUGHPUT} RU/s, in steps of \
             {THROUGHPUT_STEP} (e.g. 400, 500, 1000), or leave it unset for unlimited"
        ))),
        _ => Ok(()),
    }
}

/// Nano-RU of a charge, rounded to the two decimals every charge has.
fn nano_ru(ru: f64) -> i128 {
    let centi = (ru.max(0.0) * 100.0).round();
    // An f64 rounded to a whole number converts exactly below 2^53, far above any charge.
    (centi as i128).saturating_mul(NANO_PER_CENTI_RU)
}

/// A token bucket in RU: holds at most one second of the provisioned rate (the burst), refills
/// continuously at that rate, and may go below zero when an operation charged after running
/// (a query) costs more than was left; the debt is repaid by the refill. Pure: time is passed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenBucket {
    ru_per_sec: u32,
    /// Nano-RU available at `last`; negative while in debt.
    tokens: i128,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket (one second of burst available) at `now`.
    pub(crate) fn new(ru_per_sec: u32, now: Duration) -> TokenBucket {
        TokenBucket {
            ru_per_sec,
            tokens: Self::capacity_of(ru_per_sec),
            last: now,
        }
    }

    fn capacity_of(ru_per_sec: u32) -> i128 {
        i128::from(ru_per_sec) * NANO_PER_RU
    }

    fn capacity(&self) -> i128 {
        Self::capacity_of(self.ru_per_sec)
    }

    fn refill(&mut self, now: Duration) {
        if now <= self.last {
            return;
        }
        let ns = i128::try_from((now - self.last).as_nanos()).unwrap_or(i128::MAX);
        let added = ns.saturating_mul(i128::from(self.ru_per_sec));
        self.tokens = self.tokens.saturating_add(added).min(self.capacity());
        self.last = now;
    }

    /// Milliseconds until the bucket holds `deficit` more nano-RU (at least 1).
    fn wait_ms(&self, deficit: i128) -> u64 {
        let rate = i128::from(self.ru_per_sec.max(1));
        let ns = (deficit + rate - 1) / rate;
        let ms = (ns + NANOS_PER_MS - 1) / NANOS_PER_MS;
        u64::try_from(ms.max(1)).unwrap_or(u64::MAX)
    }

    /// The rate in force from `now` on; the tokens held are kept, up to the new burst.
    pub(crate) fn set_rate(&mut self, ru_per_sec: u32, now: Duration) {
        self.refill(now);
        self.ru_per_sec = ru_per_sec;
        self.tokens = self.tokens.min(self.capacity());
    }

    /// Takes `ru` if the bucket holds that much (or, for a charge above the one-second burst,
    /// is full): else `Err(retry_after_ms)`, the wait until it does, and nothing is taken.
    pub(crate) fn try_charge(&mut self, ru: f64, now: Duration) -> Result<(), u64> {
        self.refill(now);
        let charge = nano_ru(ru);
        let need = charge.min(self.capacity());
        if self.tokens >= need {
            self.tokens -= charge;
            Ok(())
        } else {
            Err(self.wait_ms(need - self.tokens))
        }
    }

    /// Admits an operation whose charge is known only after it runs: `Ok` while the bucket is
    /// above zero, else `Err(retry_after_ms)` until it is.
    pub(crate) fn admit(&mut self, now: Duration) -> Result<(), u64> {
        self.refill(now);
        if self.tokens > 0 {
            Ok(())
        } else {
            Err(self.wait_ms(1 - self.tokens))
        }
    }

    /// Takes `ru` after the fact (the bucket may go below zero).
    pub(crate) fn debit(&mut self, ru: f64, now: Duration) {
        self.refill(now);
        self.tokens = self.tokens.saturating_sub(nano_ru(ru));
    }

    /// RU available at the last refill (may be negative).
    #[cfg(test)]
    fn available(&self) -> f64 {
        self.tokens as f64 / NANO_PER_RU as f64
    }
}

/// Which bucket an operation draws from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BucketKey {
    /// A container with its own throughput, by container id.
    Container(u32),
    /// A database whose throughput its containers share, by name.
    Database(String),
}

/// The throughput an operation is subject to: its bucket, the rate, and how to name it.
#[derive(Clone, Debug)]
pub(crate) struct Provisioned {
    pub(crate) key: BucketKey,
    pub(crate) ru_per_sec: u32,
    /// For messages, e.g. "container 'db/orders'".
    pub(crate) scope: String,
}

/// An account's buckets, created lazily from the catalog's throughput on first use.
/// Thread-safe: one mutex around the map, held only for the arithmetic.
#[derive(Debug)]
pub(crate) struct Throttles {
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<BucketKey, TokenBucket>>,
}

impl Throttles {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Throttles {
        Throttles {
            clock,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The metering clock's now (for metrics on the same clock as the buckets).
    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    fn with_bucket<T>(&self, p: &Provisioned, f: impl FnOnce(&mut TokenBucket, Duration) -> T) -> Result<T> {
        let now = self.clock.now();
        let mut map = self
            .buckets
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while metering throughput".into()))?;
        let bucket = map
            .entry(p.key.clone())
            .or_insert_with(|| TokenBucket::new(p.ru_per_sec, now));
        if bucket.ru_per_sec != p.ru_per_sec {
            bucket.set_rate(p.ru_per_sec, now);
        }
        Ok(f(bucket, now))
    }

    fn too_many(p: &Provisioned, retry_after_ms: u64, what: &str) -> Error {
        Error::TooManyRequests {
            retry_after_ms,
            message: format!(
                "{} is provisioned at {} RU/s and {what}; retry after {retry_after_ms} ms, or \
                 provision more throughput",
                p.scope, p.ru_per_sec
            ),
        }
    }

    /// For an operation whose charge `ru` is known before it runs: 429 (nothing taken) unless
    /// the bucket holds it. Unlimited (`None`) always passes.
    pub(crate) fn try_charge(&self, p: Option<&Provisioned>, ru: f64) -> Result<()> {
        let Some(p) = p else { return Ok(()) };
        self.with_bucket(p, |b, now| b.try_charge(ru, now))?
            .map_err(|ms| Self::too_many(p, ms, &format!("this operation needs {ru:.2} RU")))
    }

    /// For an operation charged after it runs: 429 while the bucket is empty or in debt.
    pub(crate) fn admit(&self, p: Option<&Provisioned>) -> Result<()> {
        let Some(p) = p else { return Ok(()) };
        self.with_bucket(p, |b, now| b.admit(now))?
            .map_err(|ms| Self::too_many(p, ms, "its request units for this second are spent"))
    }

    /// Takes the charge of an admitted operation.
    pub(crate) fn debit(&self, p: Option<&Provisioned>, ru: f64) -> Result<()> {
        let Some(p) = p else { return Ok(()) };
        self.with_bucket(p, |b, now| b.debit(ru, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn try_charge_table() {
        // (rate, [(time ms, charge, expected result)]) — each row runs on one bucket, in order.
        type Step = (u64, f64, Result<(), u64>);
        #[rustfmt::skip]
        let cases: Vec<(u32, Vec<Step>)> = vec![
            // The burst is one second of the rate, then refused with the exact wait.
            (400, vec![(0, 400.0, Ok(())), (0, 1.0, Err(3)), (2, 1.0, Err(1)), (3, 1.0, Ok(()))]),
            // Refill at the rate: 250 ms of 400 RU/s is 100 RU.
            (400, vec![(0, 400.0, Ok(())), (250, 100.01, Err(1)), (250, 100.0, Ok(())), (250, 0.01, Err(1))]),
            // The refill stops at one second of burst.
            (400, vec![(0, 400.0, Ok(())), (10_000, 400.0, Ok(())), (10_000, 0.01, Err(1))]),
            // A charge above the burst passes on a full bucket and leaves a debt to wait out.
            (400, vec![(0, 1250.0, Ok(())), (0, 1.0, Err(2128)), (2128, 1.0, Ok(()))]),
            (400, vec![(0, 1.0, Ok(())), (0, 1250.0, Err(3))]),
            // A refused charge takes nothing.
            (1000, vec![(0, 999.0, Ok(())), (0, 5.0, Err(4)), (0, 1.0, Ok(())), (0, 0.01, Err(1))]),
            // 5.25 RU at 400 RU/s from empty: 13.125 ms, rounded up.
            (400, vec![(0, 400.0, Ok(())), (0, 5.25, Err(14)), (14, 5.25, Ok(()))]),
        ];
        for (rate, steps) in cases {
            let mut b = TokenBucket::new(rate, Duration::ZERO);
            for (i, (at, ru, want)) in steps.into_iter().enumerate() {
                assert_eq!(b.try_charge(ru, ms(at)), want, "rate {rate}, step {i}");
            }
        }
    }

    #[test]
    fn admit_and_debit() {
        let mut b = TokenBucket::new(400, Duration::ZERO);
        assert_eq!(b.admit(ms(0)), Ok(()));
        b.debit(1000.0, ms(0));
        assert_eq!(b.available(), -600.0);
        // 600 RU of debt at 400 RU/s: 1.5 s until the bucket is above zero.
        assert_eq!(b.admit(ms(0)), Err(1501));
        assert_eq!(b.admit(ms(1500)), Err(1));
        assert_eq!(b.admit(ms(1501)), Ok(()));
    }

    #[test]
    fn retry_after_is_enough() {
        // Waiting the retry-after always makes the same charge pass.
        for rate in [400u32, 500, 700, 1300, 100_000] {
            for ru in [0.01, 1.0, 1.05, 5.25, 145.9, 1250.0] {
                let mut b = TokenBucket::new(rate, Duration::ZERO);
                b.debit(f64::from(rate), Duration::ZERO);
                let wait = b.try_charge(ru, Duration::ZERO).unwrap_err();
                assert!(wait > 0);
                assert_eq!(b.try_charge(ru, ms(wait)), Ok(()), "rate {rate}, ru {ru}");
                let mut c = TokenBucket::new(rate, Duration::ZERO);
                c.debit(f64::from(rate), Duration::ZERO);
                assert!(
                    c.try_charge(ru, ms(wait - 1)).is_err(),
                    "rate {rate}, ru {ru}: wait too long"
                );
            }
        }
    }

    #[test]
    fn rate_change_keeps_tokens_up_to_the_new_burst() {
        let mut b = TokenBucket::new(1000, Duration::ZERO);
        b.set_rate(400, Duration::ZERO);
        assert_eq!(b.available(), 400.0);
        b.set_rate(800, Duration::ZERO);
        assert_eq!(b.available(), 400.0);
        assert_eq!(b.try_charge(400.0, ms(500)), Ok(()));
        assert_eq!(b.available(), 400.0);
    }

    #[test]
    fn validation() {
        for ok in [None, Some(400), Some(500), Some(1000), Some(1_000_000)] {
            assert!(validate_throughput(ok).is_ok(), "{ok:?}");
        }
        for bad in [0, 100, 399, 450, 401, 1050] {
            let e = validate_throughput(Some(bad)).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert!(e.to_string().contains("at least 400 RU/s"), "{e}");
        }
    }

    #[test]
    fn retry_loop_waits_and_stops() {
        let clock = ManualClock::new();
        let throttled = |ms| Error::TooManyRequests {
            retry_after_ms: ms,
            message: "busy".into(),
        };
        // Succeeds on the third attempt after two waits of 10 ms.
        let mut calls = 0;
        let out = with_retry(&RetryPolicy::default(), &clock, || {
            calls += 1;
            if calls < 3 {
                Err(throttled(10))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(out.unwrap(), 3);
        assert_eq!(clock.now(), ms(20));

        // Attempt limit: 1 + max_attempts calls, then the 429.
        let mut calls = 0u32;
        let policy = RetryPolicy {
            max_attempts: 2,
            max_wait: Duration::from_secs(60),
        };
        let err = with_retry(&policy, &clock, || -> Result<()> {
            calls += 1;
            Err(throttled(5))
        })
        .unwrap_err();
        assert_eq!((calls, err.status(), err.retry_after()), (3, 429, Some(5)));

        // Wait limit: a retry-after that would pass max_wait is not waited.
        let mut calls = 0u32;
        let policy = RetryPolicy {
            max_attempts: 9,
            max_wait: ms(25),
        };
        let start = clock.now();
        let err = with_retry(&policy, &clock, || -> Result<()> {
            calls += 1;
            Err(throttled(10))
        })
        .unwrap_err();
        assert_eq!((calls, err.status()), (3, 429));
        assert_eq!(clock.now() - start, ms(20));

        // No retry, and other errors are never retried.
        let mut calls = 0u32;
        let _ = with_retry(&RetryPolicy::none(), &clock, || -> Result<()> {
            calls += 1;
            Err(throttled(1))
        });
        let _ = with_retry(&RetryPolicy::default(), &clock, || -> Result<()> {
            calls += 1;
            Err(Error::NotFound("x".into()))
        });
        assert_eq!(calls, 2);
    }

    #[test]
    fn throttles_share_a_bucket_per_key_and_ignore_unlimited() {
        let clock = ManualClock::new();
        let t = Throttles::new(Arc::new(clock.clone()));
        let db = Provisioned {
            key: BucketKey::Database("db".into()),
            ru_per_sec: 400,
            scope: "database 'db'".into(),
        };
        let other = Provisioned {
            key: BucketKey::Container(7),
            ru_per_sec: 400,
            scope: "container 'db/c'".into(),
        };
        t.try_charge(Some(&db), 300.0).unwrap();
        let e = t.try_charge(Some(&db), 200.0).unwrap_err();
        assert_eq!(
            (e.status(), e.substatus(), e.retry_after()),
            (429, 3200, Some(250))
        );
        assert!(
            e.to_string().contains("database 'db' is provisioned at 400 RU/s"),
            "{e}"
        );
        t.try_charge(Some(&other), 400.0).unwrap();
        for _ in 0..100 {
            t.try_charge(None, 1e6).unwrap();
        }
        clock.advance(ms(250));
        t.try_charge(Some(&db), 200.0).unwrap();
    }
}
