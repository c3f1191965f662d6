//! The index terms of a document under a policy: one term per indexed (path, value), where a
//! path's array elements are all `[]`. Scalars are indexed by value; arrays and objects by their
//! type alone (so `IS_DEFINED` can be answered from the index); a value at a spatial index's
//! path also yields the cells it covers (`spatial.rs`). Pure.

use std::collections::BTreeSet;

use serde_json::Value;

use super::encode::{encode_value, MAX_INDEXED_PATH, MAX_INDEXED_STRING};
use super::path::{push_canonical, Seg};
use super::policy::CompiledPolicy;
use super::spatial::spatial_terms;

/// Every term of `doc`: `path_len: u16 BE | canonical path | value` (see encode.rs), sorted and
/// without repeats (an array holding a value twice gives one term).
pub(crate) fn terms(policy: &CompiledPolicy, doc: &Value) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    if let Value::Object(fields) = doc {
        let mut at = At::default();
        for (name, v) in fields {
            at.push(Seg::Name(name.clone()));
            walk(policy, &mut at, v, &mut out);
            at.pop();
        }
    }
    out
}

/// Where the walk is: the path, and its canonical text (`canonical(&path)`) kept alongside
/// segment by segment, so that a term does not spell its whole path again.
#[derive(Default)]
struct At {
    path: Vec<Seg>,
    text: Vec<u8>,
    /// The text's length before each segment of `path`.
    marks: Vec<usize>,
}

impl At {
    fn push(&mut self, seg: Seg) {
        self.marks.push(self.text.len());
        push_canonical(&mut self.text, &seg);
        self.path.push(seg);
    }

    fn pop(&mut self) {
        self.path.pop();
        if let Some(m) = self.marks.pop() {
            self.text.truncate(m);
        }
    }
}

fn walk(policy: &CompiledPolicy, at: &mut At, v: &Value, out: &mut BTreeSet<Vec<u8>>) {
    let scalar = !matches!(v, Value::Array(_) | Value::Object(_));
    if policy.indexes(&at.path, scalar) {
        let text = &at.text;
        if let (true, Ok(len)) = (text.len() <= MAX_INDEXED_PATH, u16::try_from(text.len())) {
            // The value's encoding: tag, then 8 bytes of a number or a string and its
            // terminator (longer only for a string holding 0x00 bytes).
            let value_len = match v {
                Value::String(s) => 3 + s.len().min(MAX_INDEXED_STRING),
                _ => 9,
            };
            let mut term = Vec::with_capacity(2 + text.len() + value_len);
            term.extend_from_slice(&len.to_be_bytes());
            term.extend_from_slice(text);
            encode_value(v, &mut term);
            out.insert(term);
        }
    }
    if let Some(types) = policy.spatial_types(&at.path) {
        spatial_terms(&at.path, v, types, out);
    }
    match v {
        Value::Array(items) => {
            at.push(Seg::Array);
            for item in items {
                walk(policy, at, item, out);
            }
            at.pop();
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                at.push(Seg::Name(name.clone()));
                walk(policy, at, item, out);
                at.pop();
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

    /// The path text kept along the walk is `canonical` of the path, whatever the names hold
    /// (quotes, slashes, control characters, non-ASCII), at every depth and after siblings.
    #[test]
    fn term_paths_are_the_canonical_text_of_their_paths() {
        let p = IndexingPolicy::from_json(r#"{"includedPaths":[{"path":"/*"}]}"#)
            .unwrap()
            .compile()
            .unwrap();
        let doc = json!({"id": "a", "a\"b": {"x/y": [1, {"\u{1}ü": "s"}], "[]": true}, "z": 2});
        let name = |n: &str| Seg::Name(n.to_string());
        let want: BTreeSet<String> = [
            vec![name("id")],
            vec![name("a\"b")],
            vec![name("a\"b"), name("x/y")],
            vec![name("a\"b"), name("x/y"), Seg::Array],
            vec![name("a\"b"), name("x/y"), Seg::Array, name("\u{1}ü")],
            vec![name("a\"b"), name("[]")],
            vec![name("z")],
        ]
        .iter()
        .map(|segs| crate::index::path::canonical(segs))
        .collect();
        let got: BTreeSet<String> = terms(&p, &doc)
            .iter()
            .map(|t| {
                let len = u16::from_be_bytes([t[0], t[1]]) as usize;
                String::from_utf8(t[2..2 + len].to_vec()).unwrap()
            })
            .collect();
        assert_eq!(got, want);
        assert!(want.contains("/\"a\\\"b\"/\"x/y\"/[]/\"\\u0001ü\""), "{want:?}");
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
