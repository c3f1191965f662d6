//! WAL byte layout, shared by writer and reader. See docs/format.md#wal.
//!
//! ```text
//! wal    := header (util::file_header, magic "STRWAL01") | frame*
//! frame  := len: u32 | len_crc: u32 | crc: u32 | sealed[len]
//!           len_crc = crc32(len bytes), crc = crc32(sealed)
//! sealed := FileCipher::seal(block_no = record number in this file, BlockKind::WalRecord, record)
//! record := commit_ms: u64 | batch        (version 2; version 1 files: batch only)
//! batch  := first_seq: u64 | count: u32 | op*
//! op     := kind: u8 (1 put, 2 delete) | key: bytes | value: bytes (put only)
//! bytes  := len: u32 | data
//! ```

use crate::kv::{Record, KIND_DELETE, KIND_PUT};
use strata_base::coding::{put_bytes, put_u32, put_u64, put_u8, Reader};

pub(crate) const FRAME_HEADER_LEN: usize = 12;

/// A version-2 record: the group's commit time (Unix ms) and its batch.
pub(crate) fn encode_record(commit_ms: u64, first_seq: u64, ops: &[(&[u8], Option<&[u8]>)]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, commit_ms);
    out.extend_from_slice(&encode_batch(first_seq, ops));
    out
}

/// The commit time (0 in a version-1 file, which has none) and records of one sealed record.
pub(crate) fn decode_record(bytes: &[u8], version: u32) -> Option<(u64, Vec<Record>)> {
    if version == crate::format_version::WAL_VERSION_V1 {
        return decode_batch(bytes).map(|r| (0, r));
    }
    let (ms, batch) = bytes.split_at_checked(8)?;
    let commit_ms = u64::from_le_bytes(ms.try_into().ok()?);
    decode_batch(batch).map(|r| (commit_ms, r))
}

pub(crate) fn encode_batch(first_seq: u64, ops: &[(&[u8], Option<&[u8]>)]) -> Vec<u8> {
    let size: usize = ops
        .iter()
        .map(|(k, v)| k.len() + v.map_or(0, <[u8]>::len) + 9)
        .sum();
    let mut out = Vec::with_capacity(12 + size);
    put_u64(&mut out, first_seq);
    put_u32(&mut out, ops.len() as u32);
    for (k, v) in ops {
        match v {
            Some(v) => {
                put_u8(&mut out, KIND_PUT);
                put_bytes(&mut out, k);
                put_bytes(&mut out, v);
            }
            None => {
                put_u8(&mut out, KIND_DELETE);
                put_bytes(&mut out, k);
            }
        }
    }
    out
}

/// `None` if the batch does not parse (a sealed-and-authenticated batch always parses, so this
/// only happens on a bug or a forged key).
pub(crate) fn decode_batch(bytes: &[u8]) -> Option<Vec<Record>> {
    let mut r = Reader::new(bytes);
    let first = r.u64()?;
    let count = r.u32()?;
    let mut out = Vec::with_capacity((count as usize).min(1 << 16));
    for i in 0..count as u64 {
        let kind = r.u8()?;
        let key = r.bytes()?.to_vec();
        let value = match kind {
            KIND_PUT => Some(r.bytes()?.to_vec()),
            KIND_DELETE => None,
            _ => return None,
        };
        out.push(Record {
            key,
            seq: first.checked_add(i)?,
            value,
        });
    }
    r.is_empty().then_some(out)
}

pub(crate) fn encode_frame(sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + sealed.len());
    let len = (sealed.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    put_u32(&mut out, crc32fast::hash(&len));
    put_u32(&mut out, crc32fast::hash(sealed));
    out.extend_from_slice(sealed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip() {
        let enc = encode_batch(10, &[(b"a", Some(b"1")), (b"b", None), (b"", Some(b""))]);
        let recs = decode_batch(&enc).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(
            recs[1],
            Record {
                key: b"b".to_vec(),
                seq: 11,
                value: None
            }
        );
        assert_eq!(recs[2].value.as_deref(), Some(&b""[..]));
        assert!(decode_batch(&enc[..enc.len() - 1]).is_none());
    }

    #[test]
    fn record_carries_its_commit_time_and_v1_has_none() {
        let enc = encode_record(1234, 5, &[(b"a", Some(b"1"))]);
        let (ms, recs) = decode_record(&enc, crate::format_version::WAL_VERSION).unwrap();
        assert_eq!((ms, recs.len(), recs[0].seq), (1234, 1, 5));
        let v1 = encode_batch(5, &[(b"a", Some(b"1"))]);
        let (ms, recs) = decode_record(&v1, crate::format_version::WAL_VERSION_V1).unwrap();
        assert_eq!((ms, recs.len()), (0, 1));
        assert!(decode_record(&enc[..7], crate::format_version::WAL_VERSION).is_none());
    }
}
