//! The query side of user-defined functions (`udf.name(args)`): the trait through which the
//! evaluator calls them. Owns only that seam; must not know how a UDF is stored or run (the
//! account layer implements it over the script sandbox). Evaluation stays infallible: an
//! implementation keeps the first failure for its caller, which fails the query with it.

use super::value::Val;

/// User-defined functions, as a query page sees them.
pub(crate) trait Udfs: Send + Sync + std::fmt::Debug {
    /// `udf.name(args)`: its value (undefined after a failure, which the implementation keeps).
    fn call(&self, name: &str, args: &[Val]) -> Val;
}
