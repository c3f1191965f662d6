//! `strata bench --quick`: the harness runs end to end and its report has the expected shape
//! (every workload under both modes, positive rates, overhead ratios on the CMK rows). The
//! figures themselves are never asserted: they depend on the machine.

mod common;

use std::collections::BTreeSet;

use common::Env;
use serde_json::Value;

const WORKLOADS: [&str; 9] = [
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

fn check_shape(report: &Value, workloads: &[&str]) {
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
        for mode in ["SMK", "CMK"] {
            assert!(
                seen.contains(&(w.to_string(), mode.to_string())),
                "{w} {mode} missing: {report}"
            );
        }
    }
    assert_eq!(rows.len(), 2 * workloads.len(), "{report}");
    for r in rows {
        assert!(r["ops"].as_u64().is_some_and(|n| n > 0), "{r}");
        assert!(r["opsPerSec"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        for k in ["p50Us", "p99Us", "p999Us", "ruPerOp"] {
            assert!(r[k].as_f64().is_some(), "{k} in {r}");
        }
        if r["mode"] == "CMK" {
            for k in ["overheadPct", "ruSurchargePct", "publishedSurchargePct"] {
                assert!(r[k].as_f64().is_some(), "{k} in {r}");
            }
        }
    }
    for k in [
        "rawAesGcmMiBps",
        "smkSealMiBps",
        "cmkSealMiBps",
        "smkSealShareOfRaw",
        "cmkPerLayerShareOfRaw",
    ] {
        assert!(report[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {report}");
    }
    for k in ["smkDiskBytes", "cmkDiskBytes"] {
        assert!(report[k].as_u64().is_some_and(|n| n > 0), "{k}: {report}");
    }
}

#[test]
fn quick_bench_reports_every_workload_for_both_modes() {
    let env = Env::new();
    let file = env.path("bench.json");
    let printed = env.ok(&["bench", "--quick", "--output", "json", "--report", env.arg(&file)]);
    check_shape(&printed, &WORKLOADS);
    let text = std::fs::read_to_string(&file).expect("report file written");
    let written: Value = serde_json::from_str(&text).expect("report file is JSON");
    check_shape(&written, &WORKLOADS);
}

#[test]
fn workloads_flag_selects_a_subset_and_rejects_unknown_names() {
    let env = Env::new();
    let printed = env.ok(&["bench", "--quick", "--output", "json", "--workloads", "read-zipf"]);
    check_shape(&printed, &["load", "read-zipf"]);
    env.run(&["bench", "--quick", "--output", "json", "--workloads", "nope"])
        .code(2);
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

/// With the `peers` feature, every peer reports load and read-uniform with Strata/peer ratios.
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
        "read-uniform",
        "--peers",
    ];
    let printed = env.ok(&args);
    check_shape(&printed, &["load", "read-uniform"]);
    let peers = printed["peers"].as_array().expect("peers array");
    assert_eq!(peers.len(), 6, "{printed}");
    for r in peers {
        assert!(r["opsPerSec"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        for k in ["smkOverPeer", "cmkOverPeer"] {
            assert!(r[k].as_f64().is_some_and(|x| x > 0.0), "{k} in {r}");
        }
    }
}
