//! The query subset over merged analytical rows: a hand-written lexer, parser and executor.
//! It owns SQL text -> rows; it never reads files (the store hands it the merged batch).
//!
//! Why not DataFusion: on the project's 2-core machines DataFusion adds minutes to every clean
//! build and hundreds of crates, for a subset this small (one source, a conjunction/disjunction of
//! comparisons, GROUP BY and five aggregates). Users who need full SQL read the exported Parquet
//! files with DuckDB, pyarrow or Spark (see docs/analytical.md).
//!
//! Supported: `SELECT <items> FROM <alias> [WHERE <predicate>] [GROUP BY <path>, ...]` where an item
//! is `*`, `<alias>.<path>` or `COUNT(1)`/`COUNT(*)`/`COUNT(path)`/`SUM`/`AVG`/`MIN`/`MAX(path)`, each
//! with an optional `AS name`; a predicate combines `operand op operand` (op one of
//! `= != <> < <= > >=`, operands paths or literals) with AND, OR, NOT and parentheses.

mod exec;
mod parse;

pub(crate) use exec::execute;
pub use exec::QueryResult;
pub(crate) use parse::parse;
