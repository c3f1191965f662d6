//! JSON value semantics of the dialect: `None` is undefined; comparisons only between values of
//! one type (else undefined); numbers compare by value whether integer or float; the cross-type
//! order ORDER BY uses (undefined < null < false < true < numbers < strings < arrays < objects).
//! Pure.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// An evaluated value: `None` is undefined.
pub(crate) type Val = Option<Value>;

/// Rank of a value's type in the cross-type order.
fn rank(v: &Val) -> u8 {
    match v {
        None => 0,
        Some(Value::Null) => 1,
        Some(Value::Bool(false)) => 2,
        Some(Value::Bool(true)) => 3,
        Some(Value::Number(_)) => 4,
        Some(Value::String(_)) => 5,
        Some(Value::Array(_)) => 6,
        Some(Value::Object(_)) => 7,
    }
}

/// A JSON number as an exact integer or a float.
enum Num {
    Int(i128),
    Float(f64),
}

fn num(n: &Number) -> Num {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => Num::Int(i128::from(i)),
        (_, Some(u)) => Num::Int(i128::from(u)),
        _ => Num::Float(n.as_f64().unwrap_or(0.0)),
    }
}

/// An integer against a (finite) float, exactly.
fn cmp_int_float(i: i128, f: f64) -> Ordering {
    // 2^127: every integral float below it in magnitude converts to i128 exactly.
    const LIMIT: f64 = 1.7014118346046923e38;
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f < -LIMIT {
        return Ordering::Greater;
    }
    let floor = f.floor();
    // `floor` is integral and in range, so the cast is exact.
    match i.cmp(&(floor as i128)) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    }
}

/// Compares two numbers by value, exactly (integers beyond 2^53 against floats included), so
/// that the order is total and sorting is well defined.
pub(crate) fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    match (num(a), num(b)) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).reverse(),
    }
}

/// Deep equality with numbers compared by value (1 = 1.0).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The order of two values of the same type, `None` when they are of different types, undefined,
/// or of a type without an order (arrays and objects).
pub(crate) fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a.as_ref()?, b.as_ref()?) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => Some(cmp_numbers(x, y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Equality for `=`: undefined when either side is undefined or the types differ; arrays and
/// objects compare deeply.
pub(crate) fn equals(a: &Val, b: &Val) -> Option<bool> {
    let (x, y) = (a.as_ref()?, b.as_ref()?);
    (type_id(x) == type_id(y)).then(|| json_eq(x, y))
}

fn type_id(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// The total order ORDER BY, MIN and MAX use: by type rank, then within the type. Arrays and
/// objects order by their canonical text (deterministic, not meaningful; independent of the
/// order of an object's properties, so two equal objects sort as equals).
pub(crate) fn order(a: &Val, b: &Val) -> Ordering {
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Some(Value::Array(_)), Some(Value::Array(_))) | (Some(Value::Object(_)), Some(Value::Object(_))) => {
            canonical(a).cmp(&canonical(b))
        }
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    })
}

/// A number value from a float: an integer when it is integral and fits (so `4 / 2` is `2`, as
/// JSON users expect), undefined when not finite.
pub(crate) fn number(f: f64) -> Val {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        // Integral and within the exactly-representable range, so the cast is exact.
        return Some(Value::from(f as i64));
    }
    Number::from_f64(f).map(Value::Number)
}

/// A value as a number, if it is one.
pub(crate) fn as_f64(v: &Val) -> Option<f64> {
    v.as_ref().and_then(Value::as_f64)
}

/// A text form in which equal values (numbers by value) are equal strings; undefined is distinct
/// from every value. Objects list their properties sorted
/// by name, so the text does not depend on the order they were written in. Used for GROUP BY,
/// DISTINCT and the order of arrays and objects.
pub(crate) fn canonical(v: &Val) -> String {
    match v {
        None => "u".to_string(),
        Some(v) => canonical_value(v),
    }
}

/// `canonical` of a defined value, without wrapping (and so copying) it into a `Val`.
pub(crate) fn canonical_value(v: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Number(n) => match n.as_f64() {
                // An integral float prints as the integer it equals (so 2 and 2.0 group together);
                // below 2^127 in magnitude the conversion is exact.
                Some(f) if n.as_i64().is_none() && n.as_u64().is_none() => {
                    if f.fract() == 0.0 && f.abs() < 1.7e38 {
                        out.push_str(&format!("{}", f as i128));
                    } else {
                        out.push_str(&format!("{f:?}"));
                    }
                }
                _ => out.push_str(&n.to_string()),
            },
            Value::Array(a) => {
                out.push('[');
                for x in a {
                    walk(x, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(x) = m.get(k) {
                        walk(x, out);
                    }
                    out.push(',');
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::from("d");
    walk(v, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_type_only() {
        assert_eq!(equals(&Some(json!(1)), &Some(json!(1.0))), Some(true));
        assert_eq!(equals(&Some(json!(1)), &Some(json!("1"))), None);
        assert_eq!(equals(&Some(json!(true)), &Some(json!(false))), Some(false));
        assert_eq!(equals(&Some(json!(null)), &Some(json!(null))), Some(true));
        assert_eq!(equals(&None, &None), None);
        assert_eq!(
            equals(&Some(json!([1, {"a": 2}])), &Some(json!([1.0, {"a": 2}]))),
            Some(true)
        );
        assert_eq!(equals(&Some(json!([1])), &Some(json!({}))), None);
        assert_eq!(
            compare(&Some(json!(false)), &Some(json!(true))),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&Some(json!([1])), &Some(json!([2]))), None);
        assert_eq!(
            compare(&Some(json!(u64::MAX)), &Some(json!(-1))),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn cross_type_order() {
        let mut v: Vec<Val> = vec![
            Some(json!("a")),
            Some(json!({})),
            Some(json!(2.5)),
            Some(json!(true)),
            None,
            Some(json!([])),
            Some(json!(null)),
            Some(json!(false)),
            Some(json!(1)),
        ];
        v.sort_by(order);
        let want: Vec<Val> = vec![
            None,
            Some(json!(null)),
            Some(json!(false)),
            Some(json!(true)),
            Some(json!(1)),
            Some(json!(2.5)),
            Some(json!("a")),
            Some(json!([])),
            Some(json!({})),
        ];
        assert_eq!(v, want);
    }

    #[test]
    fn numbers_normalise() {
        assert_eq!(number(2.0), Some(json!(2)));
        assert_eq!(number(-0.0), Some(json!(0)));
        assert_eq!(number(2.5), Some(json!(2.5)));
        assert_eq!(number(f64::INFINITY), None);
        assert_eq!(number(f64::NAN), None);
        assert_eq!(number(1e300), Some(json!(1e300)));
    }
}
