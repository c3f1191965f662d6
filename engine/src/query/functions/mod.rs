//! Scalar functions, one family a file (type checks and IIF, strings, math, arrays, date and
//! time, spatial; the `Int*` functions live with the bitwise operators in `query/integer.rs`):
//! their arity, for the parser, and their value, for the evaluator. Arguments of the wrong type
//! give undefined, never an error. Pure apart from `RAND` and `RegexMatch`'s pattern cache.

mod array;
mod datetime;
mod math;
mod spatial;
mod spatial_distance;
mod string;
mod types;

use serde_json::Value;

use super::integer::{as_int64, int_arity, int_function};
use super::value::Val;

/// (min, max) arguments of a scalar function, `None` if there is no such function.
pub(crate) fn arity(name: &str) -> Option<(usize, usize)> {
    types::arity(name)
        .or_else(|| string::arity(name))
        .or_else(|| math::arity(name))
        .or_else(|| array::arity(name))
        .or_else(|| datetime::arity(name))
        .or_else(|| spatial::arity(name))
        .or_else(|| int_arity(name))
}

/// Applies the scalar function `name` (already checked by `arity`); `now` (ticks since the Unix
/// epoch) answers the GetCurrent* functions.
pub(crate) fn call(name: &str, args: &[Val], now: i64) -> Val {
    if let Some(v) = datetime::current(name, now) {
        return v;
    }
    types::call(name, args)
        .or_else(|| string::call(name, args))
        .or_else(|| math::call(name, args))
        .or_else(|| array::call(name, args))
        .or_else(|| datetime::call(name, args))
        .or_else(|| spatial::call(name, args))
        .or_else(|| int_function(name, args))
        .flatten()
}

/// The `i`-th argument, when it is defined.
fn arg(args: &[Val], i: usize) -> Option<&Value> {
    args.get(i).and_then(Option::as_ref)
}

/// The `i`-th argument, when it is a string.
fn text(args: &[Val], i: usize) -> Option<&str> {
    arg(args, i).and_then(Value::as_str)
}

/// True when the `i`-th argument is exactly `true` (optional boolean flags such as ignoreCase).
fn flag(args: &[Val], i: usize) -> bool {
    matches!(arg(args, i), Some(Value::Bool(true)))
}

/// A value as a 64-bit integer (an integral float in range counts).
fn as_integer(v: &Val) -> Option<i64> {
    as_int64(v)
}

/// The `i`-th argument as a 64-bit integer.
fn int(args: &[Val], i: usize) -> Option<i64> {
    args.get(i).and_then(as_integer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str, args: &[Value]) -> Val {
        let args: Vec<Val> = args.iter().cloned().map(Some).collect();
        call(name, &args, 0)
    }

    #[test]
    fn table() {
        let cases: Vec<(&str, Vec<Value>, Val)> = vec![
            (
                "SUBSTRING",
                vec![json!("héllo"), json!(1), json!(3)],
                Some(json!("éll")),
            ),
            (
                "SUBSTRING",
                vec![json!("abc"), json!(-2), json!(10)],
                Some(json!("abc")),
            ),
            ("SUBSTRING", vec![json!("abc"), json!(1.5), json!(1)], None),
            ("LENGTH", vec![json!("héllo")], Some(json!(5))),
            ("ROUND", vec![json!(-2.5)], Some(json!(-3))),
            ("ROUND", vec![json!(7)], Some(json!(7))),
            ("ABS", vec![json!(i64::MIN)], Some(json!(9.223372036854776e18))),
            ("CEILING", vec![json!(1.2)], Some(json!(2))),
            ("FLOOR", vec![json!("1")], None),
            (
                "CONCAT",
                vec![json!("a"), json!("b"), json!("c")],
                Some(json!("abc")),
            ),
            ("CONCAT", vec![json!("a"), json!(1)], None),
            (
                "STARTSWITH",
                vec![json!("Abc"), json!("a"), json!(true)],
                Some(json!(true)),
            ),
            ("STARTSWITH", vec![json!("Abc"), json!("a")], Some(json!(false))),
            (
                "ARRAY_CONTAINS",
                vec![json!([{"a": 1, "b": 2}]), json!({"a": 1}), json!(true)],
                Some(json!(true)),
            ),
            (
                "ARRAY_CONTAINS",
                vec![json!([{"a": 1, "b": 2}]), json!({"a": 1})],
                Some(json!(false)),
            ),
            ("ARRAY_CONTAINS", vec![json!("x"), json!("x")], None),
        ];
        for (name, args, want) in cases {
            assert_eq!(f(name, &args), want, "{name}({args:?})");
        }
        assert_eq!(call("IS_DEFINED", &[None], 0), Some(json!(false)));
        assert_eq!(arity("NOPE"), None);
    }
}
