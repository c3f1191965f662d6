//! Semantic checks between parsing and execution, each a 400 with the position: names must be
//! bound by FROM or JOIN, parameters supplied, aggregates only in SELECT (not nested), GROUP BY
//! expressions read a property and hold no subquery, and in an aggregate query (or subquery)
//! everything outside an aggregate must be a GROUP BY expression. Pure.

use std::collections::HashMap;

use serde_json::Value;

use super::aggregate::is_aggregate;
use super::ast::{Expr, ExprKind, Query, SelectKind};
use super::position::query_error;
use crate::error::Result;

struct Checker<'a> {
    src: &'a str,
    params: &'a HashMap<String, Value>,
}

/// Checks `q` (parsed from `src`) against the supplied parameters; true if it is an aggregate
/// query (GROUP BY, or an aggregate in SELECT).
pub(crate) fn check(q: &Query, src: &str, params: &HashMap<String, Value>) -> Result<bool> {
    Checker { src, params }.query(q, None)
}

impl Checker<'_> {
    /// Checks a query, or with `outer` a subquery seeing the enclosing scope's names.
    fn query<'q>(&self, q: &'q Query, outer: Option<&[&'q str]>) -> Result<bool> {
        let (c, src) = (self, self.src);
        let mut bound: Vec<&'q str> = match outer {
            None => q.from.iter().map(String::as_str).collect(),
            Some(names) => {
                self.subquery_shape(q, names)?;
                names.to_vec()
            }
        };
        for (i, j) in q.joins.iter().enumerate() {
            c.plain(&j.source, &bound, "JOIN")?;
            if bound.contains(&j.alias.as_str()) {
                return Err(query_error(
                    src,
                    j.source.span,
                    &format!("the alias '{}' is bound twice", j.alias),
                ));
            }
            if i == 0 && q.iterator && outer.is_none() {
                // FROM x IN c.path: the root name served the source alone.
                bound.clear();
            }
            bound.push(&j.alias);
        }
        if let Some(f) = &q.filter {
            c.plain(f, &bound, "WHERE")?;
        }
        for g in &q.group_by {
            c.group_key(g, &bound)?;
        }
        for o in &q.order_by {
            c.plain(&o.expr, &bound, "ORDER BY")?;
        }
        let projections: Vec<&Expr> = match &q.select.kind {
            SelectKind::Star => {
                let why = if q.from.is_none() {
                    Some("SELECT * needs a FROM clause")
                } else if q.joins.len() > usize::from(q.iterator) {
                    Some("SELECT * is only valid with one input; with JOIN, name what to select")
                } else if !q.group_by.is_empty() {
                    Some("SELECT * cannot be used with GROUP BY")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(query_error(src, q.select.span, why));
                }
                vec![]
            }
            SelectKind::Value(e) => vec![e],
            SelectKind::List(items) => items.iter().map(|(e, _)| e).collect(),
        };
        let mut aggregated = !q.group_by.is_empty();
        for e in &projections {
            aggregated |= c.select_expr(e, &bound, false)?;
        }
        if aggregated {
            if let Some(o) = q.order_by.first() {
                return Err(query_error(
                    src,
                    o.expr.span,
                    "ORDER BY is not supported with GROUP BY or aggregates",
                ));
            }
            for e in &projections {
                c.grouped(e, &q.group_by)?;
            }
        }
        Ok(aggregated)
    }

    /// What a subquery may not do: read anything but the enclosing scope's names in FROM, or
    /// SELECT *.
    fn subquery_shape(&self, q: &Query, names: &[&str]) -> Result<()> {
        let whole = |msg: &str| Err(query_error(self.src, q.select.span, msg));
        if let Some(root) = &q.from {
            if !names.contains(&root.as_str()) {
                return whole(&format!(
                    "a subquery reads from the enclosing query: FROM x IN {}.path, FROM {}.path x or \
                     FROM {}, not '{root}'",
                    names.first().unwrap_or(&"c"),
                    names.first().unwrap_or(&"c"),
                    names.first().unwrap_or(&"c")
                ));
            }
        }
        if matches!(q.select.kind, SelectKind::Star) {
            return whole("SELECT * is not supported in a subquery; use SELECT VALUE");
        }
        Ok(())
    }
}

impl Checker<'_> {
    fn error(&self, e: &Expr, msg: &str) -> crate::error::Error {
        query_error(self.src, e.span, msg)
    }

    /// A GROUP BY expression: a plain expression without subqueries that reads a property (the
    /// dialect's rule), so every row does not fall into one group by accident.
    fn group_key(&self, e: &Expr, bound: &[&str]) -> Result<()> {
        fn find<'e>(e: &'e Expr, hit: &dyn Fn(&Expr) -> bool) -> Option<&'e Expr> {
            if hit(e) {
                return Some(e);
            }
            e.kind.children().into_iter().find_map(|c| find(c, hit))
        }
        if let Some(sub) = find(e, &|e| matches!(e.kind, ExprKind::Subquery(..))) {
            return Err(self.error(sub, "a subquery is not allowed in GROUP BY"));
        }
        self.plain(e, bound, "GROUP BY")?;
        if find(e, &reads_row).is_none() {
            return Err(self.error(e, "a GROUP BY expression must read a property (such as c.name)"));
        }
        Ok(())
    }

    /// Names, parameters and no aggregates (every clause but SELECT).
    fn plain(&self, e: &Expr, bound: &[&str], clause: &str) -> Result<()> {
        if let ExprKind::Subquery(_, q) = &e.kind {
            return self.query(q, Some(bound)).map(drop);
        }
        if let ExprKind::Call(name, _) = &e.kind {
            if is_aggregate(name) {
                return Err(self.error(e, &format!("aggregate {name} is not allowed in {clause}")));
            }
        }
        self.leaf(e, bound)?;
        e.kind
            .children()
            .into_iter()
            .try_for_each(|c| self.plain(c, bound, clause))
    }

    fn leaf(&self, e: &Expr, bound: &[&str]) -> Result<()> {
        match &e.kind {
            ExprKind::Ident(name) if !bound.contains(&name.as_str()) => {
                let hint = match bound.first() {
                    Some(alias) => format!("; did you mean {alias}.{name}?"),
                    None => "; add a FROM clause".to_string(),
                };
                Err(self.error(e, &format!("'{name}' is not bound by FROM or JOIN{hint}")))
            }
            ExprKind::Param(name) if !self.params.contains_key(name) => {
                Err(self.error(e, &format!("parameter @{name} was not supplied")))
            }
            _ => Ok(()),
        }
    }

    /// Checks a SELECT expression; true if it contains an aggregate.
    fn select_expr(&self, e: &Expr, bound: &[&str], in_aggregate: bool) -> Result<bool> {
        if let ExprKind::Subquery(_, q) = &e.kind {
            return self.query(q, Some(bound)).map(|_| false);
        }
        self.leaf(e, bound)?;
        // Siblings are not nested: only this call's own arguments are inside it.
        let this = matches!(&e.kind, ExprKind::Call(name, _) if is_aggregate(name));
        if this && in_aggregate {
            return Err(self.error(e, "aggregates cannot be nested"));
        }
        let mut found = this;
        for c in e.kind.children() {
            found |= self.select_expr(c, bound, in_aggregate || this)?;
        }
        Ok(found)
    }

    /// In an aggregate query, a projection reads documents only inside aggregates or through a
    /// GROUP BY expression.
    fn grouped(&self, e: &Expr, group_by: &[Expr]) -> Result<()> {
        if group_by.contains(e) {
            return Ok(());
        }
        match &e.kind {
            ExprKind::Call(name, _) if is_aggregate(name) => Ok(()),
            ExprKind::Subquery(..) => Err(self.error(
                e,
                "a subquery in the SELECT of an aggregate query is not supported",
            )),
            ExprKind::Ident(_) | ExprKind::Property(..) | ExprKind::Index(..) if reads_row(e) => Err(self
                .error(
                    e,
                    "this expression must be inside an aggregate or be one of the GROUP BY expressions",
                )),
            _ => e
                .kind
                .children()
                .into_iter()
                .try_for_each(|c| self.grouped(c, group_by)),
        }
    }
}

/// True for a path rooted at a bound name (`c`, `c.a`, `c["a"][0]`).
fn reads_row(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Ident(_) => true,
        ExprKind::Property(base, _) | ExprKind::Index(base, _) => reads_row(base),
        _ => false,
    }
}
