//! The change feed's records and LSM keys. Every write of an item also writes, in the same batch,
//! one all-versions record (what happened: metadata only), one latest-version pointer (from the
//! write's LSN to the item's key; the previous pointer of the item is deleted), the container's
//! LSN high-water mark and, when it replaces or deletes a version, that version's image. A
//! version's image is stored once: under the item's key while it is the newest, under its image
//! key once superseded (so a bulk load writes each body once, not twice). Records written before
//! 2026-11-26 carry their image inline as `current`. Pure encoding: the account layer writes and
//! reads them. Keys and values are sealed by the store like every other record.
//!
//! ```text
//! feed_key    := 0x02 | container_id: u32 BE | lsn: u64 BE   -> crts: u64 BE | record JSON
//! latest_key  := 0x03 | container_id: u32 BE | lsn: u64 BE   -> crts: u64 BE | item_key
//! image_key   := 0x0A | container_id: u32 BE | lsn: u64 BE   -> crts: u64 BE | the stored item
//!                (version `lsn`, written when a later write superseded it at time crts)
//! lsn_mark    := 0x04 | container_id: u32 BE                 -> lsn: u64 BE
//! conflict    := 0x05 | container_id: u32 BE | id: u64 BE    -> conflict JSON (account::conflict)
//! checkpoint  := 0x06 | container_id: u32 BE | source account id | source container: u32 BE
//!                -> checkpoint JSON (account::sync)
//! record JSON := {"metadata": {operationType, lsn, crts, previousImageLSN?, id, partitionKey?,
//!                  timeToLiveExpired?}}      (older records: also "current": item)
//! ```
//!
//! The first byte of each key is its `KeySpace` (keyspace.rs); this file lays out the rest and
//! assigns no prefix byte itself.

use serde_json::Value;

use super::partition_key::PartitionKey;
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;

/// What a change did to its item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationType {
    Create,
    Replace,
    Delete,
}

impl OperationType {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationType::Create => "create",
            OperationType::Replace => "replace",
            OperationType::Delete => "delete",
        }
    }
}

/// The key of the record at `lsn` in `space` (the feed, the latest-version pointers, the
/// images, the conflicts: `tag | container_id | lsn`).
pub(crate) fn lsn_key(space: KeySpace, container_id: u32, lsn: u64) -> Vec<u8> {
    let mut k = space.container_prefix(container_id);
    k.extend_from_slice(&lsn.to_be_bytes());
    k
}

/// The first key past every record of the container in `space`.
pub(crate) fn lsn_keys_end(space: KeySpace, container_id: u32) -> Vec<u8> {
    match container_id.checked_add(1) {
        Some(next) => space.container_prefix(next),
        None => vec![space.tag() + 1],
    }
}

/// The LSN of a key made by `lsn_key`.
pub(crate) fn lsn_of(key: &[u8]) -> Result<u64> {
    match key {
        [_, _, _, _, _, rest @ ..] if rest.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(rest);
            Ok(u64::from_be_bytes(b))
        }
        _ => Err(Error::Internal("a change-feed key has the wrong length".into())),
    }
}

/// The key holding the highest LSN the container has written (or one close below it: see
/// `account::lsn`).
pub(crate) fn lsn_mark_key(container_id: u32) -> Vec<u8> {
    KeySpace::LsnMark.container_prefix(container_id)
}

/// Splits a feed or pointer value into its commit time and body.
pub(crate) fn split_value(value: &[u8]) -> Result<(u64, &[u8])> {
    if value.len() < 8 {
        return Err(Error::Internal(
            "a change-feed record is shorter than its header".into(),
        ));
    }
    let (head, body) = value.split_at(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(head);
    Ok((u64::from_be_bytes(b), body))
}

fn with_crts(crts: u64, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + body.len());
    v.extend_from_slice(&crts.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The value of a latest-version pointer.
pub(crate) fn latest_value(crts: u64, item_key: &[u8]) -> Vec<u8> {
    with_crts(crts, item_key)
}

/// The value of an image key: the superseded version's stored bytes, behind the time it was
/// superseded (the retention clock of the compaction filter).
pub(crate) fn image_value(crts: u64, stored: &[u8]) -> Vec<u8> {
    with_crts(crts, stored)
}

/// Bytes the inline `"current":…,` of an older record added to its size; added to an image
/// fetched from elsewhere, so a page costs what it did when the image was inline.
pub(crate) const INLINE_IMAGE_OVERHEAD: usize = 11;

/// One change, as the all-versions feed returns it.
pub(crate) struct Change<'a> {
    pub(crate) op: OperationType,
    pub(crate) lsn: u64,
    pub(crate) crts: u64,
    pub(crate) previous_lsn: Option<u64>,
    pub(crate) id: &'a str,
    pub(crate) pk: &'a PartitionKey,
    pub(crate) ttl_expired: bool,
}

impl Change<'_> {
    /// The record's stored value. The metadata object is written straight into it, field by
    /// field in the order above, as `serde_json` writes such an object: the bytes a map of
    /// these fields serialised to, without building the map and its values for every write.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(8 + 128 + self.id.len());
        v.extend_from_slice(&self.crts.to_be_bytes());
        v.extend_from_slice(b"{\"metadata\":{\"operationType\":");
        json_into(&mut v, self.op.as_str())?;
        v.extend_from_slice(b",\"lsn\":");
        json_into(&mut v, &self.lsn)?;
        v.extend_from_slice(b",\"crts\":");
        json_into(&mut v, &self.crts)?;
        if let Some(p) = self.previous_lsn {
            v.extend_from_slice(b",\"previousImageLSN\":");
            json_into(&mut v, &p)?;
        }
        v.extend_from_slice(b",\"id\":");
        json_into(&mut v, self.id)?;
        if let Some(pk) = self.pk.to_json() {
            v.extend_from_slice(b",\"partitionKey\":");
            json_into(&mut v, &pk)?;
        }
        if self.ttl_expired {
            v.extend_from_slice(b",\"timeToLiveExpired\":true");
        }
        // The image is not stored here: the item's key holds it (see the module comment).
        v.extend_from_slice(b"}}");
        Ok(v)
    }
}

/// Appends `x` as JSON.
fn json_into<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, x: &T) -> Result<()> {
    serde_json::to_writer(out, x)
        .map_err(|e| Error::Internal(format!("serialising a change-feed record: {e}")))
}

/// The item's LSN (`_lsn`), if it has one (items written before the feed existed do not).
pub(crate) fn item_lsn(item: &Value) -> Option<u64> {
    item.get("_lsn").and_then(Value::as_u64)
}

/// The partition key a record's metadata names (`None` when the item had none at its path).
pub(crate) fn record_partition_key(record: &Value) -> Result<PartitionKey> {
    match record.get("metadata").and_then(|m| m.get("partitionKey")) {
        Some(v) => PartitionKey::from_json_key(v),
        None => Ok(PartitionKey::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_container_then_lsn() {
        let a = lsn_key(KeySpace::Feed, 1, 2);
        let b = lsn_key(KeySpace::Feed, 1, 256);
        let c = lsn_key(KeySpace::Feed, 2, 0);
        assert!(a < b && b < c);
        assert!(b < lsn_keys_end(KeySpace::Feed, 1) && lsn_keys_end(KeySpace::Feed, 1) <= c);
        assert!(lsn_key(KeySpace::Feed, u32::MAX, u64::MAX) < lsn_keys_end(KeySpace::Feed, u32::MAX));
        assert_eq!(lsn_of(&b).unwrap(), 256);
        assert!(lsn_of(&b[..12]).is_err());
        assert_eq!(lsn_mark_key(1), [KeySpace::LsnMark.tag(), 0, 0, 0, 1]);
    }

    /// The record as it was built before it was written field by field: a map of the
    /// fields, serialised. The stored bytes must not change.
    fn encoded_through_a_map(c: &Change<'_>) -> Vec<u8> {
        use serde_json::{json, Map};
        let mut meta = Map::new();
        meta.insert("operationType".into(), json!(c.op.as_str()));
        meta.insert("lsn".into(), json!(c.lsn));
        meta.insert("crts".into(), json!(c.crts));
        if let Some(p) = c.previous_lsn {
            meta.insert("previousImageLSN".into(), json!(p));
        }
        meta.insert("id".into(), json!(c.id));
        if let Some(pk) = c.pk.to_json() {
            meta.insert("partitionKey".into(), pk);
        }
        if c.ttl_expired {
            meta.insert("timeToLiveExpired".into(), json!(true));
        }
        let mut v = c.crts.to_be_bytes().to_vec();
        v.extend_from_slice(b"{\"metadata\":");
        v.extend_from_slice(&serde_json::to_vec(&Value::Object(meta)).unwrap());
        v.push(b'}');
        v
    }

    #[test]
    fn records_are_the_bytes_the_map_encoding_wrote() {
        let pks = [
            PartitionKey::None,
            PartitionKey::from("p \"q\" \\ \u{1} ü"),
            PartitionKey::from(-2.5),
            PartitionKey::from(7.0),
            PartitionKey::Null,
            PartitionKey::hierarchical([
                PartitionKey::Bool(true),
                PartitionKey::Null,
                PartitionKey::from("x"),
            ])
            .unwrap(),
        ];
        for pk in &pks {
            for (op, previous_lsn, ttl_expired) in [
                (OperationType::Create, None, false),
                (OperationType::Replace, Some(4), false),
                (OperationType::Delete, Some(u64::MAX), true),
            ] {
                for id in ["a", "id \"quoted\" \t ☃"] {
                    let c = Change {
                        op,
                        lsn: 9_007_199_254_740_993,
                        crts: 1_765_000_000,
                        previous_lsn,
                        id,
                        pk,
                        ttl_expired,
                    };
                    assert_eq!(c.encode().unwrap(), encoded_through_a_map(&c), "{pk} {id}");
                }
            }
        }
    }

    #[test]
    fn records_round_trip() {
        let pk = PartitionKey::from("p");
        let c = Change {
            op: OperationType::Replace,
            lsn: 9,
            crts: 1234,
            previous_lsn: Some(4),
            id: "a",
            pk: &pk,
            ttl_expired: false,
        };
        let v = c.encode().unwrap();
        let (crts, body) = split_value(&v).unwrap();
        assert_eq!(crts, 1234);
        let rec: Value = serde_json::from_slice(body).unwrap();
        // The image is not in the record: the item's key, later its image key, holds it.
        assert!(rec.get("current").is_none());
        assert_eq!(rec["metadata"]["operationType"], "replace");
        assert_eq!(rec["metadata"]["lsn"], 9);
        assert_eq!(rec["metadata"]["previousImageLSN"], 4);
        assert_eq!(record_partition_key(&rec).unwrap(), pk);
        assert!(rec["metadata"].get("timeToLiveExpired").is_none());
        assert!(split_value(&[1, 2, 3]).is_err());
        let d = Change {
            op: OperationType::Delete,
            ..c
        };
        let rec: Value = serde_json::from_slice(split_value(&d.encode().unwrap()).unwrap().1).unwrap();
        assert!(rec.get("current").is_none());
        assert_eq!(rec["metadata"]["operationType"], "delete");
        let image = image_value(77, b"{\"id\":\"a\"}");
        assert_eq!(split_value(&image).unwrap(), (77, &b"{\"id\":\"a\"}"[..]));
        assert_eq!(br#""current":,"#.len(), INLINE_IMAGE_OVERHEAD);
    }
}
