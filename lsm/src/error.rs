//! The LSM's error: what can go wrong below the documents — I/O, corruption, a poisoned store, a
//! locked directory, a customer-layer key that is withheld or not the one the files were sealed
//! with, a broken invariant. No request units, no vault: the engine maps each variant to its
//! status and substatus (docs/errors.md). Messages never carry key material or stored bytes.

use std::path::{Path, PathBuf};

/// Substatus codes of the LSM's own failures (the engine's `substatus` module re-exports them).
pub mod substatus {
    /// The store saw a failed fsync or an internal invariant break and refuses writes.
    pub const POISONED: u32 = 1001;
    /// Stored data failed its checksum or authentication tag.
    pub const CORRUPTION: u32 = 1002;
    /// The data directory is locked by another process.
    pub const DATA_DIR_IN_USE: u32 = 1003;
    /// The customer layer's key is withheld (the contract's 403.4002: key access missing).
    pub const KEY_WITHHELD: u32 = 4002;
    /// A customer-layer key other than the store's was offered (the contract's 403.4005).
    pub const KEY_MISMATCH: u32 = 4005;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the caller's input is malformed; the message says which part.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 409: the request does not fit the store's state (e.g. a second customer layer).
    #[error("conflict: {0}")]
    InvalidState(String),
    /// 403.4002: the customer layer's key was withheld (revoked) and cannot seal or open.
    #[error("key vault: {0}")]
    KeyWithheld(String),
    /// 403.4005: a customer-layer key was offered that is not the one the store holds.
    #[error("key vault: {0}")]
    KeyMismatch(String),
    /// 423 (data directory locked by another process).
    #[error("data directory {} is in use by another process (lock held on {}); close that process first", dir.display(), dir.join("LOCK").display())]
    InUse { dir: PathBuf },
    /// 500.1002: stored bytes failed their checksum or AEAD tag. Never returned as data.
    #[error("corruption in {} at offset {offset}: {detail}; the damaged data is not returned: restore the file from a backup, and check the disk", file.display())]
    Corruption {
        file: PathBuf,
        offset: u64,
        detail: String,
    },
    /// 503.1001: a previous write failed to reach disk; the store refuses writes until reopened.
    #[error("store is poisoned after a failed write ({0}); reopen the account to recover from the log")]
    Poisoned(String),
    /// 500: an I/O error with what was being done.
    #[error("i/o error while {context}: {source}; check free space and permissions, then retry")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// 500: an internal invariant did not hold (a bug; please report it).
    #[error("internal error: {0}; this is a bug in Strata, please report it")]
    Internal(String),
}

impl Error {
    /// The HTTP-style status code the engine reports for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::InvalidState(_) => 409,
            Error::KeyWithheld(_) | Error::KeyMismatch(_) => 403,
            Error::InUse { .. } => 423,
            Error::Corruption { .. } => 500,
            Error::Poisoned(_) => 503,
            Error::Io { .. } => 500,
            Error::Internal(_) => 500,
        }
    }

    /// The substatus code, 0 where none applies.
    pub fn substatus(&self) -> u32 {
        match self {
            Error::KeyWithheld(_) => substatus::KEY_WITHHELD,
            Error::KeyMismatch(_) => substatus::KEY_MISMATCH,
            Error::InUse { .. } => substatus::DATA_DIR_IN_USE,
            Error::Corruption { .. } => substatus::CORRUPTION,
            Error::Poisoned(_) => substatus::POISONED,
            _ => 0,
        }
    }

    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn io_path(what: &str, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            context: format!("{what} {}", path.display()),
            source,
        }
    }

    pub(crate) fn corruption(file: &Path, offset: u64, detail: impl Into<String>) -> Error {
        Error::Corruption {
            file: file.to_path_buf(),
            offset,
            detail: detail.into(),
        }
    }
}

impl From<strata_base::Error> for Error {
    fn from(e: strata_base::Error) -> Error {
        match e {
            strata_base::Error::BadRequest(m) => Error::BadRequest(m),
            strata_base::Error::Corruption { file, offset, detail } => {
                Error::Corruption { file, offset, detail }
            }
            strata_base::Error::Io { context, source } => Error::Io { context, source },
            strata_base::Error::Internal(m) => Error::Internal(m),
            // `strata_base::Error` is non-exhaustive; a new kind is a bug until mapped here.
            other => Error::Internal(other.to_string()),
        }
    }
}
