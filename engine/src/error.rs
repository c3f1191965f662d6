//! The one error type every public engine call returns, with its HTTP-style status and substatus.
//! See docs/errors.md for the table. Messages never carry key material or item contents beyond
//! what the caller already sent (ids are fine; bodies are not).

use std::path::{Path, PathBuf};

/// Substatus codes shared across the engine (HTTP-style, after the managed-database service):
/// the vault's and the LSM's, and the engine's own.
pub mod substatus {
    pub use strata_lsm::error::substatus::{CORRUPTION, DATA_DIR_IN_USE, POISONED};
    pub use strata_vault::substatus::{KEY_NOT_FOUND, KEY_VAULT_ACCESS, KEY_WRAP_FAILED};
    /// Throughput exceeded: the provisioned RU/s are spent; retry after the wait given.
    pub const THROUGHPUT_EXCEEDED: u32 = 3200;
    pub use strata_script::{SCRIPT_ERROR, SCRIPT_MEMORY_CAP, SCRIPT_TIME_BUDGET};
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
    /// 400.3703 a script threw or does not compile, 400.3702 over its memory cap, 408.3701
    /// over its time budget (docs/scripts.md).
    #[error("{0}")]
    Script(strata_script::ScriptError),
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
            Error::Script(e) => e.status(),
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
            Error::Script(e) => e.substatus(),
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

impl From<strata_base::Error> for Error {
    fn from(e: strata_base::Error) -> Error {
        Error::from(strata_lsm::Error::from(e))
    }
}

/// The LSM's failures keep their status and substatus; its key-slot refusals are the vault's
/// 403.4002 (withheld) and 403.4005 (a different key).
impl From<strata_lsm::Error> for Error {
    fn from(e: strata_lsm::Error) -> Error {
        use strata_lsm::Error as L;
        match e {
            L::BadRequest(m) => Error::BadRequest(m),
            L::InvalidState(m) => Error::Conflict(m),
            L::KeyWithheld(m) => Error::vault(substatus::KEY_VAULT_ACCESS, m),
            L::KeyMismatch(m) => Error::vault(substatus::KEY_WRAP_FAILED, m),
            L::InUse { dir } => Error::InUse { dir },
            L::Corruption { file, offset, detail } => Error::Corruption { file, offset, detail },
            L::Poisoned(m) => Error::Poisoned(m),
            L::Io { context, source } => Error::Io { context, source },
            L::Internal(m) => Error::Internal(m),
            // `strata_lsm::Error` is non-exhaustive; a new kind is a bug until mapped here.
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<strata_vault::Error> for Error {
    fn from(e: strata_vault::Error) -> Error {
        use strata_vault::Error as V;
        match e {
            V::BadRequest(m) => Error::BadRequest(m),
            V::NotFound(m) => Error::NotFound(m),
            V::Conflict(m) => Error::Conflict(m),
            V::KeyVault { substatus, message } => Error::KeyVault { substatus, message },
            V::Corruption { file, offset, detail } => Error::Corruption { file, offset, detail },
            V::Io { context, source } => Error::Io { context, source },
            V::Internal(m) => Error::Internal(m),
            // `strata_vault::Error` is non-exhaustive; a new kind is a bug until mapped here.
            other => Error::Internal(other.to_string()),
        }
    }
}
