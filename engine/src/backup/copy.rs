//! Streaming SHA-256 and durable copies of sealed files (bytes as they are, never opened).
//! Thread-safe; callers make sure the source does not change while it is read.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use strata_base::faults;
use strata_base::fs::create_file;
use strata_base::seal::hex;

/// SHA-256 (hex) and length of a file's bytes.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut f = faults::open_read(path).map_err(|e| Error::io_path("opening", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io_path("reading", path, e))?;
        let Some(chunk) = buf.get(..n).filter(|_| n > 0) else {
            break;
        };
        h.update(chunk);
        len += n as u64;
    }
    Ok((hex::encode(&h.finalize()), len))
}

pub(crate) fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes))
}

/// Copies `from` to `to` (created, or truncated), fsyncs it, and returns the copy's SHA-256 and
/// length, computed from the bytes written.
pub(crate) fn copy_file(from: &Path, to: &Path) -> Result<(String, u64)> {
    let mut src = faults::open_read(from).map_err(|e| Error::io_path("opening", from, e))?;
    let mut dst = create_file(to, false)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = src
            .read(&mut buf)
            .map_err(|e| Error::io_path("reading", from, e))?;
        let Some(chunk) = buf.get(..n).filter(|_| n > 0) else {
            break;
        };
        h.update(chunk);
        faults::write_all(&mut dst, chunk, to).map_err(|e| Error::io_path("writing", to, e))?;
        len += n as u64;
    }
    faults::sync_all(&dst, to).map_err(|e| Error::io_path("syncing", to, e))?;
    Ok((hex::encode(&h.finalize()), len))
}

/// Writes `bytes` to a new file and fsyncs it.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = create_file(path, false)?;
    faults::write_all(&mut f, bytes, path).map_err(|e| Error::io_path("writing", path, e))?;
    faults::sync_all(&f, path).map_err(|e| Error::io_path("syncing", path, e))
}

/// Makes `to` hold its own first `keep` bytes followed by bytes `keep..end` of `from` (appending
/// what a growing file gained since the last copy), fsyncs it, and returns its SHA-256 and
/// length. `to` is created if missing; bytes past `keep` (a copy cut short) are dropped first.
pub(crate) fn copy_range(from: &Path, to: &Path, keep: u64, end: u64) -> Result<(String, u64)> {
    use std::io::{Seek, SeekFrom};
    let mut src = faults::open_read(from).map_err(|e| Error::io_path("opening", from, e))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    let mut dst = faults::create(&opts, to).map_err(|e| Error::io_path("opening", to, e))?;
    dst.set_len(keep)
        .and_then(|()| dst.seek(SeekFrom::Start(keep)))
        .and_then(|_| src.seek(SeekFrom::Start(keep)))
        .map_err(|e| Error::io_path("positioning", to, e))?;
    let want = end.saturating_sub(keep);
    let copied = std::io::copy(&mut (&mut src).take(want), &mut dst)
        .map_err(|e| Error::io_path("copying into", to, e))?;
    if copied != want {
        return Err(Error::Internal(format!(
            "{} is shorter than the {end} bytes to copy",
            from.display()
        )));
    }
    faults::sync_all(&dst, to).map_err(|e| Error::io_path("syncing", to, e))?;
    drop(dst);
    hash_file(to)
}
