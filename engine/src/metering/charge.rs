//! Point-read and write charges: piecewise-linear interpolation through the managed service's
//! published reference points (so the model matches them exactly at the points and within the
//! interpolation error between them), plus the customer-managed-key surcharge. Pure; deterministic.

/// (item size in bytes, RU) for a point read.
const READ_POINTS: [(f64, f64); 7] = [
    (1024.0, 1.0),
    (4096.0, 1.14),
    (16384.0, 1.67),
    (65536.0, 4.76),
    (262_144.0, 20.28),
    (1_048_576.0, 145.9),
    (2_097_152.0, 291.8),
];

/// (item size in bytes, RU) for a write without indexing.
const WRITE_POINTS: [(f64, f64); 7] = [
    (1024.0, 4.95),
    (4096.0, 6.67),
    (16384.0, 9.52),
    (65536.0, 22.67),
    (262_144.0, 98.29),
    (1_048_576.0, 625.0),
    (2_097_152.0, 1250.0),
];

/// Queries: a fixed charge per page, a share of the point-read charge per document loaded, and a
/// charge per KiB of results returned (so a 1 KiB item loaded and returned costs about 1 RU).
const QUERY_BASE: f64 = 2.3;
const QUERY_LOAD_SCALE: f64 = 0.5;
const QUERY_RESULT_PER_KIB: f64 = 0.5;
/// RU per index entry a query reads (see docs/ru-model.md, "Queries").
const QUERY_PER_INDEX_ENTRY: f64 = 0.01;
const CMK_QUERY: f64 = 1.15;

/// RU per indexed term written.
const PER_INDEXED_TERM: f64 = 0.2;
/// CMK surcharges.
const CMK_READ: f64 = 1.05;
const CMK_WRITE: f64 = 1.06;
const CMK_PER_INDEXED_TERM: f64 = 0.06;

fn interpolate(points: &[(f64, f64)], size: usize) -> f64 {
    let x = size as f64;
    let Some(&(x0, y0)) = points.first() else {
        return 0.0;
    };
    if x <= x0 {
        return y0;
    }
    for w in points.windows(2) {
        if let [(xa, ya), (xb, yb)] = w {
            if x <= *xb {
                return ya + (yb - ya) * (x - xa) / (xb - xa);
            }
        }
    }
    // Beyond the last point (items are capped at 2 MB, so only by system properties): extend
    // the last segment's slope.
    match points {
        [.., (xa, ya), (xb, yb)] => yb + (yb - ya) * (x - xb) / (xb - xa),
        _ => y0,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The charge of several operations together (a transactional batch): the sum of their
/// charges, rounded to two decimals like every charge.
pub(crate) fn summed_charge(charges: impl IntoIterator<Item = f64>) -> f64 {
    // From +0: `Sum` for floats starts at -0.0, which an empty sum would print as "-0.0".
    round2(charges.into_iter().fold(0.0, |total, c| total + c))
}

/// Charge of reading one item of `size` bytes (a 404 read costs the 1 KB charge).
pub(crate) fn point_read_charge(size: usize, cmk: bool) -> f64 {
    let base = interpolate(&READ_POINTS, size);
    round2(if cmk { base * CMK_READ } else { base })
}

/// Charge of one change-feed or conflict-feed page that returned items of these sizes: each item
/// as a point read, and an empty page (304) as one 404 read; the customer-key surcharge of
/// queries and feeds (+15%) on top.
pub(crate) fn feed_charge(sizes: impl IntoIterator<Item = usize>, cmk: bool) -> f64 {
    let mut base = 0.0;
    let mut any = false;
    for s in sizes {
        base += interpolate(&READ_POINTS, s);
        any = true;
    }
    if !any {
        base = interpolate(&READ_POINTS, 0);
    }
    round2(if cmk { base * CMK_QUERY } else { base })
}

/// Charge of writing one item of `size` bytes with `indexed_terms` index terms written.
pub(crate) fn write_charge(size: usize, indexed_terms: usize, cmk: bool) -> f64 {
    let base = interpolate(&WRITE_POINTS, size) + PER_INDEXED_TERM * indexed_terms as f64;
    let total = if cmk {
        base * CMK_WRITE + CMK_PER_INDEXED_TERM * indexed_terms as f64
    } else {
        base
    };
    round2(total)
}

/// The (unrounded) charge of loading one document of `size` bytes during a query scan.
pub(crate) fn query_load_charge(size: usize) -> f64 {
    QUERY_LOAD_SCALE * interpolate(&READ_POINTS, size)
}

/// The (unrounded) charge of reading `entries` index entries during a query.
pub(crate) fn index_read_charge(entries: usize) -> f64 {
    QUERY_PER_INDEX_ENTRY * entries as f64
}

/// Charge of one query page: `load` is the page's share of the scan's load charges, and
/// `result_bytes` the size of the items the page returns (compact JSON).
pub(crate) fn query_charge(load: f64, result_bytes: usize, cmk: bool) -> f64 {
    let base = QUERY_BASE + load + QUERY_RESULT_PER_KIB * result_bytes as f64 / 1024.0;
    round2(if cmk { base * CMK_QUERY } else { base })
}

/// RU per millisecond of JavaScript a stored procedure ran (host calls excluded: their
/// operations are charged as themselves).
const SCRIPT_PER_MS: f64 = 0.1;

/// Charge of a script's own running time (docs/scripts.md, "Charges"); no customer-key
/// surcharge: nothing is sealed or opened by it.
pub(crate) fn script_charge(time: std::time::Duration) -> f64 {
    round2(SCRIPT_PER_MS * time.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_sum_is_a_positive_zero() {
        let none = summed_charge(std::iter::empty());
        assert!(none == 0.0 && none.is_sign_positive(), "{none}");
        assert_eq!(summed_charge([1.004, 2.0]), 3.0);
    }

    #[test]
    fn feed_pages_charge_like_point_reads_with_the_query_surcharge() {
        assert_eq!(feed_charge([], false), 1.0);
        assert_eq!(feed_charge([100, 1024, 4096], false), round2(1.0 + 1.0 + 1.14));
        assert_eq!(feed_charge([1024; 10], true), round2(10.0 * 1.15));
        assert_eq!(feed_charge([], true), 1.15);
    }

    #[test]
    fn reference_points_within_ten_percent() {
        for (size, ru) in READ_POINTS {
            let got = point_read_charge(size as usize, false);
            assert!((got - ru).abs() <= ru * 0.1, "read {size}: {got} vs {ru}");
        }
        for (size, ru) in WRITE_POINTS {
            let got = write_charge(size as usize, 0, false);
            assert!((got - ru).abs() <= ru * 0.1, "write {size}: {got} vs {ru}");
        }
    }

    #[test]
    fn query_charges() {
        // The table in docs/ru-model.md, section "Queries".
        let cases: [(f64, usize, bool, f64); 8] = [
            (0.0, 0, false, 2.3),
            (0.0, 0, true, 2.64),
            (query_load_charge(1024), 1024, false, 3.3),
            (query_load_charge(1024), 1024, true, 3.79),
            (query_load_charge(1_048_576), 0, true, 86.54),
            (1000.0 * query_load_charge(1024), 1000 * 1024, false, 1002.3),
            (1000.0 * query_load_charge(1024), 1000 * 1024, true, 1152.64),
            (query_load_charge(1_048_576), 0, false, 75.25),
        ];
        for (load, bytes, cmk, want) in cases {
            assert_eq!(query_charge(load, bytes, cmk), want, "{load} {bytes} {cmk}");
        }
        assert_eq!(query_load_charge(10), 0.5);
    }

    #[test]
    fn small_items_monotonic_and_surcharge() {
        assert_eq!(point_read_charge(10, false), 1.0);
        assert_eq!(write_charge(10, 0, false), 4.95);
        assert_eq!(point_read_charge(1024, true), 1.05);
        assert_eq!(write_charge(1024, 0, true), 5.25);
        assert_eq!(write_charge(1024, 10, false), 6.95);
        assert_eq!(write_charge(1024, 10, true), round2(6.95 * 1.06 + 0.6));
        let mut prev = 0.0;
        for size in (0..2_200_000).step_by(10_000) {
            let c = write_charge(size, 0, false);
            assert!(c >= prev, "not monotonic at {size}");
            prev = c;
        }
    }
}
