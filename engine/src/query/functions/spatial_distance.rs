//! `ST_DISTANCE`'s least distance in metres between two parsed, valid GeoJSON geometries.
//! Point–Point is the WGS-84 geodesic (Karney's algorithm). Any pair with a non-Point is 0 when
//! the geometries intersect or one contains the other (tested in the longitude/latitude plane, as
//! `ST_INTERSECTS` is); otherwise, for each vertex of either geometry, the nearest point of the
//! other is found on the sphere (haversine cross-track, the `geo` crate) and the WGS-84 geodesic
//! to it is measured; the least of those is the answer. Between two disjoint great-circle arcs the
//! least distance falls at an endpoint of one of them, so the vertices suffice. Pure; it does not
//! parse or validate (the caller gives undefined for invalid input).

use geo::{Closest, CoordsIter, Distance, Geodesic, Geometry, HaversineClosestPoint, Intersects, Point};

/// The least distance in metres, `None` when the nearest point is indeterminate (an empty
/// geometry).
pub(super) fn least_distance(a: &Geometry<f64>, b: &Geometry<f64>) -> Option<f64> {
    if let (Geometry::Point(p), Geometry::Point(q)) = (a, b) {
        return Some(Geodesic.distance(*p, *q));
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
