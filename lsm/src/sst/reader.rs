//! Reads a segment: validates header and footer at open, keeps the (opened) index and filter in
//! memory, and opens data blocks on demand through the block cache. Blocks are read with
//! positional reads (`pread`), not through a memory map: a map's touched pages count in the
//! process's resident set (a bulk load's compactions pushed it past 1 GiB of clean file pages)
//! and a page fault cannot be failed by the I/O seam, while a read can. Thread-safe: a `Segment`
//! is immutable and shared by readers via `Arc`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::block::DataBlock;
use super::bloom::{Bloom, KeyHash};
use super::format::{Footer, Handle, BLOCK_TRAILER_LEN, FOOTER_LEN, MAX_RAW_BLOCK};
use super::index::BlockIndex;
use crate::cache::BlockCache;
use crate::cipher::{BlockKind, CipherSuite, FileCipher, FileKind};
use crate::error::{Error, Result};
use crate::file_header::{FileHeader, HEADER_LEN};
use crate::format_version::{SEGMENT_MAGIC, SEGMENT_VERSION, SEGMENT_VERSION_V1};
use crate::kv::{Found, Record};
use strata_base::coding::Reader;

pub(crate) struct Segment {
    id: u64,
    path: PathBuf,
    file: std::fs::File,
    len: u64,
    cipher: FileCipher,
    /// The format version its header records (`SEGMENT_VERSION`, or an older one still read).
    version: u32,
    index: BlockIndex,
    filter: Bloom,
    smallest: Vec<u8>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Segment({})", self.path.display())
    }
}

impl Segment {
    pub(crate) fn open(path: &Path, id: u64, suite: &CipherSuite) -> Result<Segment> {
        let file =
            strata_base::faults::open_read(path).map_err(|e| Error::io_path("opening segment", path, e))?;
        // Segment files are written once, fsynced, and never modified afterwards; a file is
        // unlinked only after compaction, which on Unix leaves open descriptors valid.
        let len = file
            .metadata()
            .map_err(|e| Error::io_path("reading the size of segment", path, e))?
            .len();
        let read = |offset: u64, n: u64| {
            strata_base::faults::read_at(&file, path, offset, n as usize)
                .map_err(|e| Error::io_path("reading segment", path, e))
        };
        let head = read(0, len.min(HEADER_LEN as u64))?;
        let header = FileHeader::decode(
            path,
            SEGMENT_MAGIC,
            &[SEGMENT_VERSION, SEGMENT_VERSION_V1],
            Some(id),
            suite.readable_layers(),
            &head,
        )?;
        let tail_at = len.saturating_sub(FOOTER_LEN as u64);
        let tail = read(tail_at, len - tail_at)?;
        let footer = Footer::decode_at(path, &tail, tail_at)?;
        let cipher = suite.file(FileKind::Segment, id, &header.salt, header.layers)?;
        let mut seg = Segment {
            id,
            path: path.to_path_buf(),
            file,
            len,
            cipher,
            version: header.version,
            index: BlockIndex::new(HEADER_LEN as u64, 0),
            filter: Bloom::everything(),
            smallest: Vec::new(),
        };
        let n = u64::from(footer.data_blocks);
        let index = seg.open_block(footer.index, n, BlockKind::Index)?;
        seg.parse_index(&index, footer)?;
        let filter = seg.open_block(footer.filter, n + 1, BlockKind::Filter)?;
        // The filter's format follows the header's version; bytes of the other format are
        // refused, so an altered version field cannot make a filter read wrong (and hide keys).
        seg.filter = Bloom::decode(&filter, seg.version)
            .ok_or_else(|| Error::corruption(path, footer.filter.offset, "filter block does not parse"))?;
        Ok(seg)
    }

    fn parse_index(&mut self, index: &[u8], footer: Footer) -> Result<()> {
        let bad =
            |what: &str| Error::corruption(&self.path, footer.index.offset, format!("index block: {what}"));
        let mut r = Reader::new(index);
        let count = r.u32().ok_or_else(|| bad("truncated"))?;
        if count != footer.data_blocks {
            return Err(bad("block count disagrees with the footer"));
        }
        // Each entry takes at least 16 bytes (key length, offset, length): a count the block
        // cannot hold must not size the allocation.
        let mut entries = BlockIndex::new(HEADER_LEN as u64, (count as usize).min(r.remaining() / 16));
        let mut expect_offset = HEADER_LEN as u64;
        for _ in 0..count {
            let (Some(k), Some(offset), Some(len)) = (r.bytes(), r.u64(), r.u32()) else {
                return Err(bad("truncated entry"));
            };
            // Blocks are contiguous from the header on; anything else is damage.
            if offset != expect_offset {
                return Err(bad("block handles are not contiguous"));
            }
            expect_offset = offset + u64::from(len);
            if !entries.push(k, expect_offset) {
                return Err(bad("keys too long in all"));
            }
        }
        entries.shrink();
        if expect_offset != footer.index.offset {
            return Err(bad("data blocks do not end where the index begins"));
        }
        // Entry count and max sequence number follow; the manifest keeps its own copy of them.
        let (Some(smallest), Some(_entries), Some(_max_seq)) = (r.bytes(), r.u64(), r.u64()) else {
            return Err(bad("truncated trailer"));
        };
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        self.index = entries;
        self.smallest = smallest.to_vec();
        Ok(())
    }

    /// Checks the CRC and opens the seal of the block at `h`.
    fn open_block(&self, h: Handle, block_no: u64, kind: BlockKind) -> Result<Vec<u8>> {
        let inside = h
            .offset
            .checked_add(u64::from(h.len))
            .is_some_and(|end| end <= self.len)
            && h.len as usize >= BLOCK_TRAILER_LEN;
        if !inside {
            return Err(Error::corruption(
                &self.path,
                h.offset,
                "block handle points outside the file",
            ));
        }
        let mut raw = strata_base::faults::read_at(&self.file, &self.path, h.offset, h.len as usize)
            .map_err(|e| Error::io_path("reading segment", &self.path, e))?;
        let sealed_len = raw.len() - BLOCK_TRAILER_LEN;
        let (sealed, crc) = raw.split_at(sealed_len);
        if crc32fast::hash(sealed).to_le_bytes() != crc {
            return Err(Error::corruption(
                &self.path,
                h.offset,
                format!("{kind:?} block {block_no}: checksum mismatch"),
            ));
        }
        // Opened in the buffer it was read into: no copy of the block.
        raw.truncate(sealed_len);
        self.cipher.open_owned(block_no, kind, raw)?.ok_or_else(|| {
            Error::corruption(
                &self.path,
                h.offset,
                format!("{kind:?} block {block_no}: fails authentication"),
            )
        })
    }

    /// Data block `i`, from `cache` if it holds it; a block read from the file is put in the
    /// cache only if `fill`.
    fn data_block(&self, i: usize, cache: Option<&BlockCache>, fill: bool) -> Result<Arc<DataBlock>> {
        if let Some(b) = cache.and_then(|c| c.get(self.id, i as u32)) {
            return Ok(b);
        }
        let h = self
            .index
            .handle(i)
            .ok_or_else(|| Error::Internal(format!("block {i} out of range")))?;
        let plain = self.open_block(h, i as u64, BlockKind::Data)?;
        let bad = |what: &str| Error::corruption(&self.path, h.offset, format!("data block {i}: {what}"));
        let mut r = Reader::new(&plain);
        let raw_len = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        if raw_len > MAX_RAW_BLOCK {
            return Err(bad("implausible size"));
        }
        let raw = super::codec::decompress(r.take(r.remaining()).unwrap_or_default(), raw_len)
            .map_err(|e| bad(&format!("does not decompress: {e}")))?;
        if raw.len() != raw_len {
            return Err(bad("decompressed size differs"));
        }
        let block = Arc::new(DataBlock::decode(raw).ok_or_else(|| bad("does not parse"))?);
        if let Some(c) = cache.filter(|_| fill) {
            c.insert(self.id, i as u32, block.clone());
        }
        Ok(block)
    }

    /// Index of the first block whose bound is >= `key`: the only block that can hold it.
    fn block_for(&self, key: &[u8]) -> usize {
        self.index.block_for(key)
    }

    /// The newest version of `key` in this segment: `Some((seq, None))` is a tombstone.
    /// `hash`: the key's hash, given when the key is one the filter policy puts in bloom
    /// filters, so the filter may answer "absent" without reading a block (`None`: it is not
    /// consulted). Computed once by the caller for all the segments a read probes.
    pub(crate) fn get(&self, key: &[u8], hash: Option<KeyHash>, cache: &BlockCache) -> Result<Found> {
        if hash.is_some_and(|h| !self.filter.may_contain(key, h)) {
            return Ok(None);
        }
        let i = self.block_for(key);
        if i >= self.index.len() {
            return Ok(None);
        }
        Ok(self.data_block(i, Some(cache), true)?.get(key))
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The format version its header records.
    pub(crate) fn format_version(&self) -> u32 {
        self.version
    }

    /// The seal layers its header records.
    pub(crate) fn layers(&self) -> u8 {
        self.cipher.layers()
    }

    /// The file's size in bytes.
    pub(crate) fn file_len(&self) -> u64 {
        self.len
    }

    pub(crate) fn smallest(&self) -> &[u8] {
        &self.smallest
    }

    /// Bytes its block index holds in memory.
    pub(crate) fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Bytes its bloom filter holds in memory.
    pub(crate) fn filter_bytes(&self) -> usize {
        self.filter.heap_bytes()
    }

    /// The segment's largest key: the last block's bound, which the writer keeps exact.
    pub(crate) fn largest(&self) -> &[u8] {
        self.index
            .len()
            .checked_sub(1)
            .map_or(&[][..], |i| self.index.bound(i))
    }
}

/// Iterates a segment's records in key order from a start key, block by block. Compaction
/// passes no cache so a full merge does not flush the hot set; a scan that reads its range
/// once uses the cache's blocks without adding its own (`once`).
pub(crate) struct SegmentIter<'c> {
    seg: Arc<Segment>,
    cache: Option<&'c BlockCache>,
    /// Blocks read from the file go into `cache`.
    fill: bool,
    block: usize,
    pos: usize,
    current: Option<Arc<DataBlock>>,
    failed: bool,
    /// A failure to read the first block, reported by the first `next` (not retried).
    start_error: Option<Error>,
}

impl<'c> SegmentIter<'c> {
    pub(crate) fn new(seg: Arc<Segment>, start: &[u8], cache: Option<&'c BlockCache>) -> SegmentIter<'c> {
        Self::filling(seg, start, cache, true)
    }

    /// For a scan that reads its range once (an aggregate, a whole result): blocks the cache
    /// holds are used, blocks read from the file are not added, so the scan neither pushes the
    /// point reads' hot set out nor makes the cache's memory resident.
    pub(crate) fn once(seg: Arc<Segment>, start: &[u8], cache: Option<&'c BlockCache>) -> SegmentIter<'c> {
        Self::filling(seg, start, cache, false)
    }

    fn filling(
        seg: Arc<Segment>,
        start: &[u8],
        cache: Option<&'c BlockCache>,
        fill: bool,
    ) -> SegmentIter<'c> {
        let block = seg.block_for(start);
        let mut it = SegmentIter {
            seg,
            cache,
            fill,
            block,
            pos: 0,
            current: None,
            failed: false,
            start_error: None,
        };
        if it.block < it.seg.index.len() {
            match it.load() {
                Ok(b) => it.pos = b.lower_bound(start),
                Err(e) => it.start_error = Some(e),
            }
        }
        it
    }

    fn load(&mut self) -> Result<Arc<DataBlock>> {
        if let Some(b) = &self.current {
            return Ok(b.clone());
        }
        let b = self.seg.data_block(self.block, self.cache, self.fill)?;
        self.current = Some(b.clone());
        Ok(b)
    }
}

impl Iterator for SegmentIter<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if let Some(e) = self.start_error.take() {
            self.failed = true;
            return Some(Err(e));
        }
        loop {
            if self.failed || self.block >= self.seg.index.len() {
                return None;
            }
            let b = match self.load() {
                Ok(b) => b,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            };
            if self.pos < b.len() {
                let r = b.record(self.pos);
                self.pos += 1;
                return Some(r.ok_or_else(|| Error::Internal("validated block entry unreadable".into())));
            }
            self.block += 1;
            self.pos = 0;
            self.current = None;
        }
    }
}

/// Iterates a segment's records in descending key order from just below an end key, block by
/// block (for reverse scans; a segment holds one version of each key).
pub(crate) struct SegmentRevIter<'c> {
    seg: Arc<Segment>,
    cache: Option<&'c BlockCache>,
    /// The block being read, and the number of its entries not yet returned (those below `pos`).
    block: usize,
    pos: usize,
    current: Option<Arc<DataBlock>>,
    failed: bool,
    start_error: Option<Error>,
}

impl<'c> SegmentRevIter<'c> {
    /// Starts at the largest key `< end`.
    pub(crate) fn new(seg: Arc<Segment>, end: &[u8], cache: Option<&'c BlockCache>) -> SegmentRevIter<'c> {
        let n = seg.index.len();
        let first = seg.block_for(end);
        let mut it = SegmentRevIter {
            seg,
            cache,
            block: first.min(n.saturating_sub(1)),
            pos: 0,
            current: None,
            failed: n == 0,
            start_error: None,
        };
        if n > 0 {
            match it.seg.data_block(it.block, it.cache, true) {
                Ok(b) => {
                    it.pos = if first >= n { b.len() } else { b.lower_bound(end) };
                    it.current = Some(b);
                }
                Err(e) => it.start_error = Some(e),
            }
        }
        it
    }
}

impl Iterator for SegmentRevIter<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if let Some(e) = self.start_error.take() {
            self.failed = true;
            return Some(Err(e));
        }
        loop {
            if self.failed {
                return None;
            }
            let b = match &self.current {
                Some(b) => b.clone(),
                None => match self.seg.data_block(self.block, self.cache, true) {
                    Ok(b) => {
                        self.pos = b.len();
                        self.current = Some(b.clone());
                        b
                    }
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                },
            };
            if self.pos > 0 {
                self.pos -= 1;
                let r = b.record(self.pos);
                return Some(r.ok_or_else(|| Error::Internal("validated block entry unreadable".into())));
            }
            if self.block == 0 {
                self.failed = true;
                return None;
            }
            self.block -= 1;
            self.current = None;
        }
    }
}
