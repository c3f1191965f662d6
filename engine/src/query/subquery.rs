//! Subqueries (`(SELECT ...)`, `EXISTS(SELECT ...)`, `ARRAY(SELECT ...)`), evaluated per row of
//! the enclosing query: their FROM reads one of the enclosing names (`FROM x IN c.path`,
//! `FROM c.path x`, `FROM c`), JOINs expand it, and every enclosing name stays visible
//! (correlation). WHERE, GROUP BY and aggregates, ORDER BY, DISTINCT, OFFSET/LIMIT and TOP as in
//! a query; groups come out in the order their first row was met. Bounded like a query's JOINs; a subquery past the bound is undefined (evaluation is
//! infallible). Pure.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::Value;

use super::aggregate::{accumulators, finish, is_aggregate, Accumulator};
use super::ast::{Count, Expr, ExprKind, Query, SelectKind, SubqueryKind};
use super::eval::{Env, Row};
use super::exec::{select_list, sort_rows};
use super::value::{canonical, canonical_value, Val};

/// Most rows one evaluation of a subquery may make.
const MAX_SUBQUERY_ROWS: usize = 100_000;

impl Env<'_> {
    pub(crate) fn subquery(&self, kind: SubqueryKind, q: &Query, row: &Row) -> Val {
        let values = self.subquery_values(q, row)?;
        match kind {
            SubqueryKind::Exists => Some(Value::Bool(!values.is_empty())),
            SubqueryKind::Array => Some(Value::Array(values)),
            SubqueryKind::Scalar => match <[Value; 1]>::try_from(values) {
                Ok([one]) => Some(one),
                Err(_) => None,
            },
        }
    }

    /// The subquery's results for one enclosing row; `None` past the row bound.
    fn subquery_values(&self, q: &Query, outer: &Row) -> Option<Vec<Value>> {
        let plain = Env {
            params: self.params,
            now: self.now,
            aggs: None,
            udfs: self.udfs,
        };
        // FROM names an enclosing binding (checked), so the rows start from the enclosing row.
        let mut rows: Vec<Row> = vec![outer.clone()];
        for j in &q.joins {
            let mut next = Vec::new();
            for r in rows {
                if let Some(Value::Array(items)) = plain.eval(&j.source, &r) {
                    for item in items {
                        if next.len() >= MAX_SUBQUERY_ROWS {
                            return None;
                        }
                        let mut r = r.clone();
                        r.push((j.alias.clone(), Rc::new(item)));
                        next.push(r);
                    }
                }
            }
            rows = next;
        }
        if let Some(f) = &q.filter {
            rows.retain(|r| plain.eval(f, r) == Some(Value::Bool(true)));
        }
        let mut out: Vec<Value> = if aggregated(q) || !q.group_by.is_empty() {
            groups(&plain, q, &rows, outer)
                .into_iter()
                .filter_map(|(first, accs)| {
                    let finished = finish(accs);
                    let group = Env {
                        params: self.params,
                        now: self.now,
                        aggs: Some(&finished),
                        udfs: self.udfs,
                    };
                    project(&group, q, first)
                })
                .collect()
        } else {
            if !q.order_by.is_empty() {
                sort_rows(&plain, &q.order_by, &mut rows);
            }
            rows.iter().filter_map(|r| project(&plain, q, r)).collect()
        };
        if q.select.distinct {
            let mut seen = HashSet::new();
            out.retain(|v| seen.insert(canonical_value(v)));
        }
        let count = |c: &Count| -> Option<usize> {
            match c {
                Count::Literal(n) => usize::try_from(*n).ok(),
                Count::Param(name, _) => self
                    .params
                    .get(name)?
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok()),
            }
        };
        if let Some((offset, limit)) = &q.offset_limit {
            let (offset, limit) = (count(offset)?, count(limit)?);
            out = out.into_iter().skip(offset).take(limit).collect();
        }
        if let Some(top) = &q.select.top {
            out.truncate(count(top)?);
        }
        Some(out)
    }
}

/// The rows split by the GROUP BY values (one group of every row, even of none, without GROUP
/// BY), in the order each group's first row came, each with that row and its aggregates folded
/// by the same accumulators as a query's.
fn groups<'r, 'q>(
    env: &Env<'_>,
    q: &'q Query,
    rows: &'r [Row],
    outer: &'r Row,
) -> Vec<(&'r Row, Vec<Accumulator<'q>>)> {
    let mut groups: Vec<(&Row, Vec<Accumulator<'q>>)> = Vec::new();
    if q.group_by.is_empty() {
        groups.push((outer, accumulators(&q.select.kind)));
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let at = if q.group_by.is_empty() {
            0
        } else {
            let key: String = q
                .group_by
                .iter()
                .map(|g| canonical(&env.eval(g, r)) + "\u{0}")
                .collect();
            *index.entry(key).or_insert_with(|| {
                groups.push((r, accumulators(&q.select.kind)));
                groups.len() - 1
            })
        };
        if let Some((_, accs)) = groups.get_mut(at) {
            for (_, arg, acc) in accs {
                if let Some(arg) = arg {
                    acc.add(env.eval(arg, r));
                }
            }
        }
    }
    groups
}

/// The SELECT of a subquery for one row (or, aggregated, its one group).
fn project(env: &Env<'_>, q: &Query, row: &Row) -> Option<Value> {
    match &q.select.kind {
        SelectKind::Value(e) => env.eval(e, row),
        SelectKind::List(items) => Some(select_list(env, items, row)),
        // Refused by the checks.
        SelectKind::Star => None,
    }
}

/// True if the SELECT holds an aggregate outside any nested subquery.
fn aggregated(q: &Query) -> bool {
    fn has(e: &Expr) -> bool {
        matches!(&e.kind, ExprKind::Call(name, _) if is_aggregate(name))
            || e.kind.children().into_iter().any(has)
    }
    match &q.select.kind {
        SelectKind::Value(e) => has(e),
        SelectKind::List(items) => items.iter().any(|(e, _)| has(e)),
        SelectKind::Star => false,
    }
}
