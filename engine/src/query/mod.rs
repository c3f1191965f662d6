//! The query language: a dialect of SQL over JSON documents. Pure: lexer -> parser (with spans)
//! -> semantic checks -> evaluator over `serde_json::Value` documents. It never touches storage;
//! `account::query` feeds it documents and pages its results. See docs/query.md.

mod aggregate;
mod ast;
mod check;
mod collect;
mod eval;
mod exec;
mod expr_parser;
mod fields;
mod functions;
mod integer;
mod lexer;
mod like;
mod ordered;
mod parser;
pub(crate) mod plan;
mod position;
mod predicate;
mod sort_merge;
mod stream;
mod subquery;
mod udf;
mod value;

pub(crate) use collect::Collector;
pub(crate) use exec::Prepared;
pub(crate) use ordered::{sorted_cmp, Cursor, Phase};
pub use parser::projection_names;
pub(crate) use plan::OrderScan;
pub(crate) use predicate::Predicate;
pub(crate) use sort_merge::{RunReader, RunStore};
pub(crate) use stream::{Flow, Page, Pager, Position, WHOLE};
pub(crate) use udf::Udfs;

/// Runs `sql` with `params` over documents the caller holds rather than a container's: every
/// result, in order, in one piece (no paging, no charge). 400 as `Container::query_items` for a
/// query that does not parse or check. The gateway queries its offers feed this way.
pub fn query_values(
    sql: &str,
    params: &[(String, serde_json::Value)],
    docs: impl IntoIterator<Item = serde_json::Value>,
) -> crate::error::Result<Vec<serde_json::Value>> {
    Prepared::new(sql, params)?.run(docs)
}

#[cfg(test)]
mod fuzz_tests;
