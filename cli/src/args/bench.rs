//! `strata bench`: its flags (sizes, workloads, thread counts, report and chart files), handed to
//! `commands::bench`. Arguments only; no measuring here.

use std::path::PathBuf;

use clap::Args;

use super::shared::Globals;
use crate::commands::bench;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct BenchCommand {
    /// Items the bulk load writes (the other workloads read and replace them).
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Size of each item's JSON in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    size: usize,
    /// Tiny counts (at most 2,000 items, 2 rounds): a smoke run of a few seconds.
    #[arg(long)]
    quick: bool,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Also draw the measured CMK overhead per workload, beside the published RU surcharge,
    /// as an SVG bar chart in this file.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Comma-separated workloads: load, write, read-uniform, read-zipf, replace, query-eq,
    /// query, query-paging, query-order-paging, query-range-paging, query-group-paging, aggregate,
    /// feed, read-cold
    /// (load always runs)
    /// [default: all].
    #[arg(long, value_name = "LIST")]
    workloads: Option<String>,
    /// Comma-separated thread counts of the durable-write workload: one row per count
    /// (write-t1, write-t2, ...).
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2,4,8")]
    write_threads: Vec<usize>,
    /// Also run the peers (fjall, SQLite, SQLCipher) on load and read-uniform and print
    /// Strata/peer ratios; needs a build with `--features peers`.
    #[arg(long)]
    peers: bool,
    /// The bench container's indexing policy: `default` (every path but the padding), `none`
    /// (`indexingMode: none`: no secondary index, like a key-value peer; the indexed query
    /// workloads are left out), or a policy JSON file as `strata container set-index-policy`
    /// takes.
    #[arg(long, value_name = "none|default|FILE", default_value = "default")]
    index_policy: String,
    /// Which stores run: `both` (the SMK and the CMK store side by side, with the CMK overhead),
    /// or `smk` or `cmk` alone, so that the resident set is one store's.
    #[arg(long, value_name = "smk|cmk|both", default_value = "both")]
    stores: String,
    /// Block cache of each Strata store, in MiB (1 to 65,536) [default: the account default,
    /// 64, which the peers also get]. Not with `--peers` unless 64: the peers keep 64 MiB.
    #[arg(long, value_name = "MIB")]
    cache_mib: Option<usize>,
}

impl BenchCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        bench::run(
            g,
            &bench::BenchArgs {
                items: self.items,
                size: self.size,
                quick: self.quick,
                report: self.report.as_deref(),
                chart: self.chart.as_deref(),
                workloads: self.workloads.as_deref(),
                write_threads: &self.write_threads,
                peers: self.peers,
                index_policy: &self.index_policy,
                stores: &self.stores,
                cache_mib: self.cache_mib,
            },
        )
    }
}
