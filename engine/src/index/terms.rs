//! The index terms of a document under a policy: one term per indexed (path, value), where a
//! path's array elements are all `[]`. Scalars are indexed by value; arrays and objects by their
//! type alone (so `IS_DEFINED` can be answered from the index); a value at a spatial index's
//! path also yields the cells it covers (`spatial.rs`). Pure.

use std::collections::BTreeSet;

use serde_json::Value;

use super::encode::{encode_value, MAX_INDEXED_PATH};
use super::path::{canonical, Seg};
use super::policy::CompiledPolicy;
use super::spatial::spatial_terms;

/// Every term of `doc`: `path_len: u16 BE | canonical path | value` (see encode.rs), sorted and
/// without repeats (an array holding a value twice gives one term).
pub(crate) fn terms(policy: &CompiledPolicy, doc: &Value) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    if let Value::Object(fields) = doc {
        let mut path = Vec::new();
        for (name, v) in fields {
            path.push(Seg::Name(name.clone()));
            walk(policy, &mut path, v, &mut out);
            path.pop();
        }
    }
    out
}

fn walk(policy: &CompiledPolicy, path: &mut Vec<Seg>, v: &Value, out: &mut BTreeSet<Vec<u8>>) {
    let scalar = !matches!(v, Value::Array(_) | Value::Object(_));
    if policy.indexes(path, scalar) {
        let text = canonical(path);
        if let (true, Ok(len)) = (text.len() <= MAX_INDEXED_PATH, u16::try_from(text.len())) {
            let mut term = Vec::with_capacity(2 + text.len() + 16);
            term.extend_from_slice(&len.to_be_bytes());
            term.extend_from_slice(text.as_bytes());
            encode_value(v, &mut term);
            out.insert(term);
        }
    }
    if let Some(types) = policy.spatial_types(path) {
        spatial_terms(path, v, types, out);
    }
    match v {
        Value::Array(items) => {
            path.push(Seg::Array);
            for item in items {
                walk(policy, path, item, out);
            }
            path.pop();
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                path.push(Seg::Name(name.clone()));
                walk(policy, path, item, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexingPolicy;
    use serde_json::json;

    fn paths(policy: &str, doc: Value) -> Vec<String> {
        let p = IndexingPolicy::from_json(policy).unwrap().compile().unwrap();
        terms(&p, &doc)
            .into_iter()
            .map(|t| {
                let len = u16::from_be_bytes([t[0], t[1]]) as usize;
                format!("{}#{}", String::from_utf8_lossy(&t[2..2 + len]), t[2 + len])
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    #[test]
    fn the_default_policy_indexes_every_value_but_etag_and_lsn() {
        let got = paths(
            r#"{"includedPaths":[{"path":"/*"}]}"#,
            json!({"id": "a", "_etag": "e", "_lsn": 4, "tags": ["x", "x", 2], "o": {"b": null}}),
        );
        assert_eq!(
            got,
            vec![
                "/\"id\"#5",
                "/\"o\"#7",
                "/\"o\"/\"b\"#1",
                "/\"tags\"#6",
                "/\"tags\"/[]#4",
                "/\"tags\"/[]#5",
            ]
        );
    }

    #[test]
    fn excluded_paths_and_mode_none_index_nothing_but_what_must_be() {
        let got = paths(
            r#"{"includedPaths":[{"path":"/a/?"}],"excludedPaths":[{"path":"/*"}]}"#,
            json!({"id": "a", "_ts": 5, "a": 1, "b": 2, "c": {"a": 3}}),
        );
        assert_eq!(got, vec!["/\"_ts\"#4", "/\"a\"#4", "/\"id\"#5"]);
        assert!(paths(r#"{"indexingMode":"none"}"#, json!({"id": "a", "x": 1})).is_empty());
    }

    /// A spatial path yields cells under its own head (the path and a 0x00), whether or not
    /// the path is also indexed by value.
    #[test]
    fn spatial_paths_yield_cells_beside_their_values() {
        let got = paths(
            r#"{"includedPaths":[{"path":"/id/?"}],"excludedPaths":[{"path":"/*"}],
                "spatialIndexes":[{"path":"/loc/?","types":["Point"]}]}"#,
            json!({"id": "a", "loc": {"type": "Point", "coordinates": [1, 2]}, "x": 1}),
        );
        assert_eq!(got, vec!["/\"id\"#5", "/\"loc\"\u{0}#9"]);
    }
}
