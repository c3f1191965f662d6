//! An exclusive advisory lock on a directory (`DIR/LOCK`, flock via std's `File::try_lock`), so a
//! second process — or a second open in this one — gets a clear "in use" error, not corruption.
//! Released when dropped (or when the process dies).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io_path("opening lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::InUse {
                dir: dir.to_path_buf(),
            }),
            Err(TryLockError::Error(e)) => Err(Error::io_path("locking", &path, e)),
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
