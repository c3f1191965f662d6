//! Durable single writes from several threads at once (`write-tN` rows): each thread creates its
//! own new items, one at a time, each acknowledged only once it is on disk; the engine's group
//! commit lets one fsync cover every writer queued behind it. With `--peers`, fjall's durable
//! writes run in the same rounds (a put closure). Times every op and the wall clock of the whole
//! section; it must not print.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde_json::Value;
use strata_engine::{Durability, ItemOptions};

use super::data::{id, item, pk};
use super::sample::Sample;
use super::side::{present, Sides};
use super::sys::{cpu_time, Who};
use super::{round_range, Plan};
use crate::error::{CliError, CliResult};

/// The first item number of the durable writes with the `k`-th thread count: each thread count
/// writes its own `plan.writes` new items after the loaded ones.
pub(super) fn first_item(plan: &Plan, k: usize) -> usize {
    plan.items + k * plan.writes
}

/// A durable put of (pk, id, item) usable from several threads; returns the request charge.
pub(super) type Put<'a> = &'a (dyn Fn(&str, &str, &Value) -> CliResult<f64> + Sync);

/// Runs `plan.writes` durable creates per mode with `threads` threads, in rounds alternating
/// which mode goes first, starting at item `first`; returns the SMK and CMK samples (empty for a
/// store the run left out). With
/// `peer`, the peer writes the same items in every round too, first in even rounds and last in
/// odd ones (so all three have the same average position), and its sample comes third.
pub(super) fn run(
    plan: &Plan,
    sides: &Sides,
    threads: usize,
    first: usize,
    peer: Option<Put>,
    bar: &ProgressBar,
) -> CliResult<([Sample; 2], Option<Sample>)> {
    let sync = ItemOptions::default().with_durability(Durability::Sync);
    let mut samples = [Sample::default(), Sample::default(), Sample::default()];
    for round in 0..plan.rounds {
        let order: [usize; 3] = if round % 2 == 0 { [2, 0, 1] } else { [1, 0, 2] };
        for i in order {
            let ops = round_range(plan.writes, plan.rounds, round);
            let n = ops.len() as u64;
            let sample = &mut samples[i];
            if i == 2 {
                if let Some(put) = peer {
                    concurrent_round(plan, threads, first, ops, sample, put)?;
                }
                continue;
            }
            let Some(side) = present(sides, i) else {
                continue;
            };
            let c = &side.items;
            let put = |pk: &str, _id: &str, item: &Value| -> CliResult<f64> {
                Ok(c.create_item_with(pk.to_string(), item, &sync)?.request_charge)
            };
            let before = side.account.crypto_stats();
            concurrent_round(plan, threads, first, ops, sample, put)?;
            sample.add_crypto(before, side.account.crypto_stats());
            bar.inc(n);
        }
    }
    let [smk, cmk, theirs] = samples;
    Ok(([smk, cmk], peer.map(|_| theirs)))
}

/// What one writer thread measured.
struct Worker {
    nanos: Vec<u64>,
    charge: f64,
    cpu: Duration,
}

/// Items `first + op` for `op` in `ops`, split into `threads` contiguous shares written at once by
/// as many threads through `put(pk, id, item)` (which returns the op's request charge). Items are built before
/// the threads start; the clock and the process CPU run from the moment all threads are released
/// until the last one is done.
pub(super) fn concurrent_round<F>(
    plan: &Plan,
    threads: usize,
    first: usize,
    ops: std::ops::Range<usize>,
    s: &mut Sample,
    put: F,
) -> CliResult<()>
where
    F: Fn(&str, &str, &Value) -> CliResult<f64> + Sync,
{
    let threads = threads.max(1);
    let total = ops.len();
    let shares: Vec<Vec<(String, String, Value)>> = (0..threads)
        .map(|t| {
            round_range(total, threads, t)
                .map(|k| {
                    let n = first + ops.start + k;
                    (pk(n), id(n), item(n, plan.size, 0))
                })
                .collect()
        })
        .collect();
    let start = Barrier::new(threads + 1);
    let (outs, wall, cpu) = std::thread::scope(|scope| {
        let (start, put) = (&start, &put);
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || -> CliResult<Worker> {
                    start.wait();
                    let cpu0 = cpu_time(Who::Thread);
                    let mut w = Worker {
                        nanos: Vec::with_capacity(share.len()),
                        charge: 0.0,
                        cpu: Duration::ZERO,
                    };
                    for (pk, id, item) in &share {
                        let t = Instant::now();
                        let r = put(pk, id, item);
                        w.nanos.push(t.elapsed().as_nanos() as u64);
                        w.charge += r?;
                    }
                    w.cpu = cpu_time(Who::Thread).saturating_sub(cpu0);
                    Ok(w)
                })
            })
            .collect();
        start.wait();
        let (t, cpu0) = (Instant::now(), cpu_time(Who::Process));
        let outs: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (outs, t.elapsed(), cpu_time(Who::Process).saturating_sub(cpu0))
    });
    *s.wall.get_or_insert(Duration::ZERO) += wall;
    s.cpu += cpu;
    for out in outs {
        let w = out.map_err(|_| CliError::internal("a bench writer thread panicked"))??;
        s.nanos.extend(w.nanos);
        s.charge += w.charge;
        s.fg_cpu += w.cpu;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_op_runs_once_across_the_threads() {
        let plan = Plan::new(10, 64, true, vec![1, 3]);
        let seen = Mutex::new(Vec::new());
        let mut s = Sample::default();
        let put = |_pk: &str, id: &str, _item: &Value| -> CliResult<f64> {
            if let Ok(mut v) = seen.lock() {
                v.push(id.to_string());
            }
            Ok(1.0)
        };
        concurrent_round(&plan, 3, 100, 5..12, &mut s, put).expect("round");
        let mut ids = seen.into_inner().unwrap_or_default();
        ids.sort();
        let want: Vec<String> = (105..112).map(id).collect();
        assert_eq!(ids, want);
        assert_eq!(s.nanos.len(), 7);
        assert_eq!(s.charge, 7.0);
        assert!(s.wall.is_some());
    }
}
