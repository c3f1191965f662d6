//! The fixed header that opens every sealed file (WAL, segment, manifest): which format, which
//! file, how many seal layers, and the random salt its per-file keys derive from. Plaintext by
//! contract (format version, ids, salt); covered by its own CRC32. See docs/format.md.
//!
//! ```text
//! header := magic: [u8; 8] | version: u32 | file_id: u64 | layers: u8 | salt: [u8; 32] | crc32: u32
//! ```

use std::path::Path;

use crate::error::{Error, Result};
use strata_base::coding::{put_u32, put_u64, put_u8, Reader};

pub(crate) const HEADER_LEN: usize = 8 + 4 + 8 + 1 + 32 + 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileHeader {
    pub(crate) version: u32,
    pub(crate) file_id: u64,
    pub(crate) layers: u8,
    pub(crate) salt: [u8; 32],
}

impl FileHeader {
    pub(crate) fn encode(&self, magic: &[u8; 8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(magic);
        put_u32(&mut out, self.version);
        put_u64(&mut out, self.file_id);
        put_u8(&mut out, self.layers);
        out.extend_from_slice(&self.salt);
        let crc = crc32fast::hash(&out);
        put_u32(&mut out, crc);
        out
    }

    /// Parses and checks the header at the start of `bytes`: magic, CRC, version (one of
    /// `versions`: the current one and the older ones still read), the file id the caller expects (from the file name) and the number of seal layers, which must be one of
    /// `accepted_layers` (the account's; see `CipherSuite::readable_layers`).
    pub(crate) fn decode(
        path: &Path,
        magic: &[u8; 8],
        versions: &[u32],
        expect_id: Option<u64>,
        accepted_layers: &[u8],
        bytes: &[u8],
    ) -> Result<FileHeader> {
        let head = bytes
            .get(..HEADER_LEN)
            .ok_or_else(|| Error::corruption(path, 0, "file shorter than its header"))?;
        let (body, crc) = head.split_at(HEADER_LEN - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(Error::corruption(path, 0, "header checksum mismatch"));
        }
        let mut r = Reader::new(body);
        if r.take(8) != Some(&magic[..]) {
            return Err(Error::corruption(path, 0, "wrong magic: not a file of this kind"));
        }
        let (Some(v), Some(file_id), Some(layers), Some(salt)) = (r.u32(), r.u64(), r.u8(), r.array::<32>())
        else {
            return Err(Error::corruption(path, 8, "truncated header"));
        };
        if !versions.contains(&v) {
            return Err(Error::corruption(
                path,
                8,
                format!("unsupported format version {v} (this build reads {versions:?})"),
            ));
        }
        if expect_id.is_some_and(|id| id != file_id) {
            return Err(Error::corruption(
                path,
                12,
                format!("header names file {file_id}, file name says otherwise"),
            ));
        }
        if !accepted_layers.contains(&layers) {
            return Err(Error::corruption(
                path,
                20,
                format!("file sealed with {layers} layer(s), the account reads {accepted_layers:?}"),
            ));
        }
        Ok(FileHeader {
            version: v,
            file_id,
            layers,
            salt,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flip_detected() {
        let h = FileHeader {
            version: 1,
            file_id: 42,
            layers: 2,
            salt: [9; 32],
        };
        let enc = h.encode(b"STRTEST1");
        let p = Path::new("f");
        assert_eq!(
            FileHeader::decode(p, b"STRTEST1", &[1], Some(42), &[2], &enc).unwrap(),
            h
        );
        for i in 0..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x10;
            assert!(FileHeader::decode(p, b"STRTEST1", &[1], Some(42), &[2], &bad).is_err());
        }
        assert!(FileHeader::decode(p, b"STRTEST1", &[1], Some(43), &[2], &enc).is_err());
        assert!(FileHeader::decode(p, b"STRTEST1", &[1], Some(42), &[1], &enc).is_err());
        assert!(FileHeader::decode(p, b"STRTEST1", &[1], Some(42), &[1, 2], &enc).is_ok());
        assert!(FileHeader::decode(p, b"STRTEST1", &[2, 1], Some(42), &[2], &enc).is_ok());
        assert!(FileHeader::decode(p, b"STRTEST1", &[2], Some(42), &[2], &enc).is_err());
    }
}
