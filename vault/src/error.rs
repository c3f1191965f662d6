//! The vault's error, with its HTTP-style status and substatus: a malformed request (400), a
//! missing key, version or vault (404), a name taken (409), a refusal of the vault (403.x), a
//! damaged vault file, an I/O failure. The engine converts it into its own error keeping both
//! codes. Messages never carry key material. See docs/errors.md.

use std::path::{Path, PathBuf};

/// Substatus codes of the vault's refusals (the engine's `substatus` module re-exports them).
pub mod substatus {
    /// The key vault refused: permission missing, or the key (version) is disabled.
    pub const KEY_VAULT_ACCESS: u32 = 4002;
    /// The key (or key version, or vault) named by the key URI does not exist.
    pub const KEY_NOT_FOUND: u32 = 4003;
    /// Wrapping or unwrapping the data key failed (wrong key, damaged wrapped key).
    pub const KEY_WRAP_FAILED: u32 = 4005;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the request is malformed; the message says which part.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the addressed key, version, identity or vault does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: a resource with that name exists already, or the state forbids the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 403.x: the key vault refused or could not serve a key operation.
    #[error("key vault: {message}")]
    KeyVault { substatus: u32, message: String },
    /// 500.1002: a vault file failed its checksum or frame checks.
    #[error("corruption in {} at offset {offset}: {detail}; the damaged data is not returned: restore the file from a backup, and check the disk", file.display())]
    Corruption {
        file: PathBuf,
        offset: u64,
        detail: String,
    },
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

/// The corruption substatus, as the engine reports it (strata_lsm::error::substatus::CORRUPTION).
const CORRUPTION: u32 = 1002;

impl Error {
    /// The HTTP-style status code.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::KeyVault { .. } => 403,
            Error::Corruption { .. } | Error::Io { .. } | Error::Internal(_) => 500,
        }
    }

    /// The substatus code, 0 where none applies.
    pub fn substatus(&self) -> u32 {
        match self {
            Error::KeyVault { substatus, .. } => *substatus,
            Error::Corruption { .. } => CORRUPTION,
            _ => 0,
        }
    }

    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
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

    /// A 403.x refusal of the vault.
    pub fn vault(substatus: u32, message: impl Into<String>) -> Error {
        Error::KeyVault {
            substatus,
            message: message.into(),
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
