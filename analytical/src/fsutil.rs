//! Durable file helpers: atomic replace (tmp + fsync + rename + fsync dir). Used by every writer
//! of the tier; holds no format knowledge.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{AnalyticalError, Result};

/// The temporary name a file is written under before it is renamed into place.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Fsyncs a directory so a rename or unlink in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AnalyticalError::io(dir, e))
}

/// Writes `path` atomically: the closure fills a fresh temporary file, which is fsynced, renamed
/// over `path`, and the directory fsynced. On error the temporary file is removed.
pub(crate) fn write_atomic<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(File) -> Result<File>,
{
    let tmp = tmp_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| AnalyticalError::io(&tmp, e))?;
        let file = fill(file)?;
        file.sync_all().map_err(|e| AnalyticalError::io(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| AnalyticalError::io(path, e))
    })();
    if result.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
        return result;
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(dir)
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |mut f| {
        f.write_all(bytes)
            .map_err(|e| AnalyticalError::io(tmp_path(path), e))?;
        Ok(f)
    })
}
