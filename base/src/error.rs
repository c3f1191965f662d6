//! The error of the ground-floor helpers: an I/O failure with what was being done, stored bytes
//! that fail their frame checks, a bad name, or a broken invariant. The crates above convert it
//! into their own error (`From`), keeping status and message. Messages never carry key material.

use std::path::Path;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the caller's input is malformed; the message says which part.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 500.1002: stored bytes failed their checksum or frame checks. Never returned as data.
    #[error("corruption in {} at offset {offset}: {detail}; the damaged data is not returned: restore the file from a backup, and check the disk", file.display())]
    Corruption {
        file: std::path::PathBuf,
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

impl Error {
    pub fn io_path(what: &str, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            context: format!("{what} {}", path.display()),
            source,
        }
    }

    pub fn corruption(file: &Path, offset: u64, detail: impl Into<String>) -> Error {
        Error::Corruption {
            file: file.to_path_buf(),
            offset,
            detail: detail.into(),
        }
    }
}
