//! Scalar functions (type checks, arrays, strings, math): their arity, for the parser, and their
//! value, for the evaluator. Arguments of the wrong type give undefined, never an error. Pure.

use serde_json::Value;

use super::integer::{int_arity, int_function};
use super::value::{as_f64, as_i64, json_eq, number, Val};

/// (min, max) arguments of a scalar function, `None` if there is no such function.
pub(crate) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "IS_DEFINED" | "IS_NULL" | "IS_STRING" | "IS_NUMBER" | "IS_BOOL" | "IS_ARRAY" | "IS_OBJECT"
        | "ARRAY_LENGTH" | "LOWER" | "UPPER" | "LENGTH" | "ABS" | "FLOOR" | "CEILING" | "ROUND" => (1, 1),
        "ARRAY_CONTAINS" => (2, 3),
        "STARTSWITH" | "ENDSWITH" | "CONTAINS" => (2, 3),
        "SUBSTRING" => (3, 3),
        "CONCAT" => (2, usize::MAX),
        _ => return int_arity(name),
    })
}

fn s(v: &Val) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

fn b(v: Option<&Val>) -> bool {
    matches!(v, Some(Some(Value::Bool(true))))
}

/// Applies the scalar function `name` (already checked by `arity`).
pub(crate) fn call(name: &str, args: &[Val]) -> Val {
    let first = args.first().cloned().flatten();
    let arg = |i: usize| args.get(i).cloned().flatten();
    let boolean = |x: bool| Some(Value::Bool(x));
    match name {
        "IS_DEFINED" => boolean(first.is_some()),
        "IS_NULL" => boolean(matches!(first, Some(Value::Null))),
        "IS_STRING" => boolean(matches!(first, Some(Value::String(_)))),
        "IS_NUMBER" => boolean(matches!(first, Some(Value::Number(_)))),
        "IS_BOOL" => boolean(matches!(first, Some(Value::Bool(_)))),
        "IS_ARRAY" => boolean(matches!(first, Some(Value::Array(_)))),
        "IS_OBJECT" => boolean(matches!(first, Some(Value::Object(_)))),
        "ARRAY_LENGTH" => match &first {
            Some(Value::Array(a)) => Some(Value::from(a.len())),
            _ => None,
        },
        "ARRAY_CONTAINS" => array_contains(&first, &arg(1), b(args.get(2))),
        "STARTSWITH" | "ENDSWITH" | "CONTAINS" => {
            let (hay, needle) = (s(&first)?, s(args.get(1)?)?);
            let (hay, needle) = if b(args.get(2)) {
                (hay.to_lowercase(), needle.to_lowercase())
            } else {
                (hay.to_string(), needle.to_string())
            };
            boolean(match name {
                "STARTSWITH" => hay.starts_with(&needle),
                "ENDSWITH" => hay.ends_with(&needle),
                _ => hay.contains(&needle),
            })
        }
        "LOWER" => Some(Value::String(s(&first)?.to_lowercase())),
        "UPPER" => Some(Value::String(s(&first)?.to_uppercase())),
        "LENGTH" => Some(Value::from(s(&first)?.chars().count())),
        "SUBSTRING" => substring(s(&first)?, as_i64(&arg(1))?, as_i64(&arg(2))?),
        "CONCAT" => {
            let mut out = String::new();
            for a in args {
                out.push_str(s(a)?);
            }
            Some(Value::String(out))
        }
        "ABS" | "FLOOR" | "CEILING" | "ROUND" => {
            if let Some(i) = as_i64(&first) {
                return match name {
                    "ABS" => i
                        .checked_abs()
                        .map(Value::from)
                        .or_else(|| number((i as f64).abs())),
                    _ => Some(Value::from(i)),
                };
            }
            let f = as_f64(&first)?;
            number(match name {
                "ABS" => f.abs(),
                "FLOOR" => f.floor(),
                "CEILING" => f.ceil(),
                _ => f.round(),
            })
        }
        _ => int_function(name, args).flatten(),
    }
}

/// Zero-based, counted in characters; a negative start counts as 0, a length past the end stops
/// at the end.
fn substring(text: &str, start: i64, len: i64) -> Val {
    let start = usize::try_from(start.max(0)).ok()?;
    let len = usize::try_from(len.max(0)).ok()?;
    Some(Value::String(text.chars().skip(start).take(len).collect()))
}

/// `ARRAY_CONTAINS(arr, value [, partial])`: with `partial`, an object matches an element that
/// has at least its properties.
fn array_contains(arr: &Val, needle: &Val, partial: bool) -> Val {
    let Some(Value::Array(items)) = arr else {
        return None;
    };
    let Some(needle) = needle else {
        return Some(Value::Bool(false));
    };
    let found = items.iter().any(|item| match (partial, item, needle) {
        (true, Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, v)| have.get(k).is_some_and(|h| json_eq(h, v))),
        _ => json_eq(item, needle),
    });
    Some(Value::Bool(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str, args: &[Value]) -> Val {
        let args: Vec<Val> = args.iter().cloned().map(Some).collect();
        call(name, &args)
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
        assert_eq!(call("IS_DEFINED", &[None]), Some(json!(false)));
        assert_eq!(arity("NOPE"), None);
    }
}
