//! The I/O seam: every Strata file create, write, fsync (file and directory), rename and whole-file
//! read goes through these wrappers, so a test can make the n-th such call under a directory fail
//! (see `fault_plan.rs` and docs/reliability.md, "Fault injection"). Without `cfg(test)` or the
//! `fault-injection` feature the hook is a constant `None` and each wrapper is the plain std call.
//! Must not hold state of its own, retry, or change what a successful call does. Thread-safe.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub use crate::fault_kind::{FaultKind, Op};

/// The fault to inject into this call of kind `op` on `path` (`to`: a rename's target), if a
/// fault plan says so or a power-loss recorder has cut the power.
#[inline]
fn hook(op: Op, path: &Path, to: Option<&Path>) -> Option<FaultKind> {
    #[cfg(any(test, feature = "fault-injection"))]
    {
        let planned = crate::fault_plan::check(op, to.unwrap_or(path));
        let power = crate::power_loss::before(op, path, to);
        planned.or(power)
    }
    #[cfg(not(any(test, feature = "fault-injection")))]
    {
        let _ = (op, path, to);
        None
    }
}

/// Tells the power-loss recorders that a call succeeded.
#[inline]
fn done<T>(r: io::Result<T>, op: Op, path: &Path, to: Option<&Path>) -> io::Result<T> {
    #[cfg(any(test, feature = "fault-injection"))]
    if r.is_ok() {
        crate::power_loss::after(op, path, to);
    }
    #[cfg(not(any(test, feature = "fault-injection")))]
    let _ = (op, path, to);
    r
}

fn fail(op: Op, path: &Path) -> io::Result<()> {
    match hook(op, path, None) {
        Some(kind) => Err(kind.error()),
        None => Ok(()),
    }
}

/// Opens (creating) a file with `opts`.
pub fn create(opts: &OpenOptions, path: &Path) -> io::Result<File> {
    fail(Op::Create, path)?;
    done(opts.open(path), Op::Create, path, None)
}

/// `w.write_all(bytes)`; `path` names the file `w` writes to.
pub fn write_all<W: Write>(w: &mut W, bytes: &[u8], path: &Path) -> io::Result<()> {
    match hook(Op::Write, path, None) {
        None => w.write_all(bytes),
        Some(FaultKind::ShortWrite) => {
            w.write_all(bytes.get(..bytes.len() / 2).unwrap_or_default())?;
            Err(FaultKind::ShortWrite.error())
        }
        Some(kind) => Err(kind.error()),
    }
}

/// `f.sync_all()`.
pub fn sync_all(f: &File, path: &Path) -> io::Result<()> {
    fail(Op::Sync, path)?;
    done(f.sync_all(), Op::Sync, path, None)
}

/// `f.sync_data()`.
pub fn sync_data(f: &File, path: &Path) -> io::Result<()> {
    fail(Op::Sync, path)?;
    done(f.sync_data(), Op::Sync, path, None)
}

/// fsync of the open directory `d` at `path`.
pub fn sync_dir(d: &File, path: &Path) -> io::Result<()> {
    fail(Op::SyncDir, path)?;
    done(d.sync_all(), Op::SyncDir, path, None)
}

/// `fs::rename(from, to)`.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    match hook(Op::Rename, from, Some(to)) {
        Some(kind) => Err(kind.error()),
        None => done(std::fs::rename(from, to), Op::Rename, from, Some(to)),
    }
}

/// `fs::read(path)`.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    fail(Op::Read, path)?;
    std::fs::read(path)
}

/// `len` bytes of the open file `f` (at `path`) from `offset`, with positional reads (no shared
/// cursor: many threads read one segment at once).
pub fn read_at(f: &File, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    fail(Op::Read, path)?;
    let mut buf = vec![0u8; len];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(f, &mut buf, offset)?;
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < len {
            let n = std::os::windows::fs::FileExt::seek_read(f, &mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
    }
    Ok(buf)
}

/// `File::open(path)` for reading (segment blocks are then read with `read_at`, copies streamed).
pub fn open_read(path: &Path) -> io::Result<File> {
    fail(Op::Read, path)?;
    File::open(path)
}
