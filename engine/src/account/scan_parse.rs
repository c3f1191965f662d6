//! The parse of a stored item for a query that reads only some of its top-level properties
//! (`Prepared::fields_read`): those are parsed into the `Value`, the others are checked as JSON
//! and skipped without being built, so a scan of 1 KiB items reading two short properties does
//! not allocate the rest. Keeps what the scan itself needs beside the query (`_lsn` for the
//! charge, `_ts` and `ttl` for expiry, the partition-key paths for a partition filter). Must not
//! change a result: whatever it cannot read this way goes through `parse_stored`, whole.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer as _;
use serde_json::{Map, Value};

use super::container::{parse_stored, Resolved};
use crate::error::Result;

/// The top-level properties a scan parses out of each stored item for one query.
#[derive(Debug)]
pub(crate) enum ScanFields {
    /// The query may read the document whole: parse it whole.
    All,
    /// Only these names (the query's, with the scan's own), in a list: a handful of names,
    /// compared length first, cost less than a search tree's byte comparisons.
    Only(Vec<String>),
}

impl ScanFields {
    /// What a scan of `r` parses for a query reading `read` (`None`: the whole document).
    pub(crate) fn new(r: &Resolved, read: Option<BTreeSet<String>>) -> ScanFields {
        let Some(mut names) = read else {
            return ScanFields::All;
        };
        // The charge reads `_lsn`; expiry `_ts` and `ttl`, only with TTL on; a partition filter
        // the partition key, only when there is one.
        names.insert("_lsn".to_string());
        if r.default_ttl.is_some() {
            names.extend(["_ts".to_string(), "ttl".to_string()]);
        }
        if r.scope_filter.is_some() {
            names.extend(r.pk.segments().iter().filter_map(|path| path.first().cloned()));
        }
        ScanFields::Only(names.into_iter().collect())
    }

    /// The stored item `bytes`, with only the names kept when its top level is an object that
    /// parses; otherwise `parse_stored`'s result (the whole item, or its error).
    pub(crate) fn parse(&self, bytes: &[u8]) -> Result<Value> {
        let ScanFields::Only(names) = self else {
            return parse_stored(bytes);
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        match de.deserialize_map(Only(names)).and_then(|m| de.end().map(|()| m)) {
            Ok(kept) => Ok(Value::Object(kept)),
            // Not an object, too deep for serde_json's limit, or damaged: the whole parse
            // decides (and reports the error as every other read does).
            Err(_) => parse_stored(bytes),
        }
    }
}

/// Visits the top-level object, keeping the properties named.
struct Only<'a>(&'a [String]);

impl<'de> Visitor<'de> for Only<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        while let Some(name) = map.next_key_seed(Key(self.0))? {
            match name {
                Some(name) => {
                    let value: Value = map.next_value()?;
                    kept.insert(name, value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(kept)
    }
}

/// A property name: `Some` (owned) when it is one of the names kept, `None` otherwise (no
/// allocation for a name that is skipped).
struct Key<'a>(&'a [String]);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> std::result::Result<Self::Value, E> {
        Ok(self.0.iter().any(|n| n == name).then(|| name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn only(names: &[&str]) -> ScanFields {
        ScanFields::Only(names.iter().map(|s| s.to_string()).collect())
    }

    /// What the partial parse must equal: the whole parse with the other names removed.
    fn expected(bytes: &[u8], names: &[&str]) -> Value {
        match parse_stored(bytes).unwrap() {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .filter(|(k, _)| names.contains(&k.as_str()))
                    .collect(),
            ),
            other => other,
        }
    }

    #[test]
    fn keeps_only_the_names_and_their_whole_values() {
        let item = json!({"id": "a", "pk": "p", "n": 7, "grp": {"x": [1, 2.5, "s"]}, "pad": "é\"\\x",
            "_lsn": 12, "_ts": 100, "ttl": null});
        let bytes = serde_json::to_vec(&item).unwrap();
        let names = ["grp", "n", "_lsn", "missing"];
        assert_eq!(only(&names).parse(&bytes).unwrap(), expected(&bytes, &names));
        assert_eq!(
            only(&names).parse(&bytes).unwrap(),
            json!({"n": 7, "grp": {"x": [1, 2.5, "s"]}, "_lsn": 12})
        );
        assert_eq!(ScanFields::All.parse(&bytes).unwrap(), item);
        assert_eq!(only(&[]).parse(&bytes).unwrap(), json!({}));
    }

    #[test]
    fn falls_back_to_the_whole_parse() {
        // Not an object: the item as parsed whole.
        assert_eq!(only(&["a"]).parse(b"[1, 2]").unwrap(), json!([1, 2]));
        // Damaged bytes in a skipped value, or after the object: the whole parse's error.
        for damaged in [&b"{\"a\": 1, \"b\": [1, }"[..], b"{\"a\": 1} x", b"{\"a\": 1"] {
            assert!(only(&["a"]).parse(damaged).is_err(), "{damaged:?}");
        }
        // Deeper than serde_json's recursion limit: skipped, it is only checked; kept, the
        // whole item is parsed (the query reads the names it wants from it alike).
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep = format!("{{\"a\": 1, \"b\": {nested}}}");
        assert_eq!(only(&["a"]).parse(deep.as_bytes()).unwrap(), json!({"a": 1}));
        let whole = parse_stored(deep.as_bytes()).unwrap();
        assert_eq!(only(&["b"]).parse(deep.as_bytes()).unwrap(), whole);
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\"\\\\é ]{0,12}".prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map("[a-e]{1,2}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn partial_parse_equals_the_whole_parse_restricted(
            item in prop::collection::btree_map("[a-e]{1,2}", value(), 0..8),
            names in prop::collection::vec("[a-e]{1,2}", 0..4),
        ) {
            let bytes = serde_json::to_vec(&Value::Object(item.into_iter().collect())).unwrap();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            prop_assert_eq!(only(&names).parse(&bytes).unwrap(), expected(&bytes, &names));
        }
    }
}
