//! Partition-key values: string, number, boolean, null, or none (the path is missing from the
//! item), and the hierarchical keys of `MultiHash` containers: one such value per level (up to
//! three). Plaintext by contract: they appear in LSM keys (sealed) and may appear in plaintext
//! metadata. Numbers compare by value (1 and 1.0 are the same key). Which paths a container's key
//! has is `PartitionKeyDefinition`'s (pk_definition.rs), not this file's.

use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum PartitionKey {
    /// The item has no value at the partition-key path.
    None,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A hierarchical (`MultiHash`) key or a prefix of one: one scalar value per level, at
    /// least one and at most `MAX_LEVELS`, none of them hierarchical itself. Build it with
    /// `PartitionKey::hierarchical`, which checks that.
    Hierarchical(Vec<PartitionKey>),
}

/// The most levels a hierarchical partition key has (as the managed service allows).
pub const MAX_LEVELS: usize = 3;

impl PartitionKey {
    /// Reads a partition-key value; objects and arrays are refused (400).
    pub fn from_json(v: &Value) -> Result<PartitionKey> {
        match v {
            Value::Null => Ok(PartitionKey::Null),
            Value::Bool(b) => Ok(PartitionKey::Bool(*b)),
            Value::Number(n) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(PartitionKey::Number)
                .ok_or_else(|| Error::BadRequest(format!("partition key {n} is not a finite number"))),
            Value::String(s) => Ok(PartitionKey::String(s.clone())),
            Value::Array(_) | Value::Object(_) => Err(Error::BadRequest(
                "a partition key value must be a string, number, boolean or null, not an object or array"
                    .into(),
            )),
        }
    }

    /// A hierarchical key (or prefix) of `levels`: 400 for no level, more than `MAX_LEVELS`, or
    /// a level that is itself hierarchical.
    pub fn hierarchical<I, P>(levels: I) -> Result<PartitionKey>
    where
        I: IntoIterator<Item = P>,
        P: Into<PartitionKey>,
    {
        let levels: Vec<PartitionKey> = levels.into_iter().map(Into::into).collect();
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(Error::BadRequest(format!(
                "a hierarchical partition key has 1 to {MAX_LEVELS} levels, not {}",
                levels.len()
            )));
        }
        if levels.iter().any(|l| matches!(l, PartitionKey::Hierarchical(_))) {
            return Err(Error::BadRequest(
                "a level of a hierarchical partition key must be a string, number, boolean, null or none"
                    .into(),
            ));
        }
        Ok(PartitionKey::Hierarchical(levels))
    }

    /// Reads a partition key as clients send one: a scalar (`from_json`), or a JSON array of
    /// one value per level of a hierarchical key, where `{}` is the none component (as the
    /// managed service writes it). A one-element array is that element (the REST header form
    /// of a single-path key); what it means for a container is checked against its definition.
    pub fn from_json_key(v: &Value) -> Result<PartitionKey> {
        match v {
            Value::Array(levels) if levels.len() == 1 => PartitionKey::from_json_level(&levels[0]),
            Value::Array(levels) => PartitionKey::hierarchical(
                levels
                    .iter()
                    .map(PartitionKey::from_json_level)
                    .collect::<Result<Vec<_>>>()?,
            ),
            _ => PartitionKey::from_json(v),
        }
    }

    /// One level: a scalar, or `{}` for none.
    fn from_json_level(v: &Value) -> Result<PartitionKey> {
        match v {
            Value::Object(o) if o.is_empty() => Ok(PartitionKey::None),
            _ => PartitionKey::from_json(v),
        }
    }

    /// The levels of the key: its own for a hierarchical one, else the key itself as one level.
    pub fn levels(&self) -> &[PartitionKey] {
        match self {
            PartitionKey::Hierarchical(levels) => levels,
            one => std::slice::from_ref(one),
        }
    }

    /// Whether every item of partition `other` is within this key: the same key, or a prefix of
    /// its levels.
    pub fn covers(&self, other: &PartitionKey) -> bool {
        match (self, other) {
            (PartitionKey::Hierarchical(want), PartitionKey::Hierarchical(have)) => have.starts_with(want),
            _ => self == other,
        }
    }

    /// The value at `path` (segments of a partition-key path) in `item`.
    pub(crate) fn extract(item: &Value, path: &[String]) -> Result<PartitionKey> {
        let mut cur = item;
        for seg in path {
            match cur.get(seg) {
                Some(v) => cur = v,
                None => return Ok(PartitionKey::None),
            }
        }
        PartitionKey::from_json(cur)
    }

    pub fn to_json(&self) -> Option<Value> {
        match self {
            PartitionKey::None => None,
            PartitionKey::Null => Some(Value::Null),
            PartitionKey::Bool(b) => Some(Value::Bool(*b)),
            PartitionKey::Number(n) => serde_json::Number::from_f64(*n).map(Value::Number),
            PartitionKey::String(s) => Some(Value::String(s.clone())),
            PartitionKey::Hierarchical(levels) => Some(Value::Array(
                levels
                    .iter()
                    .map(|l| l.to_json().unwrap_or_else(|| Value::Object(Default::default())))
                    .collect(),
            )),
        }
    }

    /// Canonical bytes for the LSM key: a type tag, then the value. A hierarchical key is tag 5,
    /// then each level as `len: u16 BE | encode(level)`: self-delimiting, so the encoding of a
    /// prefix of the levels is a byte prefix of the whole key's (see key.rs).
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        if let PartitionKey::Number(n) = self {
            if !n.is_finite() {
                return Err(Error::BadRequest(format!(
                    "partition key {n} is not a finite number; use a finite number, a string, a boolean or null"
                )));
            }
        }
        Ok(match self {
            PartitionKey::Hierarchical(levels) => {
                let mut v = vec![5];
                for level in levels {
                    let bytes = level.encode()?;
                    let len = u16::try_from(bytes.len()).map_err(|_| {
                        Error::BadRequest("a partition key level is longer than 65,535 bytes".into())
                    })?;
                    v.extend_from_slice(&len.to_be_bytes());
                    v.extend_from_slice(&bytes);
                }
                v
            }
            PartitionKey::None => vec![0],
            PartitionKey::Null => vec![1],
            PartitionKey::Bool(false) => vec![2, 0],
            PartitionKey::Bool(true) => vec![2, 1],
            PartitionKey::Number(n) => {
                let n = if *n == 0.0 { 0.0 } else { *n }; // -0 and 0 are one key
                let mut v = vec![3];
                v.extend_from_slice(&n.to_bits().to_be_bytes());
                v
            }
            PartitionKey::String(s) => {
                let mut v = vec![4];
                v.extend_from_slice(s.as_bytes());
                v
            }
        })
    }
}

/// The first `depth` levels of a hierarchical key from its encoding (`encode`: tag 5, then
/// `len: u16 BE | level` per level), which may go on with more levels and the item's id;
/// `None` if the bytes are not such an encoding.
pub(crate) fn decode_levels(bytes: &[u8], depth: usize) -> Option<Vec<PartitionKey>> {
    let mut rest = bytes.strip_prefix(&[5])?;
    let mut levels = Vec::with_capacity(depth);
    for _ in 0..depth {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let level = tail.get(..len)?;
        levels.push(decode_level(level)?);
        rest = &tail[len..];
    }
    Some(levels)
}

/// One level (or a single-path key) from its encoding.
fn decode_level(bytes: &[u8]) -> Option<PartitionKey> {
    let (&tag, body) = bytes.split_first()?;
    match (tag, body) {
        (0, []) => Some(PartitionKey::None),
        (1, []) => Some(PartitionKey::Null),
        (2, [0]) => Some(PartitionKey::Bool(false)),
        (2, [1]) => Some(PartitionKey::Bool(true)),
        (3, bits) => Some(PartitionKey::Number(f64::from_bits(u64::from_be_bytes(
            bits.try_into().ok()?,
        )))),
        (4, s) => Some(PartitionKey::String(std::str::from_utf8(s).ok()?.to_string())),
        _ => None,
    }
}

impl std::fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_json() {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("(none)"),
        }
    }
}

impl From<&str> for PartitionKey {
    fn from(s: &str) -> Self {
        PartitionKey::String(s.to_string())
    }
}
impl From<String> for PartitionKey {
    fn from(s: String) -> Self {
        PartitionKey::String(s)
    }
}
impl From<&String> for PartitionKey {
    fn from(s: &String) -> Self {
        PartitionKey::String(s.clone())
    }
}
impl From<bool> for PartitionKey {
    fn from(b: bool) -> Self {
        PartitionKey::Bool(b)
    }
}
impl From<f64> for PartitionKey {
    fn from(n: f64) -> Self {
        PartitionKey::Number(n)
    }
}
impl From<i64> for PartitionKey {
    fn from(n: i64) -> Self {
        PartitionKey::Number(n as f64)
    }
}
impl From<i32> for PartitionKey {
    fn from(n: i32) -> Self {
        PartitionKey::Number(f64::from(n))
    }
}
impl From<&PartitionKey> for PartitionKey {
    fn from(p: &PartitionKey) -> Self {
        p.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_decode_from_a_key_that_goes_on() {
        let key = PartitionKey::hierarchical([
            PartitionKey::from("t1"),
            PartitionKey::Number(-2.5),
            PartitionKey::None,
        ])
        .unwrap();
        let mut bytes = key.encode().unwrap();
        bytes.extend_from_slice(b"item-id");
        assert_eq!(decode_levels(&bytes, 3), Some(key.levels().to_vec()));
        assert_eq!(decode_levels(&bytes, 1), Some(vec![PartitionKey::from("t1")]));
        for level in [
            PartitionKey::Null,
            PartitionKey::Bool(true),
            PartitionKey::Bool(false),
        ] {
            let one = PartitionKey::hierarchical([level.clone()]).unwrap();
            assert_eq!(decode_levels(&one.encode().unwrap(), 1), Some(vec![level]));
        }
        // Not a hierarchical encoding, cut short, or a bad tag: nothing.
        assert_eq!(
            decode_levels(&PartitionKey::from("t1").encode().unwrap(), 1),
            None
        );
        assert_eq!(decode_levels(&bytes[..4], 1), None);
        assert_eq!(decode_levels(&[5, 0, 1, 9], 1), None);
    }

    #[test]
    fn extraction_and_encoding() {
        let item = json!({"id": "1", "tenant": "acme", "a": {"b": 7}, "n": null});
        let p = |s: &str| super::super::pk_definition::validate_partition_key_path(s).unwrap();
        assert_eq!(
            PartitionKey::extract(&item, &p("/tenant")).unwrap(),
            "acme".into()
        );
        assert_eq!(
            PartitionKey::extract(&item, &p("/a/b")).unwrap(),
            PartitionKey::Number(7.0)
        );
        assert_eq!(
            PartitionKey::extract(&item, &p("/n")).unwrap(),
            PartitionKey::Null
        );
        assert_eq!(
            PartitionKey::extract(&item, &p("/missing")).unwrap(),
            PartitionKey::None
        );
        assert_eq!(PartitionKey::extract(&item, &p("/a")).unwrap_err().status(), 400);
        assert_eq!(
            PartitionKey::from(1i64).encode().unwrap(),
            PartitionKey::from(1.0).encode().unwrap()
        );
        assert_eq!(
            PartitionKey::from(0.0).encode().unwrap(),
            PartitionKey::from(-0.0).encode().unwrap()
        );
        assert_ne!(
            PartitionKey::from("1").encode().unwrap(),
            PartitionKey::from(1i64).encode().unwrap()
        );
        assert_ne!(
            PartitionKey::None.encode().unwrap(),
            PartitionKey::Null.encode().unwrap()
        );
    }

    #[test]
    fn hierarchical_keys() {
        let full = PartitionKey::from_json_key(&json!(["t1", 7, {}])).unwrap();
        assert_eq!(
            full,
            PartitionKey::Hierarchical(vec!["t1".into(), 7i64.into(), PartitionKey::None])
        );
        assert_eq!(full.to_json().unwrap(), json!(["t1", 7.0, {}]));
        assert_eq!(
            PartitionKey::from_json_key(&full.to_json().unwrap()).unwrap(),
            full
        );
        assert_eq!(full.to_string(), r#"["t1",7.0,{}]"#);
        // A one-element array is the REST header form of a single value.
        assert_eq!(PartitionKey::from_json_key(&json!(["a"])).unwrap(), "a".into());
        for bad in [
            json!([]),
            json!([1, 2, 3, 4]),
            json!([[1], 2]),
            json!(["a", {"x": 1}]),
        ] {
            assert_eq!(
                PartitionKey::from_json_key(&bad).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
        assert!(PartitionKey::hierarchical([PartitionKey::Hierarchical(vec!["a".into()])]).is_err());
        let prefix = PartitionKey::hierarchical(["t1"]).unwrap();
        assert!(prefix.covers(&full));
        assert!(full.covers(&full));
        assert!(!full.covers(&prefix));
        assert!(!PartitionKey::hierarchical(["t2"]).unwrap().covers(&full));
        assert!(!PartitionKey::from("t1").covers(&full));
        // Each level is self-delimiting: a prefix's bytes start the full key's, and a level
        // that extends another's value is not under it.
        let enc = full.encode().unwrap();
        assert!(enc.starts_with(&prefix.encode().unwrap()));
        let longer = PartitionKey::hierarchical(["t1x", "u"])
            .unwrap()
            .encode()
            .unwrap();
        assert!(!longer.starts_with(&prefix.encode().unwrap()));
        assert_eq!(full.levels().len(), 3);
        assert_eq!(PartitionKey::from("a").levels(), &[PartitionKey::from("a")]);
        let nan =
            PartitionKey::hierarchical([PartitionKey::from("a"), PartitionKey::Number(f64::NAN)]).unwrap();
        assert_eq!(nan.encode().unwrap_err().status(), 400);
    }
}
