//! The raw key-value store: open and recovery, the group-commit write path, reads, flushes,
//! compaction scheduling and the poison flag. Orchestration only: formats live in wal/, sst/,
//! version/; keys come from crypto/ as a `CipherSuite`. Knows nothing of JSON or documents.

mod background;
#[cfg(test)]
mod compression_tests;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod format_v1_tests;
mod idle;
mod lock;
mod maintenance;
mod open;
mod options;
mod pin;
mod pins;
mod read;
mod reseal;
#[cfg(test)]
mod seek_tests;
mod ship;
mod state;
mod write;
mod write_queue;

pub use lock::DirLock;
pub(crate) use options::zstd_level_for;
pub use options::{every_key, DbOptions, Durability, FilterKeys, DEEP_ZSTD_LEVEL, UPPER_ZSTD_LEVEL};
pub use pin::{PinnedSegment, Snapshot};
pub use read::ScanIter;
pub use reseal::SealProgress;
pub use ship::{LogView, WalPrefix};
pub use state::{Db, DbStats, RecoveryReport};

/// Size of a WAL file that holds no record (its header only).
pub const WAL_HEADER_LEN: u64 = crate::file_header::HEADER_LEN as u64;
