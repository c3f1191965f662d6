//! `strata bench --quick`: the harness runs end to end and its report has the expected shape
//! (every workload row under both modes, positive rates and CPU times, overhead ratios on the CMK
//! rows, memory fields, the chart file). The figures themselves are never asserted: they depend on
//! the machine.

use crate::common;

use std::collections::BTreeSet;

use common::Env;
use serde_json::Value;

/// Every row of a full `--quick` run: `write` gives one row per thread count (1,2,4,8 by default);
/// `query-paging` gives page 1 and the last page, page 3 here: the 2,000 loaded items and the
/// 4 × 16 durable writes make 2,064 items, three pages of 1,000; `query-order-paging` the same,
/// descending and ascending; `query-range-paging` the same, in index order;
/// `query-group-paging` the same (one group per item).
const WORKLOADS: [&str; 23] = [
    "load",
    "write-t1",
    "write-t2",
    "write-t4",
    "write-t8",
    "read-uniform",
    "read-zipf",
    "replace",
    "query-eq",
    "query",
    "query-page1",
    "query-page3",
    "query-order-desc-page1",
    "query-order-desc-page3",
    "query-order-asc-page1",
    "query-order-asc-page3",
    "query-range-page1",
    "query-range-page3",
    "query-group-page1",
    "query-group-page3",
    "aggregate",
    "feed",
    "read-cold",
];

fn check_shape(report: &Value, workloads: &[&str]) {
    check_stores(report, workloads, &["SMK", "CMK"]);
}

/// The report of a run of the stores `modes` (`SMK`, `CMK` or both): one row per workload and
/// mode, and each store's disk and metadata fields, none of a store that did not run.
fn check_stores(report: &Value, workloads: &[&str], modes: &[&str]) {
    let rows = report["workloads"].as_array().expect("workloads array");
    let seen: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["workload"].as_str().unwrap_or_default().to_string(),
                r["mode"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for w in workloads {
        for mode in modes {
            assert!(
                seen.contains(&(w.to_string(), mode.to_string())),
                "{w} {mode} missing: {report}"
            );
        }
    }
    assert_eq!(rows.len(), modes.len() * workloads.len(), "{report}");
    let both = modes.len() == 2;
    for r in rows {
        assert!(r["ops"].as_u64().is_some_and(|n| n > 0), "{r}");
        for k in ["opsPerSec", "cpuUsPerOp", "fgCpuUsPerOp", "rssMiB", "anonMiB"] {
            assert!(r[k].as_f64().is_some_and(|x| x > 0.0), "{k} in {r}");
        }
        // Sealing and opening time: every write seals its WAL record; a read served from the
        // block cache opens nothing, so reads may show zero.
        let crypto = r["cryptoUsPerOp"].as_f64();
        assert!(crypto.is_some_and(|x| x >= 0.0), "cryptoUsPerOp in {r}");
        if r["workload"] == "load" || r["workload"].as_str().is_some_and(|w| w.starts_with("write-t")) {
            assert!(crypto.is_some_and(|x| x > 0.0), "cryptoUsPerOp in {r}");
            assert!(r["cryptoShareOfCpu"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        }
        // A percentage, or null when the workload looked no segment block up (e.g. every item
        // still in the memtable).
        let hit = &r["cacheHitPct"];
        assert!(
            hit.is_null() || hit.as_f64().is_some_and(|x| (0.0..=100.0).contains(&x)),
            "cacheHitPct in {r}"
        );
        for k in ["p50Us", "p99Us", "p999Us", "ruPerOp"] {
            assert!(r[k].as_f64().is_some(), "{k} in {r}");
        }
        if r["mode"] == "CMK" {
            // The overhead is a ratio to the SMK store: none when it did not run.
            for k in ["overheadPct", "ruSurchargePct", "publishedSurchargePct"] {
                assert_eq!(r[k].as_f64().is_some(), both, "{k} in {r}");
            }
        }
    }
    for k in [
        "rawAesGcmMiBps",
        "smkSealMiBps",
        "cmkSealMiBps",
        "smkSealShareOfRaw",
        "cmkPerLayerShareOfRaw",
        "rawAesGcmOpenMiBps",
        "rustCryptoAesGcmMiBps",
        "rustCryptoAesGcmOpenMiBps",
        "smkOpenMiBps",
        "smkOpenShareOfRaw",
        "cmkOpenMiBps",
        "cmkOpenPerLayerShareOfRaw",
    ] {
        assert!(report[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {report}");
    }
    for (prefix, mode) in [("smk", "SMK"), ("cmk", "CMK")] {
        let ran = modes.contains(&mode);
        for k in ["DiskBytes", "DiskBytesSettled", "BlockIndexBytes", "FilterBytes"] {
            let v = &report[format!("{prefix}{k}")];
            if ran {
                assert!(v.as_u64().is_some_and(|n| n > 0), "{prefix}{k}: {report}");
            } else {
                assert!(v.is_null(), "{prefix}{k}: {report}");
            }
        }
        // The settled shape: a count per level, and some segment somewhere once loaded.
        let shape = report[format!("{prefix}SegmentsPerLevel")]
            .as_array()
            .map(|levels| levels.iter().map(|n| n.as_u64().unwrap_or(0)).sum::<u64>());
        assert_eq!(
            shape.is_some_and(|n| n > 0),
            ran,
            "{prefix}SegmentsPerLevel: {report}"
        );
        let wait = report[format!("{prefix}SettleSeconds")].as_f64();
        assert_eq!(
            wait.is_some_and(|x| x >= 0.0),
            ran,
            "{prefix}SettleSeconds: {report}"
        );
    }
    let stores = report["stores"].as_str();
    if both {
        assert_eq!(stores, None, "{report}");
    } else {
        assert_eq!(stores, Some(modes[0].to_lowercase().as_str()), "{report}");
    }
    // The peak resident set is at least the resident set after any workload.
    let peak = report["peakRssMiB"].as_f64().expect("peakRssMiB");
    let max_anon = report["maxAnonMiB"].as_f64().expect("maxAnonMiB");
    for r in rows {
        assert!(r["rssMiB"].as_f64().is_some_and(|x| x <= peak), "{r} peak {peak}");
        assert!(
            r["anonMiB"].as_f64().is_some_and(|x| x <= max_anon),
            "{r} max {max_anon}"
        );
    }
}

#[test]
fn quick_bench_reports_every_workload_for_both_modes() {
    let env = Env::new();
    let (file, chart) = (env.path("bench.json"), env.path("x.svg"));
    let args = [
        "bench",
        "--quick",
        "--output",
        "json",
        "--chart",
        env.arg(&chart),
        "--report",
        env.arg(&file),
    ];
    let printed = env.ok(&args);
    check_shape(&printed, &WORKLOADS);
    let text = std::fs::read_to_string(&file).expect("report file written");
    let written: Value = serde_json::from_str(&text).expect("report file is JSON");
    check_shape(&written, &WORKLOADS);
    let svg = std::fs::read_to_string(&chart).expect("chart written");
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    for w in WORKLOADS {
        assert!(svg.contains(w), "{w} not in the chart");
    }
}

#[test]
fn write_threads_flag_sets_the_durable_write_rows() {
    let env = Env::new();
    let args = [
        "bench",
        "--quick",
        "--output",
        "json",
        "--workloads",
        "write",
        "--write-threads",
        "3,1",
    ];
    let printed = env.ok(&args);
    check_shape(&printed, &["load", "write-t3", "write-t1"]);
    env.run(&["bench", "--quick", "--output", "json", "--write-threads", "0"])
        .code(2);
}

#[test]
fn workloads_flag_selects_a_subset_and_rejects_unknown_names() {
    let env = Env::new();
    let printed = env.ok(&["bench", "--quick", "--output", "json", "--workloads", "read-zipf"]);
    check_shape(&printed, &["load", "read-zipf"]);
    env.run(&["bench", "--quick", "--output", "json", "--workloads", "nope"])
        .code(2);
}

/// `--stores cmk` runs the CMK store alone: its rows and fields only, no overhead (there is no
/// SMK store to compare with), and its size settled after the load. An unknown choice is 400.
#[test]
fn stores_flag_runs_one_store_alone() {
    let env = Env::new();
    let file = env.path("cmk.json");
    let args = [
        "bench",
        "--quick",
        "--output",
        "json",
        "--stores",
        "cmk",
        "--workloads",
        "read-uniform,query-paging,aggregate",
        "--report",
        env.arg(&file),
    ];
    let printed = env.ok(&args);
    let rows = ["load", "read-uniform", "query-page1", "query-page2", "aggregate"];
    check_stores(&printed, &rows, &["CMK"]);
    let text = std::fs::read_to_string(&file).expect("report file written");
    let written: Value = serde_json::from_str(&text).expect("report file is JSON");
    check_stores(&written, &rows, &["CMK"]);
    let smk = env.ok(&[
        "bench",
        "--quick",
        "--output",
        "json",
        "--stores",
        "smk",
        "--workloads",
        "load",
    ]);
    check_stores(&smk, &["load"], &["SMK"]);
    let run = env.run(&["bench", "--quick", "--output", "json", "--stores", "all"]);
    run.code(2);
    assert!(run.stdout.contains("choose smk, cmk or both"), "{run:?}");
}

/// `--cache-mib` sets each store's block cache (the report says which ran); a size outside
/// 1..=65,536, or one the peers would not get, is refused with status 2.
#[test]
fn cache_mib_flag_sizes_the_block_cache() {
    let env = Env::new();
    let quick = [
        "bench",
        "--quick",
        "--output",
        "json",
        "--stores",
        "smk",
        "--workloads",
    ];
    let small = env.ok(&[&quick[..], &["read-uniform", "--cache-mib", "1"]].concat());
    assert_eq!(small["cacheMiB"], 1, "{small}");
    check_stores(&small, &["load", "read-uniform"], &["SMK"]);
    let default = env.ok(&[&quick[..], &["load"]].concat());
    assert_eq!(default["cacheMiB"], 64, "{default}");
    for bad in [
        &["--cache-mib", "0"][..],
        &["--cache-mib", "65537"],
        &["--cache-mib", "128", "--peers"],
    ] {
        let run = env.run(&[&quick[..], &["load"], bad].concat());
        run.code(2);
        assert!(run.stdout.contains("--cache-mib"), "{run:?}");
    }
}

/// `query-paging` alone: 2,000 items are two full pages, so its rows are page 1 and page 2 (the
/// last), each with a request charge.
#[test]
fn query_paging_reports_page_one_and_the_last_page() {
    paged_rows_are_charged("query-paging", &["load", "query-page1", "query-page2"]);
}

/// Runs `workload` alone and checks its rows, each with a request charge.
fn paged_rows_are_charged(workload: &str, rows: &[&str]) {
    let env = Env::new();
    let printed = env.ok(&["bench", "--quick", "--output", "json", "--workloads", workload]);
    check_shape(&printed, rows);
    for r in printed["workloads"].as_array().expect("workloads array") {
        assert!(r["ruPerOp"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    }
}

/// `query-order-paging` alone: ORDER BY read from the index, page 1 and the last page in both
/// directions, each with a request charge. With `--quick`'s 2,000 items that is page 2
/// ascending, but page 3 descending: after the last indexed value, descending reads one more
/// (empty) page, the key-order scan for items without `n`, which sort last (docs/query.md).
#[test]
fn query_order_paging_reports_both_directions() {
    paged_rows_are_charged(
        "query-order-paging",
        &[
            "load",
            "query-order-desc-page1",
            "query-order-desc-page3",
            "query-order-asc-page1",
            "query-order-asc-page2",
        ],
    );
}

/// `query-range-paging` alone: a range lookup read in index order, page 1 and the last page
/// (2,000 items, all matching, are two full pages: page 2), each with a request charge.
#[test]
fn query_range_paging_reports_page1_and_the_last() {
    paged_rows_are_charged(
        "query-range-paging",
        &["load", "query-range-page1", "query-range-page2"],
    );
}

/// `query-group-paging` alone: a GROUP BY with one group per item, 2,000 groups, two pages: page
/// 1 computes the result and spills the rest, page 2 reads the spill; both are charged.
#[test]
fn query_group_paging_reports_page_one_and_the_last_page() {
    paged_rows_are_charged(
        "query-group-paging",
        &["load", "query-group-page1", "query-group-page2"],
    );
}

/// Without the `peers` feature, `--peers` is refused at once and says how to get it.
#[cfg(not(feature = "peers"))]
#[test]
fn peers_flag_without_the_feature_says_to_rebuild() {
    let env = Env::new();
    let run = env.run(&["bench", "--quick", "--output", "json", "--peers"]);
    run.code(2);
    assert!(run.stdout.contains("--features peers"), "{run:?}");
}

/// With the `peers` feature, every peer reports load, warm and cold reads, and fjall durable
/// writes per thread count, each with Strata/peer ratios.
#[cfg(feature = "peers")]
#[test]
fn quick_bench_with_peers_reports_ratios() {
    let env = Env::new();
    let args = [
        "bench",
        "--quick",
        "--output",
        "json",
        "--workloads",
        "write,read-uniform,read-cold",
        "--write-threads",
        "1,4",
        "--peers",
    ];
    let printed = env.ok(&args);
    check_shape(
        &printed,
        &["load", "write-t1", "write-t4", "read-uniform", "read-cold"],
    );
    let peers = printed["peers"].as_array().expect("peers array");
    let seen: BTreeSet<(String, String)> = peers
        .iter()
        .map(|r| {
            (
                r["peer"].as_str().unwrap_or_default().to_string(),
                r["workload"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for peer in ["fjall", "strata-lsm", "sqlite", "sqlcipher"] {
        for w in ["load", "read-uniform", "read-cold"] {
            assert!(
                seen.contains(&(peer.to_string(), w.to_string())),
                "{peer} {w}: {printed}"
            );
        }
    }
    for w in ["write-t1", "write-t4"] {
        assert!(
            seen.contains(&("fjall".to_string(), w.to_string())),
            "fjall {w}: {printed}"
        );
    }
    assert_eq!(peers.len(), 14, "{printed}");
    for r in peers {
        for k in ["opsPerSec", "cpuUsPerOp", "smkOverPeer", "cmkOverPeer"] {
            assert!(r[k].as_f64().is_some_and(|x| x > 0.0), "{k} in {r}");
        }
    }
    assert!(
        printed["peakRssMiBWithPeers"].as_f64().is_some_and(|x| x > 0.0),
        "{printed}"
    );
}

/// `--index-policy none` gives the like-for-like row (no secondary index) and leaves the
/// indexed queries out; naming one of them is refused, and so is a policy file that is not one.
#[test]
fn index_policy_none_runs_without_the_indexed_queries() {
    let env = Env::new();
    let printed = env.ok(&[
        "bench",
        "--quick",
        "--output",
        "json",
        "--workloads",
        "read-uniform,aggregate",
        "--index-policy",
        "none",
    ]);
    check_shape(&printed, &["load", "read-uniform", "aggregate"]);
    assert_eq!(printed["indexPolicy"], "none", "{printed}");
    env.run(&[
        "bench",
        "--quick",
        "--output",
        "json",
        "--workloads",
        "query-eq",
        "--index-policy",
        "none",
    ])
    .code(2);
    let bad = env.path("policy.json");
    std::fs::write(&bad, "{not json").expect("write policy");
    env.run(&[
        "bench",
        "--quick",
        "--output",
        "json",
        "--index-policy",
        env.arg(&bad),
    ])
    .code(2);
}
