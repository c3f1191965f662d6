//! The peers of `strata bench --peers`: fjall (plaintext LSM), Strata's own key-value store
//! alone (`strata-lsm`, both seal layers, no engine above it) and SQLite, plain and SQLCipher,
//! on the same items and seeded keys as Strata: bulk load, warm and cold point reads, one peer
//! after another in one directory; and fjall's durable single writes, which bench/durable.rs runs
//! inside Strata's rounds through `fjall_durable_writer`. It must not touch Strata's accounts.
//! Behind the `peers` feature; see docs/bench.md.

mod fjall;
mod lsm;
mod sqlite;

use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::data::{id, item, pk, Rng};
use super::ratios::PeerRun;
use super::sample::{CpuMeter, Sample};
use super::sys::evict_page_cache;
use super::workload::{op_count, round_seed};
use super::{round_range, Plan, SEED};
use crate::error::{CliError, CliResult};

/// The cache each peer gets: Strata's default block cache (`AccountOptions::cache_bytes`).
const CACHE_BYTES: u64 = 64 << 20;
/// Ops built at a time outside the CPU-metered sections, as in Strata's workloads.
const CHUNK: usize = 256;

/// A store that can hold the bench items under (partition key, id).
trait Peer {
    /// Stores one item's JSON text.
    fn put(&mut self, pk: &str, id: &str, body: &[u8]) -> CliResult<()>;
    /// Makes the load durable (commits what is pending, syncs); timed as part of the load.
    fn finish_load(&mut self) -> CliResult<()>;
    /// The item, parsed, as Strata's `read_item` returns it.
    fn get(&mut self, pk: &str, id: &str) -> CliResult<Option<Value>>;
}

/// The key the key-value peers (fjall, strata-lsm) store an item under: `pk/id`.
fn key(pk: &str, id: &str) -> Vec<u8> {
    [pk.as_bytes(), b"/", id.as_bytes()].concat()
}

/// A durable single write of one item (pk, id, item) from any thread; returns its request charge
/// (none for a peer).
pub(super) type DurableWriter = Box<dyn Fn(&str, &str, &Value) -> CliResult<f64> + Sync>;

/// fjall in `dir` (created) as a durable writer: each item serialised (inside the timing, as
/// Strata serialises), inserted and its journal `fdatasync`ed before the call returns.
pub(super) fn fjall_durable_writer(dir: &Path) -> CliResult<DurableWriter> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::internal(format!("cannot create {} ({e})", dir.display())))?;
    let store = fjall::Fjall::open(dir)?;
    Ok(Box::new(move |pk: &str, id: &str, item: &Value| {
        let body =
            serde_json::to_vec(item).map_err(|e| CliError::internal(format!("cannot encode {id} ({e})")))?;
        store.put_durable(pk, id, &body).map(|()| 0.0)
    }))
}

/// Opens peer `name` in `dir`; `fresh` creates its tables (SQLite) rather than opening them.
fn open(name: &str, dir: &Path, fresh: bool) -> CliResult<Box<dyn Peer>> {
    Ok(match name {
        "fjall" => Box::new(fjall::Fjall::open(dir)?),
        "strata-lsm" => Box::new(lsm::Lsm::open(dir)?),
        "sqlite" => Box::new(sqlite::Sqlite::open(dir, None, fresh)?),
        _ => Box::new(sqlite::Sqlite::open(dir, Some(&raw_key()), fresh)?),
    })
}

/// Runs every peer on the selected workloads it has (load, `read-uniform`, `read-cold`) under
/// `dir`, in Strata's order; each peer's files are removed once it is done.
pub(super) fn run(plan: &Plan, selected: &[&str], dir: &Path) -> CliResult<Vec<PeerRun>> {
    let mut runs = Vec::new();
    for name in ["fjall", "strata-lsm", "sqlite", "sqlcipher"] {
        let path = dir.join(name);
        std::fs::create_dir_all(&path)
            .map_err(|e| CliError::internal(format!("cannot create {} ({e})", path.display())))?;
        let mut peer = open(name, &path, true)?;
        let mut record = |workload: String, sample: Sample| {
            runs.push(PeerRun {
                peer: name,
                workload,
                sample,
            })
        };
        record("load".into(), load(peer.as_mut(), plan)?);
        if name.starts_with("sql") && sqlite::has_plaintext_header(&path)? != (name == "sqlite") {
            return Err(CliError::internal(format!(
                "the {name} peer's database file is not what it should be (encrypted only with a key)"
            )));
        }
        if selected.contains(&"read-uniform") {
            record("read-uniform".into(), reads(peer.as_mut(), plan, "read-uniform")?);
        }
        if selected.contains(&"read-cold") {
            let mut cold = Sample::default();
            for round in 0..plan.rounds {
                drop(peer);
                evict_page_cache(&path).map_err(|e| {
                    CliError::internal(format!(
                        "cannot evict {} from the page cache ({e})",
                        path.display()
                    ))
                })?;
                peer = open(name, &path, false)?;
                read_round(peer.as_mut(), plan, "read-cold", round, &mut cold)?;
            }
            record("read-cold".into(), cold);
        }
        drop(peer);
        // Free the disk before the next peer; the whole directory goes with the bench's tempdir.
        let _ = std::fs::remove_dir_all(&path);
    }
    Ok(runs)
}

/// Items 0..plan.items in order; serialising the item is inside the timing, as in Strata's load.
fn load(peer: &mut dyn Peer, plan: &Plan) -> CliResult<Sample> {
    let mut s = Sample::default();
    let all: Vec<usize> = (0..plan.items).collect();
    for chunk in all.chunks(CHUNK) {
        let prepared: Vec<_> = chunk
            .iter()
            .map(|n| (item(*n, plan.size, 0), pk(*n), id(*n)))
            .collect();
        let meter = CpuMeter::start();
        for (item, pk, id) in prepared {
            s.time(|| {
                let body = serde_json::to_vec(&item)
                    .map_err(|e| CliError::internal(format!("cannot encode {id} ({e})")))?;
                peer.put(&pk, &id, &body)
            })?;
        }
        meter.stop_into(&mut s);
    }
    let t = Instant::now();
    let meter = CpuMeter::start();
    peer.finish_load()?;
    meter.stop_into(&mut s);
    s.extra += t.elapsed();
    Ok(s)
}

/// Every round of `workload`'s reads, with Strata's seeded keys.
fn reads(peer: &mut dyn Peer, plan: &Plan, workload: &str) -> CliResult<Sample> {
    let mut s = Sample::default();
    for round in 0..plan.rounds {
        read_round(peer, plan, workload, round, &mut s)?;
    }
    Ok(s)
}

/// Round `round` of `workload`'s uniform reads (the keys Strata read in that round).
fn read_round(
    peer: &mut dyn Peer,
    plan: &Plan,
    workload: &str,
    round: usize,
    s: &mut Sample,
) -> CliResult<()> {
    let mut rng = Rng::new(round_seed(workload, round));
    let meter = CpuMeter::start();
    for _ in round_range(op_count(workload, plan), plan.rounds, round) {
        let n = rng.below(plan.items);
        let (pk, id) = (pk(n), id(n));
        if s.time(|| peer.get(&pk, &id))?.is_none() {
            return Err(CliError::internal(format!("peer read of {id} returned no item")));
        }
    }
    meter.stop_into(s);
    Ok(())
}

/// Parses a stored body, as Strata's read does.
fn parse(body: &[u8]) -> CliResult<Value> {
    serde_json::from_slice(body).map_err(|e| CliError::internal(format!("a peer returned bad JSON ({e})")))
}

/// SQLCipher's raw 256-bit key as hex (seeded: the bench needs no secret, only encryption).
fn raw_key() -> String {
    let mut rng = Rng::new(SEED ^ 0x5c1f);
    (0..4).map(|_| format!("{:016x}", rng.next())).collect()
}
