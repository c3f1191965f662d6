//! Index entries as LSM keys: an order-preserving encoding of JSON scalars (so that a range of
//! values is a range of keys) and the layout of an entry's key. The LSM seals these keys inside
//! its blocks like every other key; nothing here is written in the clear. Knows JSON values and
//! byte strings only, not the store.
//!
//! ```text
//! entry    := 0x07 | container_id: u32 BE | generation: u32 BE | path_len: u16 BE | canonical path
//!             | value | pk_len: u16 BE | pk | id            (the item key after its container prefix)
//! value    := 0x01 null | 0x02 false | 0x03 true | 0x04 f64 (8 bytes, order-preserving)
//!           | 0x05 string bytes (0x00 -> 0x00 0xFF) 0x00 0x00 | 0x06 array | 0x07 object
//! spatial  := 0x07 | container_id | generation | path_len: u16 BE | canonical path 0x00
//!             | 0x09 | level: u8 | x: u32 BE | y: u32 BE | finest: u8 | pk_len | pk | id
//!             (a cell of a spatial index, see index/spatial.rs; the 0x00 after the path, which
//!             no canonical path holds, keeps these entries apart from the path's value entries)
//! rebuild  := 0x08 | container_id: u32 BE        (the state of the container's index, see account/index.rs)
//! ```
//!
//! The type tags follow the cross-type order (null < false < true < numbers < strings). Numbers
//! are compared as f64 (an integer beyond 2^53 shares its key with its nearest double) and
//! strings by their first `MAX_INDEXED_STRING` bytes: an entry may stand for several values, so
//! the index only proposes candidates and every query re-checks its full WHERE clause on the
//! items it loads.
//!
//! The keys' first bytes are `KeySpace::IndexEntry` and `KeySpace::IndexRebuild` (keyspace.rs);
//! this file assigns no prefix byte itself (the value tags below are inside the key).

use serde_json::Value;

use super::path::{canonical, Seg};
use crate::keyspace::KeySpace;

/// Longest string prefix an entry keeps.
pub(crate) const MAX_INDEXED_STRING: usize = 512;
/// Longest canonical path that is indexed; deeper or longer paths are never indexed (and
/// queries on them scan).
pub(crate) const MAX_INDEXED_PATH: usize = 1024;

pub(crate) const T_NULL: u8 = 0x01;
pub(crate) const T_FALSE: u8 = 0x02;
pub(crate) const T_TRUE: u8 = 0x03;
pub(crate) const T_NUMBER: u8 = 0x04;
pub(crate) const T_STRING: u8 = 0x05;
pub(crate) const T_ARRAY: u8 = 0x06;
pub(crate) const T_OBJECT: u8 = 0x07;
/// A spatial index's cell (only after a spatial path, see `spatial_term_head`).
pub(crate) const T_CELL: u8 = 0x09;
/// The bytes of a cell after its tag: level, x, y, finest.
pub(crate) const CELL_LEN: usize = 10;

/// The first byte of a value's encoding.
pub(crate) fn type_tag(v: &Value) -> u8 {
    match v {
        Value::Null => T_NULL,
        Value::Bool(false) => T_FALSE,
        Value::Bool(true) => T_TRUE,
        Value::Number(_) => T_NUMBER,
        Value::String(_) => T_STRING,
        Value::Array(_) => T_ARRAY,
        Value::Object(_) => T_OBJECT,
    }
}

/// The encoding of `v` (arrays and objects: their tag alone).
pub(crate) fn encode_value(v: &Value, out: &mut Vec<u8>) {
    out.push(type_tag(v));
    match v {
        Value::Number(n) => out.extend_from_slice(&f64_key(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => {
            escape_into(truncated(s), out);
            out.extend_from_slice(&[0, 0]);
        }
        _ => {}
    }
}

/// The bytes every string entry starting with `prefix` starts with (after its path).
pub(crate) fn string_prefix(prefix: &str, out: &mut Vec<u8>) {
    out.push(T_STRING);
    escape_into(truncated(prefix), out);
}

fn truncated(s: &str) -> &[u8] {
    let b = s.as_bytes();
    b.get(..MAX_INDEXED_STRING).unwrap_or(b)
}

/// `0x00` becomes `0x00 0xFF`, so the `0x00 0x00` terminator sorts a string before every longer
/// string it is a prefix of.
fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// An f64 as 8 bytes whose unsigned order is the numeric order (-0 and 0 are one key).
fn f64_key(x: f64) -> [u8; 8] {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    ordered.to_be_bytes()
}

/// `0x07 | container_id | generation`: every entry of one index generation.
pub(crate) fn generation_prefix(container_id: u32, generation: u32) -> Vec<u8> {
    generation_prefix_with_room(container_id, generation, 23)
}

/// `generation_prefix` with room for `more` bytes after it (an entry's term and item key
/// suffix), so that building an entry's key allocates once.
pub(crate) fn generation_prefix_with_room(container_id: u32, generation: u32, more: usize) -> Vec<u8> {
    let mut k = KeySpace::IndexEntry.container_prefix_with_room(container_id, 4 + more);
    k.extend_from_slice(&generation.to_be_bytes());
    k
}

/// The entries' prefix of one path (`None` if the path is too long to be indexed).
pub(crate) fn path_prefix(container_id: u32, generation: u32, path: &[Seg]) -> Option<Vec<u8>> {
    let text = canonical(path);
    if text.len() > MAX_INDEXED_PATH {
        return None;
    }
    let mut k = generation_prefix(container_id, generation);
    k.extend_from_slice(&u16::try_from(text.len()).ok()?.to_be_bytes());
    k.extend_from_slice(text.as_bytes());
    Some(k)
}

/// The start of a spatial index's terms at `path`: `path_len | canonical path 0x00` (`None`
/// if the path is too long to be indexed).
pub(crate) fn spatial_term_head(path: &[Seg]) -> Option<Vec<u8>> {
    let mut text = canonical(path).into_bytes();
    text.push(0);
    if text.len() > MAX_INDEXED_PATH {
        return None;
    }
    let mut k = u16::try_from(text.len()).ok()?.to_be_bytes().to_vec();
    k.extend_from_slice(&text);
    Some(k)
}

/// The entries' prefix of a spatial index's cells at `path`.
pub(crate) fn spatial_prefix(container_id: u32, generation: u32, path: &[Seg]) -> Option<Vec<u8>> {
    let mut k = generation_prefix(container_id, generation);
    k.extend_from_slice(&spatial_term_head(path)?);
    Some(k)
}

/// A cell's encoding: `0x09 | level | x | y`, then `finest` when given.
pub(crate) fn encode_cell(level: u8, (x, y): (u32, u32), finest: Option<bool>, out: &mut Vec<u8>) {
    out.push(T_CELL);
    out.push(level);
    out.extend_from_slice(&x.to_be_bytes());
    out.extend_from_slice(&y.to_be_bytes());
    if let Some(f) = finest {
        out.push(u8::from(f));
    }
}

/// The item key suffix (`pk_len | pk | id`) an entry ends with, given the entry's key and the
/// length of its path prefix; `None` for a key that is not a well-formed entry.
pub(crate) fn entry_suffix(key: &[u8], path_prefix_len: usize) -> Option<&[u8]> {
    let value = key.get(path_prefix_len..)?;
    let (&tag, rest) = value.split_first()?;
    let rest = match tag {
        T_NULL | T_FALSE | T_TRUE | T_ARRAY | T_OBJECT => rest,
        T_NUMBER => rest.get(8..)?,
        T_CELL => rest.get(CELL_LEN..)?,
        T_STRING => {
            let mut i = 0;
            loop {
                match (rest.get(i)?, rest.get(i + 1)) {
                    (0, Some(0)) => break rest.get(i + 2..)?,
                    (0, Some(0xFF)) => i += 2,
                    (0, _) => return None,
                    _ => i += 1,
                }
            }
        }
        _ => return None,
    };
    Some(rest)
}

/// The first key past every key that starts with `prefix` (`None`: no such key, the prefix is
/// all 0xFF).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The key of the container's rebuild state.
pub(crate) fn rebuild_key(container_id: u32) -> Vec<u8> {
    KeySpace::IndexRebuild.container_prefix(container_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(v, &mut out);
        out
    }

    #[test]
    fn the_encoding_keeps_the_cross_type_order() {
        let ordered = [
            json!(null),
            json!(false),
            json!(true),
            json!(-1e300),
            json!(-5),
            json!(-0.5),
            json!(0),
            json!(1e-300),
            json!(1),
            json!(1.5),
            json!(2),
            json!(u64::MAX),
            json!(""),
            json!("\u{0}"),
            json!("\u{0}a"),
            json!("\u{1}"),
            json!("a"),
            json!("a\u{0}"),
            json!("ab"),
            json!("b"),
            json!("é"),
            json!([1]),
            json!({"a": 1}),
        ];
        for w in ordered.windows(2) {
            assert!(enc(&w[0]) < enc(&w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(enc(&json!(0)), enc(&json!(-0.0)));
        assert_eq!(enc(&json!(2)), enc(&json!(2.0)));
    }

    #[test]
    fn suffixes_are_found_after_every_kind_of_value() {
        let prefix = path_prefix(3, 1, &[Seg::Name("a".into())]).unwrap();
        for v in [
            json!(null),
            json!(true),
            json!(7.5),
            json!("x\u{0}y"),
            json!("é"),
            json!([]),
            json!({}),
        ] {
            let mut key = prefix.clone();
            encode_value(&v, &mut key);
            key.extend_from_slice(b"\x00\x02pkid");
            assert_eq!(
                entry_suffix(&key, prefix.len()),
                Some(&b"\x00\x02pkid"[..]),
                "{v}"
            );
        }
        let spatial = spatial_prefix(3, 1, &[Seg::Name("a".into())]).unwrap();
        assert!(!spatial.starts_with(&prefix) && !prefix.starts_with(&spatial));
        let mut key = spatial.clone();
        encode_cell(17, (70_000, 3), Some(true), &mut key);
        key.extend_from_slice(b"\x00\x02pkid");
        assert_eq!(entry_suffix(&key, spatial.len()), Some(&b"\x00\x02pkid"[..]));
        assert_eq!(entry_suffix(&[1, 2], 5), None);
        let long = "x".repeat(MAX_INDEXED_STRING + 10);
        let mut a = Vec::new();
        encode_value(&json!(long), &mut a);
        let mut b = Vec::new();
        encode_value(&json!("x".repeat(MAX_INDEXED_STRING)), &mut b);
        assert_eq!(a, b, "long strings share the key of their first bytes");
        let mut p = Vec::new();
        string_prefix("ab", &mut p);
        assert!(enc(&json!("abc")).starts_with(&p));
        assert!(!enc(&json!("ac")).starts_with(&p));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
        assert!(path_prefix(1, 0, &[Seg::Name("n".repeat(MAX_INDEXED_PATH))]).is_none());
    }
}
