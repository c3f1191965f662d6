//! The Strata/peer ratios of `strata bench --peers`: turns each peer's samples and Strata's
//! SMK/CMK rates into the rows of the report's `peers` list. Pure (no I/O); it must not run a
//! peer. Compiled with the `peers` feature and in tests. See docs/bench.md.

use serde_json::{json, Value};

use super::sample::Sample;
use super::{round2, Rates};

/// One peer's measurements of one workload.
pub(super) struct PeerRun {
    pub peer: &'static str,
    pub workload: String,
    pub sample: Sample,
}

/// `strata / peer` ops/s (above 1: Strata is faster), or None when either rate is not positive.
pub(super) fn ratio(strata: f64, peer: f64) -> Option<f64> {
    let ok = |x: f64| x.is_finite() && x > 0.0;
    (ok(strata) && ok(peer)).then(|| strata / peer)
}

/// One row per run, in `PEER_COLUMNS` order: the peer's ops/s and percentiles, then Strata SMK
/// and CMK over the peer for the same workload (null when Strata did not run it).
pub(super) fn peer_rows(runs: &[PeerRun], rates: &Rates) -> Vec<Vec<Value>> {
    runs.iter()
        .map(|r| {
            let sorted = r.sample.sorted();
            let rate = r.sample.ops_per_sec();
            let strata = rates.iter().find(|(w, _)| *w == r.workload).map(|(_, x)| *x);
            let over = |mode: usize| strata.and_then(|s| ratio(s[mode], rate)).map(round2);
            vec![
                json!(r.peer),
                json!(r.workload),
                json!(r.sample.nanos.len()),
                json!(round2(rate)),
                json!(round2(Sample::percentile_us(&sorted, 0.50))),
                json!(round2(Sample::percentile_us(&sorted, 0.99))),
                json!(round2(r.sample.cpu_us_per_op())),
                json!(over(0)),
                json!(over(1)),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_strata_over_peer_and_refuses_empty_rates() {
        assert_eq!(ratio(3.0, 1.5), Some(2.0));
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(0.0, 1.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }

    #[test]
    fn peer_rows_pair_each_peer_with_strata_on_the_same_workload() {
        // 10 ops of 1 ms each: 1,000 ops/s.
        let sample = || Sample {
            nanos: vec![1_000_000; 10],
            ..Sample::default()
        };
        let runs = [
            PeerRun {
                peer: "fjall",
                workload: "load".into(),
                sample: sample(),
            },
            PeerRun {
                peer: "fjall",
                workload: "read-uniform".into(),
                sample: sample(),
            },
        ];
        let rates = [("load".to_string(), [2_000.0, 1_500.0])];
        let rows = peer_rows(&runs, &rates);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].len(), super::super::PEER_COLUMNS.len());
        assert_eq!(rows[0][3], json!(1000.0));
        assert_eq!(rows[0][4], json!(1000.0));
        assert_eq!(rows[0][7], json!(2.0));
        assert_eq!(rows[0][8], json!(1.5));
        // Strata did not run read-uniform: no ratio.
        assert_eq!(rows[1][7], Value::Null);
        assert_eq!(rows[1][8], Value::Null);
    }
}
