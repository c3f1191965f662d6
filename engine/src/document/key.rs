//! LSM key of an item. The partition key is length-prefixed so that no (pk, id) pair can alias
//! another; all items of one partition share a prefix (for feed ranges and scans later).
//!
//! ```text
//! item_key := 0x01 | container_id: u32 BE | pk_len: u16 BE | pk (PartitionKey::encode) | id (UTF-8)
//! container_prefix := 0x01 | container_id: u32 BE                       (every item of a container)
//! partition_prefix := 0x01 | container_id: u32 BE | pk_len: u16 BE | pk   (every item of a partition)
//! ```
//!
//! The first byte is `KeySpace::Item` (keyspace.rs); this file owns the rest of the key and
//! must not write keys of any other space.

use super::partition_key::PartitionKey;
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;

pub(crate) fn item_key(container_id: u32, pk: &PartitionKey, id: &str) -> Result<Vec<u8>> {
    let mut k = partition_prefix(container_id, pk)?;
    k.extend_from_slice(id.as_bytes());
    Ok(k)
}

/// The prefix every item key of the container starts with.
pub(crate) fn container_prefix(container_id: u32) -> Vec<u8> {
    KeySpace::Item.container_prefix(container_id)
}

/// The container id of an item key; `None` for a key that is not an item's.
pub(crate) fn container_of(key: &[u8]) -> Option<u32> {
    KeySpace::Item.container_of(key)
}

/// The prefix every item key of one partition starts with (and no key of another partition:
/// the partition key is length-prefixed).
pub(crate) fn partition_prefix(container_id: u32, pk: &PartitionKey) -> Result<Vec<u8>> {
    if let PartitionKey::Number(n) = pk {
        if !n.is_finite() {
            return Err(Error::BadRequest(format!(
                "partition key {n} is not a finite number; use a finite number, a string, a boolean or null"
            )));
        }
    }
    let pk = pk.encode();
    let pk_len = u16::try_from(pk.len())
        .map_err(|_| Error::BadRequest("partition key value is longer than 65,535 bytes".into()))?;
    let mut k = container_prefix(container_id);
    k.extend_from_slice(&pk_len.to_be_bytes());
    k.extend_from_slice(&pk);
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_aliasing() {
        let a = item_key(1, &"ab".into(), "c").unwrap();
        let b = item_key(1, &"a".into(), "bc").unwrap();
        assert_ne!(a, b);
        assert_ne!(
            item_key(1, &"a".into(), "x").unwrap(),
            item_key(2, &"a".into(), "x").unwrap()
        );
        assert!(item_key(1, &"x".repeat(70_000).into(), "x").is_err());
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                item_key(1, &PartitionKey::Number(n), "x").unwrap_err().status(),
                400
            );
            assert_eq!(
                partition_prefix(1, &PartitionKey::Number(n))
                    .unwrap_err()
                    .status(),
                400
            );
        }
    }

    #[test]
    fn prefixes_nest() {
        let key = item_key(7, &"ab".into(), "id").unwrap();
        let part = partition_prefix(7, &"ab".into()).unwrap();
        assert!(key.starts_with(&part));
        assert!(part.starts_with(&container_prefix(7)));
        assert_eq!(container_prefix(7), vec![KeySpace::Item.tag(), 0, 0, 0, 7]);
        // A partition whose value extends another's is not under the shorter one's prefix.
        assert!(!item_key(7, &"abc".into(), "id").unwrap().starts_with(&part));
        assert!(!item_key(8, &"ab".into(), "id")
            .unwrap()
            .starts_with(&container_prefix(7)));
    }
}
