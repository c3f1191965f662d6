//! The one error type every public engine call returns, with its HTTP-style status and substatus.
//! See docs/errors.md for the table. Messages never carry key material or item contents beyond
//! what the caller already sent (ids are fine; bodies are not).

use std::path::{Path, PathBuf};

/// Substatus codes shared across the engine (HTTP-style, after the managed-database service).
pub mod substatus {
    /// The key vault refused: permission missing, or the key (version) is disabled.
    pub const KEY_VAULT_ACCESS: u32 = 4002;
    /// The key (or key version, or vault) named by the key URI does not exist.
    pub const KEY_NOT_FOUND: u32 = 4003;
    /// Wrapping or unwrapping the data key failed (wrong key, damaged wrapped key).
    pub const KEY_WRAP_FAILED: u32 = 4005;
    /// Throughput exceeded: the provisioned RU/s are spent; retry after the wait given.
    pub const THROUGHPUT_EXCEEDED: u32 = 3200;
    /// The store saw a failed fsync or an internal invariant break and refuses writes.
    pub const POISONED: u32 = 1001;
    /// Stored data failed its checksum or authentication tag.
    pub const CORRUPTION: u32 = 1002;
    /// The data directory is locked by another process.
    pub const DATA_DIR_IN_USE: u32 = 1003;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the request is malformed; the message says which part.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the addressed resource does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: a resource with that name or id exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: the If-Match etag does not match the current one.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 413: the item is larger than the limit.
    #[error("request entity too large: {0}")]
    TooLarge(String),
    /// 429.3200: the container's (or its database's shared) provisioned throughput is spent for
    /// now; nothing was done. Retry after `retry_after_ms` (the API does so itself, see
    /// `RetryPolicy`).
    #[error("request rate too large: {message}")]
    TooManyRequests { retry_after_ms: u64, message: String },
    /// 403.x: the key vault refused or could not serve a key operation.
    #[error("key vault: {message}")]
    KeyVault { substatus: u32, message: String },
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
    /// An error that still cost request units (e.g. a 404 point read costs 1 RU); status,
    /// substatus and message are those of `error`.
    #[error("{error}")]
    Charged { error: Box<Error>, request_charge: f64 },
}

impl Error {
    /// The HTTP-style status code.
    pub fn status(&self) -> u16 {
        match self {
            Error::Charged { error, .. } => error.status(),
            Error::BadRequest(_) => 400,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::PreconditionFailed(_) => 412,
            Error::TooLarge(_) => 413,
            Error::TooManyRequests { .. } => 429,
            Error::KeyVault { .. } => 403,
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
            Error::Charged { error, .. } => error.substatus(),
            Error::KeyVault { substatus, .. } => *substatus,
            Error::TooManyRequests { .. } => substatus::THROUGHPUT_EXCEEDED,
            Error::InUse { .. } => substatus::DATA_DIR_IN_USE,
            Error::Corruption { .. } => substatus::CORRUPTION,
            Error::Poisoned(_) => substatus::POISONED,
            _ => 0,
        }
    }

    pub fn is_corruption(&self) -> bool {
        match self {
            Error::Charged { error, .. } => error.is_corruption(),
            e => matches!(e, Error::Corruption { .. }),
        }
    }

    /// Request units the failed operation still cost, if it cost any.
    pub fn request_charge(&self) -> Option<f64> {
        match self {
            Error::Charged { request_charge, .. } => Some(*request_charge),
            _ => None,
        }
    }

    /// For a 429: the milliseconds to wait before retrying.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::Charged { error, .. } => error.retry_after(),
            Error::TooManyRequests { retry_after_ms, .. } => Some(*retry_after_ms),
            _ => None,
        }
    }

    /// Attaches the request charge of the failed operation.
    pub(crate) fn with_charge(self, request_charge: f64) -> Error {
        Error::Charged {
            error: Box::new(self),
            request_charge,
        }
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

    pub(crate) fn vault(substatus: u32, message: impl Into<String>) -> Error {
        Error::KeyVault {
            substatus,
            message: message.into(),
        }
    }
}
