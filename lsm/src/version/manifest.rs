//! The manifest: which segments form each level, the next file id, the oldest live WAL and the
//! last durable sequence number. Sealed (it names key ranges, i.e. ids), rewritten whole and
//! replaced atomically (write, fsync, rename, fsync dir) on every change. See docs/format.md#manifest.
//!
//! ```text
//! MANIFEST := header (util::file_header, magic "STRMAN01", file_id = generation)
//!             | len: u32 | crc32(sealed): u32 | sealed
//! sealed   := FileCipher::seal(block 0, BlockKind::Manifest, body)
//! body     := generation: u64 | next_file_id: u64 | log_number: u64 | last_seq: u64 | levels: u8
//!             | (count: u32 | segment*)*
//! segment  := id: u64 | size: u64 | smallest: bytes | largest: bytes | entries: u64 | max_seq: u64
//! ```

use std::path::Path;

use super::NUM_LEVELS;
use crate::cipher::{BlockKind, CipherSuite, FileKind};
use crate::error::{Error, Result};
use crate::file_header::{FileHeader, HEADER_LEN};
use crate::format_version::{MANIFEST_MAGIC, MANIFEST_VERSION};
use crate::sst::SegmentMeta;
use strata_base::coding::{put_bytes, put_u32, put_u64, put_u8, u32_at, Reader};
use strata_base::fs::{read_if_exists, write_atomic};

pub const MANIFEST_FILE: &str = "MANIFEST";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Incremented on every write; also the file id bound into the seal.
    pub(crate) generation: u64,
    pub(crate) next_file_id: u64,
    /// WAL files with an id >= this hold data not yet in segments.
    pub(crate) log_number: u64,
    pub(crate) last_seq: u64,
    /// `levels[0]` newest first; deeper levels sorted by smallest key.
    pub(crate) levels: Vec<Vec<SegmentMeta>>,
    /// Seal layers of the MANIFEST file this was read from or last written as (its header; not
    /// part of the body). 0 before the first write.
    pub(crate) layers: u8,
}

impl Manifest {
    pub(crate) fn empty() -> Manifest {
        Manifest {
            generation: 0,
            next_file_id: 1,
            log_number: 0,
            last_seq: 0,
            levels: vec![Vec::new(); NUM_LEVELS],
            layers: 0,
        }
    }

    fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u64(&mut out, self.generation);
        put_u64(&mut out, self.next_file_id);
        put_u64(&mut out, self.log_number);
        put_u64(&mut out, self.last_seq);
        put_u8(&mut out, self.levels.len() as u8);
        for level in &self.levels {
            put_u32(&mut out, level.len() as u32);
            for s in level {
                put_u64(&mut out, s.id);
                put_u64(&mut out, s.size);
                put_bytes(&mut out, &s.smallest);
                put_bytes(&mut out, &s.largest);
                put_u64(&mut out, s.entries);
                put_u64(&mut out, s.max_seq);
            }
        }
        out
    }

    fn decode_body(b: &[u8]) -> Option<Manifest> {
        let mut r = Reader::new(b);
        let mut m = Manifest {
            generation: r.u64()?,
            next_file_id: r.u64()?,
            log_number: r.u64()?,
            last_seq: r.u64()?,
            levels: Vec::new(),
            layers: 0,
        };
        let n = r.u8()? as usize;
        if n != NUM_LEVELS {
            return None;
        }
        for _ in 0..n {
            let count = r.u32()?;
            let mut level = Vec::with_capacity((count as usize).min(1 << 16));
            for _ in 0..count {
                level.push(SegmentMeta {
                    id: r.u64()?,
                    size: r.u64()?,
                    smallest: r.bytes()?.to_vec(),
                    largest: r.bytes()?.to_vec(),
                    entries: r.u64()?,
                    max_seq: r.u64()?,
                });
            }
            m.levels.push(level);
        }
        r.is_empty().then_some(m)
    }

    /// Bumps the generation and replaces the manifest file atomically.
    pub(crate) fn write(&mut self, dir: &Path, suite: &CipherSuite) -> Result<()> {
        self.generation += 1;
        let (cipher, salt) = suite.new_file(FileKind::Manifest, self.generation);
        let header = FileHeader {
            version: MANIFEST_VERSION,
            file_id: self.generation,
            layers: cipher.layers(),
            salt,
        };
        let sealed = cipher.seal(0, BlockKind::Manifest, self.encode_body())?;
        self.layers = cipher.layers();
        let mut out = header.encode(MANIFEST_MAGIC);
        put_u32(&mut out, sealed.len() as u32);
        put_u32(&mut out, crc32fast::hash(&sealed));
        out.extend_from_slice(&sealed);
        Ok(write_atomic(&dir.join(MANIFEST_FILE), &out, false)?)
    }

    /// `Ok(None)` if there is no manifest (a new store).
    pub(crate) fn read(dir: &Path, suite: &CipherSuite) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST_FILE);
        let Some(bytes) = read_if_exists(&path)? else {
            return Ok(None);
        };
        let header = FileHeader::decode(
            &path,
            MANIFEST_MAGIC,
            &[MANIFEST_VERSION],
            None,
            suite.readable_layers(),
            &bytes,
        )?;
        let (Some(len), Some(crc)) = (u32_at(&bytes, HEADER_LEN), u32_at(&bytes, HEADER_LEN + 4)) else {
            return Err(Error::corruption(&path, HEADER_LEN as u64, "manifest truncated"));
        };
        let start = HEADER_LEN + 8;
        let sealed = bytes
            .get(start..start + len as usize)
            .filter(|_| bytes.len() == start + len as usize)
            .ok_or_else(|| Error::corruption(&path, HEADER_LEN as u64, "manifest length mismatch"))?;
        if crc32fast::hash(sealed) != crc {
            return Err(Error::corruption(
                &path,
                start as u64,
                "manifest checksum mismatch",
            ));
        }
        let cipher = suite.file(FileKind::Manifest, header.file_id, &header.salt, header.layers)?;
        let body = cipher
            .open(0, BlockKind::Manifest, sealed)?
            .ok_or_else(|| Error::corruption(&path, start as u64, "manifest fails authentication"))?;
        let mut m = Self::decode_body(&body)
            .ok_or_else(|| Error::corruption(&path, start as u64, "manifest body does not parse"))?;
        if m.generation != header.file_id {
            return Err(Error::corruption(
                &path,
                12,
                "manifest generation disagrees with its header",
            ));
        }
        m.layers = header.layers;
        Ok(Some(m))
    }

    pub(crate) fn all_segments(&self) -> impl Iterator<Item = (usize, &SegmentMeta)> {
        self.levels
            .iter()
            .enumerate()
            .flat_map(|(l, v)| v.iter().map(move |s| (l, s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let mut m = Manifest::empty();
        m.levels[1].push(SegmentMeta {
            id: 5,
            size: 100,
            smallest: b"a".to_vec(),
            largest: b"z".to_vec(),
            entries: 3,
            max_seq: 9,
        });
        m.log_number = 4;
        m.write(dir.path(), &suite).unwrap();
        assert_eq!(Manifest::read(dir.path(), &suite).unwrap(), Some(m.clone()));
        let path = dir.path().join(MANIFEST_FILE);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x80;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                Manifest::read(dir.path(), &suite).unwrap_err().is_corruption(),
                "flip at {i}"
            );
        }
        std::fs::write(&path, &good).unwrap();
        let other = CipherSuite::ephemeral(true);
        assert!(Manifest::read(dir.path(), &other).is_err());
    }
}
