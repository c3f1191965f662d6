//! A parsed and checked query with its parameters (`Prepared`) and what every way of running it
//! shares: the rows FROM and JOIN make of one document, and the projection of SELECT. Also
//! tells the caller which partition-key value the WHERE clause pins, so the caller can scan one
//! partition. Running it is query/stream.rs (a page at a time) or query/collect.rs (the whole
//! result). Pure: the caller supplies the documents (see account/query.rs).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::ast::{BinOp, Count, Expr, ExprKind, OrderItem, Query, SelectKind};
use super::check::check;
use super::eval::{Env, Row};
use super::parser::parse;
use super::position::query_error;
use super::udf::Udfs;
use super::value::{order, Val};
use crate::error::{Error, Result};

/// Most rows the JOINs may make of one document (a JOIN of large arrays multiplies).
const MAX_JOIN_ROWS: usize = 100_000;

/// A parsed and checked query with its parameters, ready to run over documents.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(super) query: Query,
    pub(super) params: HashMap<String, Value>,
    pub(super) aggregated: bool,
    pub(super) top: Option<usize>,
    pub(super) offset: usize,
    pub(super) limit: Option<usize>,
    /// "Now" for GetCurrentDateTime and the like, in ticks since the Unix epoch: one value for
    /// the whole query (set from the account's wall clock by `at`, else the system clock's).
    pub(super) now: i64,
    /// The user-defined functions `udf.name(…)` calls reach (`with_udfs`).
    pub(super) udfs: Option<std::sync::Arc<dyn Udfs>>,
}

impl Prepared {
    /// Parses and checks `sql`; parameter names may be given with or without the `@`.
    pub(crate) fn new(sql: &str, params: &[(String, Value)]) -> Result<Prepared> {
        let mut map = HashMap::new();
        for (name, value) in params {
            let name = name.strip_prefix('@').unwrap_or(name);
            if map.insert(name.to_string(), value.clone()).is_some() {
                return Err(Error::BadRequest(format!("parameter @{name} is given twice")));
            }
        }
        Self::checked(parse(sql)?, sql, map)
    }

    /// Checks a parsed query against its text `sql` (for error positions) and parameters.
    pub(super) fn checked(query: Query, sql: &str, map: HashMap<String, Value>) -> Result<Prepared> {
        let aggregated = check(&query, sql, &map)?;
        let count = |c: &Count, what: &str| -> Result<usize> {
            match c {
                Count::Literal(n) => Ok(usize::try_from(*n).unwrap_or(usize::MAX)),
                Count::Param(name, span) => map
                    .get(name)
                    .and_then(Value::as_u64)
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
                    .ok_or_else(|| {
                        query_error(
                            sql,
                            *span,
                            &format!("{what} parameter @{name} must be a non-negative integer"),
                        )
                    }),
            }
        };
        let top = query.select.top.as_ref().map(|c| count(c, "TOP")).transpose()?;
        let (offset, limit) = match &query.offset_limit {
            Some((o, l)) => (count(o, "OFFSET")?, Some(count(l, "LIMIT")?)),
            None => (0, None),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX));
        Ok(Prepared {
            query,
            params: map,
            aggregated,
            top,
            offset,
            limit,
            now,
            udfs: None,
        })
    }

    /// Evaluates the GetCurrent* functions at `now_secs` (Unix seconds), the account's wall
    /// clock, instead of the system clock.
    pub(crate) fn at(mut self, now_secs: u64) -> Prepared {
        self.now = i64::try_from(now_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(10_000_000);
        self
    }

    /// The names of the user-defined functions the query calls.
    pub(crate) fn udf_names(&self) -> &std::collections::BTreeSet<String> {
        &self.query.udfs
    }

    /// Answers `udf.name(…)` calls with `udfs`.
    pub(crate) fn with_udfs(mut self, udfs: std::sync::Arc<dyn Udfs>) -> Prepared {
        self.udfs = Some(udfs);
        self
    }

    /// The value the WHERE clause requires at the partition-key path (`alias.seg1.seg2 = v` as
    /// one of its top-level AND terms), if any.
    pub(crate) fn pinned_value(&self, pk_path: &[String]) -> Option<Value> {
        // With FROM x IN c.path the root is not visible to WHERE.
        let alias = self.query.from.as_deref().filter(|_| !self.query.iterator)?;
        let mut terms = Vec::new();
        conjuncts(self.query.filter.as_ref()?, &mut terms);
        terms.into_iter().find_map(|t| {
            let ExprKind::Binary(BinOp::Eq, a, b) = &t.kind else {
                return None;
            };
            let pinned = |path: &Expr, v: &Expr| {
                if !is_path(path, alias, pk_path) {
                    return None;
                }
                match &v.kind {
                    ExprKind::Literal(v) => Some(v.clone()),
                    ExprKind::Param(p) => self.params.get(p).cloned(),
                    _ => None,
                }
            };
            pinned(a, b).or_else(|| pinned(b, a))
        })
    }

    /// The rows FROM and JOIN make of one document (one row without JOIN).
    pub(super) fn expand(&self, env: &Env<'_>, alias: &str, doc: Value) -> Result<Vec<Row>> {
        let mut expanded = vec![vec![(alias.to_string(), Rc::new(doc))]];
        for j in &self.query.joins {
            let mut next = Vec::new();
            for row in expanded {
                if let Some(Value::Array(items)) = env.eval(&j.source, &row) {
                    for item in items {
                        if next.len() >= MAX_JOIN_ROWS {
                            return Err(Error::BadRequest(format!(
                                "the JOINs produce more than {MAX_JOIN_ROWS} rows for one document"
                            )));
                        }
                        let mut r = row.clone();
                        r.push((j.alias.clone(), Rc::new(item)));
                        next.push(r);
                    }
                }
            }
            expanded = next;
        }
        Ok(expanded)
    }

    /// The SELECT clause for one row (or group); `None` when SELECT VALUE is undefined.
    pub(super) fn project(&self, env: &Env<'_>, row: &Row) -> Option<Value> {
        match &self.query.select.kind {
            // The document, or with FROM x IN c.path the element bound to x.
            SelectKind::Star => row
                .get(usize::from(self.query.iterator))
                .map(|(_, v)| (**v).clone()),
            SelectKind::Value(e) => env.eval(e, row),
            SelectKind::List(items) => Some(select_list(env, items, row)),
        }
    }
}

/// Sorts rows by the ORDER BY keys (stable: equal keys keep their order).
pub(super) fn sort_rows(env: &Env<'_>, order_by: &[OrderItem], rows: &mut Vec<Row>) {
    let mut keyed: Vec<(Vec<Val>, Row)> = rows
        .drain(..)
        .map(|r| (order_by.iter().map(|o| env.eval(&o.expr, &r)).collect(), r))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| cmp_keys(order_by, a, b));
    rows.extend(keyed.into_iter().map(|(_, r)| r));
}

/// ORDER BY's order of two rows' sort keys (`Equal` when every key ties).
pub(super) fn cmp_keys(order_by: &[OrderItem], a: &[Val], b: &[Val]) -> Ordering {
    order_by
        .iter()
        .zip(a.iter().zip(b))
        .map(|(o, (x, y))| {
            let c = order(x, y);
            if o.descending {
                c.reverse()
            } else {
                c
            }
        })
        .find(|c| *c != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// A SELECT list's object for one row, in the list's order; undefined values are left out.
pub(super) fn select_list(env: &Env<'_>, items: &[(Expr, String)], row: &Row) -> Value {
    let mut m = Map::new();
    for (e, name) in items {
        if let Some(v) = env.eval(e, row) {
            m.insert(name.clone(), v);
        }
    }
    Value::Object(m)
}

/// The top-level AND terms of `e`.
pub(super) fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(e),
    }
}

/// True if `e` is `alias.p1.p2...` (or with `["p"]` segments) for the path `path`.
fn is_path(e: &Expr, alias: &str, path: &[String]) -> bool {
    let (base, name) = match &e.kind {
        ExprKind::Ident(name) => return path.is_empty() && name == alias,
        ExprKind::Property(base, name) => (base, name.as_str()),
        ExprKind::Index(base, key) => match &key.kind {
            ExprKind::Literal(Value::String(s)) => (base, s.as_str()),
            _ => return false,
        },
        _ => return false,
    };
    match path.split_last() {
        Some((last, rest)) => last == name && is_path(base, alias, rest),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(sql: &str, docs: &[Value]) -> Vec<Value> {
        Prepared::new(sql, &[]).unwrap().run(docs.to_vec()).unwrap()
    }

    #[test]
    fn pinned_partition() {
        let path = vec!["t".to_string()];
        let p = |sql: &str| {
            Prepared::new(sql, &[("@v".into(), json!("x"))])
                .unwrap()
                .pinned_value(&path)
        };
        assert_eq!(p("SELECT * FROM c WHERE c.t = 'a'"), Some(json!("a")));
        assert_eq!(
            p("SELECT * FROM c WHERE c.a > 1 AND 'b' = c['t']"),
            Some(json!("b"))
        );
        assert_eq!(p("SELECT * FROM c WHERE c.t = @v"), Some(json!("x")));
        assert_eq!(p("SELECT * FROM c WHERE c.t = 'a' OR c.t = 'b'"), None);
        assert_eq!(p("SELECT * FROM c WHERE c.u = 'a'"), None);
        assert_eq!(p("SELECT * FROM c WHERE c.x.t = 'a'"), None);
        assert_eq!(p("SELECT * FROM c"), None);
    }

    #[test]
    fn groups_numbers_by_value() {
        let docs = [json!({"k": 1}), json!({"k": 1.0}), json!({"k": "1"}), json!({})];
        let got = run("SELECT c.k, COUNT(1) AS n FROM c GROUP BY c.k", &docs);
        assert_eq!(
            got,
            vec![
                json!({"k": 1, "n": 2}),
                json!({"k": "1", "n": 1}),
                json!({"n": 1})
            ]
        );
    }

    #[test]
    fn join_row_cap() {
        let big: Vec<Value> = (0..400).map(Value::from).collect();
        let docs = [json!({ "a": big.clone(), "b": big })];
        let e = Prepared::new("SELECT VALUE 1 FROM c JOIN x IN c.a JOIN y IN c.b", &[])
            .unwrap()
            .run(docs.to_vec())
            .unwrap_err();
        assert_eq!(e.status(), 400);
    }

    /// Words and symbols a random query is built from.
    const VOCABULARY: [&str; 80] = [
        "SELECT",
        "VALUE",
        "*",
        "FROM",
        "c",
        "WHERE",
        "JOIN",
        "t",
        "IN",
        "c.a",
        "c.tags",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ".",
        "1",
        "2.5",
        "-",
        "+",
        "/",
        "%",
        "'s'",
        "@p",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "?",
        "??",
        ":",
        "=",
        "<",
        ">=",
        "!=",
        "||",
        "ORDER",
        "BY",
        "GROUP",
        "DISTINCT",
        "TOP",
        "OFFSET",
        "LIMIT",
        "COUNT(",
        "SUM(",
        "LOWER(",
        "ARRAY_CONTAINS(",
        "SUBSTRING(",
        "undefined",
        "null",
        "true",
        "ASC",
        "DESC",
        "AS",
        "x",
        "c[0]",
        "\"k\":",
        "-- c",
        "\n",
        "LIKE",
        "ESCAPE",
        "'%a_[b-]'",
        "&",
        "|",
        "^",
        "~",
        "<<",
        ">>>",
        "IntDiv(",
        "RegexMatch(",
        "REPLICATE(",
        "StringToObject(",
        "ARRAY_SLICE(",
        "NumberBin(",
        "EXISTS(",
        "ARRAY(",
        "(SELECT",
    ];

    fn docs() -> Vec<Value> {
        vec![
            json!({"id": "1", "a": 1, "tags": ["x", 2, null]}),
            json!({"id": "2", "a": "s", "tags": "no"}),
            json!({"id": "3", "a": [1, {"b": 2}], "tags": []}),
            json!({"id": "4", "a": i64::MIN, "tags": [i64::MAX, -0.5]}),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any sequence of query words either fails with a 400 or runs; it never panics.
        #[test]
        fn random_queries_never_panic(words in proptest::collection::vec(0..VOCABULARY.len(), 0..24)) {
            let sql: Vec<&str> = words.iter().filter_map(|i| VOCABULARY.get(*i).copied()).collect();
            let sql = sql.join(" ");
            let params = [("@p".to_string(), json!(["x", 1]))];
            match Prepared::new(&sql, &params) {
                Ok(p) => {
                    if let Err(e) = p.run(docs()) {
                        proptest::prop_assert_eq!(e.status(), 400, "{}: {}", sql, e);
                    }
                }
                Err(e) => proptest::prop_assert_eq!(e.status(), 400, "{}: {}", sql, e),
            }
        }

        /// Random expressions in every clause of a well-formed frame.
        #[test]
        fn random_expressions_never_panic(
            a in proptest::collection::vec(0..VOCABULARY.len(), 1..10),
            b in proptest::collection::vec(0..VOCABULARY.len(), 1..10),
        ) {
            let words = |v: &[usize]| -> String {
                v.iter().filter_map(|i| VOCABULARY.get(*i).copied()).collect::<Vec<_>>().join(" ")
            };
            let (a, b) = (words(&a), words(&b));
            let params = [("@p".to_string(), json!(["x", 1]))];
            for sql in [
                format!("SELECT VALUE {a} FROM c JOIN t IN c.tags WHERE {b}"),
                format!("SELECT {a} AS x FROM c ORDER BY {b}"),
                format!("SELECT VALUE {a} FROM c GROUP BY {b}"),
            ] {
                match Prepared::new(&sql, &params) {
                    Ok(p) => {
                        if let Err(e) = p.run(docs()) {
                            proptest::prop_assert_eq!(e.status(), 400, "{}: {}", sql, e);
                        }
                    }
                    Err(e) => proptest::prop_assert_eq!(e.status(), 400, "{}: {}", sql, e),
                }
            }
        }

        /// Arbitrary text, too.
        #[test]
        fn random_text_never_panics(sql in "\\PC{0,40}") {
            if let Err(e) = Prepared::new(&sql, &[]) {
                proptest::prop_assert_eq!(e.status(), 400);
            }
        }
    }
}
