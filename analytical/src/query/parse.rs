//! Lexer and recursive-descent parser of the query subset. Positions are byte offsets into the
//! query text and appear in every error.

use serde_json::{Number, Value};

use crate::error::{AnalyticalError, Result};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(Value),
    Str(String),
    Sym(&'static str),
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// A property path below the FROM alias, lower-cased segments joined by '.'.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    pub dotted: String,
    /// The last segment as written (the default output name).
    pub last: String,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Lit(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Cmp(Operand, CmpOp, Operand),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemExpr {
    Path(Path),
    /// `None` argument: COUNT(1) / COUNT(*).
    Agg(Agg, Option<Path>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub expr: ItemExpr,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Select {
    Star,
    Items(Vec<Item>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub select: Select,
    pub filter: Option<Expr>,
    pub group_by: Vec<Path>,
}

const UNSUPPORTED: [&str; 14] = [
    "TOP", "DISTINCT", "VALUE", "ORDER", "LIMIT", "OFFSET", "JOIN", "HAVING", "IN", "BETWEEN", "LIKE",
    "EXISTS", "UNION", "IS",
];

fn lex(sql: &str) -> Result<Vec<(Tok, usize)>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            out.push((Tok::Ident(sql[start..i].to_string()), start));
            continue;
        }
        if c.is_ascii_digit() {
            let mut is_float = false;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                is_float = true;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                is_float = true;
                i += 1;
                if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text = &sql[start..i];
            let bad = || AnalyticalError::query(start, format!("invalid number literal {text:?}"));
            let value = if is_float {
                let f: f64 = text.parse().map_err(|_| bad())?;
                Value::Number(Number::from_f64(f).ok_or_else(bad)?)
            } else {
                match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        let f: f64 = text.parse().map_err(|_| bad())?;
                        Value::Number(Number::from_f64(f).ok_or_else(bad)?)
                    }
                }
            };
            out.push((Tok::Num(value), start));
            continue;
        }
        if c == b'\'' || c == b'"' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            let mut closed = false;
            while let Some(ch) = sql[i..].chars().next() {
                i += ch.len_utf8();
                if ch as u32 == u32::from(quote) {
                    closed = true;
                    break;
                }
                if ch == '\\' {
                    let Some(esc) = sql[i..].chars().next() else { break };
                    i += esc.len_utf8();
                    s.push(match esc {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                } else {
                    s.push(ch);
                }
            }
            if !closed {
                return Err(AnalyticalError::query(start, "unterminated string literal"));
            }
            out.push((Tok::Str(s), start));
            continue;
        }
        let two = sql.get(i..i + 2).unwrap_or("");
        let sym = match two {
            "!=" => Some("!="),
            "<>" => Some("!="),
            "<=" => Some("<="),
            ">=" => Some(">="),
            _ => None,
        };
        if let Some(s) = sym {
            out.push((Tok::Sym(s), start));
            i += 2;
            continue;
        }
        let sym = match c {
            b'(' => "(",
            b')' => ")",
            b',' => ",",
            b'.' => ".",
            b'*' => "*",
            b'=' => "=",
            b'<' => "<",
            b'>' => ">",
            b'-' => "-",
            _ => {
                let ch = sql[i..].chars().next().unwrap_or('?');
                return Err(AnalyticalError::query(
                    start,
                    format!("unexpected character {ch:?}"),
                ));
            }
        };
        out.push((Tok::Sym(sym), start));
        i += 1;
    }
    out.push((Tok::End, sql.len()));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    alias: String,
}

/// Parses `sql` into a query. Every error is a 400 with the byte position.
pub(crate) fn parse(sql: &str) -> Result<Query> {
    let toks = lex(sql)?;
    // The FROM alias is needed to resolve paths in the SELECT list, which comes first.
    let alias = toks
        .windows(2)
        .find_map(|w| match (&w[0].0, &w[1].0) {
            (Tok::Ident(k), Tok::Ident(a)) if k.eq_ignore_ascii_case("FROM") => Some(a.clone()),
            _ => None,
        })
        .ok_or_else(|| AnalyticalError::query(0, "expected FROM <alias>, e.g. SELECT ... FROM c"))?;
    let mut p = Parser { toks, at: 0, alias };
    p.query()
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.at).map(|t| &t.0).unwrap_or(&Tok::End)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map(|t| t.1).unwrap_or(0)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T> {
        Err(AnalyticalError::query(self.pos(), msg))
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            self.err(format!("expected {kw}, found {}", self.describe()))
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(s) if *s == sym) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<()> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            self.err(format!("expected '{sym}', found {}", self.describe()))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(_) => "a string literal".into(),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::End => "end of query".into(),
        }
    }

    fn reject_unsupported(&self) -> Result<()> {
        if let Tok::Ident(s) = self.peek() {
            let upper = s.to_ascii_uppercase();
            if UNSUPPORTED.contains(&upper.as_str()) {
                return self.err(format!("{upper} is not supported by the analytical query subset"));
            }
        }
        Ok(())
    }

    fn query(&mut self) -> Result<Query> {
        self.expect_kw("SELECT")?;
        self.reject_unsupported()?;
        let select = if self.eat_sym("*") {
            Select::Star
        } else {
            Select::Items(self.items()?)
        };
        self.expect_kw("FROM")?;
        match self.bump() {
            Tok::Ident(_) => {}
            _ => return self.err("expected a collection alias after FROM"),
        }
        self.reject_unsupported()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            loop {
                group_by.push(self.path()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.reject_unsupported()?;
        if *self.peek() != Tok::End {
            return self.err(format!("unexpected {} (unsupported syntax)", self.describe()));
        }
        Ok(Query {
            select,
            filter,
            group_by,
        })
    }

    fn items(&mut self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            let expr = self.item_expr()?;
            let alias = if self.eat_kw("AS") {
                match self.bump() {
                    Tok::Ident(a) => Some(a),
                    _ => return self.err("expected a name after AS"),
                }
            } else {
                None
            };
            items.push(Item { expr, alias });
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(items)
    }

    fn item_expr(&mut self) -> Result<ItemExpr> {
        let agg = match self.peek() {
            Tok::Ident(s) => match s.to_ascii_uppercase().as_str() {
                "COUNT" => Some(Agg::Count),
                "SUM" => Some(Agg::Sum),
                "AVG" => Some(Agg::Avg),
                "MIN" => Some(Agg::Min),
                "MAX" => Some(Agg::Max),
                _ => None,
            },
            _ => None,
        };
        let is_call = matches!(self.toks.get(self.at + 1), Some((Tok::Sym("("), _)));
        match agg {
            Some(agg) if is_call => {
                self.at += 2;
                let arg = if agg == Agg::Count && (self.eat_sym("*") || matches!(self.peek(), Tok::Num(_))) {
                    if let Tok::Num(_) = self.peek() {
                        self.at += 1;
                    }
                    None
                } else {
                    Some(self.path()?)
                };
                self.expect_sym(")")?;
                Ok(ItemExpr::Agg(agg, arg))
            }
            _ if is_call => self.err(format!("function {} is not supported", self.describe())),
            _ => Ok(ItemExpr::Path(self.path()?)),
        }
    }

    fn path(&mut self) -> Result<Path> {
        let pos = self.pos();
        match self.bump() {
            Tok::Ident(a) if a == self.alias => {}
            Tok::Ident(a) => {
                return Err(AnalyticalError::query(
                    pos,
                    format!(
                        "'{a}' is not the FROM alias '{}'; write {}.<property>",
                        self.alias, self.alias
                    ),
                ))
            }
            _ => {
                return Err(AnalyticalError::query(
                    pos,
                    format!("expected a path like {}.property", self.alias),
                ))
            }
        }
        let mut segments = Vec::new();
        let mut last = String::new();
        while self.eat_sym(".") {
            match self.bump() {
                Tok::Ident(s) => {
                    segments.push(s.to_lowercase());
                    last = s;
                }
                _ => {
                    return Err(AnalyticalError::query(
                        self.pos(),
                        "expected a property name after '.'",
                    ))
                }
            }
        }
        if segments.is_empty() {
            return Err(AnalyticalError::query(
                pos,
                "a bare alias is not supported; name a property",
            ));
        }
        if self.eat_sym("(") || matches!(self.peek(), Tok::Sym("*")) {
            return Err(AnalyticalError::query(pos, "unsupported expression"));
        }
        Ok(Path {
            dotted: segments.join("."),
            last,
            pos,
        })
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.eat_sym("(") {
            let e = self.or()?;
            self.expect_sym(")")?;
            return Ok(e);
        }
        let left = self.operand()?;
        self.reject_unsupported()?;
        let op = match self.bump() {
            Tok::Sym("=") => CmpOp::Eq,
            Tok::Sym("!=") => CmpOp::Ne,
            Tok::Sym("<") => CmpOp::Lt,
            Tok::Sym("<=") => CmpOp::Le,
            Tok::Sym(">") => CmpOp::Gt,
            Tok::Sym(">=") => CmpOp::Ge,
            _ => {
                self.at -= 1;
                return self.err(format!(
                    "expected a comparison operator, found {}",
                    self.describe()
                ));
            }
        };
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Num(n) => {
                self.at += 1;
                Ok(Operand::Lit(n))
            }
            Tok::Sym("-") => {
                self.at += 1;
                match self.bump() {
                    Tok::Num(n) => {
                        let neg = n
                            .as_i64()
                            .and_then(i64::checked_neg)
                            .map(Value::from)
                            .or_else(|| n.as_f64().and_then(|f| Number::from_f64(-f)).map(Value::Number));
                        neg.map(Operand::Lit)
                            .ok_or_else(|| AnalyticalError::query(pos, "invalid number"))
                    }
                    _ => Err(AnalyticalError::query(pos, "expected a number after '-'")),
                }
            }
            Tok::Str(s) => {
                self.at += 1;
                Ok(Operand::Lit(Value::String(s)))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => {
                self.at += 1;
                Ok(Operand::Lit(Value::Bool(true)))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => {
                self.at += 1;
                Ok(Operand::Lit(Value::Bool(false)))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => {
                self.at += 1;
                Ok(Operand::Lit(Value::Null))
            }
            Tok::Ident(_) => Ok(Operand::Path(self.path()?)),
            _ => self.err(format!("expected a path or a literal, found {}", self.describe())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_aggregates_where_group_by() {
        let q = parse(
            "select c.cat, count(1) as n, SUM(c.Price) as total, avg(c.a.b) from c \
             where (c.x >= -2.5 or not c.y = \"s\") and c.z != null group by c.cat",
        )
        .expect("parses");
        let Select::Items(items) = &q.select else {
            panic!("items expected")
        };
        assert_eq!(items.len(), 4);
        assert_eq!(
            items[1],
            Item {
                expr: ItemExpr::Agg(Agg::Count, None),
                alias: Some("n".into())
            }
        );
        match &items[2].expr {
            ItemExpr::Agg(Agg::Sum, Some(p)) => assert_eq!(p.dotted, "price"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(q.group_by.len(), 1);
        match q.filter {
            Some(Expr::And(l, r)) => {
                assert!(matches!(*l, Expr::Or(_, _)));
                assert!(matches!(*r, Expr::Cmp(_, CmpOp::Ne, Operand::Lit(Value::Null))));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_unsupported_syntax_with_400() {
        for (sql, needle) in [
            ("SELECT TOP 5 c.a FROM c", "TOP"),
            ("SELECT c.a FROM c ORDER BY c.a", "ORDER"),
            ("SELECT c.a FROM c WHERE c.a IN (1, 2)", "IN"),
            ("SELECT LOWER(c.a) FROM c", "not supported"),
            ("SELECT x.a FROM c", "alias"),
            ("SELECT c.a FROM c WHERE c.a", "comparison"),
            ("SELECT c.a FROM c WHERE c.a = 'open", "unterminated"),
            ("SELECT c.a", "FROM"),
            ("SELECT SUM(c.p) total FROM c", "expected FROM"),
            ("SELECT c.a FROM c WHERE c.a = 1 ;", "unexpected character"),
        ] {
            let err = parse(sql).expect_err(sql);
            assert_eq!(err.status(), 400, "{sql}");
            assert!(err.to_string().contains(needle), "{sql}: {err}");
        }
    }

    #[test]
    fn literals() {
        let q = parse("SELECT c.a FROM c WHERE c.a = -3 OR c.a = 1.5e1 OR c.a = true").expect("parses");
        let Some(Expr::Or(l, r)) = q.filter else {
            panic!("or expected")
        };
        assert!(
            matches!(*r, Expr::Cmp(Operand::Path(ref p), CmpOp::Eq, Operand::Lit(ref v)) if p.dotted == "a" && *v == json!(true))
        );
        let Expr::Or(a, b) = *l else { panic!("or expected") };
        assert!(matches!(*a, Expr::Cmp(_, _, Operand::Lit(ref v)) if *v == json!(-3)));
        assert!(matches!(*b, Expr::Cmp(_, _, Operand::Lit(ref v)) if *v == json!(15.0)));
    }

    #[test]
    fn truncated_and_non_ascii_input_errors_without_panicking() {
        let sql = "SELECT c.cat, COUNT(1) AS n FROM c WHERE (c.name = 'héllo \\' x' OR NOT c.q <= -1.5e3) \
                   AND c.b != true GROUP BY c.cat";
        assert!(parse(sql).is_ok());
        let mut errors = 0;
        for (end, _) in sql.char_indices() {
            match parse(&sql[..end]) {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.status(), 400);
                    errors += 1;
                }
            }
        }
        assert!(errors > 50);
        let err = parse("SELECT c.é FROM c").expect_err("non-ASCII identifier");
        assert!(err.to_string().contains("unexpected character"), "{err}");
    }
}
