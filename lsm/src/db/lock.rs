//! An exclusive advisory lock on a directory (`DIR/LOCK`, flock via std's `File::try_lock`), so a
//! second process — or a second open in this one — gets a clear "in use" error, not corruption.
//! Released when dropped (or when the process dies). A busy lock is retried for 200 ms first:
//! a child process forked by another thread holds an inherited copy until it execs.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a held lock is retried before 423 (see `acquire`).
const BUSY_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io_path("opening lock file", &path, e))?;
        // A lock just released can still be held for a moment by a process this one forked
        // (another thread spawning a child) that has not yet exec'd and closed its inherited copy
        // of the descriptor: retry for up to `BUSY_WAIT` before answering 423.
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(TryLockError::WouldBlock) if start.elapsed() < BUSY_WAIT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::InUse {
                        dir: dir.to_path_buf(),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(Error::io_path("locking", &path, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let a = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(err.status(), 423);
        drop(a);
        DirLock::acquire(dir.path()).unwrap();
    }
}
