//! The LSM's unit of data: a key, its sequence number and a value or a tombstone; and the write
//! batch callers hand to `Db::write`. Byte strings only: the LSM knows nothing of JSON.

/// One version of one key. `value == None` is a tombstone (a delete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) key: Vec<u8>,
    pub(crate) seq: u64,
    pub(crate) value: Option<Vec<u8>>,
}

/// What a point lookup found of a key: its newest version's sequence number and value (`None`:
/// a tombstone), or `None` when the source does not know the key.
pub(crate) type Found = Option<(u64, Option<Vec<u8>>)>;

pub(crate) const KIND_PUT: u8 = 1;
pub(crate) const KIND_DELETE: u8 = 2;

/// An ordered list of puts and deletes applied atomically: one WAL record, consecutive sequence
/// numbers, all or nothing after a crash.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    pub(crate) ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push((key.into(), Some(value.into())));
        self
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push((key.into(), None));
        self
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
