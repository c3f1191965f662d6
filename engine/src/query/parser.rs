//! Recursive-descent parser of the clauses (SELECT ... FROM ... JOIN ... WHERE ... GROUP BY ...
//! ORDER BY ... OFFSET ... LIMIT), on top of the token stream; expressions are in
//! `expr_parser.rs`. Keeps spans for errors and bounds nesting (`MAX_DEPTH`) so that a hostile
//! query is a 400, never a stack overflow. Must not evaluate anything.

use serde_json::Value;

use super::ast::{Count, Expr, ExprKind, Join, OrderItem, Query, Select, SelectKind};
use super::lexer::{tokenize, Tok, Token};
use super::position::{query_error, Span};
use crate::error::{Error, Result};

/// Deepest nesting of expressions (parentheses, operators, property chains) a query may have.
pub(crate) const MAX_DEPTH: usize = 128;

/// Words that cannot be used as names (compared case-insensitively).
pub(crate) const KEYWORDS: [&str; 27] = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "TOP",
    "DISTINCT",
    "VALUE",
    "AS",
    "JOIN",
    "ORDER",
    "BY",
    "GROUP",
    "ASC",
    "DESC",
    "OFFSET",
    "LIMIT",
    "TRUE",
    "FALSE",
    "NULL",
    "UNDEFINED",
    "EXISTS",
    "LIKE",
    "ESCAPE",
];

pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

/// Parses a whole query.
pub(crate) fn parse(src: &str) -> Result<Query> {
    let mut p = Parser::new(src)?;
    let mut q = p.query()?;
    if !p.at(&Tok::Eof) {
        return Err(p.unexpected("expected the end of the query"));
    }
    q.udfs = std::mem::take(&mut p.udfs);
    Ok(q)
}

/// Parses a filter predicate, `FROM c [JOIN …] [WHERE …]` (a query without its SELECT clause,
/// as a conditional patch gives it), as the query `SELECT VALUE true FROM c …`. Positions in errors are
/// those of `src`.
pub(crate) fn parse_predicate(src: &str) -> Result<Query> {
    let mut p = Parser::new(src)?;
    if !p.at_kw("FROM") {
        return Err(p.unexpected("a filter predicate starts with FROM, e.g. FROM c WHERE c.n > 1"));
    }
    // `SELECT VALUE true`: one result per row that passes, valid with JOIN too.
    let span = p.span();
    let select = Select {
        distinct: false,
        top: None,
        kind: SelectKind::Value(Expr {
            kind: ExprKind::Literal(Value::Bool(true)),
            span,
        }),
        span,
    };
    let q = p.rest(select)?;
    if !p.at(&Tok::Eof) {
        return Err(p.unexpected("expected the end of the filter predicate"));
    }
    if let Some(name) = p.udfs.first() {
        return Err(Error::BadRequest(format!(
            "udf.{name}: user-defined functions are not available in a filter predicate, only in queries"
        )));
    }
    Ok(q)
}

/// The output names of a query's SELECT list (`SELECT c.zeta, c.alpha AS a` → `zeta`, `a`), in
/// the order written; `None` for `SELECT *`, `SELECT VALUE` and a query that does not parse.
/// Lets a caller lay out columns in SELECT-list order even when no result has every property.
pub fn projection_names(src: &str) -> Option<Vec<String>> {
    match parse(src).ok()?.select.kind {
        SelectKind::List(items) => Some(items.into_iter().map(|(_, name)| name).collect()),
        SelectKind::Star | SelectKind::Value(_) => None,
    }
}

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// The `udf.name` calls seen so far.
    pub(crate) udfs: std::collections::BTreeSet<String>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Parser<'a>> {
        Ok(Parser {
            src,
            toks: tokenize(src)?,
            pos: 0,
            depth: 0,
            udfs: Default::default(),
        })
    }

    pub(crate) fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }

    pub(crate) fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::new(self.src.len(), self.src.len()), |t| t.span)
    }

    /// The span of the token just consumed.
    pub(crate) fn prev_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(Span::default(), |t| t.span)
    }

    pub(crate) fn advance(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }

    pub(crate) fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, t: &Tok, what: &str) -> Result<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected {what}")))
        }
    }

    pub(crate) fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn at_kw_n(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected {kw}")))
        }
    }

    pub(crate) fn error(&self, span: Span, msg: &str) -> Error {
        query_error(self.src, span, msg)
    }

    /// An error at the current token.
    pub(crate) fn unexpected(&self, msg: &str) -> Error {
        self.error(self.span(), msg)
    }

    /// One more level of nesting; a 400 beyond `MAX_DEPTH`. Pair with `leave`.
    pub(crate) fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.unexpected(&format!("the query nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    /// A name that is not a keyword (an alias).
    pub(crate) fn name(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Ident(s) if !is_keyword(&s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected(&format!("expected {what}"))),
        }
    }

    pub(crate) fn query(&mut self) -> Result<Query> {
        let select = self.select()?;
        self.rest(select)
    }

    /// What follows the SELECT clause: FROM, JOIN, WHERE, GROUP BY, ORDER BY, OFFSET/LIMIT.
    fn rest(&mut self, select: Select) -> Result<Query> {
        let mut from = None;
        let mut iterator = false;
        let mut joins = Vec::new();
        if self.eat_kw("FROM") {
            if self.at_kw_n(1, "IN") {
                // FROM x IN c.path: one row per element of the array at the path.
                let alias = self.name("an alias before IN")?;
                self.expect_kw("IN")?;
                let (source, root, _) = self.collection_path()?;
                from = Some(root);
                iterator = true;
                joins.push(Join { alias, source });
            } else {
                let (path, root, last) = self.collection_path()?;
                let alias = if self.eat_kw("AS") {
                    Some(self.name("an alias after AS")?)
                } else if matches!(self.peek(), Tok::Ident(s) if !is_keyword(s)) {
                    Some(self.name("an alias")?)
                } else {
                    None
                };
                if matches!(path.kind, ExprKind::Ident(_)) {
                    from = Some(alias.unwrap_or(root));
                } else {
                    // FROM c.path [AS] x: one row per document that has the path, bound to its value.
                    let Some(alias) = alias.or(last) else {
                        return Err(self.error(path.span, "this FROM path needs an alias: FROM c.path x"));
                    };
                    let span = path.span;
                    from = Some(root);
                    iterator = true;
                    joins.push(Join {
                        alias,
                        source: Expr {
                            kind: ExprKind::Array(vec![path]),
                            span,
                        },
                    });
                }
            }
            while self.eat_kw("JOIN") {
                let alias = self.name("an alias after JOIN")?;
                self.expect_kw("IN")?;
                let source = self.expr()?;
                joins.push(Join { alias, source });
            }
        }
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            loop {
                group_by.push(self.expr()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let expr = self.expr()?;
                let descending = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order_by.push(OrderItem { expr, descending });
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let offset_limit = if self.eat_kw("OFFSET") {
            let offset = self.count("OFFSET")?;
            self.expect_kw("LIMIT")?;
            let limit = self.count("LIMIT")?;
            Some((offset, limit))
        } else if self.at_kw("LIMIT") {
            return Err(self.unexpected("LIMIT needs OFFSET before it: OFFSET 0 LIMIT n"));
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            iterator,
            joins,
            filter,
            group_by,
            order_by,
            offset_limit,
            udfs: Default::default(),
        })
    }

    fn select(&mut self) -> Result<Select> {
        let start = self.span();
        self.expect_kw("SELECT")?;
        let distinct = self.eat_kw("DISTINCT");
        let top = if self.eat_kw("TOP") {
            Some(self.count("TOP")?)
        } else {
            None
        };
        let kind = if self.eat(&Tok::Star) {
            SelectKind::Star
        } else if self.eat_kw("VALUE") {
            SelectKind::Value(self.expr()?)
        } else {
            let mut items: Vec<(Expr, String)> = Vec::new();
            let mut unnamed = 0;
            loop {
                let expr = self.expr()?;
                let explicit = if self.eat_kw("AS") {
                    Some(self.name("an alias after AS")?)
                } else if matches!(self.peek(), Tok::Ident(s) if !is_keyword(s)) {
                    Some(self.name("an alias")?)
                } else {
                    None
                };
                let name = match explicit.or_else(|| implicit_name(&expr)) {
                    Some(n) => n,
                    None => {
                        unnamed += 1;
                        format!("${unnamed}")
                    }
                };
                if items.iter().any(|(_, n)| *n == name) {
                    return Err(self.error(
                        expr.span,
                        &format!("the output name '{name}' is used twice; give one of them an alias with AS"),
                    ));
                }
                items.push((expr, name));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            SelectKind::List(items)
        };
        Ok(Select {
            distinct,
            top,
            kind,
            span: start.to(self.prev_span()),
        })
    }

    /// A non-negative integer literal or a parameter (for TOP, OFFSET, LIMIT).
    fn count(&mut self, clause: &str) -> Result<Count> {
        let span = self.span();
        match self.advance() {
            Tok::Number(n) => n
                .as_u64()
                .map(Count::Literal)
                .ok_or_else(|| self.error(span, &format!("{clause} needs a non-negative integer"))),
            Tok::Param(name) => Ok(Count::Param(name, span)),
            _ => Err(self.error(
                span,
                &format!("{clause} needs a non-negative integer or a @parameter"),
            )),
        }
    }
}

/// The output name a projection gets without an alias: the last property name, or the name bound.
fn implicit_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Property(_, name) => Some(name.clone()),
        ExprKind::Index(_, key) => match &key.kind {
            ExprKind::Literal(Value::String(s)) => Some(s.clone()),
            _ => None,
        },
        ExprKind::Ident(name) => Some(name.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ast::BinOp;

    #[test]
    fn clauses() {
        let q = parse(
            "select distinct top 5 c.a, c.b as x, c['q'], 1 + 1 from root c join t in c.tags \
             where c.a > 1 group by c.a order by c.a desc, c.b offset 1 limit 2",
        )
        .unwrap();
        assert!(q.select.distinct);
        assert!(matches!(q.select.top, Some(Count::Literal(5))));
        let SelectKind::List(items) = &q.select.kind else {
            panic!("list")
        };
        let names: Vec<&str> = items.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["a", "x", "q", "$1"]);
        assert_eq!(q.from.as_deref(), Some("c"));
        assert_eq!(q.joins.len(), 1);
        assert_eq!(q.joins[0].alias, "t");
        assert!(q.filter.is_some());
        assert_eq!(q.group_by.len(), 1);
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[0].descending && !q.order_by[1].descending);
        assert!(matches!(
            q.offset_limit,
            Some((Count::Literal(1), Count::Literal(2)))
        ));
    }

    #[test]
    fn from_alias_forms() {
        assert_eq!(parse("SELECT * FROM c").unwrap().from.as_deref(), Some("c"));
        assert_eq!(
            parse("SELECT * FROM Families f").unwrap().from.as_deref(),
            Some("f")
        );
        assert_eq!(parse("SELECT * FROM x AS y").unwrap().from.as_deref(), Some("y"));
        let q = parse("SELECT * FROM t IN c.a[\"b\"]").unwrap();
        assert!(q.iterator && q.from.as_deref() == Some("c") && q.joins[0].alias == "t");
        let q = parse("SELECT * FROM c.a.kids").unwrap();
        assert!(q.iterator && q.joins[0].alias == "kids");
        assert!(!parse("SELECT * FROM Families f").unwrap().iterator);
        assert!(parse("SELECT 1").unwrap().from.is_none());
    }

    #[test]
    fn precedence() {
        let q = parse("SELECT VALUE 1 + 2 * 3 = 7 AND NOT false OR x").unwrap();
        let SelectKind::Value(e) = q.select.kind else {
            panic!("value")
        };
        let ExprKind::Binary(BinOp::Or, l, _) = e.kind else {
            panic!("or at the top: {e:?}")
        };
        assert!(matches!(l.kind, ExprKind::Binary(BinOp::And, _, _)));
    }

    #[test]
    fn errors_have_positions() {
        let cases = [
            ("SELECT", "line 1, column 7"),
            ("SELECT * FROM", "column 14"),
            ("SELECT * FROM c WHERE", "column 22"),
            ("SELECT * FROM c\nWHERE c.a = = 1", "line 2, column 13"),
            ("SELECT c.a, c.a FROM c", "column 13"),
            ("SELECT * FROM c LIMIT 1", "column 17"),
            ("SELECT TOP -1 * FROM c", "column 12"),
            ("SELECT * FROM c x y", "column 19"),
            ("SELECT FOO(1)", "column 8"),
            ("SELECT VALUE (1", "column 16"),
        ];
        for (src, want) in cases {
            let e = parse(src).unwrap_err();
            assert_eq!(e.status(), 400, "{src}");
            assert!(e.to_string().contains(want), "{src}: {e}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("SELECT VALUE {}1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&ok).is_ok());
        for src in [
            format!("SELECT VALUE {}1{}", "(".repeat(5000), ")".repeat(5000)),
            format!("SELECT VALUE {}1", "- ".repeat(5000)),
            format!("SELECT VALUE {}true", "NOT ".repeat(5000)),
            format!("SELECT VALUE c{} FROM c", ".a".repeat(5000)),
            format!("SELECT VALUE 1{}", " + 1".repeat(5000)),
            format!("SELECT VALUE {}1{}", "[".repeat(5000), "]".repeat(5000)),
            format!("SELECT VALUE {}", "1 ? 1 : ".repeat(5000)),
        ] {
            let e = parse(&src).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.to_string().contains("nests deeper"), "{e}");
        }
    }
}
