//! `strata bench`: the encryption-overhead harness. In a temporary directory it creates one
//! service-managed (SMK) and one customer-managed (CMK) account and runs each workload under both,
//! interleaved in rounds, so the CMK overhead is a ratio measured side by side; also CPU per op,
//! resident memory, disk once settled, and the seal reference. `--stores smk|cmk` runs one of the
//! two alone, so that its memory is one store's. With `--peers` (feature `peers`), fjall and
//! SQLite/SQLCipher too. This file orchestrates and builds the report; it must not print (the
//! caller does). Public engine API only; see docs/bench.md for every column.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use strata_engine::{IndexingMode, IndexingPolicy};

use crate::args::Globals;
use crate::error::{CliError, CliResult};
use crate::output::Report;

mod chart;
mod data;
mod durable;
mod paging;
#[cfg(feature = "peers")]
mod peers;
#[cfg(any(test, feature = "peers"))]
mod ratios;
mod sample;
mod seal;
mod side;
mod sys;
mod workload;

use sample::Sample;
use side::{Side, Sides};

/// Every workload, in the order they run. `load` always runs: the others need its items.
/// `write` gives one row per thread count (`write-t1`, `write-t2`, ...); `query-paging` gives two,
/// `query-page1` and `query-page50` (`query-pageN` for the last page N when there are fewer);
/// `query-order-paging` four, `query-order-desc-page1`, `-page50`, `query-order-asc-page1`,
/// `-page50`; `query-range-paging` two, `query-range-page1` and `-page50`; `query-group-paging`
/// two, `query-group-page1` and `query-group-page50`. `read-cold` runs last
/// because it reopens the accounts, which empties their caches for whatever would follow.
pub const WORKLOADS: [&str; 14] = [
    "load",
    "write",
    "read-uniform",
    "read-zipf",
    "replace",
    "query-eq",
    "query",
    "query-paging",
    "query-order-paging",
    "query-range-paging",
    "query-group-paging",
    "aggregate",
    "feed",
    "read-cold",
];
/// The workloads whose queries filter on an indexed path: refused under `indexingMode: none`.
const INDEXED_WORKLOADS: [&str; 4] = ["query-eq", "query", "query-order-paging", "query-range-paging"];
/// `--index-policy none`.
const NO_INDEX_POLICY: &str = r#"{"indexingMode": "none"}"#;
/// The most threads `--write-threads` accepts.
const MAX_WRITE_THREADS: usize = 256;
const PARTITIONS: usize = 100;
/// `grp` takes this many values; the query selects 10 of them (1% of the items).
const GROUPS: usize = 1000;
const ZIPF_S: f64 = 0.99;
const SEED: u64 = 0x5eed_b3c4;
const MIB: f64 = 1024.0 * 1024.0;
/// How long the bench waits after the load for each store's flushes and compactions to settle
/// before it measures the settled size on disk.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What `strata bench` was asked to do.
pub struct BenchArgs<'a> {
    pub items: usize,
    pub size: usize,
    pub quick: bool,
    pub report: Option<&'a Path>,
    /// Also draw the CMK overhead per workload as an SVG bar chart in this file.
    pub chart: Option<&'a Path>,
    pub workloads: Option<&'a str>,
    /// Thread counts of the durable-write rows (`write-tN`).
    pub write_threads: &'a [usize],
    /// Also run the peers (fjall, SQLite, SQLCipher); an error unless built with `--features peers`.
    pub peers: bool,
    /// `none`, `default`, or the path of an indexing policy JSON file (`--index-policy`).
    pub index_policy: &'a str,
    /// `both`, `smk` or `cmk` (`--stores`): which stores run.
    pub stores: &'a str,
    /// Each Strata store's block cache in MiB (`--cache-mib`); `None`: the account default.
    pub cache_mib: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Smk,
    Cmk,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Smk => "SMK",
            Mode::Cmk => "CMK",
        }
    }
}

/// Op counts and rounds of one run.
struct Plan {
    items: usize,
    size: usize,
    rounds: usize,
    /// Durable writes per mode and thread count.
    writes: usize,
    write_threads: Vec<usize>,
    reads: usize,
    cold_reads: usize,
    replaces: usize,
    queries: usize,
    seal_time: std::time::Duration,
}

impl Plan {
    fn new(items: usize, size: usize, quick: bool, write_threads: Vec<usize>) -> Plan {
        if quick {
            Plan {
                items: items.min(2_000),
                size,
                rounds: 2,
                writes: 16,
                write_threads,
                reads: 2_000,
                cold_reads: 100,
                replaces: 200,
                queries: 2,
                seal_time: std::time::Duration::from_millis(30),
            }
        } else {
            Plan {
                items,
                size,
                rounds: 4,
                writes: 1_000,
                write_threads,
                reads: items.clamp(1, 200_000),
                cold_reads: items.clamp(1, 2_000),
                replaces: items.clamp(1, 50_000),
                queries: 8,
                seal_time: std::time::Duration::from_millis(500),
            }
        }
    }
}

/// Strata's SMK and CMK ops/s per workload row (`write-t4`, `read-cold`, ...).
type Rates = [(String, [f64; 2])];

/// The peer runs measured inside Strata's rounds (fjall's durable writes; `peers` feature only).
#[cfg(feature = "peers")]
type Interleaved = Vec<ratios::PeerRun>;
#[cfg(not(feature = "peers"))]
type Interleaved = ();

/// Runs the benchmark and returns its report (also written to `--report`, and drawn to
/// `--chart`, when given).
pub fn run(g: &Globals, args: &BenchArgs) -> CliResult<Report> {
    if args.items == 0 {
        return Err(CliError::bad_input("--items must be at least 1"));
    }
    let present = stores(args.stores)?;
    let (policy_label, policy) = index_policy(args.index_policy)?;
    let selected = selected_workloads(args.workloads, policy.indexing_mode == IndexingMode::None)?;
    let write_threads = checked_threads(args.write_threads)?;
    let cache_bytes = cache_bytes(args.cache_mib, args.peers)?;
    if args.peers && !cfg!(feature = "peers") {
        return Err(CliError::bad_input(
            "--peers needs a build with the peers feature: cargo build --release -p strata-cli --features peers",
        ));
    }
    let plan = Plan::new(args.items, args.size, args.quick, write_threads);
    let tmp = tempfile::Builder::new()
        .prefix("strata-bench-")
        .tempdir()
        .map_err(|e| {
            CliError::internal(format!(
                "cannot create a temporary directory ({e}); set TMPDIR to a writable directory"
            ))
        })?;
    let mut sides: Sides = [None, None];
    for ((slot, mode), on) in sides.iter_mut().zip([Mode::Smk, Mode::Cmk]).zip(present) {
        if on {
            *slot = Some(Side::create(g, tmp.path(), mode, &policy, cache_bytes)?);
        }
    }
    let bar = progress_bar(&plan, &selected, present);
    // With --peers, fjall writes durably in the same rounds as Strata (in its own directory).
    #[cfg(feature = "peers")]
    let fjall_writer = if args.peers && selected.contains(&"write") {
        Some(peers::fjall_durable_writer(&tmp.path().join("peers-durable"))?)
    } else {
        None
    };
    #[cfg(feature = "peers")]
    let mut interleaved = Interleaved::default();
    #[cfg(not(feature = "peers"))]
    let interleaved: Interleaved = ();
    let mut rows = Vec::new();
    let mut disk = [0u64; 2];
    // Per store, once its flushes and compactions settled after the load: bytes on disk (None
    // if it did not settle within SETTLE_TIMEOUT) and the seconds the wait took.
    let mut settled: [(Option<u64>, f64); 2] = [(None, 0.0); 2];
    // The block indexes and bloom filters of each store's segments after the load settled:
    // memory that stays resident whatever the cache holds.
    let mut metadata = [(0usize, 0usize); 2];
    // Each store's segments per LSM level once the load settled: the shape its reads probe.
    let mut shape: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut rates: Vec<(String, [f64; 2])> = Vec::new();
    let mut bars = Vec::new();
    // The largest resident set seen after a workload: VmHWM is only brought up to date at some
    // kernel events, so it can lag behind a VmRSS read earlier.
    let mut sampled_rss = 0u64;
    // The largest anonymous resident set seen after a workload (the kernel keeps no peak of it).
    let mut max_anon = 0u64;
    for name in WORKLOADS.iter().filter(|w| selected.contains(w)) {
        bar.set_message(*name);
        let runs: Vec<(String, [Sample; 2])> = if *name == "write" {
            let mut runs = Vec::new();
            for (k, threads) in plan.write_threads.iter().enumerate() {
                let first = durable::first_item(&plan, k);
                #[cfg(feature = "peers")]
                let peer: Option<durable::Put> = fjall_writer.as_deref();
                #[cfg(not(feature = "peers"))]
                let peer: Option<durable::Put> = None;
                let (samples, theirs) = durable::run(&plan, &sides, *threads, first, peer, &bar)?;
                let row = format!("write-t{threads}");
                #[cfg(feature = "peers")]
                if let Some(sample) = theirs {
                    interleaved.push(ratios::PeerRun {
                        peer: "fjall",
                        workload: row.clone(),
                        sample,
                    });
                }
                #[cfg(not(feature = "peers"))]
                let _ = theirs;
                runs.push((row, samples));
            }
            runs
        } else if *name == "query-paging" {
            let p = paging::run(&plan, &sides, &bar, paging::QUERY)?;
            vec![
                ("query-page1".to_string(), p.first),
                (paging::late_row("query", p.late_page), p.late),
            ]
        } else if *name == "query-range-paging" {
            let p = paging::run(&plan, &sides, &bar, paging::RANGE_QUERY)?;
            vec![
                ("query-range-page1".to_string(), p.first),
                (paging::late_row("query-range", p.late_page), p.late),
            ]
        } else if *name == "query-order-paging" {
            let mut runs = Vec::new();
            for (prefix, sql) in paging::ORDER_QUERIES {
                let p = paging::run(&plan, &sides, &bar, sql)?;
                runs.push((format!("{prefix}-page1"), p.first));
                runs.push((paging::late_row(prefix, p.late_page), p.late));
            }
            runs
        } else if *name == "query-group-paging" {
            let p = paging::run(&plan, &sides, &bar, paging::GROUP_QUERY)?;
            vec![
                ("query-group-page1".to_string(), p.first),
                (paging::late_row("query-group", p.late_page), p.late),
            ]
        } else {
            vec![(name.to_string(), workload::run(name, &plan, &mut sides, &bar)?)]
        };
        if *name == "load" {
            for (d, s) in disk.iter_mut().zip(&sides) {
                *d = s.as_ref().map_or(0, |s| dir_bytes(&s.data));
            }
            for (i, s) in sides.iter().enumerate() {
                let Some(s) = s else { continue };
                let t = Instant::now();
                let idle = s.account.settle(SETTLE_TIMEOUT)?;
                settled[i] = (idle.then(|| dir_bytes(&s.data)), t.elapsed().as_secs_f64());
                let st = s.account.store_stats()?;
                metadata[i] = (st.index_bytes, st.filter_bytes);
                shape[i] = st.segments_per_level;
            }
        }
        let now = sys::memory();
        sampled_rss = sampled_rss.max(now.map_or(0, |m| m.rss));
        max_anon = max_anon.max(now.map_or(0, |m| m.anon));
        let mem = now.map(|m| (m.rss as f64 / MIB, m.anon as f64 / MIB));
        for (row, samples) in runs {
            let rate = [samples[0].ops_per_sec(), samples[1].ops_per_sec()];
            // The overhead needs both stores; a one-store run has no bar to draw.
            if present == [true; 2] {
                bars.push(chart::Bar {
                    workload: row.clone(),
                    measured: (rate[0] / rate[1] - 1.0) * 100.0,
                    published: workload::published_surcharge(&row),
                });
            }
            rows.extend(workload::rows(&row, &samples, present, mem));
            rates.push((row, rate));
        }
    }
    bar.finish_and_clear();
    drop(sides);
    #[cfg(feature = "peers")]
    drop(fjall_writer);
    let peak_mib = |m: sys::Memory| round2(m.peak.max(m.rss).max(sampled_rss) as f64 / MIB);
    let strata_peak = sys::memory().map(peak_mib);
    let peer_rows = peer_rows(args.peers, &plan, &selected, tmp.path(), &rates, interleaved)?;
    let peak_with_peers = peer_rows.as_ref().and_then(|_| sys::memory()).map(peak_mib);
    let seal = seal::seal_reference(plan.seal_time);

    // A store's fields only when it ran; `stores` only when one was left out, so the default
    // report keeps its shape.
    let one = |i: usize, v: Value| present[i].then_some(v);
    let settle = |i: usize| one(i, json!(round2(settled[i].1)));
    let report = Report::new(200)
        .field("items", plan.items)
        .field("itemBytes", plan.size)
        .field("quick", args.quick)
        .field("indexPolicy", policy_label)
        .opt_field("stores", (present != [true; 2]).then_some(args.stores))
        .field("cacheMiB", cache_bytes >> 20)
        .field("rounds", plan.rounds)
        .field("writeThreads", thread_list(&plan.write_threads))
        .opt_field("smkDiskBytes", one(0, json!(disk[0])))
        .opt_field("cmkDiskBytes", one(1, json!(disk[1])))
        .opt_field("smkDiskBytesSettled", one(0, json!(settled[0].0)))
        .opt_field("cmkDiskBytesSettled", one(1, json!(settled[1].0)))
        .opt_field("smkSettleSeconds", settle(0))
        .opt_field("cmkSettleSeconds", settle(1))
        .opt_field("smkBlockIndexBytes", one(0, json!(metadata[0].0)))
        .opt_field("smkFilterBytes", one(0, json!(metadata[0].1)))
        .opt_field("cmkBlockIndexBytes", one(1, json!(metadata[1].0)))
        .opt_field("cmkFilterBytes", one(1, json!(metadata[1].1)))
        .opt_field("smkSegmentsPerLevel", one(0, json!(shape[0])))
        .opt_field("cmkSegmentsPerLevel", one(1, json!(shape[1])))
        .field("peakRssMiB", json!(strata_peak))
        .opt_field("peakRssMiBWithPeers", peak_with_peers)
        .field("maxAnonMiB", json!(round2(max_anon as f64 / MIB)))
        .field("rawAesGcmMiBps", round2(seal.raw.seal))
        .field("rawAesGcmOpenMiBps", round2(seal.raw.open))
        .field("rustCryptoAesGcmMiBps", round2(seal.rust_crypto.seal))
        .field("rustCryptoAesGcmOpenMiBps", round2(seal.rust_crypto.open))
        .field("smkSealMiBps", round2(seal.smk.seal))
        .field("smkSealShareOfRaw", round2(seal.smk.seal / seal.raw.seal))
        .field("smkOpenMiBps", round2(seal.smk.open))
        .field("smkOpenShareOfRaw", round2(seal.smk.open / seal.raw.open))
        .field("cmkSealMiBps", round2(seal.cmk.seal))
        .field(
            "cmkPerLayerShareOfRaw",
            round2(2.0 * seal.cmk.seal / seal.raw.seal),
        )
        .field("cmkOpenMiBps", round2(seal.cmk.open))
        .field(
            "cmkOpenPerLayerShareOfRaw",
            round2(2.0 * seal.cmk.open / seal.raw.open),
        )
        .list("workloads", workload::COLUMNS.to_vec(), rows);
    let report = match peer_rows {
        Some(rows) => report.sublist("peers", PEER_COLUMNS.to_vec(), rows),
        None => report,
    };
    if let Some(path) = args.chart {
        let caption = format!(
            "strata bench: CMK time overhead vs RU surcharge ({} items of {} B)",
            plan.items, plan.size
        );
        chart::write_svg(path, &caption, &bars)?;
    }
    if let Some(path) = args.report {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| CliError::internal(format!("cannot encode the report ({e})")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::internal(format!("cannot write {} ({e})", path.display())))?;
    }
    Ok(report)
}

/// The columns of the `peers` list (`--peers`): one row per peer and workload.
const PEER_COLUMNS: [&str; 9] = [
    "peer",
    "workload",
    "ops",
    "opsPerSec",
    "p50Us",
    "p99Us",
    "cpuUsPerOp",
    "smkOverPeer",
    "cmkOverPeer",
];

/// Runs the peers after Strata's workloads, in `root/peers` (removed with `root`), and returns
/// their rows, with the runs measured inside Strata's rounds (`interleaved`, after fjall's load),
/// and the Strata/peer ratios. Without the `peers` feature there are none (`run` refused
/// `--peers` before starting).
fn peer_rows(
    on: bool,
    plan: &Plan,
    selected: &[&str],
    root: &Path,
    rates: &Rates,
    interleaved: Interleaved,
) -> CliResult<Option<Vec<Vec<Value>>>> {
    #[cfg(feature = "peers")]
    if on {
        let mut runs = peers::run(plan, selected, &root.join("peers"))?;
        let at = runs
            .iter()
            .position(|r| r.peer == "fjall" && r.workload == "load")
            .map_or(0, |i| i + 1);
        runs.splice(at..at, interleaved);
        return Ok(Some(ratios::peer_rows(&runs, rates)));
    }
    #[cfg(not(feature = "peers"))]
    let _ = (on, plan, selected, root, rates, interleaved);
    Ok(None)
}

/// `--cache-mib`: each Strata store's block cache in bytes. The peers are measured with the
/// account default (`peers::CACHE_BYTES`), so another size with `--peers` would not be a
/// like-for-like run and is refused.
fn cache_bytes(mib: Option<usize>, peers: bool) -> CliResult<usize> {
    let default = default_cache_bytes();
    let Some(mib) = mib else {
        return Ok(default);
    };
    if !(1..=MAX_CACHE_MIB).contains(&mib) {
        return Err(CliError::bad_input(format!(
            "--cache-mib {mib}: choose 1 to {MAX_CACHE_MIB} MiB"
        )));
    }
    let bytes = mib << 20;
    if peers && bytes != default {
        return Err(CliError::bad_input(format!(
            "--cache-mib {mib} with --peers: the peers get {} MiB, the default; leave --cache-mib \
             out (or give {}) for a like-for-like run",
            default >> 20,
            default >> 20
        )));
    }
    Ok(bytes)
}

/// The account's default block cache (what `AccountOptions::new` sets), read from there so the
/// bench cannot drift from it.
fn default_cache_bytes() -> usize {
    strata_engine::AccountOptions::new("", "").cache_bytes
}

/// The largest `--cache-mib`: 64 GiB.
const MAX_CACHE_MIB: usize = 65_536;

/// `--stores`: which of the SMK and CMK stores run, in that order.
fn stores(arg: &str) -> CliResult<[bool; 2]> {
    match arg {
        "both" => Ok([true, true]),
        "smk" => Ok([true, false]),
        "cmk" => Ok([false, true]),
        other => Err(CliError::bad_input(format!(
            "--stores {other:?}: choose smk, cmk or both"
        ))),
    }
}

/// `--index-policy`: `default` is the bench's policy (every path but the padding), `none` is
/// `indexingMode: none`, anything else is a policy file read as `set-index-policy` reads it.
/// Returns the label the report shows and the policy.
fn index_policy(arg: &str) -> CliResult<(String, IndexingPolicy)> {
    let policy = match arg {
        "default" => IndexingPolicy::from_json(side::BENCH_POLICY)?,
        "none" => IndexingPolicy::from_json(NO_INDEX_POLICY)?,
        file => crate::commands::index::read_policy(Path::new(file))?,
    };
    Ok((arg.to_string(), policy))
}

/// Whether workload `name` needs a secondary index (a filtered query), so cannot run under
/// `indexingMode: none`.
fn needs_index(name: &str) -> bool {
    INDEXED_WORKLOADS.contains(&name)
}

/// The workloads to run. Without `--workloads`, all of them, less the indexed queries when the
/// container has no index (`unindexed`); naming an indexed query then is refused.
fn selected_workloads(list: Option<&str>, unindexed: bool) -> CliResult<Vec<&'static str>> {
    let Some(list) = list else {
        return Ok(WORKLOADS
            .iter()
            .copied()
            .filter(|w| !(unindexed && needs_index(w)))
            .collect());
    };
    let mut out = vec!["load"];
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let w = WORKLOADS.iter().find(|w| **w == name).ok_or_else(|| {
            CliError::bad_input(format!(
                "unknown workload {name:?}; choose from {}",
                WORKLOADS.join(", ")
            ))
        })?;
        if unindexed && needs_index(w) {
            return Err(CliError::bad_input(format!(
                "workload {name} filters on an indexed path, which --index-policy none does not \
                 have; leave it out of --workloads"
            )));
        }
        if !out.contains(w) {
            out.push(w);
        }
    }
    Ok(out)
}

/// `--write-threads`: at least one count, each between 1 and `MAX_WRITE_THREADS`, no repeats.
fn checked_threads(counts: &[usize]) -> CliResult<Vec<usize>> {
    let mut out: Vec<usize> = Vec::new();
    for n in counts {
        if !(1..=MAX_WRITE_THREADS).contains(n) {
            return Err(CliError::bad_input(format!(
                "--write-threads: {n} is not between 1 and {MAX_WRITE_THREADS}"
            )));
        }
        if !out.contains(n) {
            out.push(*n);
        }
    }
    if out.is_empty() {
        return Err(CliError::bad_input(
            "--write-threads needs at least one thread count",
        ));
    }
    Ok(out)
}

fn progress_bar(plan: &Plan, selected: &[&str], present: [bool; 2]) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let per_mode: usize = selected.iter().map(|w| workload::op_count(w, plan)).sum();
    let stores = present.iter().filter(|on| **on).count();
    let bar = ProgressBar::new((stores * per_mode) as u64);
    if let Ok(style) = ProgressStyle::with_template("{wide_bar} {pos}/{len} ops {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar
}

/// `1,2,4,8`: the thread counts as `--write-threads` takes them.
fn thread_list(counts: &[usize]) -> String {
    counts.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

/// The ops of round `round` when `total` ops are split into `rounds` rounds.
fn round_range(total: usize, rounds: usize, round: usize) -> std::ops::Range<usize> {
    let rounds = rounds.max(1);
    total * round / rounds..total * (round + 1) / rounds
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

fn round2(x: f64) -> f64 {
    if x.is_finite() {
        (x * 100.0).round() / 100.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_list_is_checked() {
        assert_eq!(
            selected_workloads(Some("query"), false).ok(),
            Some(vec!["load", "query"])
        );
        assert!(selected_workloads(Some("nope"), false).is_err());
        assert!(selected_workloads(Some("query-eq"), true).is_err());
        let unindexed = selected_workloads(None, true).unwrap_or_default();
        assert!(unindexed.contains(&"aggregate") && !unindexed.contains(&"query"));
    }

    #[test]
    fn cache_size_is_checked_and_kept_like_for_like_with_peers() {
        let default = default_cache_bytes();
        assert_eq!(cache_bytes(None, false).ok(), Some(default));
        assert_eq!(cache_bytes(None, true).ok(), Some(default));
        assert_eq!(cache_bytes(Some(256), false).ok(), Some(256 << 20));
        assert_eq!(cache_bytes(Some(default >> 20), true).ok(), Some(default));
        for (mib, peers) in [(0, false), (MAX_CACHE_MIB + 1, false), (256, true)] {
            let e = cache_bytes(Some(mib), peers).err();
            assert_eq!(e.as_ref().map(CliError::exit_code), Some(2), "{mib} {peers}");
            assert!(e.is_some_and(|e| e.to_string().contains("--cache-mib")));
        }
    }

    #[test]
    fn stores_are_checked() {
        assert_eq!(stores("both").ok(), Some([true, true]));
        assert_eq!(stores("smk").ok(), Some([true, false]));
        assert_eq!(stores("cmk").ok(), Some([false, true]));
        let e = stores("SMK").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("choose smk, cmk or both"), "{e}");
    }

    #[test]
    fn thread_counts_are_checked_and_deduplicated() {
        assert_eq!(checked_threads(&[1, 2, 2, 8]).ok(), Some(vec![1, 2, 8]));
        assert!(checked_threads(&[]).is_err());
        assert!(checked_threads(&[0]).is_err());
        assert!(checked_threads(&[MAX_WRITE_THREADS + 1]).is_err());
    }

    #[test]
    fn rounds_cover_every_op_once() {
        let ops: Vec<usize> = (0..3).flat_map(|r| round_range(10, 3, r)).collect();
        assert_eq!(ops, (0..10).collect::<Vec<_>>());
    }
}
