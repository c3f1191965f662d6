//! End-to-end cost of the customer-managed key: SMK (one seal layer) vs CMK (two layers) through
//! the account API, side by side, one criterion group per workload:
//!
//! - `bulk_load`: create N items of 1 KiB JSON (`Durability::Buffered`) into a fresh account,
//!   then `flush` (so the last memtable is sealed into a segment too). Each iteration gets a new
//!   data directory; creating the account and dropping it (which joins any background compaction
//!   still running) are outside the timed region. One iteration per sample (flat sampling), plus
//!   one warm-up load: criterion's "Unable to complete 10 samples in 1.0s" warning is expected.
//! - `point_read`: random `read_item` over the N items, loaded once, flushed and compacted into one
//!   sorted run, reopened with the default 64 MiB block cache (a mix of hits and misses, depending
//!   on N).
//! - `point_read_uncached`: the same data reopened with a zero-byte block cache, so every read
//!   opens (decrypts, decompresses) a data block: the read path's worst case for the CMK tax.
//!
//! ```text
//! cargo bench --bench engine                              # N = 100,000
//! STRATA_BENCH_ITEMS=20000 cargo bench --bench engine     # quicker
//! cargo bench --bench engine -- point_read                # only the read groups
//! ```
//!
//! Items are generated once, from a seeded RNG: fixed-width fields and a random alphanumeric
//! filler, 1,024 bytes of JSON each before the system properties (about 1.2 KiB stored). The
//! filler is random alphanumerics, which compress poorly (segments come to about 0.65x the
//! stored JSON), so compression does not hide the sealing cost. Reads pick ids with a seeded RNG, so runs are comparable.
//! One account key, created once per mode in a shared home (RSA-2048 generation is slow and is
//! not what is measured); the data directories live under the system temp directory.
//! Block-cache hit/miss counts are printed after each read benchmark. Benchmark ids carry N
//! (`bulk_load/CMK/100000`), so criterion compares a run only with earlier runs of the same N.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use rand::distributions::Alphanumeric;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use strata::{Account, AccountOptions, Container, Durability, Encryption, LocalVault};

const DEFAULT_ITEMS: usize = 100_000;
const ITEM_JSON_BYTES: usize = 1024;
const TENANTS: usize = 64;

#[derive(Clone, Serialize, Deserialize)]
struct Order {
    id: String,
    tenant: String,
    customer: String,
    status: String,
    amount_cents: u64,
    created: String,
    notes: String,
}

fn item_count() -> usize {
    match std::env::var("STRATA_BENCH_ITEMS") {
        Err(std::env::VarError::NotPresent) => DEFAULT_ITEMS,
        Err(e) => panic!("STRATA_BENCH_ITEMS is not valid unicode: {e}"),
        Ok(s) => match s.trim().replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("STRATA_BENCH_ITEMS must be a positive integer, not {s:?}"),
        },
    }
}

/// `n` items of exactly `ITEM_JSON_BYTES` bytes of JSON each, spread over `TENANTS` partitions.
fn generate_items(n: usize) -> Vec<Order> {
    const STATUS: [&str; 4] = ["pending_", "paid____", "shipped_", "returned"];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xbe7c_4a11);
    (0..n)
        .map(|i| {
            let mut o = Order {
                id: format!("order-{i:010}"),
                tenant: format!("tenant-{:03}", i % TENANTS),
                customer: format!("cust-{:08}", rng.gen_range(0..100_000_000u32)),
                status: STATUS[rng.gen_range(0..STATUS.len())].to_string(),
                amount_cents: rng.gen_range(1_000_000_000..10_000_000_000u64),
                created: format!(
                    "2024-{:02}-{:02}T12:00:00Z",
                    rng.gen_range(1..13),
                    rng.gen_range(1..29)
                ),
                notes: String::new(),
            };
            let base = serde_json::to_vec(&o).expect("an Order serialises").len();
            let filler = ITEM_JSON_BYTES
                .checked_sub(base)
                .unwrap_or_else(|| panic!("item skeleton is {base} bytes, over {ITEM_JSON_BYTES}"));
            o.notes = (&mut rng)
                .sample_iter(Alphanumeric)
                .take(filler)
                .map(char::from)
                .collect();
            o
        })
        .inspect(|o| {
            debug_assert_eq!(serde_json::to_vec(o).map(|v| v.len()).ok(), Some(ITEM_JSON_BYTES));
        })
        .collect()
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

/// A home (service key store + vault) shared by every account of one mode in this run.
struct Home {
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
    encryption: Encryption,
}

impl Home {
    fn new(mode: Mode) -> Home {
        let dir = tempfile::Builder::new()
            .prefix("strata-bench-home-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp home: {e}"));
        let home = dir.path().to_path_buf();
        let encryption = match mode {
            Mode::Smk => Encryption::ServiceManaged,
            Mode::Cmk => {
                let opts = AccountOptions::new(home.join("unused"), &home);
                let vault = LocalVault::open(&opts.vault_dir())
                    .unwrap_or_else(|e| panic!("opening the bench vault: {e}"));
                let uri = vault
                    .create_key("k", 2048)
                    .unwrap_or_else(|e| panic!("creating the bench CMK: {e}"));
                Encryption::CustomerManaged {
                    key_uri: uri.to_string(),
                }
            }
        };
        Home {
            _dir: dir,
            home,
            encryption,
        }
    }

    fn options(&self, data_dir: &Path) -> AccountOptions {
        AccountOptions::new(data_dir, &self.home).durability(Durability::Buffered)
    }

    fn create(&self, data_dir: &Path) -> (Account, Container) {
        let account = Account::create(self.options(data_dir), "bench", self.encryption.clone())
            .unwrap_or_else(|e| panic!("creating the bench account: {e}"));
        let db = account
            .create_database("db")
            .unwrap_or_else(|e| panic!("creating the bench database: {e}"));
        let container = db
            .create_container("orders", "/tenant")
            .unwrap_or_else(|e| panic!("creating the bench container: {e}"));
        (account, container)
    }
}

fn load(container: &Container, items: &[Order]) {
    for o in items {
        let r = container
            .create_item(o.tenant.as_str(), o)
            .unwrap_or_else(|e| panic!("create_item {} failed: {e}", o.id));
        assert_eq!(r.status_code, 201, "create_item {}", o.id);
    }
}

fn temp_data_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("strata-bench-data-")
        .tempdir()
        .unwrap_or_else(|e| panic!("creating a temp data directory: {e}"))
}

fn bench_bulk_load(c: &mut Criterion, homes: &[(Mode, Home)], items: &[Order]) {
    let mut g = c.benchmark_group("bulk_load");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(items.len() as u64));
    for (mode, home) in homes {
        g.bench_function(BenchmarkId::new(mode.label(), items.len()), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = temp_data_dir();
                    let (account, container) = home.create(&dir.path().join("data"));
                    let start = Instant::now();
                    load(&container, items);
                    account
                        .flush()
                        .unwrap_or_else(|e| panic!("flush after the load: {e}"));
                    total += start.elapsed();
                    drop(container);
                    drop(account);
                    drop(dir);
                }
                total
            });
        });
    }
    g.finish();
}

/// One loaded, compacted and closed account per mode, for the read benchmarks.
struct Loaded<'h> {
    mode: Mode,
    home: &'h Home,
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
}

impl Loaded<'_> {
    fn open(&self, cache_bytes: usize) -> (Account, Container) {
        let opts = self.home.options(&self.data_dir).cache_bytes(cache_bytes);
        let account = Account::open(opts).unwrap_or_else(|e| panic!("reopening the bench account: {e}"));
        let container = account.database("db").container("orders");
        (account, container)
    }
}

fn load_for_reads<'h>(mode: Mode, home: &'h Home, items: &[Order]) -> Loaded<'h> {
    let dir = temp_data_dir();
    let data_dir = dir.path().join("data");
    let (account, container) = home.create(&data_dir);
    load(&container, items);
    account
        .compact()
        .unwrap_or_else(|e| panic!("compacting the {} read set: {e}", mode.label()));
    let stats = account
        .store_stats()
        .unwrap_or_else(|e| panic!("store stats: {e}"));
    eprintln!(
        "[{}] read set: {} items, segments per level {:?}, bytes per level {:?}",
        mode.label(),
        items.len(),
        stats.segments_per_level,
        stats.bytes_per_level
    );
    Loaded {
        mode,
        home,
        _dir: dir,
        data_dir,
    }
}

fn bench_point_reads(c: &mut Criterion, group: &str, cache_bytes: usize, loaded: &[Loaded], items: &[Order]) {
    let mut g = c.benchmark_group(group);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(1));
    for l in loaded {
        let (account, container) = l.open(cache_bytes);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x0dd5_eed5);
        g.bench_function(BenchmarkId::new(l.mode.label(), items.len()), |b| {
            b.iter(|| {
                let o = &items[rng.gen_range(0..items.len())];
                let r = container
                    .read_item::<Order>(o.tenant.as_str(), &o.id)
                    .unwrap_or_else(|e| panic!("read_item {} failed: {e}", o.id));
                match r.item {
                    Some(got) if got.id == o.id => got,
                    _ => panic!("read_item {} returned the wrong item or none", o.id),
                }
            });
        });
        let cache = account
            .store_stats()
            .unwrap_or_else(|e| panic!("store stats: {e}"))
            .cache;
        let lookups = (cache.hits + cache.misses).max(1);
        eprintln!(
            "[{group}/{}] block cache: {} hits, {} misses ({:.1}% hits), {} bytes held",
            l.mode.label(),
            cache.hits,
            cache.misses,
            100.0 * cache.hits as f64 / lookups as f64,
            cache.bytes
        );
    }
    g.finish();
}

fn bench_engine(c: &mut Criterion) {
    let n = item_count();
    let items = generate_items(n);
    eprintln!("strata engine bench: {n} items of {ITEM_JSON_BYTES} B JSON (STRATA_BENCH_ITEMS to change)");
    let homes: Vec<(Mode, Home)> = [Mode::Smk, Mode::Cmk]
        .into_iter()
        .map(|m| (m, Home::new(m)))
        .collect();

    bench_bulk_load(c, &homes, &items);

    let loaded: Vec<Loaded> = homes.iter().map(|(m, h)| load_for_reads(*m, h, &items)).collect();
    bench_point_reads(c, "point_read", 64 << 20, &loaded, &items);
    bench_point_reads(c, "point_read_uncached", 0, &loaded, &items);
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
