//! Segment byte layout shared by writer and reader. See docs/format.md#segment.
//!
//! ```text
//! segment  := header (util::file_header, magic "STRSEG01") | block* | footer
//! block    := sealed | crc32(sealed): u32          located by a handle (offset: u64, len: u32)
//! sealed   := FileCipher::seal(block_no, kind, plain)
//!             data blocks are numbered 0..n, the index block n, the filter block n + 1
//! data     := raw_len: u32 | zstd(entries | offsets: u32 * count | count: u32), any zstd level
//! entry    := key: bytes | seq: u64 | kind: u8 | value: bytes (puts only)
//! index    := count: u32 | (bound: bytes | offset: u64 | len: u32)* | smallest: bytes
//!             bound: >= the block's last key, < the next block's first (separator.rs); the last
//!             block's is its last key exactly
//!             | entries: u64 | max_seq: u64
//! filter   := 0x80 | k: u8 | (64-byte block)*   (version 2, sst/bloom.rs)
//!             k: u8 | bits                      (version 1, read only, sst/bloom_v1.rs)
//! footer   := index_off: u64 | index_len: u32 | filter_off: u64 | filter_len: u32
//!             | data_blocks: u32 | magic: [u8; 8] | crc32(preceding 36 bytes): u32
//! ```

use std::path::Path;

use crate::error::{Error, Result};
use crate::format_version::SEGMENT_MAGIC;
use strata_base::coding::{put_u32, put_u64, Reader};

pub(crate) const FOOTER_LEN: usize = 8 + 4 + 8 + 4 + 4 + 8 + 4;
pub(crate) const BLOCK_TRAILER_LEN: usize = 4;
/// Uncompressed size at which a data block is cut. Nothing records it: every block's handle
/// gives its length and its `raw_len` its decompressed size, so segments cut at any other size
/// (16 KiB before) read the same. 4 KiB blocks make warm point reads a quarter to a third cheaper
/// in CPU than 16 KiB ones (a cache miss opens and decompresses a quarter of the bytes; the cache
/// holds hot items more densely); the block index they need stays small because it names blocks
/// by short separators, not whole last keys (docs/bench.md, "Change 5").
pub(crate) const BLOCK_TARGET: usize = 4 << 10;
/// Upper bound of a block's uncompressed size (one 2 MB item plus framing fits easily).
pub(crate) const MAX_RAW_BLOCK: usize = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handle {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) index: Handle,
    pub(crate) filter: Handle,
    pub(crate) data_blocks: u32,
}

impl Footer {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        put_u64(&mut out, self.index.offset);
        put_u32(&mut out, self.index.len);
        put_u64(&mut out, self.filter.offset);
        put_u32(&mut out, self.filter.len);
        put_u32(&mut out, self.data_blocks);
        out.extend_from_slice(SEGMENT_MAGIC);
        let crc = crc32fast::hash(&out);
        put_u32(&mut out, crc);
        out
    }

    #[cfg(test)]
    pub(crate) fn decode(path: &Path, file: &[u8]) -> Result<Footer> {
        Footer::decode_at(path, file, 0)
    }

    /// As `decode`, for the last bytes of a file that start at offset `base` in it (errors
    /// name the offset in the file).
    pub(crate) fn decode_at(path: &Path, tail: &[u8], base: u64) -> Result<Footer> {
        let at = tail
            .len()
            .checked_sub(FOOTER_LEN)
            .ok_or_else(|| Error::corruption(path, 0, "file shorter than a footer"))?;
        let bytes = &tail[at..];
        let (body, crc) = bytes.split_at(FOOTER_LEN - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(Error::corruption(
                path,
                base + at as u64,
                "footer checksum mismatch",
            ));
        }
        let mut r = Reader::new(body);
        let footer = (|| {
            let index = Handle {
                offset: r.u64()?,
                len: r.u32()?,
            };
            let filter = Handle {
                offset: r.u64()?,
                len: r.u32()?,
            };
            let data_blocks = r.u32()?;
            (r.take(8)? == SEGMENT_MAGIC).then_some(Footer {
                index,
                filter,
                data_blocks,
            })
        })();
        footer.ok_or_else(|| Error::corruption(path, base + at as u64, "footer does not parse"))
    }
}
