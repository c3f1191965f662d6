//! The one error type of the analytical tier and its HTTP-style status mapping.
//! Messages name files and positions, never key material or document contents.

use std::path::PathBuf;

/// Every failure of the analytical tier. `status()` maps it to the HTTP-style code the engine reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticalError {
    /// The caller passed something invalid (a bad argument, a mode change, a bad LSN).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The query text is outside the supported subset or malformed; `pos` is a byte offset in it.
    #[error("query error at byte {pos}: {msg}")]
    Query { pos: usize, msg: String },
    /// No analytical store exists in the given directory.
    #[error("no analytical store at {0}: create it first")]
    NotFound(PathBuf),
    /// `create` was asked for a directory that already holds a store.
    #[error("an analytical store already exists at {0}: open it instead")]
    AlreadyExists(PathBuf),
    /// AEAD verification failed: the key is not the one the file was written with, or the file was
    /// altered. The two cannot be told apart by design.
    #[error("cannot decrypt {file}: wrong analytical key or corrupted file")]
    Decrypt { file: PathBuf },
    /// A file decrypted (or parsed) but its contents are not what this crate writes.
    #[error("corrupt analytical file {file}: {detail}")]
    Corrupt { file: PathBuf, detail: String },
    /// The operating system refused an operation on `path`.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The Parquet reader or writer failed on `file` (includes decryption failures it detects).
    #[error("parquet error on {file}: {source}")]
    Parquet {
        file: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Building or combining Arrow arrays failed (an internal invariant was broken).
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The engine refused (the tier's settings, its key, the change feed): its status and
    /// substatus carry through.
    #[error("{0}")]
    Engine(#[from] strata_engine::Error),
}

impl AnalyticalError {
    /// The HTTP-style status: 400 bad input or query, 404 missing store, 409 store exists,
    /// 500 corruption, wrong key and internal failures.
    pub fn status(&self) -> u16 {
        match self {
            AnalyticalError::BadRequest(_) | AnalyticalError::Query { .. } => 400,
            AnalyticalError::NotFound(_) => 404,
            AnalyticalError::AlreadyExists(_) => 409,
            AnalyticalError::Decrypt { .. }
            | AnalyticalError::Corrupt { .. }
            | AnalyticalError::Io { .. }
            | AnalyticalError::Parquet { .. }
            | AnalyticalError::Arrow(_) => 500,
            AnalyticalError::Engine(e) => e.status(),
        }
    }

    /// The engine's substatus when the engine refused (e.g. 4002: the customer key or the
    /// identity), else 0.
    pub fn substatus(&self) -> u32 {
        match self {
            AnalyticalError::Engine(e) => e.substatus(),
            _ => 0,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AnalyticalError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn query(pos: usize, msg: impl Into<String>) -> Self {
        AnalyticalError::Query { pos, msg: msg.into() }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, AnalyticalError>;
