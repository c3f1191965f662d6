//! `ST_DISTANCE`'s least distance in metres between two parsed, valid GeoJSON geometries.
//! Point–Point is the WGS-84 geodesic (Karney's algorithm). Any pair with a non-Point is 0 when
//! the geometries intersect or one contains the other (tested in the longitude/latitude plane, as
//! `ST_INTERSECTS` is); otherwise, for each vertex of either geometry, the nearest point of the
//! other is found on the sphere (haversine cross-track, the `geo` crate) and the WGS-84 geodesic
//! to it is measured; the least of those is the answer. Between two disjoint great-circle arcs the
//! least distance falls at an endpoint of one of them, so the vertices suffice. Pure; it does not
//! parse or validate (the caller gives undefined for invalid input).

use geo::{Closest, CoordsIter, Distance, Geodesic, Geometry, HaversineClosestPoint, Intersects, Point};

/// Most vertex pairs one call may weigh (each vertex of one geometry against each edge of the
/// other, both ways): two shapes of 1,000 positions each. Past it the distance is undefined, so a
/// hostile pair of huge shapes cannot hold a query for minutes (evaluation is infallible).
const MAX_VERTEX_PAIRS: usize = 1_000_000;

/// The least distance in metres, `None` when the nearest point is indeterminate (an empty
/// geometry) or the pair is past `MAX_VERTEX_PAIRS`.
pub(super) fn least_distance(a: &Geometry<f64>, b: &Geometry<f64>) -> Option<f64> {
    if let (Geometry::Point(p), Geometry::Point(q)) = (a, b) {
        return Some(Geodesic.distance(*p, *q));
    }
    if a.coords_count().saturating_mul(b.coords_count()) > MAX_VERTEX_PAIRS {
        return None;
    }
    if a.intersects(b) {
        return Some(0.0);
    }
    let d = vertices_to(a, b)?.min(vertices_to(b, a)?);
    d.is_finite().then_some(d)
}

/// The least distance from any vertex of `from` to `to`.
fn vertices_to(from: &Geometry<f64>, to: &Geometry<f64>) -> Option<f64> {
    from.coords_iter().try_fold(f64::INFINITY, |least, c| {
        Some(least.min(point_to(Point::from(c), to)?))
    })
}

fn point_to(p: Point<f64>, g: &Geometry<f64>) -> Option<f64> {
    match g.haversine_closest_point(&p) {
        Closest::Intersection(_) => Some(0.0),
        Closest::SinglePoint(nearest) => Some(Geodesic.distance(p, nearest)),
        Closest::Indeterminate => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Coord, LineString};

    /// A LineString of `n` positions along the parallel at latitude `lat`, within one degree.
    fn parallel(n: usize, lat: f64) -> Geometry<f64> {
        let step = 1.0 / n as f64;
        Geometry::LineString(LineString(
            (0..n)
                .map(|i| Coord {
                    x: i as f64 * step,
                    y: lat,
                })
                .collect(),
        ))
    }

    /// The error docs/query.md states: against the least WGS-84 geodesic to 20,000 points spaced
    /// along the great-circle edge, the answer is never shorter and at most 0.001% longer.
    #[test]
    fn nearest_point_on_the_sphere_is_close_to_the_ellipsoids() {
        use geo::{Haversine, InterpolatePoint, Line};
        for (p, a, b) in [
            ((10.0, 50.0), (0.0, 40.0), (20.0, 42.0)),
            ((-70.0, -30.0), (-60.0, -35.0), (-65.0, -10.0)),
            ((1.0, 0.5), (0.0, 0.0), (0.0, 1.0)),
            ((100.0, 75.0), (90.0, 60.0), (120.0, 61.0)),
        ] {
            let (p, a, b) = (Point::from(p), Point::from(a), Point::from(b));
            let edge = Geometry::Line(Line::new(a, b));
            let got = point_to(p, &edge).unwrap();
            let best = (0..=20_000)
                .map(|i| {
                    let q = Haversine.point_at_ratio_between(a, b, f64::from(i) / 20_000.0);
                    Geodesic.distance(p, q)
                })
                .fold(f64::INFINITY, f64::min);
            assert!(got >= best * (1.0 - 1e-9), "{got} < {best}");
            assert!(got <= best * (1.0 + 1e-5), "{got} vs {best}");
        }
    }

    #[test]
    fn huge_pairs_are_undefined_and_smaller_ones_measured() {
        // Latitude 10 to 11 along meridians: between the meridian arc's 110.6 km and 110.7 km.
        let d = least_distance(&parallel(1_000, 10.0), &parallel(1_000, 11.0)).unwrap();
        assert!((110_600.0..110_700.0).contains(&d), "{d}");
        assert_eq!(
            least_distance(&parallel(1_001, 10.0), &parallel(1_000, 11.0)),
            None
        );
    }
}
