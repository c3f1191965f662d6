//! The syntax tree of a query, every expression carrying its span for error messages. Data only:
//! built by the parser, read by the checks and the evaluator. Two expressions are equal when they
//! have the same shape, wherever they were written (GROUP BY matching relies on it).

use serde_json::Value;

use super::position::Span;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) select: Select,
    /// `FROM x [AS] alias`: the name the document is bound to; `None` for `SELECT` without FROM.
    pub(crate) from: Option<String>,
    /// `FROM x IN c.path` or `FROM c.path x`: `joins[0]` is that source (over `c.path`, or over
    /// `[c.path]`), and the root name (`from`) is bound for it alone: the rest of the query sees
    /// only `x`, and `SELECT *` returns `x`.
    pub(crate) iterator: bool,
    pub(crate) joins: Vec<Join>,
    pub(crate) filter: Option<Expr>,
    pub(crate) group_by: Vec<Expr>,
    pub(crate) order_by: Vec<OrderItem>,
    /// `OFFSET n LIMIT m`.
    pub(crate) offset_limit: Option<(Count, Count)>,
    /// The user-defined functions the whole query calls (`udf.name`), subqueries included: set
    /// on the outermost query only.
    pub(crate) udfs: std::collections::BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Select {
    pub(crate) distinct: bool,
    pub(crate) top: Option<Count>,
    pub(crate) kind: SelectKind,
    pub(crate) span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SelectKind {
    Star,
    Value(Expr),
    /// Projections with their output names (alias, else the last property name, else `$n`).
    List(Vec<(Expr, String)>),
}

/// A `TOP`, `OFFSET` or `LIMIT` count: a literal or a parameter, resolved before execution.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Count {
    Literal(u64),
    Param(String, Span),
}

/// `JOIN alias IN source`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Join {
    pub(crate) alias: String,
    pub(crate) source: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderItem {
    pub(crate) expr: Expr,
    pub(crate) descending: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub(crate) kind: ExprKind,
    pub(crate) span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Coalesce,
    /// Bitwise `&`, `|`, `^`, `<<`, `>>`, `>>>` (on 32-bit integers, as the dialect does).
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
    Plus,
    /// `~`.
    BitNot,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExprKind {
    Literal(Value),
    Undefined,
    Param(String),
    /// A bound name: the FROM alias or a JOIN alias.
    Ident(String),
    Property(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `value [NOT] LIKE pattern [ESCAPE 'c']`.
    Like {
        value: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
    },
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A function or aggregate call; the name is upper-cased.
    Call(String, Vec<Expr>),
    /// `udf.name(args)`: a user-defined function of the container (name as written).
    Udf(String, Vec<Expr>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    /// `(SELECT ...)`, `EXISTS(SELECT ...)`, `ARRAY(SELECT ...)`: correlated over the enclosing
    /// row. A leaf for `children()`: its expressions belong to its own scope.
    Subquery(SubqueryKind, Box<Query>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubqueryKind {
    /// Its one value (undefined when it has none or more than one).
    Scalar,
    /// Whether it has any value.
    Exists,
    /// All its values as an array.
    Array,
}

impl ExprKind {
    /// The direct sub-expressions.
    pub(crate) fn children(&self) -> Vec<&Expr> {
        match self {
            ExprKind::Literal(_)
            | ExprKind::Undefined
            | ExprKind::Param(_)
            | ExprKind::Ident(_)
            | ExprKind::Subquery(..) => vec![],
            ExprKind::Property(e, _) | ExprKind::Unary(_, e) => vec![e],
            ExprKind::Index(a, b)
            | ExprKind::Binary(_, a, b)
            | ExprKind::Like {
                value: a, pattern: b, ..
            } => vec![a, b],
            ExprKind::Between { value, low, high, .. } => vec![value, low, high],
            ExprKind::In { value, list, .. } => std::iter::once(&**value).chain(list).collect(),
            ExprKind::Ternary(a, b, c) => vec![a, b, c],
            ExprKind::Call(_, args) | ExprKind::Udf(_, args) | ExprKind::Array(args) => args.iter().collect(),
            ExprKind::Object(fields) => fields.iter().map(|(_, e)| e).collect(),
        }
    }
}
