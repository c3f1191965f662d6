//! Spatial functions over GeoJSON (Point, MultiPoint, LineString, MultiLineString, Polygon,
//! MultiPolygon; positions are `[longitude, latitude]` in degrees on WGS-84). `ST_DISTANCE` is the
//! least distance in metres between any two valid geometries (`spatial_distance.rs` says how);
//! `ST_WITHIN` and `ST_INTERSECTS` test in the longitude/latitude plane (edges are straight in
//! degrees, not great circles); `ST_ISVALID` / `ST_ISVALIDDETAILED` check the GeoJSON structure,
//! the coordinate ranges and the geometry's validity (closed rings, no self-intersection).
//! Anything that is not GeoJSON of these types gives undefined. Pure.

use geo::{Intersects, Validation, Within};
use serde_json::{Map, Value};

use super::arg;
use super::spatial_distance::least_distance;
use crate::geojson::parse;
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
