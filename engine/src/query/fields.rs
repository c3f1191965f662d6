//! Which top-level properties of the FROM document a query reads, so that the caller may parse
//! only those of a stored item (account/scan_parse.rs) instead of the whole document. Pure: it
//! walks the syntax tree and evaluates nothing; when it cannot tell (the document used whole, an
//! index computed at run time, a subquery) it says "all of it", never a guess.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ast::{Expr, ExprKind, SelectKind};
use super::exec::Prepared;

impl Prepared {
    /// The names of the top-level properties of the FROM document that the query's
    /// expressions read (`c.a.b` reads `a`, `c["a"]` reads `a`); `None` when the query may
    /// read the document whole: `SELECT *`, the alias on its own (`SELECT VALUE c`,
    /// `IS_DEFINED(c)`), an index that is not a string literal (`c[@p]`, `c[0]`), a subquery,
    /// a JOIN alias that shadows the FROM alias, or no FROM at all.
    pub(crate) fn fields_read(&self) -> Option<BTreeSet<String>> {
        let q = &self.query;
        let alias = q.from.as_deref()?;
        if q.joins.iter().any(|j| j.alias == alias) {
            return None;
        }
        let mut exprs: Vec<&Expr> = match &q.select.kind {
            SelectKind::Star => return None,
            SelectKind::Value(e) => vec![e],
            SelectKind::List(items) => items.iter().map(|(e, _)| e).collect(),
        };
        exprs.extend(q.filter.as_ref());
        exprs.extend(q.group_by.iter());
        exprs.extend(q.order_by.iter().map(|o| &o.expr));
        exprs.extend(q.joins.iter().map(|j| &j.source));
        let mut names = BTreeSet::new();
        for e in exprs {
            read_by(e, alias, &mut names)?;
        }
        Some(names)
    }
}

/// Adds to `names` the top-level properties of `alias` that `e` reads; `None` when `e` may
/// read the whole of `alias`.
fn read_by(e: &Expr, alias: &str, names: &mut BTreeSet<String>) -> Option<()> {
    let is_alias = |base: &Expr| matches!(&base.kind, ExprKind::Ident(n) if n == alias);
    match &e.kind {
        ExprKind::Property(base, name) if is_alias(base) => {
            names.insert(name.clone());
            Some(())
        }
        ExprKind::Index(base, key) if is_alias(base) => match &key.kind {
            ExprKind::Literal(Value::String(name)) => {
                names.insert(name.clone());
                Some(())
            }
            _ => None,
        },
        ExprKind::Ident(n) if n == alias => None,
        ExprKind::Subquery(..) => None,
        kind => kind
            .children()
            .into_iter()
            .try_for_each(|c| read_by(c, alias, names)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Option<Vec<String>> {
        Prepared::new(sql, &[("@p".to_string(), Value::from("a"))])
            .unwrap()
            .fields_read()
            .map(|s| s.into_iter().collect())
    }

    fn names(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn names_the_properties_every_clause_reads() {
        assert_eq!(
            read("SELECT c.grp % 10 AS g, COUNT(1) AS n, AVG(c.n) AS a FROM c GROUP BY c.grp % 10"),
            names(&["grp", "n"])
        );
        assert_eq!(read("SELECT VALUE COUNT(1) FROM c"), names(&[]));
        assert_eq!(
            read("SELECT c.a.b, c[\"x y\"] FROM c WHERE c.k > 1 ORDER BY c.o"),
            names(&["a", "k", "o", "x y"])
        );
        assert_eq!(
            read("SELECT VALUE t FROM c JOIN t IN c.tags WHERE t.n > c.min"),
            names(&["min", "tags"])
        );
        assert_eq!(
            read("SELECT SUM(c.n) AS s, MAX(UPPER(c.s)) AS u FROM c WHERE IS_DEFINED(c.d)"),
            names(&["d", "n", "s"])
        );
        assert_eq!(read("SELECT VALUE x FROM x IN c.items"), names(&["items"]));
    }

    #[test]
    fn the_whole_document_when_it_cannot_tell() {
        for sql in [
            "SELECT * FROM c",
            "SELECT VALUE c FROM c",
            "SELECT c.a FROM c WHERE IS_DEFINED(c)",
            "SELECT VALUE c[@p] FROM c",
            "SELECT VALUE c[0] FROM c",
            "SELECT VALUE c.a FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags)",
            "SELECT VALUE {\"whole\": c} FROM c",
            "SELECT VALUE COUNT(1)",
        ] {
            assert_eq!(read(sql), None, "{sql}");
        }
    }
}
