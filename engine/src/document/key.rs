//! LSM key of an item. The partition key is length-prefixed so that no (pk, id) pair can alias
//! another; all items of one partition share a prefix (for feed ranges and scans later).
//!
//! ```text
//! item_key := 0x01 | container_id: u32 BE | pk_len: u16 BE | pk (PartitionKey::encode) | id (UTF-8)
//! container_prefix := 0x01 | container_id: u32 BE                       (every item of a container)
//! partition_prefix := 0x01 | container_id: u32 BE | pk_len: u16 BE | pk   (every item of a partition)
//!
//! hierarchical (MultiHash containers):
//! item_key         := 0x01 | container_id: u32 BE | 0x0000 | pk (tag 5, then per level: len: u16 BE | level) | id
//! partition_prefix := the same without the id, for a full key or a prefix of its levels
//! ```
//!
//! A hierarchical key writes 0 where `pk_len` goes (no single-value key encodes to 0 bytes, so
//! the two never alias) and relies on its levels being self-delimiting instead: so the prefix
//! of the item keys of every partition under `["t1"]` is the prefix of `["t1"]` itself, and a
//! query or feed by a prefix of the levels reads one key range. Each container holds keys of
//! one kind only (its definition says which), and a full key has all of its levels, so the id
//! is what follows the last level.
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
    let hierarchical = matches!(pk, PartitionKey::Hierarchical(_));
    let pk = pk.encode()?;
    // Every key is bounded as a single value's is (its length fits `pk_len`), whether or not
    // the length is written.
    let len = u16::try_from(pk.len())
        .map_err(|_| Error::BadRequest("partition key value is longer than 65,535 bytes".into()))?;
    let pk_len = if hierarchical { 0 } else { len };
    let mut k = container_prefix(container_id);
    k.extend_from_slice(&pk_len.to_be_bytes());
    k.extend_from_slice(&pk);
    Ok(k)
}

/// The prefix every item key of a hierarchical (`MultiHash`) container starts with: the
/// container's, then the 0 that stands for `pk_len`.
pub(crate) fn hierarchical_prefix(container_id: u32) -> Vec<u8> {
    let mut k = container_prefix(container_id);
    k.extend_from_slice(&0u16.to_be_bytes());
    k
}

/// The first `depth` levels of the hierarchical key of an item key of `container_id` (`None`
/// if the key is not such an item key).
pub(crate) fn leading_levels(container_id: u32, key: &[u8], depth: usize) -> Option<Vec<PartitionKey>> {
    let rest = key.strip_prefix(hierarchical_prefix(container_id).as_slice())?;
    super::partition_key::decode_levels(rest, depth)
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

    #[test]
    fn hierarchical_prefixes_are_key_ranges() {
        let h = |levels: &[&str]| PartitionKey::hierarchical(levels.iter().copied()).unwrap();
        let key = item_key(7, &h(&["t1", "u1"]), "id").unwrap();
        assert!(key.starts_with(&partition_prefix(7, &h(&["t1"])).unwrap()));
        assert!(key.starts_with(&partition_prefix(7, &h(&["t1", "u1"])).unwrap()));
        assert!(!key.starts_with(&partition_prefix(7, &h(&["t1", "u"])).unwrap()));
        assert!(!key.starts_with(&partition_prefix(7, &h(&["t"])).unwrap()));
        assert!(!item_key(7, &h(&["t10", "u1"]), "id")
            .unwrap()
            .starts_with(&partition_prefix(7, &h(&["t1"])).unwrap()));
        let big = "x".repeat(30_000);
        let e = item_key(7, &h(&[&big, &big, &big]), "id").unwrap_err();
        assert_eq!(e.status(), 400);
        // Never the key of a single-valued partition.
        assert!(!key.starts_with(&partition_prefix(7, &"t1".into()).unwrap()));
        assert_ne!(
            item_key(7, &h(&["a", "b"]), "c").unwrap(),
            item_key(7, &h(&["a", "bc"]), "").unwrap()
        );
    }
}
