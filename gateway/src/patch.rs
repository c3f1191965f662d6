//! Partial document update (the service's "patch"): its operations (`add`, `set`, `replace`,
//! `remove`, `incr`, `move`) applied to an item in memory, all or nothing. Pure JSON: reading the
//! item and writing it back under its etag is the handler's business (handlers/documents.rs).
//! Must refuse, not guess: a path that does not resolve, a wrong type, or a change of `id` or of
//! the partition-key value is a 400 and leaves the item as it was.

use serde_json::Value;

/// The most operations one patch may carry (the service's limit).
pub const MAX_OPERATIONS: usize = 10;

/// The system properties the store sets on an item; a patch cannot touch them, and they are
/// dropped before the patched item is written back.
pub const SYSTEM_PROPERTIES: [&str; 7] = ["_rid", "_self", "_etag", "_ts", "_attachments", "_lsn", "_epk"];

/// One parsed operation.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Add(Vec<String>, Value),
    Set(Vec<String>, Value),
    Replace(Vec<String>, Value),
    Remove(Vec<String>),
    Incr(Vec<String>, Value),
    Move { from: Vec<String>, to: Vec<String> },
}

/// Parses a patch body `{"operations": [{"op", "path", "value"?, "from"?}, ...]}`.
pub struct Patch {
    ops: Vec<Op>,
}

fn pointer(raw: &Value, what: &str) -> Result<Vec<String>, String> {
    let s = raw
        .as_str()
        .ok_or_else(|| format!("the operation's {what} must be a string such as \"/a/b\""))?;
    let rest = s
        .strip_prefix('/')
        .ok_or_else(|| format!("the {what} {s:?} must start with '/'"))?;
    if rest.is_empty() {
        return Err(format!(
            "the {what} \"/\" names the whole item: patch a property of it"
        ));
    }
    Ok(rest
        .split('/')
        .map(|seg| seg.replace("~1", "/").replace("~0", "~"))
        .collect())
}

impl Patch {
    pub fn parse(body: &Value) -> Result<Patch, String> {
        if body.get("condition").is_some_and(|c| !c.is_null()) {
            return Err("conditional patch (\"condition\": \"FROM c WHERE …\") is not supported yet".into());
        }
        let list = body
            .get("operations")
            .and_then(Value::as_array)
            .ok_or("the patch body needs \"operations\": an array of {op, path, value}")?;
        if list.is_empty() || list.len() > MAX_OPERATIONS {
            return Err(format!(
                "a patch carries 1 to {MAX_OPERATIONS} operations, not {}",
                list.len()
            ));
        }
        let mut ops = Vec::with_capacity(list.len());
        for o in list {
            let name = o.get("op").and_then(Value::as_str).unwrap_or("");
            let path = || pointer(o.get("path").unwrap_or(&Value::Null), "path");
            let value = || {
                o.get("value")
                    .cloned()
                    .ok_or_else(|| format!("the {name} operation needs a \"value\""))
            };
            ops.push(match name.to_ascii_lowercase().as_str() {
                "add" => Op::Add(path()?, value()?),
                "set" => Op::Set(path()?, value()?),
                "replace" => Op::Replace(path()?, value()?),
                "remove" => Op::Remove(path()?),
                "incr" | "increment" => {
                    let v = value()?;
                    if !v.is_number() {
                        return Err("the incr operation's value must be a number".into());
                    }
                    Op::Incr(path()?, v)
                }
                "move" => Op::Move {
                    from: pointer(o.get("from").unwrap_or(&Value::Null), "from")?,
                    to: path()?,
                },
                other => {
                    return Err(format!(
                        "patch operation {other:?} is not one of add, set, replace, remove, incr, move"
                    ))
                }
            });
        }
        Ok(Patch { ops })
    }

    /// Applies every operation to a copy of `item` and returns it; `item` is untouched on error.
    /// `protected` are top-level-first paths that must not change (`id`, the partition key).
    pub fn apply(&self, item: &Value, protected: &[Vec<String>]) -> Result<Value, String> {
        let mut out = item.clone();
        for op in &self.ops {
            let touched: Vec<&Vec<String>> = match op {
                Op::Add(p, _) | Op::Set(p, _) | Op::Replace(p, _) | Op::Remove(p) | Op::Incr(p, _) => vec![p],
                Op::Move { from, to } => vec![from, to],
            };
            for p in touched {
                if protected.iter().any(|q| q.starts_with(p) || p.starts_with(q)) {
                    return Err(format!(
                        "/{} cannot be patched: it is the item's id or partition key",
                        p.join("/")
                    ));
                }
                if SYSTEM_PROPERTIES.contains(&p[0].as_str()) {
                    return Err(format!(
                        "/{} is a system property and cannot be patched",
                        p.join("/")
                    ));
                }
            }
            apply_one(&mut out, op)?;
        }
        Ok(out)
    }
}

/// The container holding the last segment of `path`, and that segment.
fn parent<'a>(item: &'a mut Value, path: &'a [String]) -> Result<(&'a mut Value, &'a str), String> {
    let (last, init) = path.split_last().ok_or("empty path")?;
    let mut at = item;
    for seg in init {
        at = match at {
            Value::Object(m) => m.get_mut(seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("/{} does not exist in the item", path.join("/")))?;
    }
    Ok((at, last))
}

fn missing(path: &[String]) -> String {
    format!("/{} does not exist in the item", path.join("/"))
}

fn array_index(a: &[Value], seg: &str, path: &[String], allow_end: bool) -> Result<usize, String> {
    if allow_end && seg == "-" {
        return Ok(a.len());
    }
    let i = seg
        .parse::<usize>()
        .map_err(|_| format!("/{}: {seg:?} is not an array index", path.join("/")))?;
    if i > a.len() || (!allow_end && i == a.len()) {
        return Err(format!(
            "/{}: index {i} is past the array's end ({})",
            path.join("/"),
            a.len()
        ));
    }
    Ok(i)
}

fn take(item: &mut Value, path: &[String]) -> Result<Value, String> {
    let (p, last) = parent(item, path)?;
    match p {
        Value::Object(m) => m.remove(last).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i = array_index(a, last, path, false)?;
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

/// Inserts (arrays) or sets (objects) `value` at `path`; `replace_in_array` overwrites the array
/// element instead of inserting before it (the service's `set`).
fn put(item: &mut Value, path: &[String], value: Value, replace_in_array: bool) -> Result<(), String> {
    let (p, last) = parent(item, path)?;
    match p {
        Value::Object(m) => {
            m.insert(last.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = array_index(a, last, path, true)?;
            if replace_in_array && i < a.len() {
                a[i] = value;
            } else {
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(format!(
            "/{}: its parent is neither an object nor an array",
            path.join("/")
        )),
    }
}

fn get_mut<'a>(item: &'a mut Value, path: &'a [String]) -> Result<&'a mut Value, String> {
    let (p, last) = parent(item, path)?;
    match p {
        Value::Object(m) => m.get_mut(last),
        Value::Array(a) => last.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    }
    .ok_or_else(|| missing(path))
}

fn apply_one(item: &mut Value, op: &Op) -> Result<(), String> {
    match op {
        Op::Add(p, v) => put(item, p, v.clone(), false),
        Op::Set(p, v) => put(item, p, v.clone(), true),
        Op::Replace(p, v) => {
            *get_mut(item, p)? = v.clone();
            Ok(())
        }
        Op::Remove(p) => take(item, p).map(drop),
        Op::Incr(p, by) => {
            let (parent_value, last) = parent(item, p)?;
            let slot = match parent_value {
                Value::Object(m) => m.entry(last.to_string()).or_insert(Value::from(0)),
                Value::Array(a) => {
                    let i = array_index(a, last, p, false)?;
                    &mut a[i]
                }
                _ => return Err(missing(p)),
            };
            *slot = add_numbers(slot, by).ok_or_else(|| format!("/{} is not a number", p.join("/")))?;
            Ok(())
        }
        Op::Move { from, to } => {
            let v = take(item, from)?;
            put(item, to, v, false)
        }
    }
}

/// `a + b`, as an integer when both are integers and the sum fits, else as a float.
fn add_numbers(a: &Value, b: &Value) -> Option<Value> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        if let Some(sum) = x.checked_add(y) {
            return Some(Value::from(sum));
        }
    }
    let sum = a.as_f64()? + b.as_f64()?;
    serde_json::Number::from_f64(sum).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(item: Value, ops: Value) -> Result<Value, String> {
        let protected = vec![vec!["id".to_string()], vec!["pk".to_string()]];
        Patch::parse(&json!({ "operations": ops }))?.apply(&item, &protected)
    }

    #[test]
    fn each_operation_does_what_the_service_documents() {
        let item = json!({"id": "1", "pk": "a", "n": 1, "tags": ["x", "y"], "o": {"k": true}});
        let out = run(
            item,
            json!([
                {"op": "add", "path": "/tags/1", "value": "new"},
                {"op": "set", "path": "/tags/0", "value": "first"},
                {"op": "add", "path": "/tags/-", "value": "last"},
                {"op": "replace", "path": "/o/k", "value": false},
                {"op": "incr", "path": "/n", "value": 41},
                {"op": "incr", "path": "/fresh", "value": 2.5},
                {"op": "set", "path": "/o/deep", "value": {"z": 1}},
                {"op": "move", "from": "/o/deep", "path": "/moved"},
                {"op": "remove", "path": "/tags/2"}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"id": "1", "pk": "a", "n": 42, "fresh": 2.5, "tags": ["first", "new", "last"],
                   "o": {"k": false}, "moved": {"z": 1}})
        );
    }

    #[test]
    fn refusals_leave_the_item_alone() {
        let item = json!({"id": "1", "pk": "a", "n": "text", "a": []});
        for (ops, why) in [
            (
                json!([{"op": "replace", "path": "/missing", "value": 1}]),
                "does not exist",
            ),
            (json!([{"op": "remove", "path": "/missing"}]), "does not exist"),
            (json!([{"op": "incr", "path": "/n", "value": 1}]), "not a number"),
            (
                json!([{"op": "incr", "path": "/x", "value": "1"}]),
                "must be a number",
            ),
            (
                json!([{"op": "set", "path": "/id", "value": "2"}]),
                "cannot be patched",
            ),
            (json!([{"op": "remove", "path": "/pk"}]), "cannot be patched"),
            (
                json!([{"op": "set", "path": "/_etag", "value": "x"}]),
                "system property",
            ),
            (
                json!([{"op": "add", "path": "/a/5", "value": 1}]),
                "past the array",
            ),
            (
                json!([{"op": "add", "path": "/no/such/parent", "value": 1}]),
                "does not exist",
            ),
            (
                json!([{"op": "copy", "path": "/x", "from": "/n"}]),
                "is not one of",
            ),
            (json!([{"op": "add", "path": "x", "value": 1}]), "must start with"),
            (json!([{"op": "add", "path": "/", "value": 1}]), "whole item"),
            (json!([]), "1 to 10"),
        ] {
            let err = run(item.clone(), ops.clone()).unwrap_err();
            assert!(err.contains(why), "{ops}: {err}");
        }
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"op": "set", "path": format!("/f{i}"), "value": i}))
            .collect();
        assert!(run(item.clone(), json!(eleven)).unwrap_err().contains("1 to 10"));
        let cond = Patch::parse(
            &json!({"operations": [{"op": "set", "path": "/x", "value": 1}], "condition": "FROM c WHERE c.n > 1"}),
        );
        assert!(cond.err().unwrap().contains("not supported"));
    }
}
