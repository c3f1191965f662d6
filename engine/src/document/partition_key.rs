//! Partition-key values: string, number, boolean, null, or none (the path is missing from the
//! item). Plaintext by contract: they appear in LSM keys (sealed) and may appear in plaintext
//! metadata. Numbers compare by value (1 and 1.0 are the same key).

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
}

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
        }
    }

    /// Canonical bytes for the LSM key: a type tag, then the value.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
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
        }
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
    fn extraction_and_encoding() {
        let item = json!({"id": "1", "tenant": "acme", "a": {"b": 7}, "n": null});
        let p = |s: &str| crate::catalog::validate_partition_key_path(s).unwrap();
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
            PartitionKey::from(1i64).encode(),
            PartitionKey::from(1.0).encode()
        );
        assert_eq!(
            PartitionKey::from(0.0).encode(),
            PartitionKey::from(-0.0).encode()
        );
        assert_ne!(
            PartitionKey::from("1").encode(),
            PartitionKey::from(1i64).encode()
        );
        assert_ne!(PartitionKey::None.encode(), PartitionKey::Null.encode());
    }
}
