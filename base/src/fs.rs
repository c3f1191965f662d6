//! File-system helpers for durable, atomic replacement of small files and for private
//! (mode 0600 / 0700) files and directories. Used by the catalog, keyring, manifest, key
//! stores. Thread-safe as far as the OS is; callers serialise writers of one path.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use crate::error::{Error, Result};
use crate::faults;

/// The permission bits (`0o777`) of a file or directory that group or others may access in any
/// way; `None` when it is private to its owner (or off Unix, where modes do not exist). The one
/// rule behind every refusal of key material that is not private (the service key, vaults, TLS
/// key files), as ssh applies it to private keys.
pub fn shared_mode(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// fsync a directory so that a rename or a new entry in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| Error::io_path("opening directory", dir, e))?;
    faults::sync_dir(&f, dir).map_err(|e| Error::io_path("syncing directory", dir, e))
}

/// Writes `bytes` to `path` atomically: write a temporary sibling, fsync it, rename it over
/// `path`, fsync the directory. A crash leaves either the old or the new file, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no parent directory", path.display())))?;
    let mut tmp_name = path
        .file_name()
        .ok_or_else(|| Error::Internal(format!("{} has no file name", path.display())))?
        .to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    {
        let mut f = create_file(&tmp, private)?;
        faults::write_all(&mut f, bytes, &tmp).map_err(|e| Error::io_path("writing", &tmp, e))?;
        faults::sync_all(&f, &tmp).map_err(|e| Error::io_path("syncing", &tmp, e))?;
    }
    faults::rename(&tmp, path).map_err(|e| Error::io_path("renaming into place", path, e))?;
    sync_dir(dir)
}

/// Creates (truncating) a file; with `private`, mode 0600 from the first byte on.
pub fn create_file(path: &Path, private: bool) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    faults::create(&opts, path).map_err(|e| Error::io_path("creating", path, e))
}

/// Creates a directory (and parents); with `private`, mode 0700.
pub fn create_dir(path: &Path, private: bool) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    #[cfg(not(unix))]
    let _ = private;
    b.create(path)
        .map_err(|e| Error::io_path("creating directory", path, e))
}

/// Reads a whole file; `Ok(None)` when it does not exist.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match faults::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io_path("reading", path, e)),
    }
}
