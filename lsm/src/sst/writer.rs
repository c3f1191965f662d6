//! Writes one segment file from records in key order: blocks are compressed with zstd (at the
//! level the caller chose for the segment's LSM level), sealed,
//! checksummed; then the index and filter blocks and the footer; then fsync. Single-threaded
//! (owned by a flush or compaction). A file is written once and never modified.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::block::BlockBuilder;
use super::bloom::BloomBuilder;
use super::format::{Footer, Handle, BLOCK_TARGET};
use super::separator::separator;
use crate::cipher::{BlockKind, CipherSuite, FileCipher, FileKind};
use crate::db::{every_key, FilterKeys, DEEP_ZSTD_LEVEL};
use crate::error::{Error, Result};
use crate::file_header::{FileHeader, HEADER_LEN};
use crate::format_version::{SEGMENT_MAGIC, SEGMENT_VERSION};
use crate::kv::Record;
use strata_base::coding::{put_bytes, put_u32, put_u64};
use strata_base::faults;
use strata_base::fs::create_file;

/// What the manifest records of a segment. Lives only in the sealed manifest (keys are secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    pub(crate) id: u64,
    pub(crate) size: u64,
    pub(crate) smallest: Vec<u8>,
    pub(crate) largest: Vec<u8>,
    pub(crate) entries: u64,
    pub(crate) max_seq: u64,
}

pub fn segment_file_name(id: u64) -> String {
    format!("{id:016}.seg")
}

pub(crate) struct SegmentWriter {
    id: u64,
    path: PathBuf,
    out: BufWriter<File>,
    cipher: FileCipher,
    offset: u64,
    block: BlockBuilder,
    /// Uncompressed size at which a data block is cut (`BLOCK_TARGET`; tests write others).
    block_target: usize,
    block_last_key: Vec<u8>,
    /// The last data block written whose index entry waits for the next block's first key
    /// (to name it by a short separator, sst/separator.rs) or for `finish` (its exact last key).
    pending_index: Option<Handle>,
    blocks: u32,
    index: Vec<u8>,
    index_count: u32,
    bloom: BloomBuilder,
    /// Which keys go into the bloom filter (`DbOptions::filter_keys`).
    filter_keys: FilterKeys,
    /// zstd level of the data blocks (`DbOptions::zstd_levels`).
    zstd_level: i32,
    smallest: Option<Vec<u8>>,
    largest: Vec<u8>,
    entries: u64,
    max_seq: u64,
}

impl SegmentWriter {
    pub(crate) fn create(dir: &Path, id: u64, suite: &CipherSuite) -> Result<SegmentWriter> {
        let path = dir.join(segment_file_name(id));
        let (cipher, salt) = suite.new_file(FileKind::Segment, id);
        let mut out = BufWriter::with_capacity(256 << 10, create_file(&path, false)?);
        let header = FileHeader {
            version: SEGMENT_VERSION,
            file_id: id,
            layers: cipher.layers(),
            salt,
        };
        faults::write_all(&mut out, &header.encode(SEGMENT_MAGIC), &path)
            .map_err(|e| Error::io_path("writing segment header", &path, e))?;
        Ok(SegmentWriter {
            id,
            path,
            out,
            cipher,
            offset: HEADER_LEN as u64,
            block: BlockBuilder::new(),
            block_target: BLOCK_TARGET,
            block_last_key: Vec::new(),
            pending_index: None,
            blocks: 0,
            index: Vec::new(),
            index_count: 0,
            bloom: BloomBuilder::new(),
            filter_keys: every_key,
            zstd_level: DEEP_ZSTD_LEVEL,
            smallest: None,
            largest: Vec::new(),
            entries: 0,
            max_seq: 0,
        })
    }

    /// Adds a record; keys must arrive in strictly increasing order.
    pub(crate) fn add(&mut self, r: &Record) -> Result<()> {
        if self.smallest.is_some() && r.key <= self.largest {
            return Err(Error::Internal("segment writer given keys out of order".into()));
        }
        if self.smallest.is_none() {
            self.smallest = Some(r.key.clone());
        }
        self.largest.clone_from(&r.key);
        if (self.filter_keys)(&r.key) {
            self.bloom.add(&r.key);
        }
        self.entries += 1;
        self.max_seq = self.max_seq.max(r.seq);
        if let Some(h) = self.pending_index.take() {
            let sep = separator(&self.block_last_key, &r.key);
            push_index(&mut self.index, &mut self.index_count, sep, h);
        }
        self.block.add(r);
        self.block_last_key.clone_from(&r.key);
        if self.block.size() >= self.block_target {
            self.finish_data_block()?;
        }
        Ok(())
    }

    /// Puts only the keys `keys` selects into the bloom filter (every key by default).
    pub(crate) fn with_filter_keys(mut self, keys: FilterKeys) -> SegmentWriter {
        self.filter_keys = keys;
        self
    }

    /// Compresses the data blocks at zstd level `level` (`DEEP_ZSTD_LEVEL` by default).
    pub(crate) fn with_zstd_level(mut self, level: i32) -> SegmentWriter {
        self.zstd_level = level;
        self
    }

    /// Cuts data blocks at `bytes` instead of `BLOCK_TARGET`, for tests that check segments cut
    /// at other sizes read the same.
    #[cfg(test)]
    pub(crate) fn with_block_target(mut self, bytes: usize) -> SegmentWriter {
        self.block_target = bytes;
        self
    }

    /// Bytes written so far (for splitting compaction output).
    pub(crate) fn size(&self) -> u64 {
        self.offset + self.block.size() as u64
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    fn write_block(&mut self, block_no: u64, kind: BlockKind, plain: Vec<u8>) -> Result<Handle> {
        let sealed = self.cipher.seal(block_no, kind, plain)?;
        let crc = crc32fast::hash(&sealed);
        faults::write_all(&mut self.out, &sealed, &self.path)
            .and_then(|_| faults::write_all(&mut self.out, &crc.to_le_bytes(), &self.path))
            .map_err(|e| Error::io_path("writing segment block", &self.path, e))?;
        let h = Handle {
            offset: self.offset,
            len: (sealed.len() + 4) as u32,
        };
        self.offset += u64::from(h.len);
        Ok(h)
    }

    fn finish_data_block(&mut self) -> Result<()> {
        let raw = self.block.finish();
        let compressed = super::codec::compress(&raw, self.zstd_level)
            .map_err(|e| Error::io_path("compressing a block of", &self.path, e))?;
        let mut plain = Vec::with_capacity(compressed.len() + 4);
        put_u32(&mut plain, raw.len() as u32);
        plain.extend_from_slice(&compressed);
        let h = self.write_block(u64::from(self.blocks), BlockKind::Data, plain)?;
        self.blocks += 1;
        self.pending_index = Some(h);
        Ok(())
    }

    /// Writes index, filter and footer, fsyncs, and returns the segment's metadata. The caller
    /// fsyncs the directory (once per batch of new files).
    pub(crate) fn finish(mut self) -> Result<SegmentMeta> {
        if !self.block.is_empty() {
            self.finish_data_block()?;
        }
        // The last block keeps its exact last key: the reader takes it as the segment's largest.
        if let Some(h) = self.pending_index.take() {
            push_index(&mut self.index, &mut self.index_count, &self.block_last_key, h);
        }
        let mut index = Vec::with_capacity(self.index.len() + 64);
        put_u32(&mut index, self.index_count);
        index.extend_from_slice(&self.index);
        put_bytes(&mut index, self.smallest.as_deref().unwrap_or_default());
        put_u64(&mut index, self.entries);
        put_u64(&mut index, self.max_seq);
        let n = u64::from(self.blocks);
        let index_h = self.write_block(n, BlockKind::Index, index)?;
        let filter = self.bloom.finish();
        let filter_h = self.write_block(n + 1, BlockKind::Filter, filter)?;
        let footer = Footer {
            index: index_h,
            filter: filter_h,
            data_blocks: self.blocks,
        };
        let fb = footer.encode();
        faults::write_all(&mut self.out, &fb, &self.path)
            .map_err(|e| Error::io_path("writing segment footer", &self.path, e))?;
        self.offset += fb.len() as u64;
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io_path("flushing", &self.path, e.into_error()))?;
        faults::sync_all(&file, &self.path).map_err(|e| Error::io_path("syncing", &self.path, e))?;
        Ok(SegmentMeta {
            id: self.id,
            size: self.offset,
            smallest: self.smallest.unwrap_or_default(),
            largest: self.largest,
            entries: self.entries,
            max_seq: self.max_seq,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Appends one index entry: the key naming block `h`, then where it lies.
fn push_index(index: &mut Vec<u8>, count: &mut u32, key: &[u8], h: Handle) {
    put_bytes(index, key);
    put_u64(index, h.offset);
    put_u32(index, h.len);
    *count += 1;
}
