//! Patch operations on one item (`add`, `set`, `replace`, `remove`, `incr`, `move`) on JSON
//! paths, their validation and their application to a parsed item, in order. Pure: it never
//! reads or writes storage and never decides conditions (filter, If-Match); the account layer
//! does, and writes the result as a replace. See docs/patch.md.

use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// Most operations one patch may carry (more: 400).
pub const MAX_PATCH_OPERATIONS: usize = 10;

/// Top-level properties a patch may not touch: the id and what the engine stamps.
const PROTECTED: [&str; 8] = [
    "id",
    "_rid",
    "_self",
    "_etag",
    "_ts",
    "_attachments",
    "_lsn",
    "_epk",
];

/// The kind of a patch operation, as the managed service spells it in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Set,
    Replace,
    Remove,
    Incr,
    Move,
}

/// One patch operation: `{"op", "path", "value"?, "from"?}`.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: String,
    /// Present (possibly `null`) for add, set, replace and incr.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    /// The source path of a move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// `Some` for any value given, `null` included; an absent field stays `None` (serde default).
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl PatchOperation {
    fn with(op: PatchOp, path: &str, value: Option<Value>, from: Option<&str>) -> PatchOperation {
        PatchOperation {
            op,
            path: path.to_string(),
            value,
            from: from.map(str::to_string),
        }
    }

    pub fn add(path: &str, value: Value) -> PatchOperation {
        Self::with(PatchOp::Add, path, Some(value), None)
    }

    pub fn set(path: &str, value: Value) -> PatchOperation {
        Self::with(PatchOp::Set, path, Some(value), None)
    }

    pub fn replace(path: &str, value: Value) -> PatchOperation {
        Self::with(PatchOp::Replace, path, Some(value), None)
    }

    pub fn remove(path: &str) -> PatchOperation {
        Self::with(PatchOp::Remove, path, None, None)
    }

    pub fn incr(path: &str, by: impl Into<Number>) -> PatchOperation {
        Self::with(PatchOp::Incr, path, Some(Value::Number(by.into())), None)
    }

    pub fn move_to(from: &str, path: &str) -> PatchOperation {
        Self::with(PatchOp::Move, path, None, Some(from))
    }
}

/// Parses a JSON array of patch operations (400 naming the first malformed one).
pub fn parse_patch_operations(json: &Value) -> Result<Vec<PatchOperation>> {
    let Value::Array(items) = json else {
        return Err(Error::BadRequest(
            "patch operations must be a JSON array of {\"op\", \"path\", \"value\"|\"from\"} objects".into(),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v.clone()).map_err(|e| {
                Error::BadRequest(format!(
                    "patch operation {i} is malformed ({e}); use {{\"op\": \
                     \"add|set|replace|remove|incr|move\", \"path\": \"/a/b\", \"value\": …}}"
                ))
            })
        })
        .collect()
}

/// A checked path: its unescaped segments.
struct Path<'a> {
    text: &'a str,
    segs: Vec<String>,
}

/// Splits a `/a/b/0` path (`~1` is `/`, `~0` is `~`), refusing the root, empty segments, the
/// protected properties and anything on or around a partition-key path (`pk_paths`, each path's
/// segments).
fn parse_path<'a>(text: &'a str, pk_paths: &[Vec<String>]) -> Result<Path<'a>> {
    let bad = |why: &str| Error::BadRequest(format!("patch path '{text}' {why}"));
    let rest = text
        .strip_prefix('/')
        .ok_or_else(|| bad("must start with '/', e.g. /address/city or /tags/0"))?;
    let mut segs = Vec::new();
    for raw in rest.split('/') {
        if raw.is_empty() {
            return Err(bad("has an empty segment (the root cannot be patched)"));
        }
        let mut seg = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '~' {
                seg.push(c);
                continue;
            }
            match chars.next() {
                Some('0') => seg.push('~'),
                Some('1') => seg.push('/'),
                _ => return Err(bad("has a '~' that is not ~0 (for ~) or ~1 (for /)")),
            }
        }
        segs.push(seg);
    }
    if let Some(first) = segs.first().filter(|s| PROTECTED.contains(&s.as_str())) {
        return Err(bad(&format!(
            "targets '{first}', which is the item's id or a system property and cannot be patched"
        )));
    }
    for pk_path in pk_paths {
        let n = segs.len().min(pk_path.len());
        if segs.get(..n) != pk_path.get(..n) {
            continue;
        }
        return Err(bad(&format!(
            "touches the partition key /{}, which cannot change; delete the item and create it \
             in the other partition",
            pk_path.join("/")
        )));
    }
    Ok(Path { text, segs })
}

/// Applies `ops` to `item` in order. On error `item` may be half patched: callers patch a copy.
/// 400 for a malformed operation or a path that does not resolve as the operation needs.
pub fn apply_patch(item: &mut Value, ops: &[PatchOperation], pk_paths: &[Vec<String>]) -> Result<()> {
    let checked = check_patch(ops, pk_paths)?;
    for (op, (path, from)) in ops.iter().zip(&checked) {
        apply_one(item, op, path, from.as_ref())?;
    }
    Ok(())
}

/// Checks the operations without applying them: 400 for a count outside 1 to 10, a malformed
/// operation or a path no item could have (protected, partition key, bad syntax).
pub fn validate_patch(ops: &[PatchOperation], pk_paths: &[Vec<String>]) -> Result<()> {
    check_patch(ops, pk_paths).map(drop)
}

fn check_patch<'a>(ops: &'a [PatchOperation], pk_paths: &[Vec<String>]) -> Result<Vec<Checked<'a>>> {
    if ops.is_empty() || ops.len() > MAX_PATCH_OPERATIONS {
        return Err(Error::BadRequest(format!(
            "a patch carries 1 to {MAX_PATCH_OPERATIONS} operations ({} given); split it into \
             several patches",
            ops.len()
        )));
    }
    ops.iter().map(|o| check_operation(o, pk_paths)).collect()
}

type Checked<'a> = (Path<'a>, Option<Path<'a>>);

fn check_operation<'a>(o: &'a PatchOperation, pk_paths: &[Vec<String>]) -> Result<Checked<'a>> {
    let path = parse_path(&o.path, pk_paths)?;
    let name = serde_json::to_value(o.op).unwrap_or(Value::Null);
    let needs_value = !matches!(o.op, PatchOp::Remove | PatchOp::Move);
    if needs_value != o.value.is_some() {
        return Err(Error::BadRequest(format!(
            "patch operation {name} on '{}' {}",
            o.path,
            if needs_value {
                "needs a \"value\""
            } else {
                "takes no \"value\""
            }
        )));
    }
    if o.op == PatchOp::Incr && !o.value.as_ref().is_some_and(Value::is_number) {
        return Err(Error::BadRequest(format!(
            "incr on '{}' needs a number as its value",
            o.path
        )));
    }
    let from = match (o.op, &o.from) {
        (PatchOp::Move, Some(f)) => {
            let from = parse_path(f, pk_paths)?;
            if path.segs.starts_with(&from.segs) {
                return Err(Error::BadRequest(format!(
                    "move from '{f}' to '{}': the target must not be the source or inside it",
                    o.path
                )));
            }
            Some(from)
        }
        (PatchOp::Move, None) => {
            return Err(Error::BadRequest(format!(
                "move to '{}' needs a \"from\" path",
                o.path
            )))
        }
        (_, Some(_)) => {
            return Err(Error::BadRequest(format!(
                "patch operation {name} on '{}' takes no \"from\" (only move does)",
                o.path
            )))
        }
        (_, None) => None,
    };
    Ok((path, from))
}

fn missing(path: &Path<'_>) -> Error {
    Error::BadRequest(format!("patch path '{}' does not exist in the item", path.text))
}

/// The container that holds the last segment of `path`.
fn parent_mut<'v>(item: &'v mut Value, path: &Path<'_>) -> Result<&'v mut Value> {
    let (_, walk) = path.segs.split_last().ok_or_else(|| missing(path))?;
    let mut at = item;
    for seg in walk {
        at = match at {
            Value::Object(m) => m.get_mut(seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok(at)
}

fn last<'p>(path: &'p Path<'_>) -> &'p str {
    path.segs.last().map_or("", String::as_str)
}

fn index(path: &Path<'_>, len: usize, append_ok: bool) -> Result<usize> {
    let seg = last(path);
    if seg == "-" && append_ok {
        return Ok(len);
    }
    seg.parse::<usize>()
        .ok()
        .filter(|&i| i < len + usize::from(append_ok))
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "patch path '{}' ends in '{seg}', which is not an index of the array (length {len}){}",
                path.text,
                if append_ok { "; use '-' to append" } else { "" }
            ))
        })
}

fn apply_one(item: &mut Value, o: &PatchOperation, path: &Path<'_>, from: Option<&Path<'_>>) -> Result<()> {
    let value = o.value.clone().unwrap_or(Value::Null);
    match o.op {
        PatchOp::Move => {
            let from = from.ok_or_else(|| Error::Internal("a checked move has no source".into()))?;
            let moved = remove_at(item, from)?;
            insert_at(item, path, moved)
        }
        PatchOp::Add => insert_at(item, path, value),
        PatchOp::Remove => remove_at(item, path).map(drop),
        PatchOp::Set | PatchOp::Replace | PatchOp::Incr => {
            let must_exist = o.op == PatchOp::Replace;
            let parent = parent_mut(item, path)?;
            let slot = match parent {
                Value::Object(m) => {
                    if !m.contains_key(last(path)) {
                        if must_exist {
                            return Err(missing(path));
                        }
                        m.insert(last(path).to_string(), value);
                        return Ok(());
                    }
                    m.get_mut(last(path))
                }
                Value::Array(a) => {
                    let i = index(path, a.len(), false)?;
                    a.get_mut(i)
                }
                _ => None,
            }
            .ok_or_else(|| missing(path))?;
            *slot = match o.op {
                PatchOp::Incr => increment(slot, &value, path)?,
                _ => value,
            };
            Ok(())
        }
    }
}

/// Adds `value` at `path`: an object property is added or replaced; an array index inserts
/// (`-` appends).
fn insert_at(item: &mut Value, path: &Path<'_>, value: Value) -> Result<()> {
    match parent_mut(item, path)? {
        Value::Object(m) => {
            m.insert(last(path).to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(path, a.len(), true)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove_at(item: &mut Value, path: &Path<'_>) -> Result<Value> {
    match parent_mut(item, path)? {
        Value::Object(m) => m.remove(last(path)).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i = index(path, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

/// `current + by`: integers stay integers (400 on 64-bit overflow); otherwise a finite double.
fn increment(current: &Value, by: &Value, path: &Path<'_>) -> Result<Value> {
    let (Value::Number(a), Value::Number(b)) = (current, by) else {
        return Err(Error::BadRequest(format!(
            "incr on '{}': the current value is not a number",
            path.text
        )));
    };
    let integers = match (a.as_i128(), b.as_i128()) {
        (Some(x), Some(y)) => Some((x, y)),
        _ => None,
    };
    if let Some((x, y)) = integers {
        // i64 or u64 each (serde_json's integers), so the sum fits an i128; it must fit one of
        // the two again.
        let sum = x + y;
        let back = i64::try_from(sum)
            .map(Value::from)
            .or_else(|_| u64::try_from(sum).map(Value::from));
        return back.map_err(|_| {
            Error::BadRequest(format!(
                "incr on '{}' overflows a 64-bit integer ({x} + {y})",
                path.text
            ))
        });
    }
    let sum = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
    Number::from_f64(sum)
        .map(Value::Number)
        .ok_or_else(|| Error::BadRequest(format!("incr on '{}' does not give a finite number", path.text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pk() -> Vec<String> {
        vec!["tenant".to_string()]
    }

    fn patched(item: Value, ops: &[PatchOperation]) -> Result<Value> {
        let mut v = item;
        apply_patch(&mut v, ops, &[pk()])?;
        Ok(v)
    }

    fn base() -> Value {
        json!({"id": "1", "tenant": "t", "n": 4, "f": 1.5, "a": {"b": [10, 20]}, "tags": ["x"]})
    }

    #[test]
    fn each_operation_does_what_the_managed_service_documents() {
        let cases: Vec<(PatchOperation, Value)> = vec![
            (PatchOperation::add("/new", json!(null)), json!(null)),
            (PatchOperation::add("/tags/0", json!("w")), json!(["w", "x"])),
            (PatchOperation::add("/tags/-", json!("y")), json!(["x", "y"])),
            (PatchOperation::add("/tags/1", json!("y")), json!(["x", "y"])),
            (PatchOperation::set("/n", json!("s")), json!("s")),
            (PatchOperation::set("/tags/0", json!("z")), json!(["z"])),
            (
                PatchOperation::replace("/a/b/1", json!(21)),
                json!({"b": [10, 21]}),
            ),
            (PatchOperation::incr("/n", 3), json!(7)),
            (PatchOperation::incr("/n", -5), json!(-1)),
            (PatchOperation::incr("/absent", 2), json!(2)),
        ];
        for (op, want) in cases {
            let key = op
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap()
                .to_string();
            let got = patched(base(), std::slice::from_ref(&op)).unwrap();
            assert_eq!(got[&key], want, "{op:?}");
        }
        // Integers stay exact across the whole i64 and u64 ranges; past them is 400.
        let big = |n: Value, by: i64| patched(json!({"id": "1", "n": n}), &[PatchOperation::incr("/n", by)]);
        assert_eq!(big(json!(i64::MAX), 1).unwrap()["n"], json!(i64::MAX as u64 + 1));
        assert_eq!(big(json!(u64::MAX), -1).unwrap()["n"], json!(u64::MAX - 1));
        assert_eq!(big(json!(i64::MIN), -1).unwrap_err().status(), 400);
        let e = big(json!(u64::MAX), 1).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        let f = patched(base(), &[PatchOperation::incr("/f", 1)]).unwrap();
        assert_eq!(f["f"], json!(2.5));
        let removed = patched(base(), &[PatchOperation::remove("/a/b/0")]).unwrap();
        assert_eq!(removed["a"], json!({"b": [20]}));
        let moved = patched(base(), &[PatchOperation::move_to("/n", "/a/m")]).unwrap();
        assert_eq!((moved.get("n"), &moved["a"]["m"]), (None, &json!(4)));
        let escaped = patched(
            json!({"id": "1", "a/b": {"~": 1}}),
            &[PatchOperation::incr("/a~1b/~0", 1)],
        );
        assert_eq!(escaped.unwrap()["a/b"]["~"], json!(2));
    }

    #[test]
    fn operations_apply_in_order_and_see_each_other() {
        let ops = [
            PatchOperation::add("/c", json!({})),
            PatchOperation::set("/c/d", json!(1)),
            PatchOperation::incr("/c/d", 1),
            PatchOperation::move_to("/c/d", "/e"),
            PatchOperation::remove("/c"),
        ];
        let got = patched(base(), &ops).unwrap();
        assert_eq!((got.get("c"), &got["e"]), (None, &json!(2)));
    }

    #[test]
    fn bad_operations_are_400_naming_the_path() {
        let cases = [
            (PatchOperation::replace("/nope", json!(1)), "does not exist"),
            (PatchOperation::remove("/nope"), "does not exist"),
            (PatchOperation::remove("/tags/5"), "not an index"),
            (PatchOperation::set("/tags/-", json!(1)), "not an index"),
            (PatchOperation::add("/tags/2", json!(1)), "not an index"),
            (PatchOperation::add("/x/y", json!(1)), "does not exist"),
            (PatchOperation::incr("/tags", 1), "not a number"),
            (PatchOperation::set("/id", json!("2")), "cannot be patched"),
            (PatchOperation::remove("/_etag"), "cannot be patched"),
            (PatchOperation::set("/tenant", json!("u")), "partition key"),
            (PatchOperation::set("/", json!(1)), "empty segment"),
            (PatchOperation::set("n", json!(1)), "must start with '/'"),
            (PatchOperation::set("/a~2", json!(1)), "'~'"),
            (PatchOperation::move_to("/a", "/a/c"), "inside it"),
            (PatchOperation::move_to("/nope", "/z"), "does not exist"),
            (
                PatchOperation {
                    value: None,
                    ..PatchOperation::set("/n", json!(1))
                },
                "needs a \"value\"",
            ),
            (
                PatchOperation {
                    value: Some(json!("1")),
                    ..PatchOperation::incr("/n", 1)
                },
                "needs a number",
            ),
        ];
        for (op, want) in cases {
            let e = patched(base(), std::slice::from_ref(&op)).unwrap_err();
            assert_eq!(e.status(), 400, "{op:?}");
            assert!(e.to_string().contains(want), "{op:?}: {e}");
        }
        let nested_pk = vec!["a".to_string(), "b".to_string()];
        for path in ["/a", "/a/b", "/a/b/0"] {
            let e = apply_patch(
                &mut base(),
                &[PatchOperation::remove(path)],
                std::slice::from_ref(&nested_pk),
            )
            .unwrap_err();
            assert!(e.to_string().contains("partition key"), "{path}: {e}");
        }
        // Every level of a hierarchical key is protected, not only the first.
        let levels = [vec!["t".to_string()], vec!["u".to_string()]];
        for path in ["/t", "/u"] {
            let e = apply_patch(&mut base(), &[PatchOperation::remove(path)], &levels).unwrap_err();
            assert!(
                e.to_string().contains(&format!("partition key {path}")),
                "{path}: {e}"
            );
        }
    }

    #[test]
    fn a_patch_carries_one_to_ten_operations() {
        let ten = vec![PatchOperation::incr("/n", 1); MAX_PATCH_OPERATIONS];
        assert_eq!(patched(base(), &ten).unwrap()["n"], json!(14));
        for n in [0, MAX_PATCH_OPERATIONS + 1] {
            let ops = vec![PatchOperation::incr("/n", 1); n];
            assert_eq!(patched(base(), &ops).unwrap_err().status(), 400, "{n} operations");
        }
    }

    #[test]
    fn parsing_keeps_null_values_and_refuses_unknown_fields() {
        let ops = parse_patch_operations(&json!([
            {"op": "set", "path": "/a", "value": null},
            {"op": "move", "from": "/a", "path": "/b"}
        ]))
        .unwrap();
        assert_eq!(ops[0].value, Some(Value::Null));
        assert_eq!(ops[1], PatchOperation::move_to("/a", "/b"));
        for bad in [
            json!({}),
            json!([{"op": "copy", "path": "/a"}]),
            json!([{"op": "set", "path": "/a", "value": 1, "x": 1}]),
        ] {
            assert_eq!(parse_patch_operations(&bad).unwrap_err().status(), 400, "{bad}");
        }
    }
}
