//! Forged segments for the decoder fuzzing (`sst/fuzz_tests.rs`, the `segment_read` cargo-fuzz
//! target through `crate::fuzzing`): files sealed with the right key whose blocks hold anything,
//! as only a writer bug or a key holder could make them, so the decoders behind the AEAD are
//! reached. Builds bytes only; never reads, never writes a file. Compiled for tests and the
//! `fuzzing` feature only. See docs/format.md#segment.

use super::bloom::BloomBuilder;
use super::format::{Footer, Handle};
use crate::cipher::{BlockKind, CipherSuite, FileCipher, FileKind};
use crate::error::{Error, Result};
use crate::file_header::FileHeader;
use crate::format_version::{SEGMENT_MAGIC, SEGMENT_VERSION};
use strata_base::coding::{put_u32, put_u64};

/// A segment's bytes under construction: the header, then sealed blocks with their checksums.
struct Forge {
    cipher: FileCipher,
    out: Vec<u8>,
}

impl Forge {
    fn new(suite: &CipherSuite, id: u64) -> Forge {
        let (cipher, salt) = suite.new_file(FileKind::Segment, id);
        let out = FileHeader {
            version: SEGMENT_VERSION,
            file_id: id,
            layers: suite.layers(),
            salt,
        }
        .encode(SEGMENT_MAGIC);
        Forge { cipher, out }
    }

    /// Seals `plain` as block `no` of kind `kind`, appends it and its checksum, returns its handle.
    fn block(&mut self, no: u64, kind: BlockKind, plain: Vec<u8>) -> Result<Handle> {
        let sealed = self.cipher.seal(no, kind, plain)?;
        let len = u32::try_from(sealed.len() + 4)
            .map_err(|_| Error::Internal("a forged block over 4 GiB".into()))?;
        let h = Handle {
            offset: self.out.len() as u64,
            len,
        };
        let crc = crc32fast::hash(&sealed);
        self.out.extend_from_slice(&sealed);
        self.out.extend_from_slice(&crc.to_le_bytes());
        Ok(h)
    }

    /// Seals the index and a filter of `filter_keys` as blocks `data_blocks` and
    /// `data_blocks + 1`, then appends the footer.
    fn finish(mut self, data_blocks: u32, index: Vec<u8>, filter_keys: &[Vec<u8>]) -> Result<Vec<u8>> {
        let n = u64::from(data_blocks);
        let index = self.block(n, BlockKind::Index, index)?;
        let mut bloom = BloomBuilder::new();
        for k in filter_keys {
            bloom.add(k);
        }
        let filter = self.block(n + 1, BlockKind::Filter, bloom.finish())?;
        self.out.extend_from_slice(
            &Footer {
                index,
                filter,
                data_blocks,
            }
            .encode(),
        );
        Ok(self.out)
    }
}

/// The plaintext of a data block as the writer stores it: the raw size claimed (`claimed`, or
/// the true size), then `raw` compressed with zstd.
pub(crate) fn compressed_block(raw: &[u8], claimed: Option<u32>) -> Result<Vec<u8>> {
    let claimed = match claimed {
        Some(c) => c,
        None => u32::try_from(raw.len()).map_err(|_| Error::Internal("a forged block over 4 GiB".into()))?,
    };
    let mut plain = Vec::new();
    put_u32(&mut plain, claimed);
    let z = zstd::bulk::compress(raw, 1).map_err(|e| Error::Internal(format!("zstd: {e}")))?;
    plain.extend_from_slice(&z);
    Ok(plain)
}

/// Segment `id` sealed with the right key whose data blocks hold the plaintexts `blocks`
/// (anything), named in an index by `last_keys` (an empty key where missing), with a filter of
/// `filter_keys`.
pub(crate) fn forged_segment(
    suite: &CipherSuite,
    id: u64,
    blocks: &[Vec<u8>],
    last_keys: &[Vec<u8>],
    filter_keys: &[Vec<u8>],
) -> Result<Vec<u8>> {
    let count = u32::try_from(blocks.len()).map_err(|_| Error::Internal("over 4 Gi forged blocks".into()))?;
    let mut f = Forge::new(suite, id);
    let mut index = Vec::new();
    put_u32(&mut index, count);
    for (i, plain) in blocks.iter().enumerate() {
        let h = f.block(i as u64, BlockKind::Data, plain.clone())?;
        let key = last_keys.get(i).map_or(&[][..], Vec::as_slice);
        put_u32(&mut index, key.len() as u32);
        index.extend_from_slice(key);
        put_u64(&mut index, h.offset);
        put_u32(&mut index, h.len);
    }
    put_u32(&mut index, 0);
    put_u64(&mut index, 0);
    put_u64(&mut index, 0);
    f.finish(count, index, filter_keys)
}

/// Segment `id` whose index block is sealed correctly but claims `count` data blocks while
/// holding `body` after the count (no data blocks, an empty filter).
pub(crate) fn forged_index_segment(suite: &CipherSuite, id: u64, count: u32, body: &[u8]) -> Result<Vec<u8>> {
    let f = Forge::new(suite, id);
    let mut index = Vec::new();
    put_u32(&mut index, count);
    index.extend_from_slice(body);
    f.finish(count, index, &[])
}
