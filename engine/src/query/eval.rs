//! Evaluation of one expression against one row (the FROM and JOIN bindings) or, for aggregate
//! queries, one group's finished aggregates. Infallible by design: names and parameters were checked before,
//! and every type mismatch is undefined. Recursion is bounded by the parser's depth limit. Pure.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::aggregate::{agg_id, is_aggregate};
use super::ast::{BinOp, Expr, ExprKind, UnOp};
use super::functions::call;
use super::integer::{bit_not, bitwise};
use super::like::Pattern;
use super::udf::Udfs;
use super::value::{as_f64, compare, equals, number, Val};

/// The values bound by FROM and JOIN for one row, by alias (shared: a JOIN repeats the document
/// in every row it makes).
pub(crate) type Row = Vec<(String, Rc<Value>)>;

pub(crate) struct Env<'a> {
    pub(crate) params: &'a HashMap<String, Value>,
    /// The query's one "now", in ticks (100 ns) since the Unix epoch, for the GetCurrent*
    /// functions.
    pub(crate) now: i64,
    /// The finished aggregates of an aggregate query's row or group, by the address of their
    /// call expression (query/collect.rs): they answer aggregate calls, which are undefined
    /// without them (the checker allows aggregates only in SELECT, which is projected with them).
    pub(crate) aggs: Option<&'a HashMap<usize, Val>>,
    /// The container's user-defined functions the query calls; without them `udf.name(…)` is
    /// undefined (a plan's constant folding, `explain`).
    pub(crate) udfs: Option<&'a dyn Udfs>,
}

impl Env<'_> {
    /// A path (`c`, `c.a`, `c["a"][0]`, `c[@p]`) resolved by reference, without copying the
    /// document; `None` when `e` is not such a path.
    fn lookup<'r>(&self, e: &Expr, row: &'r Row) -> Option<Option<&'r Value>> {
        Some(match &e.kind {
            ExprKind::Ident(name) => row.iter().find(|(k, _)| k == name).map(|(_, v)| &**v),
            ExprKind::Property(base, name) => self.lookup(base, row)?.and_then(|v| v.get(name)),
            ExprKind::Index(base, key) => {
                let key = match &key.kind {
                    ExprKind::Literal(v) => v,
                    ExprKind::Param(p) => self.params.get(p)?,
                    _ => return None,
                };
                let base = self.lookup(base, row)?;
                match key {
                    Value::String(k) => base.and_then(|b| b.as_object()).and_then(|m| m.get(k)),
                    Value::Number(n) => {
                        let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                        base.and_then(|b| b.as_array()).zip(i).and_then(|(a, i)| a.get(i))
                    }
                    _ => None,
                }
            }
            _ => return None,
        })
    }

    pub(crate) fn eval(&self, e: &Expr, row: &Row) -> Val {
        if let Some(found) = self.lookup(e, row) {
            return found.cloned();
        }
        match &e.kind {
            ExprKind::Literal(v) => Some(v.clone()),
            ExprKind::Undefined => None,
            ExprKind::Param(name) => self.params.get(name).cloned(),
            ExprKind::Ident(name) => row.iter().find(|(k, _)| k == name).map(|(_, v)| (**v).clone()),
            ExprKind::Property(base, name) => match self.eval(base, row)? {
                Value::Object(mut m) => m.remove(name),
                _ => None,
            },
            ExprKind::Index(base, key) => {
                let base = self.eval(base, row)?;
                match (base, self.eval(key, row)?) {
                    (Value::Object(mut m), Value::String(k)) => m.remove(&k),
                    (Value::Array(mut a), Value::Number(n)) => {
                        let i = usize::try_from(n.as_u64()?).ok()?;
                        (i < a.len()).then(|| a.swap_remove(i))
                    }
                    _ => None,
                }
            }
            ExprKind::Unary(UnOp::BitNot, inner) => bit_not(&self.eval(inner, row)),
            ExprKind::Unary(op, inner) => {
                let v = self.eval(inner, row)?;
                match (op, v) {
                    (UnOp::Not, Value::Bool(b)) => Some(Value::Bool(!b)),
                    (UnOp::Neg, Value::Number(n)) => match n.as_i64().and_then(i64::checked_neg) {
                        Some(i) => Some(Value::from(i)),
                        None => number(-n.as_f64()?),
                    },
                    (UnOp::Plus, v @ Value::Number(_)) => Some(v),
                    _ => None,
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, row),
            ExprKind::Between {
                value,
                low,
                high,
                negated,
            } => {
                let v = self.eval(value, row);
                let lo = compare(&v, &self.eval(low, row))?;
                let hi = compare(&v, &self.eval(high, row))?;
                let inside = lo.is_ge() && hi.is_le();
                Some(Value::Bool(inside != *negated))
            }
            ExprKind::Like {
                value,
                pattern,
                escape,
                negated,
            } => {
                let (Some(Value::String(text)), Some(Value::String(pattern))) =
                    (self.eval(value, row), self.eval(pattern, row))
                else {
                    return None;
                };
                let found = Pattern::compile(&pattern, *escape)?.matches(&text);
                Some(Value::Bool(found != *negated))
            }
            ExprKind::In { value, list, negated } => {
                let v = self.eval(value, row);
                v.as_ref()?;
                let found = list
                    .iter()
                    .any(|item| equals(&v, &self.eval(item, row)) == Some(true));
                Some(Value::Bool(found != *negated))
            }
            ExprKind::Ternary(cond, then, other) => {
                if self.eval(cond, row) == Some(Value::Bool(true)) {
                    self.eval(then, row)
                } else {
                    self.eval(other, row)
                }
            }
            ExprKind::Call(name, _) if is_aggregate(name) => {
                self.aggs.and_then(|m| m.get(&agg_id(e))).cloned().flatten()
            }
            ExprKind::Call(name, args) => {
                let values: Vec<Val> = args.iter().map(|a| self.eval(a, row)).collect();
                call(name, &values, self.now)
            }
            ExprKind::Udf(name, args) => {
                let values: Vec<Val> = args.iter().map(|a| self.eval(a, row)).collect();
                self.udfs.and_then(|u| u.call(name, &values))
            }
            ExprKind::Subquery(kind, q) => self.subquery(*kind, q, row),
            ExprKind::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.eval(i, row)).collect(),
            )),
            ExprKind::Object(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    if let Some(v) = self.eval(v, row) {
                        m.insert(k.clone(), v);
                    }
                }
                Some(Value::Object(m))
            }
        }
    }

    fn binary(&self, op: BinOp, l: &Expr, r: &Expr, row: &Row) -> Val {
        match op {
            BinOp::And | BinOp::Or => {
                let (a, b) = (self.eval(l, row), self.eval(r, row));
                let (a, b) = (a.and_then(|v| v.as_bool()), b.and_then(|v| v.as_bool()));
                let short = op == BinOp::Or;
                // false AND x = false, true OR x = true; otherwise both must be booleans.
                if a == Some(short) || b == Some(short) {
                    return Some(Value::Bool(short));
                }
                match (a, b) {
                    (Some(_), Some(_)) => Some(Value::Bool(!short)),
                    _ => None,
                }
            }
            BinOp::Coalesce => self.eval(l, row).or_else(|| self.eval(r, row)),
            _ => {
                let (a, b) = (self.eval(l, row), self.eval(r, row));
                binary_values(op, &a, &b)
            }
        }
    }
}

/// Comparison, arithmetic and `||` on two evaluated values.
fn binary_values(op: BinOp, a: &Val, b: &Val) -> Val {
    let boolean = |x: bool| Some(Value::Bool(x));
    match op {
        BinOp::Eq => equals(a, b).map(Value::Bool),
        BinOp::NotEq => equals(a, b).map(|e| Value::Bool(!e)),
        BinOp::Lt => boolean(compare(a, b)?.is_lt()),
        BinOp::Le => boolean(compare(a, b)?.is_le()),
        BinOp::Gt => boolean(compare(a, b)?.is_gt()),
        BinOp::Ge => boolean(compare(a, b)?.is_ge()),
        BinOp::Concat => match (a, b) {
            (Some(Value::String(x)), Some(Value::String(y))) => Some(Value::String(format!("{x}{y}"))),
            _ => None,
        },
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Mod => {
            let (Some(Value::Number(x)), Some(Value::Number(y))) = (a, b) else {
                return None;
            };
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                let exact = match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    _ => x.checked_rem(y),
                };
                if let Some(v) = exact {
                    return Some(Value::from(v));
                }
            }
            let (x, y) = (x.as_f64()?, y.as_f64()?);
            number(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                _ => x % y,
            })
        }
        BinOp::Div => {
            let (x, y) = (as_f64(a)?, as_f64(b)?);
            if !(a.as_ref()?.is_number() && b.as_ref()?.is_number()) {
                return None;
            }
            number(x / y)
        }
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr | BinOp::UShr => {
            bitwise(op, a, b)
        }
        BinOp::And | BinOp::Or | BinOp::Coalesce => None,
    }
}
