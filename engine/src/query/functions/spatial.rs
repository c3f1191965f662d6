//! Spatial functions over GeoJSON (Point, MultiPoint, LineString, MultiLineString, Polygon,
//! MultiPolygon; positions are `[longitude, latitude]` in degrees on WGS-84). `ST_DISTANCE` is the
//! least distance in metres between any two valid geometries (`spatial_distance.rs` says how);
//! `ST_WITHIN` and `ST_INTERSECTS` test in the longitude/latitude plane (edges are straight in
//! degrees, not great circles); `ST_ISVALID` / `ST_ISVALIDDETAILED` check the GeoJSON structure,
//! the coordinate ranges and the geometry's validity (closed rings, no self-intersection).
//! Anything that is not GeoJSON of these types gives undefined. Pure.

use geo::{
    Coord, Geometry, Intersects, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
    Validation, Within,
};
use serde_json::{Map, Value};

use super::arg;
use super::spatial_distance::least_distance;
use crate::query::value::{number, Val};

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "ST_DISTANCE" | "ST_WITHIN" | "ST_INTERSECTS" => (2, 2),
        "ST_ISVALID" | "ST_ISVALIDDETAILED" => (1, 1),
        _ => return None,
    })
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    let geometry = |i: usize| arg(args, i).filter(|v| v.is_object()).and_then(|v| parse(v).ok());
    Some(match name {
        "ST_DISTANCE" => {
            let valid = |i: usize| geometry(i).filter(Validation::is_valid);
            let (a, b) = valid(0).zip(valid(1))?;
            least_distance(&a, &b).and_then(number)
        }
        "ST_WITHIN" => geometry(0)
            .zip(geometry(1))
            .map(|(a, b)| Value::Bool(a.is_within(&b))),
        "ST_INTERSECTS" => geometry(0)
            .zip(geometry(1))
            .map(|(a, b)| Value::Bool(a.intersects(&b))),
        "ST_ISVALID" | "ST_ISVALIDDETAILED" => {
            let v = arg(args, 0).filter(|v| v.is_object())?;
            let verdict = parse(v).and_then(|g| match g.check_validation() {
                Ok(()) => Ok(()),
                Err(e) => Err(e.to_string()),
            });
            if name == "ST_ISVALID" {
                Some(Value::Bool(verdict.is_ok()))
            } else {
                let mut m = Map::new();
                m.insert("valid".into(), Value::Bool(verdict.is_ok()));
                if let Err(reason) = verdict {
                    m.insert("reason".into(), Value::String(reason));
                }
                Some(Value::Object(m))
            }
        }
        _ => return None,
    })
}

/// A GeoJSON geometry, or why it is not one.
fn parse(v: &Value) -> Result<Geometry<f64>, String> {
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
