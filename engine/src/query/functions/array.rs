//! Array functions. Elements compare as `=` does (deeply, numbers by value, objects regardless of
//! property order); a first argument that is not an array gives undefined, and an undefined value
//! to look for is never found. Set functions keep the first array's order and drop duplicates.
//! Pure.

use std::collections::HashSet;

use serde_json::Value;

use super::{arg, as_integer, flag};
use crate::query::value::{canonical_value, json_eq, Val};

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "ARRAY_LENGTH" => (1, 1),
        "ARRAY_CONTAINS" => (2, 3),
        "ARRAY_CONTAINS_ANY" | "ARRAY_CONTAINS_ALL" => (2, usize::MAX),
        "ARRAY_SLICE" => (2, 3),
        "ARRAY_CONCAT" => (2, usize::MAX),
        "SETINTERSECT" | "SETUNION" => (2, 2),
        _ => return None,
    })
}

fn array(args: &[Val], i: usize) -> Option<&Vec<Value>> {
    arg(args, i).and_then(Value::as_array)
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    Some(match name {
        "ARRAY_LENGTH" => array(args, 0).map(|a| Value::from(a.len())),
        "ARRAY_CONTAINS" => array(args, 0).map(|items| {
            Value::Bool(contains(
                items,
                args.get(1).and_then(Option::as_ref),
                flag(args, 2),
            ))
        }),
        "ARRAY_CONTAINS_ANY" | "ARRAY_CONTAINS_ALL" => array(args, 0).map(|items| {
            let mut wanted = args.iter().skip(1).map(|v| contains(items, v.as_ref(), false));
            Value::Bool(if name == "ARRAY_CONTAINS_ANY" {
                wanted.any(|found| found)
            } else {
                wanted.all(|found| found)
            })
        }),
        "ARRAY_SLICE" => array(args, 0).and_then(|items| slice(items, args.get(1)?, args.get(2))),
        "ARRAY_CONCAT" => {
            let mut out = Vec::new();
            for i in 0..args.len() {
                out.extend(array(args, i)?.iter().cloned());
            }
            Some(Value::Array(out))
        }
        "SETINTERSECT" | "SETUNION" => array(args, 0).zip(array(args, 1)).map(|(a, b)| {
            let mut seen = HashSet::new();
            let mut keep = |v: &Value| seen.insert(canonical_value(v));
            let out: Vec<Value> = if name == "SETUNION" {
                a.iter().chain(b).filter(|v| keep(v)).cloned().collect()
            } else {
                a.iter()
                    .filter(|v| contains(b, Some(v), false) && keep(v))
                    .cloned()
                    .collect()
            };
            Value::Array(out)
        }),
        _ => return None,
    })
}

/// True if an element equals `needle`; with `partial`, an object needle matches an element that
/// has at least its properties (each equal).
pub(crate) fn contains(items: &[Value], needle: Option<&Value>, partial: bool) -> bool {
    let Some(needle) = needle else {
        return false;
    };
    items.iter().any(|item| match (partial, item, needle) {
        (true, Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, v)| have.get(k).is_some_and(|h| json_eq(h, v))),
        _ => json_eq(item, needle),
    })
}

/// `ARRAY_SLICE(arr, start [, length])`: a negative start counts from the end (clamped to the
/// first element); a length past the end stops at the end, a negative one gives `[]`.
fn slice(items: &[Value], start: &Val, len: Option<&Val>) -> Val {
    let n = i64::try_from(items.len()).ok()?;
    let start = as_integer(start)?;
    let start = if start < 0 {
        (n + start).max(0)
    } else {
        start.min(n)
    };
    let end = match len {
        None => n,
        Some(l) => start.saturating_add(as_integer(l)?.max(0)).min(n),
    };
    let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
    Some(Value::Array(items.get(start..end).unwrap_or_default().to_vec()))
}
