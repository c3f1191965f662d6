//! Aggregates (COUNT, SUM, AVG, MIN, MAX) over the values of one group, folded one row at a
//! time, and the accumulators a SELECT clause needs, named by their call expression. Undefined
//! values are skipped; SUM and AVG of anything but numbers are undefined; MIN and MAX use the
//! cross-type order over scalars. Pure.

use std::collections::HashMap;

use serde_json::Value;

use super::ast::{Expr, ExprKind, SelectKind};
use super::value::{number, order, Val};

pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(name, "COUNT" | "SUM" | "AVG" | "MIN" | "MAX")
}

/// The running state of one aggregate, fed one row's value at a time: O(1) memory whatever the
/// number of rows (MIN and MAX hold the one best value). Streamed aggregates (query/stream.rs)
/// and grouped ones (query/collect.rs) both fold with it, so they agree by construction.
#[derive(Debug)]
pub(crate) struct Acc {
    kind: Kind,
    /// Defined values seen.
    count: usize,
    /// SUM/AVG: the exact integer sum while every value is an integer and it fits.
    sum_i: Option<i64>,
    sum_f: f64,
    /// MIN/MAX: the best value so far.
    best: Option<Value>,
    /// SUM/AVG saw a non-number, or MIN/MAX an array or object: the result is undefined.
    poisoned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Acc {
    /// `name` is one `is_aggregate` accepts (the checker guarantees it); anything else counts.
    pub(crate) fn new(name: &str) -> Acc {
        let kind = match name {
            "SUM" => Kind::Sum,
            "AVG" => Kind::Avg,
            "MIN" => Kind::Min,
            "MAX" => Kind::Max,
            _ => Kind::Count,
        };
        Acc {
            kind,
            count: 0,
            sum_i: Some(0),
            sum_f: 0.0,
            best: None,
            poisoned: false,
        }
    }

    pub(crate) fn add(&mut self, v: Val) {
        let Some(v) = v else { return };
        self.count += 1;
        if self.poisoned {
            return;
        }
        match self.kind {
            Kind::Count => {}
            Kind::Sum | Kind::Avg => {
                let Value::Number(n) = &v else {
                    self.poisoned = true;
                    return;
                };
                self.sum_i = match (self.sum_i, n.as_i64()) {
                    (Some(acc), Some(i)) => acc.checked_add(i),
                    _ => None,
                };
                self.sum_f += n.as_f64().unwrap_or(f64::NAN);
            }
            Kind::Min | Kind::Max => {
                if v.is_array() || v.is_object() {
                    self.poisoned = true;
                    self.best = None;
                    return;
                }
                let v = Some(v);
                // The first of equal minima and the last of equal maxima, as `Iterator::min_by`
                // and `max_by` choose.
                let replace = self.best.is_none() || {
                    let c = order(&v, &self.best);
                    if self.kind == Kind::Min {
                        c.is_lt()
                    } else {
                        c.is_ge()
                    }
                };
                if replace {
                    self.best = v;
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Val {
        match self.kind {
            Kind::Count => Some(Value::from(self.count)),
            _ if self.poisoned => None,
            Kind::Sum => self.sum_i.map(Value::from).or_else(|| number(self.sum_f)),
            Kind::Avg if self.count == 0 => None,
            Kind::Avg => number(self.sum_f / self.count as f64),
            Kind::Min | Kind::Max => self.best,
        }
    }
}

/// The identity of an aggregate call expression: its address, stable while the query that owns
/// it is borrowed.
pub(crate) fn agg_id(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

/// One aggregate call of SELECT and its running state: the call's identity, its argument.
pub(crate) type Accumulator<'p> = (usize, Option<&'p Expr>, Acc);

/// The accumulators of every aggregate call in a SELECT clause.
pub(crate) fn accumulators(select: &SelectKind) -> Vec<Accumulator<'_>> {
    let mut accs = Vec::new();
    let mut stack: Vec<&Expr> = match select {
        SelectKind::Star => Vec::new(),
        SelectKind::Value(e) => vec![e],
        SelectKind::List(items) => items.iter().map(|(e, _)| e).collect(),
    };
    while let Some(e) = stack.pop() {
        match &e.kind {
            // Aggregates do not nest (the checker refuses it): their argument is a plain
            // expression over one row.
            ExprKind::Call(name, args) if is_aggregate(name) => {
                accs.push((agg_id(e), args.first(), Acc::new(name)));
            }
            k => stack.extend(k.children()),
        }
    }
    accs
}

/// The finished value of each aggregate call, by identity, for `Env::aggs`.
pub(crate) fn finish(accs: Vec<Accumulator<'_>>) -> HashMap<usize, Val> {
    accs.into_iter().map(|(id, _, acc)| (id, acc.finish())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agg(name: &str, v: &[Val]) -> Val {
        let mut acc = Acc::new(name);
        for x in v {
            acc.add(x.clone());
        }
        acc.finish()
    }

    #[test]
    fn table() {
        let nums = [Some(json!(1)), Some(json!(2.5)), None, Some(json!(3))];
        assert_eq!(agg("COUNT", &nums), Some(json!(3)));
        assert_eq!(agg("SUM", &nums), Some(json!(6.5)));
        assert_eq!(agg("SUM", &[Some(json!(1)), Some(json!(2))]), Some(json!(3)));
        assert_eq!(agg("AVG", &[Some(json!(1)), Some(json!(2))]), Some(json!(1.5)));
        assert_eq!(agg("AVG", &[]), None);
        assert_eq!(agg("SUM", &[]), Some(json!(0)));
        assert_eq!(agg("SUM", &[Some(json!(1)), Some(json!("x"))]), None);
        assert_eq!(
            agg("MIN", &[Some(json!("a")), Some(json!(5)), Some(json!(null))]),
            Some(json!(null))
        );
        assert_eq!(agg("MAX", &[Some(json!("a")), Some(json!(5))]), Some(json!("a")));
        assert_eq!(agg("MAX", &[]), None);
        assert_eq!(agg("MAX", &[Some(json!([1]))]), None);
        assert_eq!(
            agg("SUM", &[Some(json!(i64::MAX)), Some(json!(1))]),
            Some(json!(9.223372036854776e18))
        );
        // Equal values of two spellings: MIN keeps the first, MAX the last, as min_by/max_by.
        assert_eq!(agg("MIN", &[Some(json!(1)), Some(json!(1.0))]), Some(json!(1)));
        assert_eq!(agg("MAX", &[Some(json!(1)), Some(json!(1.0))]), Some(json!(1.0)));
        assert_eq!(
            agg("MIN", &[Some(json!(2)), Some(json!({})), Some(json!(1))]),
            None
        );
        assert_eq!(agg("AVG", &[Some(json!(1)), Some(json!("x"))]), None);
        assert_eq!(
            agg("COUNT", &[Some(json!("x")), None, Some(json!([]))]),
            Some(json!(2))
        );
    }
}
