//! `strata bench`: the encryption-overhead harness. In a temporary directory it creates one
//! service-managed (SMK) and one customer-managed (CMK) account and runs each workload under both,
//! interleaved in rounds (A B, then B A, ...), so the CMK overhead is a ratio measured side by
//! side. Also measures raw AES-256-GCM (`ring`) on 16 KiB blocks and the engine's `FileCipher`
//! against it. With `--peers` (cargo feature `peers`), also fjall and SQLite/SQLCipher over the
//! same items (bench/peers.rs). Public engine API only; see docs/bench.md for the columns.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde_json::{json, Value};
use strata_engine::crypto::{BlockKind, FileKind};
use strata_engine::{
    Account, AccountOptions, ChangeFeedOptions, ChangeFeedStart, CipherSuite, Container, ContainerOptions,
    Durability, Encryption, IndexingPolicy, ItemOptions, LocalVault, QueryOptions,
};

use crate::args::Globals;
use crate::error::{CliError, CliResult};
use crate::output::Report;

#[cfg(feature = "peers")]
mod peers;
#[cfg(any(test, feature = "peers"))]
mod ratios;

/// Every workload, in the order they run. `load` always runs: the others need its items.
pub const WORKLOADS: [&str; 9] = [
    "load",
    "write",
    "read-uniform",
    "read-zipf",
    "replace",
    "query-eq",
    "query",
    "aggregate",
    "feed",
];
/// The block size the engine seals segment data in.
const BLOCK: usize = 16 * 1024;
const KEY_BITS: usize = 2048;
const PARTITIONS: usize = 100;
/// `grp` takes this many values; the query selects 10 of them (1% of the items).
const GROUPS: usize = 1000;
const QUERY: &str = "SELECT * FROM c WHERE c.grp >= @lo AND c.grp < @hi ORDER BY c.n";
/// The indexed equality query: `tenth` is `n / 10`, so it returns 10 items at any item count.
const QUERY_EQ: &str = "SELECT * FROM c WHERE c.tenth = @t";
/// Equality queries per query op of the other query workloads.
const EQ_QUERIES_PER_QUERY: usize = 25;
/// The bench container's indexing policy: everything but the padding (a user would not index
/// a blob of filler either; it would add a 512-byte entry per item).
const BENCH_POLICY: &str = r#"{"includedPaths": [{"path": "/*"}], "excludedPaths": [{"path": "/pad/?"}]}"#;
/// The aggregate workload: a grouped count and average over every item.
const AGGREGATE: &str = "SELECT c.grp % 10 AS g, COUNT(1) AS n, AVG(c.n) AS a FROM c GROUP BY c.grp % 10";
/// Items per change-feed page in the feed workload.
const FEED_PAGE: usize = 1000;
const ZIPF_S: f64 = 0.99;
const SEED: u64 = 0x5eed_b3c4;

/// What `strata bench` was asked to do.
pub struct BenchArgs<'a> {
    pub items: usize,
    pub size: usize,
    pub quick: bool,
    pub report: Option<&'a Path>,
    pub workloads: Option<&'a str>,
    /// Also run the peers (fjall, SQLite, SQLCipher); an error unless built with `--features peers`.
    pub peers: bool,
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
    writes: usize,
    reads: usize,
    replaces: usize,
    queries: usize,
    seal_time: Duration,
}

impl Plan {
    fn new(items: usize, size: usize, quick: bool) -> Plan {
        if quick {
            Plan {
                items: items.min(2_000),
                size,
                rounds: 2,
                writes: 20,
                reads: 2_000,
                replaces: 200,
                queries: 2,
                seal_time: Duration::from_millis(30),
            }
        } else {
            Plan {
                items,
                size,
                rounds: 4,
                writes: 1_000,
                reads: items.clamp(1, 200_000),
                replaces: items.clamp(1, 50_000),
                queries: 8,
                seal_time: Duration::from_millis(500),
            }
        }
    }
}

/// The measurements of one workload under one mode.
#[derive(Default)]
struct Sample {
    nanos: Vec<u64>,
    /// Time spent outside the per-op timings that belongs to the workload (the load's flush).
    extra: Duration,
    charge: f64,
}

impl Sample {
    fn time<T, E: Into<CliError>>(&mut self, f: impl FnOnce() -> Result<T, E>) -> CliResult<T> {
        let t = Instant::now();
        let r = f();
        self.nanos.push(t.elapsed().as_nanos() as u64);
        r.map_err(Into::into)
    }

    fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.iter().sum()) + self.extra
    }

    fn ops_per_sec(&self) -> f64 {
        self.nanos.len() as f64 / self.total().as_secs_f64().max(1e-9)
    }

    /// The op durations, sorted for `percentile_us`.
    fn sorted(&self) -> Vec<u64> {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        sorted
    }

    fn percentile_us(sorted: &[u64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let i = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[i] as f64 / 1000.0
    }
}

/// One mode's account and container.
struct Side {
    account: Account,
    items: Container,
    data: std::path::PathBuf,
}

/// Runs the benchmark and returns its report (also written to `--report` when given).
pub fn run(g: &Globals, args: &BenchArgs) -> CliResult<Report> {
    if args.items == 0 {
        return Err(CliError::bad_input("--items must be at least 1"));
    }
    let selected = selected_workloads(args.workloads)?;
    if args.peers && !cfg!(feature = "peers") {
        return Err(CliError::bad_input(
            "--peers needs a build with the peers feature: cargo build --release -p strata-cli --features peers",
        ));
    }
    let plan = Plan::new(args.items, args.size, args.quick);
    let tmp = tempfile::Builder::new()
        .prefix("strata-bench-")
        .tempdir()
        .map_err(|e| {
            CliError::internal(format!(
                "cannot create a temporary directory ({e}); set TMPDIR to a writable directory"
            ))
        })?;
    let sides = [side(g, tmp.path(), Mode::Smk)?, side(g, tmp.path(), Mode::Cmk)?];
    let bar = progress_bar(&plan, &selected);
    let mut rows = Vec::new();
    let mut disk = [0u64; 2];
    // Strata's SMK and CMK ops/s per workload, for the peer ratios.
    let mut rates: Vec<(&str, [f64; 2])> = Vec::new();
    for name in WORKLOADS.iter().filter(|w| selected.contains(w)) {
        bar.set_message(*name);
        let samples = run_workload(name, &plan, &sides, &bar)?;
        if *name == "load" {
            for (d, s) in disk.iter_mut().zip(&sides) {
                *d = dir_bytes(&s.data);
            }
        }
        rates.push((name, [samples[0].ops_per_sec(), samples[1].ops_per_sec()]));
        rows.extend(workload_rows(name, &samples));
    }
    bar.finish_and_clear();
    drop(sides);
    let peer_rows = peer_rows(args.peers, &plan, &selected, tmp.path(), &rates)?;
    let seal = seal_reference(plan.seal_time);

    let report = Report::new(200)
        .field("items", plan.items)
        .field("itemBytes", plan.size)
        .field("quick", args.quick)
        .field("rounds", plan.rounds)
        .field("smkDiskBytes", disk[0])
        .field("cmkDiskBytes", disk[1])
        .field("rawAesGcmMiBps", round2(seal.raw))
        .field("smkSealMiBps", round2(seal.smk))
        .field("smkSealShareOfRaw", round2(seal.smk / seal.raw))
        .field("cmkSealMiBps", round2(seal.cmk))
        .field("cmkPerLayerShareOfRaw", round2(2.0 * seal.cmk / seal.raw))
        .list(
            "workloads",
            vec![
                "workload",
                "mode",
                "ops",
                "opsPerSec",
                "p50Us",
                "p99Us",
                "p999Us",
                "ruPerOp",
                "overheadPct",
                "ruSurchargePct",
                "publishedSurchargePct",
            ],
            rows,
        );
    let report = match peer_rows {
        Some(rows) => report.sublist("peers", PEER_COLUMNS.to_vec(), rows),
        None => report,
    };
    if let Some(path) = args.report {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| CliError::internal(format!("cannot encode the report ({e})")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::internal(format!("cannot write {} ({e})", path.display())))?;
    }
    Ok(report)
}

/// The columns of the `peers` list (`--peers`): one row per peer and workload.
const PEER_COLUMNS: [&str; 8] = [
    "peer",
    "workload",
    "ops",
    "opsPerSec",
    "p50Us",
    "p99Us",
    "smkOverPeer",
    "cmkOverPeer",
];

/// Strata's SMK and CMK ops/s of one workload.
type Rates<'a> = [(&'a str, [f64; 2])];

/// Runs the peers after Strata's workloads, in `root/peers` (removed with `root`), and returns
/// their rows with the Strata/peer ratios. Without the `peers` feature there are none (`run`
/// refused `--peers` before starting).
fn peer_rows(
    on: bool,
    plan: &Plan,
    selected: &[&str],
    root: &Path,
    rates: &Rates,
) -> CliResult<Option<Vec<Vec<Value>>>> {
    #[cfg(feature = "peers")]
    if on {
        let runs = peers::run(plan, selected, &root.join("peers"))?;
        return Ok(Some(ratios::peer_rows(&runs, rates)));
    }
    #[cfg(not(feature = "peers"))]
    let _ = (on, plan, selected, root, rates);
    Ok(None)
}

fn selected_workloads(list: Option<&str>) -> CliResult<Vec<&'static str>> {
    let Some(list) = list else {
        return Ok(WORKLOADS.to_vec());
    };
    let mut out = vec!["load"];
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let w = WORKLOADS.iter().find(|w| **w == name).ok_or_else(|| {
            CliError::bad_input(format!(
                "unknown workload {name:?}; choose from {}",
                WORKLOADS.join(", ")
            ))
        })?;
        if !out.contains(w) {
            out.push(w);
        }
    }
    Ok(out)
}

fn side(g: &Globals, root: &Path, mode: Mode) -> CliResult<Side> {
    let dir = root.join(mode.label().to_lowercase());
    let data = dir.join("data");
    let opts = AccountOptions::new(&data, dir.join("home")).durability(g.durability.into());
    let encryption = match mode {
        Mode::Smk => Encryption::ServiceManaged,
        Mode::Cmk => {
            let vault = LocalVault::open(&opts.vault_dir())?;
            let uri = vault.create_key("bench-key", KEY_BITS)?;
            Encryption::CustomerManaged {
                key_uri: uri.to_string(),
            }
        }
    };
    let account = Account::create(opts, "bench", encryption)?;
    let items = account.create_database("bench")?.create_container_with(
        "items",
        "/pk",
        ContainerOptions {
            indexing_policy: Some(IndexingPolicy::from_json(BENCH_POLICY)?),
            ..ContainerOptions::default()
        },
    )?;
    Ok(Side { account, items, data })
}

fn progress_bar(plan: &Plan, selected: &[&str]) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let per_mode: usize = selected
        .iter()
        .map(|w| match *w {
            "load" => plan.items,
            "write" => plan.writes,
            "read-uniform" | "read-zipf" => plan.reads,
            "replace" => plan.replaces,
            "query-eq" => plan.queries * EQ_QUERIES_PER_QUERY,
            _ => plan.queries,
        })
        .sum();
    let bar = ProgressBar::new(2 * per_mode as u64);
    if let Ok(style) = ProgressStyle::with_template("{wide_bar} {pos}/{len} ops {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar
}

/// Runs one workload under both modes in `plan.rounds` rounds, alternating which mode goes
/// first, and returns the SMK and CMK samples.
fn run_workload(name: &str, plan: &Plan, sides: &[Side; 2], bar: &ProgressBar) -> CliResult<[Sample; 2]> {
    let total = match name {
        "load" => plan.items,
        "write" => plan.writes,
        "read-uniform" | "read-zipf" => plan.reads,
        "replace" => plan.replaces,
        "query-eq" => plan.queries * EQ_QUERIES_PER_QUERY,
        _ => plan.queries,
    };
    let zipf = (name == "read-zipf").then(|| Zipf::new(plan.items, ZIPF_S));
    let mut samples = [Sample::default(), Sample::default()];
    for round in 0..plan.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            // Both modes get the same sequence of keys in a round.
            let mut rng = Rng::new(SEED ^ round as u64);
            let (side, sample) = (&sides[i], &mut samples[i]);
            for op in round_range(total, plan.rounds, round) {
                step(name, plan, side, sample, op, &mut rng, zipf.as_ref())?;
                bar.inc(1);
            }
        }
    }
    if name == "load" {
        for (side, sample) in sides.iter().zip(samples.iter_mut()) {
            let t = Instant::now();
            side.account.flush()?;
            sample.extra += t.elapsed();
        }
    }
    Ok(samples)
}

/// The ops of round `round` when `total` ops are split into `rounds` rounds.
fn round_range(total: usize, rounds: usize, round: usize) -> std::ops::Range<usize> {
    let rounds = rounds.max(1);
    total * round / rounds..total * (round + 1) / rounds
}

/// One operation of workload `name`.
fn step(
    name: &str,
    plan: &Plan,
    side: &Side,
    s: &mut Sample,
    op: usize,
    rng: &mut Rng,
    zipf: Option<&Zipf>,
) -> CliResult<()> {
    let buffered = ItemOptions::default().with_durability(Durability::Buffered);
    let c = &side.items;
    let charge = match name {
        "load" => {
            let item = item(op, plan.size, 0);
            s.time(|| c.create_item_with(pk(op), &item, &buffered))?
                .request_charge
        }
        "write" => {
            let n = plan.items + op;
            let item = item(n, plan.size, 0);
            let sync = ItemOptions::default().with_durability(Durability::Sync);
            s.time(|| c.create_item_with(pk(n), &item, &sync))?.request_charge
        }
        "read-uniform" | "read-zipf" => {
            let n = match zipf {
                Some(z) => scatter(z.sample(rng), plan.items),
                None => rng.below(plan.items),
            };
            let id = id(n);
            let r = s.time(|| c.read_item::<Value>(pk(n), &id))?;
            if r.item.is_none() {
                return Err(CliError::internal(format!("bench read of {id} returned no item")));
            }
            r.request_charge
        }
        "replace" => {
            let n = rng.below(plan.items);
            let item = item(n, plan.size, op + 1);
            s.time(|| c.replace_item_with(pk(n), &item, &buffered))?
                .request_charge
        }
        "query-eq" => {
            let t = rng.below(plan.items.div_ceil(10).max(1));
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
        "aggregate" => {
            let opts = QueryOptions::default();
            s.time(|| c.query_items(AGGREGATE, &[], &opts))?.request_charge
        }
        "feed" => {
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
        _ => {
            let lo = rng.below(GROUPS - 10);
            let params = [
                ("@lo".to_string(), json!(lo)),
                ("@hi".to_string(), json!(lo + 10)),
            ];
            let opts = QueryOptions {
                max_item_count: Some(plan.items + plan.writes + 1),
                ..QueryOptions::default()
            };
            s.time(|| c.query_items(QUERY, &params, &opts))?.request_charge
        }
    };
    s.charge += charge;
    Ok(())
}

/// The SMK and CMK rows of one workload; the CMK row carries the measured overhead.
fn workload_rows(name: &str, samples: &[Sample; 2]) -> Vec<Vec<Value>> {
    let published = match name {
        "query" | "query-eq" | "aggregate" | "feed" => 15.0,
        "read-uniform" | "read-zipf" => 5.0,
        _ => 6.0,
    };
    let ru = |s: &Sample| s.charge / s.nanos.len().max(1) as f64;
    let smk_rate = samples[0].ops_per_sec();
    let smk_ru = ru(&samples[0]);
    [Mode::Smk, Mode::Cmk]
        .iter()
        .zip(samples)
        .map(|(mode, s)| {
            let sorted = s.sorted();
            let (overhead, surcharge, pubd) = match mode {
                Mode::Smk => (Value::Null, Value::Null, Value::Null),
                Mode::Cmk => (
                    json!(round2((smk_rate / s.ops_per_sec() - 1.0) * 100.0)),
                    json!(round2((ru(s) / smk_ru.max(1e-12) - 1.0) * 100.0)),
                    json!(published),
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
                json!(round2(ru(s))),
                overhead,
                surcharge,
                pubd,
            ]
        })
        .collect()
}

/// Throughput in MiB/s of raw `ring` AES-256-GCM and of the engine's file cipher (one and two
/// layers), sealing 16 KiB blocks.
struct Seal {
    raw: f64,
    smk: f64,
    cmk: f64,
}

fn seal_reference(budget: Duration) -> Seal {
    let mut key_bytes = [0u8; 32];
    let mut rng = Rng::new(SEED);
    for b in key_bytes.iter_mut() {
        *b = rng.next() as u8;
    }
    let raw = match UnboundKey::new(&AES_256_GCM, &key_bytes) {
        Ok(k) => {
            let key = LessSafeKey::new(k);
            let mut buf = vec![0x5a_u8; BLOCK];
            let mut counter = 0u64;
            throughput(budget, || {
                buf.truncate(BLOCK);
                counter += 1;
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&counter.to_be_bytes());
                // Sealing a buffer of this size cannot fail.
                let _ = key.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from([0u8; 26]),
                    &mut buf,
                );
            })
        }
        Err(_) => 0.0,
    };
    let file = |layers: bool| {
        let (cipher, _salt) = CipherSuite::ephemeral(layers).new_file(FileKind::Segment, 1);
        let mut buf = vec![0x5a_u8; BLOCK];
        let mut block_no = 0u64;
        throughput(budget, || {
            buf.truncate(BLOCK);
            block_no += 1;
            // An ephemeral suite always holds its keys, so the seal is never refused.
            if let Ok(sealed) = cipher.seal(block_no, BlockKind::Data, std::mem::take(&mut buf)) {
                buf = sealed;
            }
        })
    };
    Seal {
        raw,
        smk: file(false),
        cmk: file(true),
    }
}

/// MiB/s of `f` sealing one `BLOCK` per call, run for about `budget`.
fn throughput(budget: Duration, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < budget || n == 0 {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    (n as f64 * BLOCK as f64) / (1024.0 * 1024.0) / t.elapsed().as_secs_f64()
}

fn id(n: usize) -> String {
    format!("it-{n:09}")
}

fn pk(n: usize) -> String {
    format!("p-{:03}", n % PARTITIONS)
}

/// An item of about `size` bytes of JSON; `version` changes its body on replace.
fn item(n: usize, size: usize, version: usize) -> Value {
    let mut v = json!({
        "id": id(n),
        "pk": pk(n),
        "n": n,
        "grp": n % GROUPS,
        "tenth": n / 10,
        "version": version,
        "pad": "",
    });
    let base = v.to_string().len();
    v["pad"] = json!(pad(n, version, size.saturating_sub(base)));
    v
}

/// `len` pseudo-random letters and digits (seeded by the item), so the body does not compress
/// away and bytes on disk stay comparable to real data.
fn pad(n: usize, version: usize, len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
    let mut rng = Rng::new(SEED ^ ((n as u64) << 16) ^ version as u64);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bits = rng.next();
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
        }
    }
    out
}

/// Spreads zipf ranks over the key space so the hot items are not neighbours.
fn scatter(rank: usize, n: usize) -> usize {
    ((rank as u128 * 2_654_435_761u128) % n as u128) as usize
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

/// splitmix64: a small seeded generator, enough to pick keys.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(s) over ranks 0..n by inverse CDF (binary search over the cumulative weights).
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n.max(1))
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_prefers_low_ranks_and_stays_in_range() {
        let z = Zipf::new(1000, ZIPF_S);
        let mut rng = Rng::new(7);
        let draws: Vec<usize> = (0..10_000).map(|_| z.sample(&mut rng)).collect();
        assert!(draws.iter().all(|d| *d < 1000));
        let low = draws.iter().filter(|d| **d < 10).count();
        let high = draws.iter().filter(|d| (990..1000).contains(*d)).count();
        assert!(low > high * 10, "low {low} high {high}");
    }

    #[test]
    fn items_have_about_the_requested_size() {
        assert_eq!(item(42, 1024, 0).to_string().len(), 1024);
        assert!(item(42, 10, 0).to_string().len() < 200);
    }

    #[test]
    fn every_workload_has_a_published_surcharge() {
        for w in WORKLOADS {
            let rows = workload_rows(w, &[Sample::default(), Sample::default()]);
            let want = match w {
                "query" | "query-eq" | "aggregate" | "feed" => 15.0,
                "read-uniform" | "read-zipf" => 5.0,
                _ => 6.0,
            };
            assert_eq!(rows[1][10], serde_json::json!(want), "{w}");
        }
    }

    #[test]
    fn workload_list_is_checked() {
        assert_eq!(
            selected_workloads(Some("query")).ok(),
            Some(vec!["load", "query"])
        );
        assert!(selected_workloads(Some("nope")).is_err());
    }
}
