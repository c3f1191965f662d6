//! The peers of `strata bench --peers`: fjall (plaintext LSM) and SQLite, plain and SQLCipher,
//! bulk-loading and point-reading the same items as Strata's `load` and `read-uniform` (same ids,
//! partition keys, JSON bodies and seeded key sequence), one peer after another in one
//! directory. It must not touch Strata's accounts. Behind the `peers` feature; see docs/bench.md.

mod fjall;
mod sqlite;

use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::ratios::PeerRun;
use super::{id, item, pk, round_range, Plan, Rng, Sample, SEED};
use crate::error::{CliError, CliResult};

/// The cache each peer gets: Strata's default block cache (`AccountOptions::cache_bytes`).
const CACHE_BYTES: u64 = 64 << 20;

/// A store that can hold the bench items under (partition key, id).
trait Peer {
    /// Stores one item's JSON text.
    fn put(&mut self, pk: &str, id: &str, body: &[u8]) -> CliResult<()>;
    /// Makes the load durable (commits what is pending, syncs); timed as part of the load.
    fn finish_load(&mut self) -> CliResult<()>;
    /// The item, parsed, as Strata's `read_item` returns it.
    fn get(&mut self, pk: &str, id: &str) -> CliResult<Option<Value>>;
}

/// Runs every peer on `load` (and `read-uniform` when selected) under `dir`; each peer's files
/// are removed once it is done.
pub(super) fn run(plan: &Plan, selected: &[&str], dir: &Path) -> CliResult<Vec<PeerRun>> {
    let mut runs = Vec::new();
    for name in ["fjall", "sqlite", "sqlcipher"] {
        let path = dir.join(name);
        std::fs::create_dir_all(&path)
            .map_err(|e| CliError::internal(format!("cannot create {} ({e})", path.display())))?;
        let mut peer: Box<dyn Peer> = match name {
            "fjall" => Box::new(fjall::Fjall::open(&path)?),
            "sqlite" => Box::new(sqlite::Sqlite::open(&path, None)?),
            _ => Box::new(sqlite::Sqlite::open(&path, Some(&raw_key()))?),
        };
        runs.push(PeerRun {
            peer: name,
            workload: "load",
            sample: load(peer.as_mut(), plan)?,
        });
        if name != "fjall" && sqlite::has_plaintext_header(&path)? != (name == "sqlite") {
            return Err(CliError::internal(format!(
                "the {name} peer's database file is not what it should be (encrypted only with a key)"
            )));
        }
        if selected.contains(&"read-uniform") {
            runs.push(PeerRun {
                peer: name,
                workload: "read-uniform",
                sample: read_uniform(peer.as_mut(), plan)?,
            });
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
    for n in 0..plan.items {
        let (item, pk, id) = (item(n, plan.size, 0), pk(n), id(n));
        s.time(|| {
            let body = serde_json::to_vec(&item)
                .map_err(|e| CliError::internal(format!("cannot encode {id} ({e})")))?;
            peer.put(&pk, &id, &body)
        })?;
    }
    let t = Instant::now();
    peer.finish_load()?;
    s.extra += t.elapsed();
    Ok(s)
}

/// The same rounds and seeded keys as Strata's `read-uniform`.
fn read_uniform(peer: &mut dyn Peer, plan: &Plan) -> CliResult<Sample> {
    let mut s = Sample::default();
    for round in 0..plan.rounds {
        let mut rng = Rng::new(SEED ^ round as u64);
        for _ in round_range(plan.reads, plan.rounds, round) {
            let n = rng.below(plan.items);
            let (pk, id) = (pk(n), id(n));
            if s.time(|| peer.get(&pk, &id))?.is_none() {
                return Err(CliError::internal(format!("peer read of {id} returned no item")));
            }
        }
    }
    Ok(s)
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
