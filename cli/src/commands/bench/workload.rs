//! Runs one workload under both modes, interleaved in rounds (A B, then B A, ...), with the same
//! seeded keys for both; each op is prepared (item built, key drawn) in chunks outside the timed
//! and CPU-metered sections. `read-cold` reopens each account cold before its share of a round.
//! Turns the samples into report rows. It must not print; durable writes are in durable.rs.

use std::time::Instant;

use indicatif::ProgressBar;
use serde_json::{json, Value};
use strata_engine::{ChangeFeedOptions, ChangeFeedStart, Durability, ItemOptions, QueryOptions};

use super::data::{id, item, pk, scatter, Rng, Zipf};
use super::sample::Sample;
use super::side::{present, Side, Sides};
use super::{round2, round_range, Mode, Plan, GROUPS, SEED, ZIPF_S};
use crate::error::{CliError, CliResult};

const QUERY: &str = "SELECT * FROM c WHERE c.grp >= @lo AND c.grp < @hi ORDER BY c.n";
/// The indexed equality query: `tenth` is `n / 10`, so it returns 10 items at any item count.
const QUERY_EQ: &str = "SELECT * FROM c WHERE c.tenth = @t";
/// Equality queries per query op of the other query workloads.
pub(super) const EQ_QUERIES_PER_QUERY: usize = 25;
/// The aggregate workload: a grouped count and average over every item.
const AGGREGATE: &str = "SELECT c.grp % 10 AS g, COUNT(1) AS n, AVG(c.n) AS a FROM c GROUP BY c.grp % 10";
/// Items per change-feed page in the feed workload.
const FEED_PAGE: usize = 1000;
/// Ops prepared at a time before they run: bounds the memory of prebuilt items.
const CHUNK: usize = 256;
/// Mixed into the seed of the cold reads, so they do not repeat `read-uniform`'s keys.
pub(super) const COLD_SEED: u64 = 0xc01d;

/// Ops per mode of workload `name` (all rounds together). `write` has its own count per thread
/// count (`plan.writes`).
pub(super) fn op_count(name: &str, plan: &Plan) -> usize {
    match name {
        "load" => plan.items,
        "write" => plan.writes * plan.write_threads.len(),
        "read-uniform" | "read-zipf" => plan.reads,
        "read-cold" => plan.cold_reads,
        "replace" => plan.replaces,
        "query-eq" => plan.queries * EQ_QUERIES_PER_QUERY,
        _ => plan.queries,
    }
}

/// The seed of `name`'s keys in round `round` (the same for both modes and for the peers).
pub(super) fn round_seed(name: &str, round: usize) -> u64 {
    let seed = SEED ^ round as u64;
    if name == "read-cold" {
        seed ^ COLD_SEED
    } else {
        seed
    }
}

/// Runs workload `name` (not `write`) and returns the SMK and CMK samples (a store the run left
/// out keeps an empty sample).
pub(super) fn run(name: &str, plan: &Plan, sides: &mut Sides, bar: &ProgressBar) -> CliResult<[Sample; 2]> {
    let total = op_count(name, plan);
    let zipf = (name == "read-zipf").then(|| Zipf::new(plan.items, ZIPF_S));
    let mut samples = [Sample::default(), Sample::default()];
    for round in 0..plan.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            if name == "read-cold" {
                if let Some(side) = sides[i].take() {
                    sides[i] = Some(side.reopen_cold()?);
                }
            }
            let Some(side) = present(sides, i) else {
                continue;
            };
            // Both modes get the same sequence of keys in a round.
            let mut rng = Rng::new(round_seed(name, round));
            let ops: Vec<usize> = round_range(total, plan.rounds, round).collect();
            for chunk in ops.chunks(CHUNK) {
                let prepared: Vec<Op> = chunk
                    .iter()
                    .map(|op| prepare(name, plan, *op, &mut rng, zipf.as_ref()))
                    .collect();
                samples[i].with_cpu_and_crypto(&side.account, |s| -> CliResult<()> {
                    for op in prepared {
                        execute(op, plan, side, s)?;
                    }
                    Ok(())
                })?;
                bar.inc(chunk.len() as u64);
            }
        }
    }
    if name == "load" {
        for (side, sample) in sides.iter().zip(samples.iter_mut()) {
            let Some(side) = side else { continue };
            let t = Instant::now();
            sample.with_cpu_and_crypto(&side.account, |_| side.account.flush())?;
            sample.extra += t.elapsed();
        }
    }
    Ok(samples)
}

/// One operation with its inputs built.
enum Op {
    Load { pk: String, item: Value },
    Read { pk: String, id: String },
    Replace { pk: String, item: Value },
    QueryEq { t: usize },
    Query { lo: usize },
    Aggregate,
    Feed,
}

/// Builds op number `op` of workload `name`, drawing its keys from `rng`.
fn prepare(name: &str, plan: &Plan, op: usize, rng: &mut Rng, zipf: Option<&Zipf>) -> Op {
    match name {
        "load" => Op::Load {
            pk: pk(op),
            item: item(op, plan.size, 0),
        },
        "read-uniform" | "read-zipf" | "read-cold" => {
            let n = match zipf {
                Some(z) => scatter(z.sample(rng), plan.items),
                None => rng.below(plan.items),
            };
            Op::Read { pk: pk(n), id: id(n) }
        }
        "replace" => {
            let n = rng.below(plan.items);
            Op::Replace {
                pk: pk(n),
                item: item(n, plan.size, op + 1),
            }
        }
        "query-eq" => Op::QueryEq {
            t: rng.below(plan.items.div_ceil(10).max(1)),
        },
        "aggregate" => Op::Aggregate,
        "feed" => Op::Feed,
        _ => Op::Query {
            lo: rng.below(GROUPS - 10),
        },
    }
}

/// Runs one prepared op, timing it into `s` and adding its request charge.
fn execute(op: Op, plan: &Plan, side: &Side, s: &mut Sample) -> CliResult<()> {
    let buffered = ItemOptions::default().with_durability(Durability::Buffered);
    let c = &side.items;
    let charge = match op {
        Op::Load { pk, item } => {
            s.time(|| c.create_item_with(pk, &item, &buffered))?
                .request_charge
        }
        Op::Read { pk, id } => {
            let r = s.time(|| c.read_item::<Value>(pk, &id))?;
            if r.item.is_none() {
                return Err(CliError::internal(format!("bench read of {id} returned no item")));
            }
            r.request_charge
        }
        Op::Replace { pk, item } => {
            s.time(|| c.replace_item_with(pk, &item, &buffered))?
                .request_charge
        }
        Op::QueryEq { t } => {
            let params = [("@t".to_string(), json!(t))];
            let r = s.time(|| c.query_items(QUERY_EQ, &params, &QueryOptions::default()))?;
            let want = plan.items.min(t * 10 + 10).saturating_sub(t * 10);
            if r.items.len() != want {
                return Err(CliError::internal(format!(
                    "bench equality query for tenth = {t} returned {} items, not {want}",
                    r.items.len()
                )));
            }
            r.request_charge
        }
        Op::Aggregate => {
            let opts = QueryOptions::default();
            s.time(|| c.query_items(AGGREGATE, &[], &opts))?.request_charge
        }
        Op::Feed => {
            // One op: the whole latest-version feed from the beginning, page by page.
            let mut opts = ChangeFeedOptions {
                max_item_count: FEED_PAGE,
                ..ChangeFeedOptions::default()
            };
            let mut charge = 0.0;
            let mut seen = 0;
            s.time(|| loop {
                let page = c.read_change_feed(&opts)?;
                charge += page.request_charge;
                if page.status_code == 304 {
                    return Ok::<(), strata_engine::Error>(());
                }
                seen += page.items.len();
                opts.start = ChangeFeedStart::Continuation(page.continuation);
            })?;
            if seen < plan.items {
                return Err(CliError::internal(format!(
                    "bench feed read {seen} items of at least {}",
                    plan.items
                )));
            }
            charge
        }
        Op::Query { lo } => {
            let params = [
                ("@lo".to_string(), json!(lo)),
                ("@hi".to_string(), json!(lo + 10)),
            ];
            let opts = QueryOptions {
                max_item_count: Some(plan.items + op_count("write", plan) + 1),
                ..QueryOptions::default()
            };
            s.time(|| c.query_items(QUERY, &params, &opts))?.request_charge
        }
    };
    s.charge += charge;
    Ok(())
}

/// The published RU surcharge of CMK for a workload (docs/ru-model.md), in percent.
pub(super) fn published_surcharge(name: &str) -> f64 {
    match name {
        "query" | "query-eq" | "query-paging" | "query-order-paging" | "query-range-paging"
        | "query-group-paging" | "aggregate" | "feed" => 15.0,
        // The rows of `query-paging`: `query-page1`, `query-page50` (or the last page's number),
        // of `query-order-paging`: `query-order-desc-page1`, ..., of `query-range-paging`:
        // `query-range-page1`, ..., and of `query-group-paging`.
        n if n.starts_with("query-page")
            || n.starts_with("query-order-")
            || n.starts_with("query-range-")
            || n.starts_with("query-group-") =>
        {
            15.0
        }
        "read-uniform" | "read-zipf" | "read-cold" => 5.0,
        _ => 6.0,
    }
}

/// The columns of the `workloads` list, in row order.
pub(super) const COLUMNS: [&str; 18] = [
    "workload",
    "mode",
    "ops",
    "opsPerSec",
    "p50Us",
    "p99Us",
    "p999Us",
    "cpuUsPerOp",
    "fgCpuUsPerOp",
    "cryptoUsPerOp",
    "cryptoShareOfCpu",
    "cacheHitPct",
    "ruPerOp",
    "overheadPct",
    "ruSurchargePct",
    "publishedSurchargePct",
    "rssMiB",
    "anonMiB",
];

/// The SMK and CMK rows of one workload, for the stores in `present` (SMK, CMK); the CMK row
/// carries the measured overhead when the SMK store ran too (null otherwise: there is nothing to
/// compare with). `mem` is the resident set and its anonymous part after the workload (every
/// store), in MiB, when known.
pub(super) fn rows(
    name: &str,
    samples: &[Sample; 2],
    present: [bool; 2],
    mem: Option<(f64, f64)>,
) -> Vec<Vec<Value>> {
    let ru = |s: &Sample| s.charge / s.nanos.len().max(1) as f64;
    let smk_rate = samples[0].ops_per_sec();
    let smk_ru = ru(&samples[0]);
    [Mode::Smk, Mode::Cmk]
        .iter()
        .zip(samples)
        .zip(present)
        .filter(|(_, on)| *on)
        .map(|((mode, s), _)| {
            let sorted = s.sorted();
            let (overhead, surcharge, pubd) = match mode {
                Mode::Cmk if !present[0] => (Value::Null, Value::Null, Value::Null),
                Mode::Smk => (Value::Null, Value::Null, Value::Null),
                Mode::Cmk => (
                    json!(round2((smk_rate / s.ops_per_sec() - 1.0) * 100.0)),
                    json!(round2((ru(s) / smk_ru.max(1e-12) - 1.0) * 100.0)),
                    json!(published_surcharge(name)),
                ),
            };
            vec![
                json!(name),
                json!(mode.label()),
                json!(s.nanos.len()),
                json!(round2(s.ops_per_sec())),
                json!(round2(Sample::percentile_us(&sorted, 0.50))),
                json!(round2(Sample::percentile_us(&sorted, 0.99))),
                json!(round2(Sample::percentile_us(&sorted, 0.999))),
                json!(round2(s.cpu_us_per_op())),
                json!(round2(s.fg_cpu_us_per_op())),
                json!(round2(s.crypto_us_per_op())),
                // A share, not a time: four places, so that 0.3% does not print as 0.
                json!(s.crypto_share().map(|x| (x * 1e4).round() / 1e4)),
                json!(s.cache_hit_pct().map(round2)),
                json!(round2(ru(s))),
                overhead,
                surcharge,
                pubd,
                json!(mem.map(|m| round2(m.0))),
                json!(mem.map(|m| round2(m.1))),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_row_has_every_column_and_a_published_surcharge() {
        for w in super::super::WORKLOADS {
            let rows = rows(
                w,
                &[Sample::default(), Sample::default()],
                [true; 2],
                Some((2.0, 1.0)),
            );
            assert_eq!(rows[1].len(), COLUMNS.len(), "{w}");
            let want = match w {
                "query" | "query-eq" | "query-paging" | "query-order-paging" | "query-range-paging"
                | "query-group-paging" | "aggregate" | "feed" => 15.0,
                "read-uniform" | "read-zipf" | "read-cold" => 5.0,
                _ => 6.0,
            };
            let at = COLUMNS.iter().position(|c| *c == "publishedSurchargePct");
            assert_eq!(at.map(|i| &rows[1][i]), Some(&json!(want)), "{w}");
        }
    }

    #[test]
    fn a_store_run_alone_has_its_row_only_and_no_overhead() {
        let s = || Sample {
            nanos: vec![1_000; 4],
            charge: 4.0,
            ..Sample::default()
        };
        let mode = |r: &Vec<Value>| r[1].clone();
        let overhead = COLUMNS.iter().position(|c| *c == "overheadPct").unwrap_or(0);
        let cmk = rows("read-uniform", &[Sample::default(), s()], [false, true], None);
        assert_eq!(cmk.iter().map(mode).collect::<Vec<_>>(), [json!("CMK")]);
        assert_eq!(cmk[0][overhead], Value::Null);
        assert_eq!(cmk[0][2], json!(4));
        let smk = rows("read-uniform", &[s(), Sample::default()], [true, false], None);
        assert_eq!(smk.iter().map(mode).collect::<Vec<_>>(), [json!("SMK")]);
        let both = rows("read-uniform", &[s(), s()], [true, true], None);
        assert_eq!(both[1][overhead], json!(0.0));
    }

    #[test]
    fn cold_reads_use_their_own_keys() {
        assert_eq!(round_seed("read-uniform", 1), round_seed("read-zipf", 1));
        assert_ne!(round_seed("read-uniform", 1), round_seed("read-cold", 1));
    }
}
