//! The item rules (id, size, nesting, reserved properties, ttl) and the system properties the
//! engine stamps on each write (`_rid`, `_self`, `_etag`, `_ts`, `_attachments`). Pure functions.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Largest serialized item, system properties included (2 MB).
pub(crate) const MAX_ITEM_BYTES: usize = 2 * 1024 * 1024;
const MAX_DEPTH: usize = 128;
const MAX_ID_BYTES: usize = 1023;
/// System properties a client may not supply in customer-managed-key mode.
const CMK_RESERVED: [&str; 7] = ["_ts", "_etag", "_rid", "_self", "_attachments", "_epk", "_lsn"];

pub(crate) struct ItemRules {
    /// Customer-managed-key mode: stricter reserved-property rules.
    pub(crate) cmk: bool,
}

/// Checks an item against the rules and returns its id.
pub(crate) fn validate_item<'a>(item: &'a Value, rules: &ItemRules) -> Result<&'a str> {
    let obj = item
        .as_object()
        .ok_or_else(|| Error::BadRequest("an item must be a JSON object".into()))?;
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::BadRequest("the item's 'id' must be a string".into())),
        None => {
            return Err(Error::BadRequest(
                "the item has no 'id' property; every item needs a string id".into(),
            ))
        }
    };
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(Error::BadRequest(format!(
            "the item's id must be 1 to {MAX_ID_BYTES} bytes long (it is {} bytes)",
            id.len()
        )));
    }
    if id.contains(['/', '\\']) {
        return Err(Error::BadRequest(
            "the item's id must not contain '/' or '\\'".into(),
        ));
    }
    if let Some(k) = obj.keys().find(|k| k.starts_with("__sys_")) {
        return Err(Error::BadRequest(format!(
            "property '{k}' is reserved: top-level names beginning with __sys_ are for the system"
        )));
    }
    if rules.cmk {
        if let Some(k) = CMK_RESERVED.iter().find(|k| obj.contains_key(**k)) {
            return Err(Error::BadRequest(format!(
                "property '{k}' is a system property and may not be supplied in an account with a \
                 customer-managed key; remove it from the item"
            )));
        }
    }
    if let Some(ttl) = obj.get("ttl") {
        let ok = ttl.as_i64().is_some_and(|t| t > 0 || t == -1) && !ttl.is_f64();
        if !ok && !ttl.is_null() {
            return Err(Error::BadRequest(format!(
                "ttl must be a positive integer (seconds) or -1 (never expire), not {ttl}"
            )));
        }
    }
    check_depth(item)?;
    Ok(id)
}

/// Nesting depth check without recursion (a hostile item must not overflow the stack).
fn check_depth(item: &Value) -> Result<()> {
    let mut stack: Vec<(&Value, usize)> = vec![(item, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        if depth > MAX_DEPTH {
            return Err(Error::BadRequest(format!(
                "the item nests deeper than {MAX_DEPTH} levels"
            )));
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// The deepest nesting of arrays and objects in JSON text, without recursion: lets a caller
/// refuse input too deep for a recursive parser before parsing it (brackets inside
/// strings do not count; malformed text gives some number, never a panic).
pub fn json_nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The deepest nesting an item may have (objects and arrays, the item itself included).
pub const MAX_ITEM_DEPTH: usize = MAX_DEPTH;

/// Sets the system properties on a validated item (replacing any client-supplied values).
pub(crate) fn stamp_system_properties(
    item: &mut Value,
    rid: &str,
    self_link: &str,
    etag: &str,
    ts: u64,
    lsn: u64,
) {
    if let Some(obj) = item.as_object_mut() {
        let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        set(obj, "_rid", Value::String(rid.to_string()));
        set(obj, "_self", Value::String(self_link.to_string()));
        set(obj, "_etag", Value::String(etag.to_string()));
        set(obj, "_attachments", Value::String("attachments/".into()));
        set(obj, "_ts", Value::from(ts));
        set(obj, "_lsn", Value::from(lsn));
    }
}

/// Removes what `stamp_system_properties` sets, leaving the item as it was given (when it was
/// given none of them; a given value of one of them is overwritten by the stamp anyway).
pub(crate) fn remove_system_properties(item: &mut Value) {
    if let Some(obj) = item.as_object_mut() {
        for k in STAMPED {
            obj.shift_remove(k);
        }
    }
}

/// The properties `stamp_system_properties` sets.
const STAMPED: [&str; 6] = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(item: Value, cmk: bool) -> Result<String> {
        validate_item(&item, &ItemRules { cmk }).map(str::to_string)
    }

    #[test]
    fn rules_table() {
        let deep = (0..200).fold(json!(1), |v, _| json!([v]));
        let ok_deep = (0..126).fold(json!(1), |v, _| json!({ "a": v }));
        let cases: Vec<(Value, bool, Option<u16>)> = vec![
            (json!({"id": "a"}), false, None),
            (json!({"id": "a", "_ts": 5}), false, None),
            (json!({"id": "a", "_ts": 5}), true, Some(400)),
            (json!({"id": "a", "_epk": "x"}), true, Some(400)),
            (json!({"id": "a", "__sys_x": 1}), false, Some(400)),
            (json!({"id": "a", "ttl": -1}), true, None),
            (json!({"id": "a", "ttl": 10}), true, None),
            (json!({"id": "a", "ttl": 0}), true, Some(400)),
            (json!({"id": "a", "ttl": 1.5}), true, Some(400)),
            (json!({"id": "a", "ttl": "10"}), false, Some(400)),
            (json!({"id": ""}), false, Some(400)),
            (json!({"id": "a/b"}), false, Some(400)),
            (json!({"id": "a\\b"}), false, Some(400)),
            (json!({"id": "x".repeat(1024)}), false, Some(400)),
            (json!({"id": "x".repeat(1023)}), false, None),
            (json!({"id": 5}), false, Some(400)),
            (json!({"name": "no id"}), false, Some(400)),
            (json!([1, 2]), false, Some(400)),
            (json!({"id": "d", "deep": deep}), false, Some(400)),
            (json!({"id": "d", "deep": ok_deep}), false, None),
        ];
        for (i, (item, cmk, want)) in cases.into_iter().enumerate() {
            assert_eq!(check(item, cmk).err().map(|e| e.status()), want, "case {i}");
        }
    }

    #[test]
    fn stamping_overwrites_client_values() {
        let mut v = json!({"id": "a", "_etag": "mine"});
        stamp_system_properties(&mut v, "rid", "dbs/d/colls/c/docs/rid/", "\"e\"", 42, 7);
        assert_eq!(v["_etag"], "\"e\"");
        assert_eq!(v["_ts"], 42);
        assert_eq!(v["_attachments"], "attachments/");
        assert_eq!(v["_lsn"], 7);
    }

    #[test]
    fn removing_what_was_stamped_gives_back_the_item() {
        let given = json!({"id": "a", "n": 1, "o": {"_rid": "nested stays"}});
        let mut v = given.clone();
        stamp_system_properties(&mut v, "rid", "dbs/d/colls/c/docs/rid/", "\"e\"", 42, 7);
        assert_ne!(v, given);
        remove_system_properties(&mut v);
        assert_eq!(v, given);
        // What a CMK account checks on the retry passes again.
        assert!(check(v, true).is_ok());
    }
}
