//! Spatial filters as lookups of a spatial index: `ST_DISTANCE(p, g) < r` (or `<=`, written
//! `r > ST_DISTANCE(p, g)`, or `ST_DISTANCE(p, g) BETWEEN a AND r`), `ST_WITHIN(p, g)` and
//! `ST_INTERSECTS(p, g)`, where one argument is a path with a spatial index and the other a
//! constant GeoJSON geometry (either order: each function can only be true when the item's
//! geometry and the constant's region meet). The lookup reads the cells covering that region;
//! the executor then evaluates the function on every item proposed (the cells only narrow).
//! Pure: it decides, storage reads (account/index.rs, index/spatial.rs).

use serde_json::Value;

use super::{Lookup, LookupKind, Paths, SpatialLookup};
use crate::geojson::{parse, reach, Reach};
use crate::index::path::Seg;
use crate::index::spatial::{query_cover, within_distance};
use crate::index::CompiledPolicy;
use crate::query::ast::{BinOp, Expr, ExprKind};
use crate::query::exec::Prepared;

impl Prepared {
    /// The spatial lookup `e` stands for, if it is one of the forms above on a spatial path
    /// and its region is small enough to be read by cells (else `None`: another condition or a
    /// scan serves the query).
    pub(super) fn spatial_lookup(
        &self,
        e: &Expr,
        paths: &Paths<'_>,
        policy: &CompiledPolicy,
    ) -> Option<Lookup> {
        match &e.kind {
            ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
                let (call, bound) = match op {
                    BinOp::Lt | BinOp::Le => (a, b),
                    _ => (b, a),
                };
                let sign = if matches!(op, BinOp::Lt | BinOp::Gt) {
                    "<"
                } else {
                    "<="
                };
                self.distance_lookup(call, bound, sign, paths, policy)
            }
            ExprKind::Between {
                value,
                high,
                negated: false,
                ..
            } => self.distance_lookup(value, high, "<=", paths, policy),
            ExprKind::Call(name, args) if name == "ST_WITHIN" || name == "ST_INTERSECTS" => {
                let (path, shape) = self.spatial_args(args, paths, policy)?;
                lookup(path, name.clone(), &[shape])
            }
            _ => None,
        }
    }

    /// `call < bound` (or `<=`, as `sign` says) when `call` is `ST_DISTANCE` of a spatial path
    /// and a constant geometry and `bound` a constant number of metres.
    fn distance_lookup(
        &self,
        call: &Expr,
        bound: &Expr,
        sign: &str,
        paths: &Paths<'_>,
        policy: &CompiledPolicy,
    ) -> Option<Lookup> {
        let ExprKind::Call(name, args) = &call.kind else {
            return None;
        };
        if name != "ST_DISTANCE" {
            return None;
        }
        let metres = self.constant(bound)?.as_f64()?;
        let (path, shape) = self.spatial_args(args, paths, policy)?;
        let region = within_distance(&shape, metres)?;
        lookup(path, format!("ST_DISTANCE {sign} {metres}"), &region)
    }

    /// Of two arguments, the path with a spatial index and the reach of the constant geometry.
    fn spatial_args(
        &self,
        args: &[Expr],
        paths: &Paths<'_>,
        policy: &CompiledPolicy,
    ) -> Option<(Vec<Seg>, Reach)> {
        let [a, b] = args else { return None };
        let spatial = |x: &Expr| {
            paths
                .path(x)
                .filter(|p| !p.is_empty() && policy.spatial_types(p).is_some())
        };
        let (path, other) = match (spatial(a), spatial(b)) {
            (Some(p), _) => (p, b),
            (None, Some(p)) => (p, a),
            (None, None) => return None,
        };
        let shape = self.constant(other).filter(Value::is_object)?;
        Some((path, reach(&parse(&shape).ok()?)?))
    }
}

fn lookup(path: Vec<Seg>, what: String, region: &[Reach]) -> Option<Lookup> {
    Some(Lookup {
        path,
        kind: LookupKind::Spatial(SpatialLookup {
            what,
            cover: query_cover(region)?,
        }),
    })
}
