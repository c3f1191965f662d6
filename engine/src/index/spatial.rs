//! The spatial index's grid: which cells a GeoJSON value at a spatial path is entered under,
//! and which cells a spatial filter reads. Pure: it computes terms and cell lists; storage
//! (account/index.rs) turns them into key ranges and the planner (query/plan/spatial.rs) decides
//! when a filter may use them. See docs/indexing.md, "Spatial indexes".
//!
//! The grid is a quadtree over longitude [-180, 180] and latitude [-90, 90]: at level `L` both
//! are cut into `2^L` equal steps, and cell `(x, y)` holds the points whose steps are `x` and `y`.
//! The cell of a coordinate at a finer level lies inside its cell at every coarser level (the
//! step is `floor(t * 2^L)` of one `t` per coordinate, and scaling by a power of two is exact), so
//! two boxes that share a point share that point's cell at every level. Cells are written by
//! hand rather than with an S2 crate: an axis-aligned grid in degrees matches the planar boxes
//! `ST_WITHIN` and `ST_INTERSECTS` test, and the encoder is a few lines.
//!
//! A value is entered under the cells covering its reach (`geojson::reach`) at each of `LEVELS`
//! up to the finest at which at most `SHAPE_CELLS` cells cover it (a Point: one cell at every
//! level); its cells at that finest level are marked. A filter reads, at one level, every
//! entry of the cells covering its region, and at each coarser level the marked entries of
//! the cells above them: a value whose finest level is coarser is found there. A geometry the
//! policy does not declare (or one that may reach anywhere) is entered once under the marked
//! world cell (level 0), which every spatial lookup reads, so the index never misses an item the
//! exact function would keep.

use std::collections::BTreeSet;

use geo::{Coord, Geometry};
use serde_json::Value;

use super::encode::{encode_cell, prefix_end, spatial_term_head};
use super::path::Seg;
use super::policy::SpatialType;
use crate::geojson::{parse, reach, Reach};

/// The levels entries are written at, coarse to fine. Level 2 cells are 90° × 45°; level 17
/// cells about 0.0027° × 0.0014° (some 300 m × 150 m at the equator).
pub(crate) const LEVELS: [u8; 6] = [2, 5, 8, 11, 14, 17];
/// The level of the single world cell.
const WORLD: u8 = 0;
/// Most cells a value is entered under at one level. At level 2 the whole world is 16 cells,
/// so every value fits there.
const SHAPE_CELLS: u64 = 16;
/// Most cells a filter reads at its level; a region needing more at level 5 (about 90° × 45°)
/// is read by a scan instead.
const QUERY_CELLS: u64 = 64;
/// The coarsest level a filter reads at.
const COARSEST_QUERY_LEVEL: u8 = 5;
/// Metres in a degree of latitude, at least (WGS-84's meridian degree is 110,574 m at the
/// equator and longer towards the poles), and in a degree of longitude at the equator, at least
/// (111,319 m; the parallel at latitude φ is at least that times cos φ).
const LAT_DEGREE_M: f64 = 110_000.0;
const LON_DEGREE_M: f64 = 111_000.0;
/// A distance region reaching past this latitude is read by a scan (near a pole a degree of
/// longitude shrinks to nothing and the region wraps around it).
const MAX_DISTANCE_LATITUDE: f64 = 89.0;

/// The cells a filter reads: every entry of `cells` at `level`, and the marked entries above.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cover {
    pub(crate) level: u8,
    pub(crate) cells: Vec<(u32, u32)>,
}

/// The cell steps of a coordinate in `[0, 1]` at `level`.
fn step(t: f64, level: u8) -> u32 {
    let n = 1u32 << level;
    let s = (t * f64::from(n)).floor();
    if s <= 0.0 {
        0
    } else if s >= f64::from(n - 1) {
        n - 1
    } else {
        s as u32
    }
}

fn cell(c: Coord<f64>, level: u8) -> (u32, u32) {
    (
        step((c.x + 180.0) / 360.0, level),
        step((c.y + 90.0) / 180.0, level),
    )
}

/// The cells covering `r` at `level` as inclusive corners, and their number.
fn corners(r: &Reach, level: u8) -> ((u32, u32), (u32, u32), u64) {
    let (lo, hi) = (cell(r.min, level), cell(r.max, level));
    let n = (u64::from(hi.0 - lo.0) + 1) * (u64::from(hi.1 - lo.1) + 1);
    (lo, hi, n)
}

fn cells_between(lo: (u32, u32), hi: (u32, u32)) -> impl Iterator<Item = (u32, u32)> {
    (lo.0..=hi.0).flat_map(move |x| (lo.1..=hi.1).map(move |y| (x, y)))
}

/// The spatial terms of `v`, the value at `path` (a spatial index of `types`): none when `v` is
/// not GeoJSON (the spatial functions give undefined for it).
pub(crate) fn spatial_terms(path: &[Seg], v: &Value, types: &[SpatialType], out: &mut BTreeSet<Vec<u8>>) {
    let Ok(g) = parse(v) else { return };
    let Some(head) = spatial_term_head(path) else {
        return;
    };
    let term = |level: u8, c: (u32, u32), finest: bool| {
        let mut t = head.clone();
        encode_cell(level, c, Some(finest), &mut t);
        t
    };
    let declared = match &g {
        Geometry::Point(_) => types.contains(&SpatialType::Point),
        Geometry::LineString(_) => types.contains(&SpatialType::LineString),
        Geometry::Polygon(_) => types.contains(&SpatialType::Polygon),
        Geometry::MultiPolygon(_) => types.contains(&SpatialType::MultiPolygon),
        _ => false,
    };
    let Some(r) = reach(&g).filter(|_| declared) else {
        out.insert(term(WORLD, (0, 0), true));
        return;
    };
    let finest = LEVELS
        .iter()
        .copied()
        .take_while(|&l| corners(&r, l).2 <= SHAPE_CELLS)
        .last()
        .unwrap_or(LEVELS[0]);
    for level in LEVELS.into_iter().take_while(|&l| l <= finest) {
        let (lo, hi, _) = corners(&r, level);
        for c in cells_between(lo, hi) {
            out.insert(term(level, c, level == finest));
        }
    }
}

/// The cells a filter on a region made of the boxes `region` reads: at the finest level where
/// at most `QUERY_CELLS` cells cover them; `None` (scan) when even level 5 needs more.
pub(crate) fn query_cover(region: &[Reach]) -> Option<Cover> {
    let count = |l: u8| region.iter().map(|r| corners(r, l).2).sum::<u64>();
    let level = LEVELS
        .iter()
        .copied()
        .filter(|&l| l >= COARSEST_QUERY_LEVEL)
        .take_while(|&l| count(l) <= QUERY_CELLS)
        .last()?;
    let cells: BTreeSet<(u32, u32)> = region
        .iter()
        .flat_map(|r| {
            let (lo, hi, _) = corners(r, level);
            cells_between(lo, hi)
        })
        .collect();
    Some(Cover {
        level,
        cells: cells.into_iter().collect(),
    })
}

/// The boxes holding every point within `metres` (geodesic, on WGS-84) of a point of reach
/// `r`: one, or two when the region crosses the antimeridian (its part beyond ±180° wraps to
/// the other side); `None` (scan) when it would pass latitude 89° or span 180° of longitude.
///
/// A point within `m` metres of `q` differs from it by at most `m / LAT_DEGREE_M` degrees of
/// latitude; the geodesic between them stays within that many degrees of `q`, so below the
/// greatest such latitude φ, where a degree of longitude is at least `LON_DEGREE_M · cos φ`:
/// along the geodesic, longitude changes (continuously, unwrapped) by at most `m` over that.
pub(crate) fn within_distance(r: &Reach, metres: f64) -> Option<Vec<Reach>> {
    if !metres.is_finite() {
        return None;
    }
    let metres = metres.max(0.0);
    let dlat = metres / LAT_DEGREE_M;
    let (south, north) = (r.min.y - dlat, r.max.y + dlat);
    let highest = south.abs().max(north.abs());
    if highest > MAX_DISTANCE_LATITUDE {
        return None;
    }
    let dlon = metres / (LON_DEGREE_M * highest.to_radians().cos());
    let (west, east) = (r.min.x - dlon, r.max.x + dlon);
    if east - west >= 180.0 {
        return None;
    }
    let band = |west: f64, east: f64| Reach {
        min: Coord { x: west, y: south },
        max: Coord { x: east, y: north },
    };
    Some(if west < -180.0 {
        vec![band(-180.0, east), band(west + 360.0, 180.0)]
    } else if east > 180.0 {
        vec![band(west, 180.0), band(-180.0, east - 360.0)]
    } else {
        vec![band(west, east)]
    })
}

/// The key ranges `[start, end)` a cover reads under a spatial prefix: every entry of its cells,
/// the marked entries of the cells above them at each coarser level, and the world cell.
pub(crate) fn cover_spans(prefix: &[u8], cover: &Cover) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut runs = BTreeSet::new();
    for &(x, y) in &cover.cells {
        runs.insert((cover.level, (x, y), None));
        for l in LEVELS.into_iter().filter(|&l| l < cover.level) {
            let up = cover.level - l;
            runs.insert((l, (x >> up, y >> up), Some(true)));
        }
    }
    runs.insert((WORLD, (0, 0), Some(true)));
    runs.into_iter()
        .map(|(level, c, finest)| {
            let mut start = prefix.to_vec();
            encode_cell(level, c, finest, &mut start);
            let end = prefix_end(&start).unwrap_or_default();
            (start, end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALL: [SpatialType; 4] = [
        SpatialType::Point,
        SpatialType::LineString,
        SpatialType::Polygon,
        SpatialType::MultiPolygon,
    ];

    /// `(level, x, y, finest)` of each term.
    fn cells_of(v: Value, types: &[SpatialType]) -> Vec<(u8, u32, u32, bool)> {
        let path = [Seg::Name("loc".into())];
        let mut out = BTreeSet::new();
        spatial_terms(&path, &v, types, &mut out);
        let head = spatial_term_head(&path).unwrap().len();
        out.iter()
            .map(|t| {
                let c = &t[head + 1..];
                let n = |i: usize| u32::from_be_bytes(c[i..i + 4].try_into().unwrap());
                (c[0], n(1), n(5), c[9] == 1)
            })
            .collect()
    }

    /// Hand-derived: (2.35, 48.85) is at t = (182.35 / 360, 138.85 / 180) = (0.50653, 0.77139);
    /// at level 2 that is cell (2, 3), at level 5 (16, 24), at level 8 (129, 197).
    #[test]
    fn a_point_has_one_cell_per_level_and_is_marked_at_the_finest() {
        let got = cells_of(json!({"type": "Point", "coordinates": [2.35, 48.85]}), &ALL);
        assert_eq!(got.len(), LEVELS.len());
        assert_eq!(got[0], (2, 2, 3, false));
        assert_eq!(got[1], (5, 16, 24, false));
        assert_eq!(got[2], (8, 129, 197, false));
        assert!(got[5].0 == 17 && got[5].3);
        for w in got.windows(2) {
            let up = w[1].0 - w[0].0;
            assert_eq!((w[1].1 >> up, w[1].2 >> up), (w[0].1, w[0].2), "nested cells");
        }
    }

    /// A 2° × 2° square from (0, 0): at level 8 cells are 1.40625° × 0.703125°, so x steps 128
    /// to 129 and y steps 128 to 130 (6 cells); at level 11, 12 × 23 = 276 cells: too many, so
    /// it is marked at level 8.
    #[test]
    fn a_shape_is_covered_up_to_its_finest_level() {
        let square = json!({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]});
        let got = cells_of(square.clone(), &ALL);
        let at = |l: u8| got.iter().filter(|c| c.0 == l).collect::<Vec<_>>();
        assert_eq!(at(8).len(), 6);
        assert!(at(8).iter().all(|c| c.3) && at(5).iter().all(|c| !c.3));
        assert!(at(11).is_empty());
        assert!(at(8)
            .iter()
            .all(|c| (128..=129).contains(&c.1) && (128..=130).contains(&c.2)));
        // Not declared: the world cell alone; not GeoJSON: nothing.
        assert_eq!(cells_of(square, &[SpatialType::Point]), vec![(0, 0, 0, true)]);
        let multi = json!({"type": "MultiPoint", "coordinates": [[1, 1]]});
        assert_eq!(cells_of(multi, &ALL), vec![(0, 0, 0, true)]);
        assert!(cells_of(json!({"type": "Point"}), &ALL).is_empty());
        assert!(cells_of(json!("Point"), &ALL).is_empty());
    }

    #[test]
    fn queries_read_at_most_64_cells_at_level_5_or_finer() {
        let r = |x0: f64, y0: f64, x1: f64, y1: f64| Reach {
            min: Coord { x: x0, y: y0 },
            max: Coord { x: x1, y: y1 },
        };
        let small = query_cover(&[r(2.3, 48.8, 2.4, 48.9)]).unwrap();
        assert!(small.cells.len() <= 64 && small.level >= 11, "{small:?}");
        assert_eq!(query_cover(&[r(-100.0, -50.0, 100.0, 50.0)]), None);
        // 20° × 10° from (0.5, 0.5) at level 5 (11.25° × 5.625°): x steps 16 to 17, y steps
        // 16 to 17: 4 cells; at level 8, 15 × 15 = 225: too many.
        let mid = query_cover(&[r(0.5, 0.5, 20.5, 10.5)]).unwrap();
        assert_eq!((mid.level, mid.cells.len()), (5, 4));
        // Two boxes either side of the antimeridian, 0.02° wide and 0.008° tall: at level 17
        // (steps of 0.00275° by 0.00137°) 8 longitude steps each by 7 latitude steps, 112 in
        // all: too many; at level 14 (0.022° by 0.011°) one step each, x = 16383 and x = 0.
        let sides = [r(179.98, 0.001, 180.0, 0.009), r(-180.0, 0.001, -179.98, 0.009)];
        let both = query_cover(&sides).unwrap();
        assert_eq!(both.level, 14);
        assert_eq!(both.cells.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0, 16383]);
    }

    /// 10 km around (2.35, 48.85): ±10,000 / 110,000 = ±0.0909° of latitude; at the highest
    /// latitude 48.9409°, ±10,000 / (111,000 · cos 48.9409°) = ±0.1372° of longitude. Around
    /// (179.99, 0): ±0.0909° of latitude, ±10,000 / 111,000 · 1 / cos 0.0909° = ±0.0901° of
    /// longitude, so 179.8999 to 180.0801, which wraps to -180 to -179.9199.
    #[test]
    fn distance_regions_are_boxes_wrap_at_the_antimeridian_and_stop_at_the_poles() {
        let p = Reach {
            min: Coord { x: 2.35, y: 48.85 },
            max: Coord { x: 2.35, y: 48.85 },
        };
        let [b] = within_distance(&p, 10_000.0).unwrap()[..] else {
            panic!("one box")
        };
        assert!((b.max.y - 48.9409).abs() < 1e-4 && (b.min.y - 48.7591).abs() < 1e-4);
        assert!(
            (b.max.x - 2.4872).abs() < 1e-3 && (b.min.x - 2.2128).abs() < 1e-3,
            "{b:?}"
        );
        let near_pole = Reach {
            min: Coord { x: 0.0, y: 88.95 },
            max: Coord { x: 0.0, y: 88.95 },
        };
        assert_eq!(within_distance(&near_pole, 10_000.0), None);
        let dateline = Reach {
            min: Coord { x: 179.99, y: 0.0 },
            max: Coord { x: 179.99, y: 0.0 },
        };
        let [east, west] = within_distance(&dateline, 10_000.0).unwrap()[..] else {
            panic!("two boxes")
        };
        assert!(
            (east.min.x - 179.8999).abs() < 1e-4 && east.max.x == 180.0,
            "{east:?}"
        );
        assert!(
            west.min.x == -180.0 && (west.max.x + 179.9199).abs() < 1e-4,
            "{west:?}"
        );
        assert_eq!(within_distance(&dateline, 30_000_000.0), None);
        assert_eq!(within_distance(&p, f64::NAN), None);
    }

    #[test]
    fn spans_read_the_cells_the_marked_cells_above_and_the_world() {
        let cover = Cover {
            level: 8,
            cells: vec![(129, 197), (129, 198)],
        };
        let spans = cover_spans(b"P", &cover);
        // Two cells at 8, their one parent at 5 (16, 24) and 2 (2, 3) marked, the world.
        assert_eq!(spans.len(), 5);
        let mut marked_parent = b"P".to_vec();
        encode_cell(5, (16, 24), Some(true), &mut marked_parent);
        assert!(spans.iter().any(|(s, _)| *s == marked_parent));
        assert!(spans.iter().all(|(s, e)| s < e));
    }
}
