//! Data blocks: a run of sorted entries with an offsets array for binary search. Encoded plain
//! here; compression and sealing happen in writer/reader. Pure; thread-safe.

use crate::kv::{Record, KIND_DELETE, KIND_PUT};
use strata_base::coding::{put_bytes, put_u32, put_u64, put_u8, u32_at, Reader};

/// Accumulates entries (in key order) of one block.
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    offsets: Vec<u32>,
}

impl BlockBuilder {
    pub(crate) fn new() -> Self {
        BlockBuilder {
            buf: Vec::new(),
            offsets: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, r: &Record) {
        self.offsets.push(self.buf.len() as u32);
        put_bytes(&mut self.buf, &r.key);
        put_u64(&mut self.buf, r.seq);
        match &r.value {
            Some(v) => {
                put_u8(&mut self.buf, KIND_PUT);
                put_bytes(&mut self.buf, v);
            }
            None => put_u8(&mut self.buf, KIND_DELETE),
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.buf.len() + 4 * self.offsets.len() + 4
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Returns the encoded block and resets the builder.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for o in &self.offsets {
            put_u32(&mut out, *o);
        }
        put_u32(&mut out, self.offsets.len() as u32);
        self.offsets.clear();
        out
    }
}

/// One entry as stored: key, sequence number, value (`None` = tombstone).
type EntryRef<'a> = (&'a [u8], u64, Option<&'a [u8]>);

/// A decoded, validated data block.
pub(crate) struct DataBlock {
    data: Vec<u8>,
    offsets: Vec<u32>,
}

impl DataBlock {
    /// `None` if the block is malformed (never after a successful AEAD open, barring bugs).
    pub(crate) fn decode(mut data: Vec<u8>) -> Option<DataBlock> {
        let n = u32_at(&data, data.len().checked_sub(4)?)? as usize;
        let table_start = data.len().checked_sub(4 + n.checked_mul(4)?)?;
        let offsets: Vec<u32> = (0..n)
            .map(|i| u32_at(&data, table_start + 4 * i))
            .collect::<Option<_>>()?;
        data.truncate(table_start);
        let block = DataBlock { data, offsets };
        // Validate every entry once so later accesses cannot fail half-way.
        let mut prev: Option<&[u8]> = None;
        for i in 0..n {
            let r = block.entry(i)?;
            if prev.is_some_and(|p| p >= r.0) {
                return None;
            }
            prev = Some(r.0);
        }
        Some(block)
    }

    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// `(key, seq, value)` of entry `i`.
    fn entry(&self, i: usize) -> Option<EntryRef<'_>> {
        let off = *self.offsets.get(i)? as usize;
        let mut r = Reader::new(self.data.get(off..)?);
        let key = r.bytes()?;
        let seq = r.u64()?;
        let value = match r.u8()? {
            KIND_PUT => Some(r.bytes()?),
            KIND_DELETE => None,
            _ => return None,
        };
        Some((key, seq, value))
    }

    pub(crate) fn record(&self, i: usize) -> Option<Record> {
        let (k, seq, v) = self.entry(i)?;
        Some(Record {
            key: k.to_vec(),
            seq,
            value: v.map(<[u8]>::to_vec),
        })
    }

    /// Index of the first entry with key >= `key` (may be `len()`).
    pub(crate) fn lower_bound(&self, key: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, self.offsets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.entry(mid) {
                Some((k, _, _)) if k < key => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<(u64, Option<Vec<u8>>)> {
        let i = self.lower_bound(key);
        let (k, seq, v) = self.entry(i)?;
        (k == key).then(|| (seq, v.map(<[u8]>::to_vec)))
    }

    /// Bytes held, for the cache's accounting.
    pub(crate) fn charge(&self) -> usize {
        self.data.len() + 4 * self.offsets.len() + 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(k: &str, seq: u64, v: Option<&str>) -> Record {
        Record {
            key: k.as_bytes().to_vec(),
            seq,
            value: v.map(|v| v.as_bytes().to_vec()),
        }
    }

    #[test]
    fn round_trip_and_search() {
        let mut b = BlockBuilder::new();
        let recs = [rec("a", 1, Some("x")), rec("c", 2, None), rec("e", 3, Some(""))];
        for r in &recs {
            b.add(r);
        }
        let block = DataBlock::decode(b.finish()).unwrap();
        assert_eq!(block.len(), 3);
        assert_eq!(block.get(b"c"), Some((2, None)));
        assert_eq!(block.get(b"e"), Some((3, Some(vec![]))));
        assert_eq!(block.get(b"b"), None);
        assert_eq!(block.lower_bound(b"b"), 1);
        assert_eq!(block.lower_bound(b"z"), 3);
        assert_eq!(block.record(0), Some(recs[0].clone()));
        assert!(b.is_empty());
        assert!(DataBlock::decode(vec![1, 2]).is_none());
        assert!(DataBlock::decode(vec![0, 0, 0, 9]).is_none());
    }
}
