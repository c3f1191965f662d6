//! Expression grammar by precedence climbing, loosest first: `?:`, `??`, OR, AND, NOT, [NOT] IN /
//! BETWEEN / LIKE, `|`, `^`, `&`, comparisons, `||`, `<< >> >>>`, `+ -`, `* / %`, unary `- + ~`,
//! `.` and `[]`. Every level that deepens the tree counts against `MAX_DEPTH` (few frames per level,
//! so the stack is bounded too). Checks function names and arity (400 with the position); binds
//! nothing, evaluates nothing.

use serde_json::{Number, Value};

use super::aggregate::is_aggregate;
use super::ast::{BinOp, Expr, ExprKind, SubqueryKind, UnOp};
use super::functions::arity;
use super::lexer::Tok;
use super::parser::{is_keyword, Parser};
use crate::error::Result;

/// Binding powers, loosest first. Bitwise `& ^ |` bind more loosely than comparisons, as in the
/// managed service's grammar (and C and JavaScript): `c.f & 4 = 4` is `c.f & (4 = 4)`, so write
/// `(c.f & 4) = 4`.
const BP_TERNARY: u8 = 1;
const BP_COALESCE: u8 = 2;
const BP_OR: u8 = 3;
const BP_AND: u8 = 4;
const BP_NOT: u8 = 5;
const BP_PREDICATE: u8 = 6;
const BP_BIT_OR: u8 = 7;
const BP_BIT_XOR: u8 = 8;
const BP_BIT_AND: u8 = 9;
const BP_COMPARE: u8 = 10;
const BP_CONCAT: u8 = 11;
const BP_SHIFT: u8 = 12;
const BP_ADD: u8 = 13;
const BP_MUL: u8 = 14;
const BP_UNARY: u8 = 15;

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    let span = l.span.to(r.span);
    Expr {
        kind: ExprKind::Binary(op, Box::new(l), Box::new(r)),
        span,
    }
}

/// What follows a complete operand.
enum Infix {
    Binary(BinOp, u8),
    Ternary,
    /// [NOT] BETWEEN, [NOT] IN or [NOT] LIKE; `true` when negated.
    Between(bool),
    In(bool),
    Like(bool),
    Property,
    Index,
}

impl Parser<'_> {
    /// A full expression.
    pub(crate) fn expr(&mut self) -> Result<Expr> {
        self.expr_bp(0)
    }

    fn infix(&self) -> Option<Infix> {
        let op = |o, bp| Some(Infix::Binary(o, bp));
        match self.peek() {
            Tok::Dot => Some(Infix::Property),
            Tok::LBracket => Some(Infix::Index),
            Tok::Question => Some(Infix::Ternary),
            Tok::Coalesce => op(BinOp::Coalesce, BP_COALESCE),
            Tok::Eq => op(BinOp::Eq, BP_COMPARE),
            Tok::NotEq => op(BinOp::NotEq, BP_COMPARE),
            Tok::Lt => op(BinOp::Lt, BP_COMPARE),
            Tok::Le => op(BinOp::Le, BP_COMPARE),
            Tok::Gt => op(BinOp::Gt, BP_COMPARE),
            Tok::Ge => op(BinOp::Ge, BP_COMPARE),
            Tok::Concat => op(BinOp::Concat, BP_CONCAT),
            Tok::BitOr => op(BinOp::BitOr, BP_BIT_OR),
            Tok::BitXor => op(BinOp::BitXor, BP_BIT_XOR),
            Tok::BitAnd => op(BinOp::BitAnd, BP_BIT_AND),
            Tok::Shl => op(BinOp::Shl, BP_SHIFT),
            Tok::Shr => op(BinOp::Shr, BP_SHIFT),
            Tok::UShr => op(BinOp::UShr, BP_SHIFT),
            Tok::Plus => op(BinOp::Add, BP_ADD),
            Tok::Minus => op(BinOp::Sub, BP_ADD),
            Tok::Star => op(BinOp::Mul, BP_MUL),
            Tok::Slash => op(BinOp::Div, BP_MUL),
            Tok::Percent => op(BinOp::Mod, BP_MUL),
            _ if self.at_kw("OR") => op(BinOp::Or, BP_OR),
            _ if self.at_kw("AND") => op(BinOp::And, BP_AND),
            _ if self.at_kw("BETWEEN") => Some(Infix::Between(false)),
            _ if self.at_kw("IN") => Some(Infix::In(false)),
            _ if self.at_kw("LIKE") => Some(Infix::Like(false)),
            _ if self.at_kw("NOT") && self.at_kw_n(1, "BETWEEN") => Some(Infix::Between(true)),
            _ if self.at_kw("NOT") && self.at_kw_n(1, "IN") => Some(Infix::In(true)),
            _ if self.at_kw("NOT") && self.at_kw_n(1, "LIKE") => Some(Infix::Like(true)),
            _ => None,
        }
    }

    /// An expression whose operators all bind at least as tightly as `min_bp`.
    fn expr_bp(&mut self, min_bp: u8) -> Result<Expr> {
        self.enter()?;
        let mut levels = 1;
        let result = self.expr_bp_inner(min_bp, &mut levels);
        self.leave(levels);
        result
    }

    fn expr_bp_inner(&mut self, min_bp: u8, levels: &mut usize) -> Result<Expr> {
        let mut left = self.prefix()?;
        while let Some(infix) = self.infix() {
            let bp = match infix {
                Infix::Binary(_, bp) => bp,
                Infix::Ternary => BP_TERNARY,
                Infix::Between(_) | Infix::In(_) | Infix::Like(_) => BP_PREDICATE,
                Infix::Property | Infix::Index => u8::MAX,
            };
            if bp < min_bp {
                break;
            }
            // Each operator applied here deepens the tree by one.
            *levels += 1;
            self.enter()?;
            left = match infix {
                Infix::Property => self.property(left)?,
                Infix::Index => self.index(left)?,
                Infix::Binary(op, bp) => {
                    self.advance();
                    let right = self.expr_bp(bp + 1)?;
                    bin(op, left, right)
                }
                Infix::Ternary => {
                    self.advance();
                    let then = self.expr_bp(0)?;
                    self.expect(&Tok::Colon, "':' of the ?: operator")?;
                    let other = self.expr_bp(BP_TERNARY)?;
                    let span = left.span.to(other.span);
                    Expr {
                        kind: ExprKind::Ternary(Box::new(left), Box::new(then), Box::new(other)),
                        span,
                    }
                }
                Infix::Between(negated) | Infix::In(negated) | Infix::Like(negated) => {
                    if negated {
                        self.advance();
                    }
                    if self.eat_kw("BETWEEN") {
                        self.between_rest(left, negated)?
                    } else if self.eat_kw("LIKE") {
                        self.like_rest(left, negated)?
                    } else {
                        self.advance();
                        self.in_rest(left, negated)?
                    }
                }
            };
        }
        Ok(left)
    }

    /// NOT, unary minus and plus, or a primary.
    fn prefix(&mut self) -> Result<Expr> {
        let start = self.span();
        let (op, bp) = match self.peek() {
            Tok::Minus => (UnOp::Neg, BP_UNARY),
            Tok::Plus => (UnOp::Plus, BP_UNARY),
            Tok::Tilde => (UnOp::BitNot, BP_UNARY),
            _ if self.at_kw("NOT") => (UnOp::Not, BP_NOT),
            _ => return self.primary(),
        };
        self.advance();
        let inner = self.expr_bp(bp)?;
        let span = start.to(inner.span);
        // Fold a negative number literal so that `-1` is a literal.
        if let (UnOp::Neg, ExprKind::Literal(Value::Number(n))) = (op, &inner.kind) {
            let neg = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) if i != 0 => Some(Number::from(-i)),
                (_, Some(f)) => Number::from_f64(-f),
                _ => None,
            };
            if let Some(neg) = neg {
                return Ok(Expr {
                    kind: ExprKind::Literal(Value::Number(neg)),
                    span,
                });
            }
        }
        Ok(Expr {
            kind: ExprKind::Unary(op, Box::new(inner)),
            span,
        })
    }

    fn between_rest(&mut self, value: Expr, negated: bool) -> Result<Expr> {
        let low = self.expr_bp(BP_CONCAT)?;
        if !self.eat_kw("AND") {
            return Err(self.unexpected("expected AND of BETWEEN low AND high"));
        }
        let high = self.expr_bp(BP_CONCAT)?;
        let span = value.span.to(high.span);
        Ok(Expr {
            kind: ExprKind::Between {
                value: Box::new(value),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            },
            span,
        })
    }

    /// `LIKE pattern [ESCAPE 'c']`: the pattern is any expression above the predicates; the escape
    /// is a string literal of one character.
    fn like_rest(&mut self, value: Expr, negated: bool) -> Result<Expr> {
        let pattern = self.expr_bp(BP_BIT_OR)?;
        let mut span = value.span.to(pattern.span);
        let escape = if self.eat_kw("ESCAPE") {
            let at = self.span();
            let Tok::Str(text) = self.advance() else {
                return Err(self.error(at, "ESCAPE takes a string literal of one character"));
            };
            let mut chars = text.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(self.error(at, "the ESCAPE character must be exactly one character"));
            };
            span = span.to(at);
            Some(c)
        } else {
            None
        };
        Ok(Expr {
            kind: ExprKind::Like {
                value: Box::new(value),
                pattern: Box::new(pattern),
                escape,
                negated,
            },
            span,
        })
    }

    fn in_rest(&mut self, value: Expr, negated: bool) -> Result<Expr> {
        self.expect(&Tok::LParen, "'(' after IN")?;
        let list = self.list(&Tok::RParen, "')' closing the IN list")?;
        if list.is_empty() {
            return Err(self.error(self.prev_span(), "IN needs at least one value"));
        }
        let span = value.span.to(self.prev_span());
        Ok(Expr {
            kind: ExprKind::In {
                value: Box::new(value),
                list,
                negated,
            },
            span,
        })
    }

    /// Comma-separated expressions up to `close` (consumed).
    fn list(&mut self, close: &Tok, what: &str) -> Result<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(&Tok::Comma, &format!("',' or {what}"))?;
        }
    }

    /// A path for FROM: a name followed by `.name` and `[literal]` steps; returns it with its
    /// root name and its last property name (if the last step names one).
    pub(crate) fn collection_path(&mut self) -> Result<(Expr, String, Option<String>)> {
        let root = self.name("a container name, alias or path after FROM")?;
        let mut e = Expr {
            kind: ExprKind::Ident(root.clone()),
            span: self.prev_span(),
        };
        let mut last = Some(root.clone());
        loop {
            e = match self.peek() {
                Tok::Dot => self.property(e)?,
                Tok::LBracket => self.index(e)?,
                _ => return Ok((e, root, last)),
            };
            last = match &e.kind {
                ExprKind::Property(_, name) => Some(name.clone()),
                ExprKind::Index(_, key) => match &key.kind {
                    ExprKind::Literal(Value::String(name)) => Some(name.clone()),
                    ExprKind::Literal(Value::Number(_)) => None,
                    _ => {
                        return Err(
                            self.error(key.span, "a FROM path takes only literal [\"name\"] or [n] steps")
                        )
                    }
                },
                _ => None,
            };
        }
    }

    fn property(&mut self, base: Expr) -> Result<Expr> {
        self.advance();
        let span = self.span();
        match self.advance() {
            Tok::Ident(name) => Ok(Expr {
                span: base.span.to(span),
                kind: ExprKind::Property(Box::new(base), name),
            }),
            _ => Err(self.error(span, "expected a property name after '.'")),
        }
    }

    fn index(&mut self, base: Expr) -> Result<Expr> {
        self.advance();
        let key = self.expr()?;
        self.expect(&Tok::RBracket, "']'")?;
        Ok(Expr {
            span: base.span.to(self.prev_span()),
            kind: ExprKind::Index(Box::new(base), Box::new(key)),
        })
    }

    fn primary(&mut self) -> Result<Expr> {
        let span = self.span();
        let lit = |kind: ExprKind| Ok(Expr { kind, span });
        match self.peek().clone() {
            Tok::Number(n) => {
                self.advance();
                lit(ExprKind::Literal(Value::Number(n)))
            }
            Tok::Str(s) => {
                self.advance();
                lit(ExprKind::Literal(Value::String(s)))
            }
            Tok::Param(name) => {
                self.advance();
                lit(ExprKind::Param(name))
            }
            Tok::LParen if self.at_kw_n(1, "SELECT") => self.subquery(SubqueryKind::Scalar, span),
            Tok::LParen => {
                self.advance();
                let e = self.expr()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::LBracket => {
                self.advance();
                self.enter()?;
                let items = self.list(&Tok::RBracket, "']' closing the array");
                self.leave(1);
                let items = items?;
                Ok(Expr {
                    kind: ExprKind::Array(items),
                    span: span.to(self.prev_span()),
                })
            }
            Tok::LBrace => {
                self.advance();
                self.enter()?;
                let fields = self.object_fields();
                self.leave(1);
                let fields = fields?;
                Ok(Expr {
                    kind: ExprKind::Object(fields),
                    span: span.to(self.prev_span()),
                })
            }
            Tok::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" => {
                        self.advance();
                        lit(ExprKind::Literal(Value::Bool(true)))
                    }
                    "FALSE" => {
                        self.advance();
                        lit(ExprKind::Literal(Value::Bool(false)))
                    }
                    "NULL" => {
                        self.advance();
                        lit(ExprKind::Literal(Value::Null))
                    }
                    "UNDEFINED" => {
                        self.advance();
                        lit(ExprKind::Undefined)
                    }
                    "EXISTS" | "ARRAY" if self.peek_at(1) == &Tok::LParen && self.at_kw_n(2, "SELECT") => {
                        self.advance();
                        let kind = if upper == "EXISTS" {
                            SubqueryKind::Exists
                        } else {
                            SubqueryKind::Array
                        };
                        self.subquery(kind, span)
                    }
                    _ if word == "udf"
                        && self.peek_at(1) == &Tok::Dot
                        && matches!(self.peek_at(2), Tok::Ident(_))
                        && self.peek_at(3) == &Tok::LParen =>
                    {
                        self.udf_call()
                    }
                    _ if self.peek_at(1) == &Tok::LParen => self.call(upper),
                    _ if is_keyword(&word) => Err(self.unexpected("expected an expression, not a keyword")),
                    _ => {
                        self.advance();
                        lit(ExprKind::Ident(word))
                    }
                }
            }
            _ => Err(self.unexpected("expected an expression")),
        }
    }

    /// `( SELECT ... )` at the current `(`, as a subquery of `kind` starting at `start`.
    fn subquery(&mut self, kind: SubqueryKind, start: super::position::Span) -> Result<Expr> {
        self.advance();
        self.enter()?;
        let q = self.query();
        self.leave(1);
        let q = q?;
        self.expect(&Tok::RParen, "')' closing the subquery")?;
        Ok(Expr {
            kind: ExprKind::Subquery(kind, Box::new(q)),
            span: start.to(self.prev_span()),
        })
    }

    /// `udf.name(args)` at `udf`: any number of arguments (the function decides).
    fn udf_call(&mut self) -> Result<Expr> {
        let span = self.span();
        self.advance();
        self.advance();
        let Tok::Ident(name) = self.peek().clone() else {
            return Err(self.unexpected("expected the name of a user-defined function"));
        };
        self.advance();
        self.advance();
        let args = self.list(&Tok::RParen, "')' closing the arguments")?;
        self.udfs.insert(name.clone());
        Ok(Expr {
            kind: ExprKind::Udf(name, args),
            span: span.to(self.prev_span()),
        })
    }

    fn call(&mut self, name: String) -> Result<Expr> {
        let name_span = self.span();
        self.advance();
        self.advance();
        let range = if is_aggregate(&name) {
            Some((1, 1))
        } else {
            arity(&name)
        };
        let Some((min, max)) = range else {
            return Err(self.error(name_span, &format!("unknown function {name}")));
        };
        let args = self.list(&Tok::RParen, "')' closing the arguments")?;
        let span = name_span.to(self.prev_span());
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.error(
                span,
                &format!("{name} takes {want} argument(s), not {}", args.len()),
            ));
        }
        Ok(Expr {
            kind: ExprKind::Call(name, args),
            span,
        })
    }

    fn object_fields(&mut self) -> Result<Vec<(String, Expr)>> {
        let mut fields: Vec<(String, Expr)> = Vec::new();
        if self.eat(&Tok::RBrace) {
            return Ok(fields);
        }
        loop {
            let span = self.span();
            let key = match self.advance() {
                Tok::Str(s) | Tok::Ident(s) => s,
                _ => return Err(self.error(span, "expected a property name in the object")),
            };
            self.expect(&Tok::Colon, "':' after the property name")?;
            let value = self.expr()?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(self.error(span, &format!("property '{key}' appears twice in the object")));
            }
            fields.push((key, value));
            if self.eat(&Tok::RBrace) {
                return Ok(fields);
            }
            self.expect(&Tok::Comma, "',' or '}'")?;
        }
    }
}
