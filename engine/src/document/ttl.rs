//! Time to live: when an item expires, from its container's `defaultTtl` and its own `ttl`.
//! Pure functions; the account layer applies them on reads and in the compaction filter.
//! See docs/query.md, "Time to live".

use serde_json::Value;

use crate::error::{Error, Result};

/// A container's `defaultTtl`: `None` (TTL off), `-1` (on, items never expire unless their own
/// `ttl` says so) or a positive number of seconds. 400 otherwise.
pub(crate) fn validate_default_ttl(ttl: Option<i64>) -> Result<()> {
    match ttl {
        None | Some(-1) => Ok(()),
        Some(n) if n > 0 => Ok(()),
        Some(n) => Err(Error::BadRequest(format!(
            "defaultTtl must be -1 (on, no default) or a positive number of seconds, not {n}; \
             to turn TTL off, remove it"
        ))),
    }
}

/// The Unix second at which `item` expires, `None` if never. With TTL off (`default_ttl` is
/// `None`) the item's `ttl` is ignored; with TTL on, the item's `ttl` (when present and not
/// null) overrides the default; `-1` means never.
pub(crate) fn expires_at(default_ttl: Option<i64>, item: &Value) -> Option<u64> {
    let default = default_ttl?;
    let ttl = item.get("ttl").and_then(Value::as_i64).unwrap_or(default);
    let ttl = u64::try_from(ttl).ok().filter(|t| *t > 0)?;
    let ts = item.get("_ts").and_then(Value::as_u64)?;
    Some(ts.saturating_add(ttl))
}

/// Whether `item` has expired at `now` (Unix seconds): expiry is at `_ts + ttl`, inclusive.
pub(crate) fn is_expired(default_ttl: Option<i64>, item: &Value, now: u64) -> bool {
    expires_at(default_ttl, item).is_some_and(|at| now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_table() {
        let item = |ttl: Value| json!({"id": "a", "_ts": 100, "ttl": ttl});
        let plain = json!({"id": "a", "_ts": 100});
        // (default, item, now, expired)
        let cases: Vec<(Option<i64>, Value, u64, bool)> = vec![
            (None, plain.clone(), u64::MAX, false),
            (None, item(json!(5)), 1000, false),
            (Some(-1), plain.clone(), u64::MAX, false),
            (Some(-1), item(json!(5)), 104, false),
            (Some(-1), item(json!(5)), 105, true),
            (Some(10), plain.clone(), 109, false),
            (Some(10), plain.clone(), 110, true),
            (Some(10), item(json!(-1)), u64::MAX, false),
            (Some(10), item(json!(20)), 115, false),
            (Some(10), item(json!(20)), 120, true),
            (Some(10), item(json!(2)), 102, true),
            (Some(10), item(Value::Null), 110, true),
            (Some(10), json!({"id": "no ts"}), u64::MAX, false),
        ];
        for (i, (default, v, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(is_expired(default, &v, now), want, "case {i}");
        }
    }

    #[test]
    fn default_ttl_validation() {
        for ok in [None, Some(-1), Some(1), Some(i64::MAX)] {
            assert!(validate_default_ttl(ok).is_ok(), "{ok:?}");
        }
        for bad in [Some(0), Some(-2), Some(i64::MIN)] {
            assert_eq!(validate_default_ttl(bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }
}
