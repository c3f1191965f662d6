//! GeoJSON geometries (Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon;
//! positions `[longitude, latitude]` in degrees) read into the `geo` crate's types, and the
//! box in longitude and latitude a geometry can reach. Shared by the spatial functions (query)
//! and the spatial index (index), so both agree on what a geometry is. Pure: knows JSON values
//! and geometry, not queries nor storage.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value;

/// A GeoJSON geometry, or why it is not one.
pub(crate) fn parse(v: &Value) -> Result<Geometry<f64>, String> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or("no \"type\" string")?;
    let coords = v.get("coordinates").ok_or("no \"coordinates\"")?;
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(coords)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            array(coords)?
                .iter()
                .map(|p| position(p).map(Point))
                .collect::<Result<_, _>>()?,
        )),
        "LineString" => Geometry::LineString(path(coords)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            array(coords)?.iter().map(path).collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(coords)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            array(coords)?.iter().map(polygon).collect::<Result<_, _>>()?,
        )),
        other => return Err(format!("unsupported type \"{other}\"")),
    })
}

/// `[longitude, latitude]` (an altitude after them is ignored), in range.
fn position(v: &Value) -> Result<Coord<f64>, String> {
    let p = v.as_array().ok_or("a position is not an array")?;
    let (Some(x), Some(y)) = (
        p.first().and_then(Value::as_f64),
        p.get(1).and_then(Value::as_f64),
    ) else {
        return Err("a position needs two numbers".into());
    };
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(format!(
            "position [{x}, {y}] is out of range (longitude ±180, latitude ±90)"
        ));
    }
    Ok(Coord { x, y })
}

fn array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array().ok_or_else(|| "coordinates are not an array".into())
}

/// A LineString's positions: at least two.
fn path(v: &Value) -> Result<LineString<f64>, String> {
    let line = line(v)?;
    if line.0.len() < 2 {
        return Err("a LineString needs at least two positions".into());
    }
    Ok(line)
}

fn line(v: &Value) -> Result<LineString<f64>, String> {
    let positions = v.as_array().ok_or("coordinates are not an array")?;
    Ok(LineString(
        positions.iter().map(position).collect::<Result<_, _>>()?,
    ))
}

/// Rings of at least four positions, the last equal to the first (GeoJSON's closed rings).
fn polygon(v: &Value) -> Result<Polygon<f64>, String> {
    let rings = v.as_array().ok_or("Polygon coordinates are not an array")?;
    let mut rings = rings.iter().map(|r| {
        let ring = line(r)?;
        if ring.0.len() < 4 || ring.0.first() != ring.0.last() {
            return Err("a ring needs at least four positions, the last equal to the first".to_string());
        }
        Ok(ring)
    });
    let exterior = rings.next().ok_or("a Polygon needs a ring")??;
    Ok(Polygon::new(exterior, rings.collect::<Result<_, _>>()?))
}

/// A box in longitude (`x`) and latitude (`y`) degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reach {
    pub(crate) min: Coord<f64>,
    pub(crate) max: Coord<f64>,
}

/// The box holding every point of `g` both as drawn in the longitude/latitude plane (what
/// `ST_WITHIN` and `ST_INTERSECTS` test) and along the great-circle arcs between its consecutive
/// positions (where `ST_DISTANCE` finds nearest points): an arc may bulge towards a pole past
/// both its ends. `None` when `g` has no position, or an edge spans 180° of longitude or more
/// (its shorter arc crosses the antimeridian, or it passes over a pole): such a geometry may
/// reach anywhere.
pub(crate) fn reach(g: &Geometry<f64>) -> Option<Reach> {
    use geo::BoundingRect;
    let rect = g.bounding_rect()?;
    let mut r = Reach {
        min: rect.min(),
        max: rect.max(),
    };
    for line in paths_of(g).iter().flat_map(|l| l.lines()) {
        let (lo, hi) = arc_latitudes(line.start, line.end)?;
        r.min.y = r.min.y.min(lo);
        r.max.y = r.max.y.max(hi);
    }
    Some(r)
}

/// The lines and rings of a geometry (none for points).
fn paths_of(g: &Geometry<f64>) -> Vec<&LineString<f64>> {
    fn rings(p: &Polygon<f64>) -> Vec<&LineString<f64>> {
        std::iter::once(p.exterior()).chain(p.interiors()).collect()
    }
    match g {
        Geometry::LineString(l) => vec![l],
        Geometry::MultiLineString(m) => m.0.iter().collect(),
        Geometry::Polygon(p) => rings(p),
        Geometry::MultiPolygon(m) => m.0.iter().flat_map(rings).collect(),
        _ => Vec::new(),
    }
}

/// The least and greatest latitude along the shorter great-circle arc from `a` to `b`; `None`
/// when the edge spans 180° of longitude or more.
fn arc_latitudes(a: Coord<f64>, b: Coord<f64>) -> Option<(f64, f64)> {
    let span = b.x - a.x;
    if span.abs() >= 180.0 {
        return None;
    }
    let (lo, hi) = (a.y.min(b.y), a.y.max(b.y));
    let unit = |c: Coord<f64>| {
        let (lon, lat) = (c.x.to_radians(), c.y.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    };
    let (p, q) = (unit(a), unit(b));
    let n = [
        p[1] * q[2] - p[2] * q[1],
        p[2] * q[0] - p[0] * q[2],
        p[0] * q[1] - p[1] * q[0],
    ];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if len < 1e-12 {
        return Some((lo, hi)); // one position twice: no arc
    }
    let nz = n[2] / len;
    // The great circle's northernmost point: latitude acos(|nz|), at this longitude; its
    // southernmost is opposite. A meridian (nz = 0) has its extremes at the poles, which an
    // arc of less than 180° of longitude cannot pass over (it stays on one side).
    if nz.abs() < 1e-12 {
        return Some((lo, hi));
    }
    let vertex_lat = nz.abs().acos().to_degrees();
    let north_lon = (-nz * n[1]).atan2(-nz * n[0]).to_degrees();
    // Whether a longitude lies strictly inside the arc's span (taken the short way from `a`).
    let inside = |lon: f64| {
        let t = (lon - a.x + 540.0).rem_euclid(360.0) - 180.0;
        t * span > 0.0 && t.abs() < span.abs()
    };
    // A small margin: the arc's extreme is computed, and rounding must not shrink the box.
    const MARGIN: f64 = 1e-9;
    let hi = if inside(north_lon) {
        hi.max(vertex_lat + MARGIN)
    } else {
        hi
    };
    let lo = if inside(north_lon + 180.0) {
        lo.min(-vertex_lat - MARGIN)
    } else {
        lo
    };
    Some((lo.max(-90.0), hi.min(90.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reach_of(v: Value) -> Option<Reach> {
        reach(&parse(&v).unwrap())
    }

    #[test]
    fn a_point_reaches_itself_and_a_line_its_box() {
        let r = reach_of(json!({"type": "Point", "coordinates": [2.35, 48.85]})).unwrap();
        assert_eq!(
            (r.min, r.max),
            (Coord { x: 2.35, y: 48.85 }, Coord { x: 2.35, y: 48.85 })
        );
        // Along the equator and along a meridian a great circle is the straight edge itself.
        let r = reach_of(json!({"type": "LineString", "coordinates": [[0, 0], [10, 0]]})).unwrap();
        assert_eq!((r.min.y, r.max.y), (0.0, 0.0));
        let r = reach_of(json!({"type": "LineString", "coordinates": [[5, -10], [5, 20]]})).unwrap();
        assert_eq!(
            (r.min, r.max),
            (Coord { x: 5.0, y: -10.0 }, Coord { x: 5.0, y: 20.0 })
        );
    }

    /// The arc from (-50, 60) to (50, 60) peaks on the meridian 0 at atan(tan 60° / cos 50°),
    /// 69.64°: north of both its ends. Mirrored in the south, it dips to -69.64°.
    #[test]
    fn an_arc_bulges_towards_the_pole() {
        let peak = (60f64.to_radians().tan() / 50f64.to_radians().cos())
            .atan()
            .to_degrees();
        assert!((peak - 69.64).abs() < 0.01, "{peak}");
        let r = reach_of(json!({"type": "LineString", "coordinates": [[-50, 60], [50, 60]]})).unwrap();
        assert!((r.max.y - peak).abs() < 1e-6 && r.min.y == 60.0, "{r:?}");
        let r = reach_of(json!({"type": "LineString", "coordinates": [[-50, -60], [50, -60]]})).unwrap();
        assert!((r.min.y + peak).abs() < 1e-6 && r.max.y == -60.0, "{r:?}");
        // An arc that ends before its peak does not reach it.
        let r = reach_of(json!({"type": "LineString", "coordinates": [[-50, 60], [-10, 62]]})).unwrap();
        assert!(r.max.y < 69.0 && r.max.y > 62.0, "{r:?}");
    }

    #[test]
    fn edges_of_half_the_globe_reach_anywhere() {
        assert_eq!(
            reach_of(json!({"type": "LineString", "coordinates": [[-170, 0], [170, 0]]})),
            None
        );
        assert_eq!(
            reach_of(json!({"type": "LineString", "coordinates": [[0, 10], [180, 10]]})),
            None
        );
        assert_eq!(reach_of(json!({"type": "MultiPoint", "coordinates": []})), None);
    }
}
