//! Framed small metadata files (catalog, keyring, vault key records): a magic, a format version,
//! the payload length and a CRC32, so a torn or flipped byte is detected rather than parsed.
//! See docs/format.md ("metadata frame"). Pure functions plus atomic replace; thread-safe.
//!
//! ```text
//! meta_file := magic: [u8; 8] | version: u32 | len: u32 | crc32(payload): u32 | payload[len]
//! ```

use std::path::Path;

use crate::coding::{put_u32, Reader};
use crate::error::{Error, Result};
use crate::fs::{read_if_exists, write_atomic};

const HEADER_LEN: usize = 8 + 4 + 4 + 4;

pub fn encode(magic: &[u8; 8], version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(magic);
    put_u32(&mut out, version);
    put_u32(&mut out, payload.len() as u32);
    put_u32(&mut out, crc32fast::hash(payload));
    out.extend_from_slice(payload);
    out
}

/// Checks the frame and returns `(version, payload)`.
pub fn decode<'a>(path: &Path, magic: &[u8; 8], bytes: &'a [u8]) -> Result<(u32, &'a [u8])> {
    let mut r = Reader::new(bytes);
    let got = r
        .take(8)
        .ok_or_else(|| Error::corruption(path, 0, "file shorter than its header"))?;
    if got != magic {
        return Err(Error::corruption(path, 0, "wrong magic: not a file of this kind"));
    }
    let (version, len, crc) = match (r.u32(), r.u32(), r.u32()) {
        (Some(v), Some(l), Some(c)) => (v, l, c),
        _ => return Err(Error::corruption(path, 8, "truncated header")),
    };
    let payload = r
        .take(len as usize)
        .ok_or_else(|| Error::corruption(path, HEADER_LEN as u64, "payload truncated"))?;
    if !r.is_empty() {
        return Err(Error::corruption(
            path,
            (HEADER_LEN + len as usize) as u64,
            "trailing bytes after payload",
        ));
    }
    if crc32fast::hash(payload) != crc {
        return Err(Error::corruption(
            path,
            HEADER_LEN as u64,
            "payload checksum mismatch",
        ));
    }
    Ok((version, payload))
}

pub fn write(path: &Path, magic: &[u8; 8], version: u32, payload: &[u8], private: bool) -> Result<()> {
    write_atomic(path, &encode(magic, version, payload), private)
}

/// Reads and checks a framed file; `Ok(None)` if it does not exist.
pub fn read(path: &Path, magic: &[u8; 8]) -> Result<Option<(u32, Vec<u8>)>> {
    match read_if_exists(path)? {
        None => Ok(None),
        Some(bytes) => {
            let (v, p) = decode(path, magic, &bytes)?;
            Ok(Some((v, p.to_vec())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flipped_byte_is_detected() {
        let p = Path::new("x");
        let enc = encode(b"TESTMAGC", 3, b"some payload");
        assert_eq!(decode(p, b"TESTMAGC", &enc).ok(), Some((3, &b"some payload"[..])));
        for i in 0..enc.len() {
            // Flipping the version byte changes only the version, which callers check.
            if (8..12).contains(&i) {
                continue;
            }
            let mut bad = enc.clone();
            bad[i] ^= 0x40;
            assert!(decode(p, b"TESTMAGC", &bad).is_err(), "flip at {i} undetected");
        }
        assert!(decode(p, b"TESTMAGC", &enc[..enc.len() - 1]).is_err());
    }
}
