//! Type checks (always a boolean, false for undefined except `IS_DEFINED`), the conditional `IIF`
//! and the object function `ObjectToArray`. Pure.

use serde_json::{Map, Value};

use super::{arg, as_integer, text};
use crate::query::value::Val;

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "IS_DEFINED" | "IS_NULL" | "IS_STRING" | "IS_NUMBER" | "IS_BOOL" | "IS_ARRAY" | "IS_OBJECT"
        | "IS_PRIMITIVE" | "IS_FINITE_NUMBER" | "IS_INTEGER" => (1, 1),
        "IIF" => (3, 3),
        "OBJECTTOARRAY" => (1, 3),
        _ => return None,
    })
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    let v = arg(args, 0);
    let is = |b: bool| Some(Value::Bool(b));
    Some(match name {
        "IS_DEFINED" => is(v.is_some()),
        "IS_NULL" => is(matches!(v, Some(Value::Null))),
        "IS_STRING" => is(matches!(v, Some(Value::String(_)))),
        "IS_NUMBER" => is(matches!(v, Some(Value::Number(_)))),
        // A JSON number is always finite (NaN and the infinities have no JSON form).
        "IS_FINITE_NUMBER" => is(matches!(v, Some(Value::Number(_)))),
        "IS_BOOL" => is(matches!(v, Some(Value::Bool(_)))),
        "IS_ARRAY" => is(matches!(v, Some(Value::Array(_)))),
        "IS_OBJECT" => is(matches!(v, Some(Value::Object(_)))),
        "IS_PRIMITIVE" => is(matches!(
            v,
            Some(Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))
        )),
        "IS_INTEGER" => is(args.first().and_then(as_integer).is_some()),
        // The second argument when the first is exactly true, else the third.
        "IIF" => {
            let pick = if matches!(v, Some(Value::Bool(true))) {
                1
            } else {
                2
            };
            args.get(pick).cloned().flatten()
        }
        "OBJECTTOARRAY" => object_to_array(args),
        _ => return None,
    })
}

/// `ObjectToArray(obj [, keyName [, valueName]])`: one `{"k": name, "v": value}` per property, in
/// the object's order; the names default to `k` and `v` and must be strings.
fn object_to_array(args: &[Val]) -> Val {
    let Some(Value::Object(m)) = arg(args, 0) else {
        return None;
    };
    let name = |i: usize, default: &'static str| match args.get(i) {
        None => Some(default),
        Some(_) => text(args, i),
    };
    let (k, v) = (name(1, "k")?, name(2, "v")?);
    let out = m
        .iter()
        .map(|(key, value)| {
            let mut entry = Map::new();
            entry.insert(k.to_string(), Value::String(key.clone()));
            entry.insert(v.to_string(), value.clone());
            Value::Object(entry)
        })
        .collect();
    Some(Value::Array(out))
}
