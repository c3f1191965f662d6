//! Strata's key-value engine: an encrypted log-structured merge tree. Bytes in, bytes out: no
//! JSON, documents, request units or vaults; the data keys of its seal layers are handed in as
//! values (`CipherSuite`). Layers, top to bottom: `db` (open, recovery, group commit, reads,
//! flush and compaction scheduling) -> `wal`, `memtable`, `sst`, `cache`, `version`,
//! `compaction` -> `cipher` (per-file seal/open) -> files, through `strata_base`'s I/O seam.
//! See docs/architecture.md and docs/format.md.

mod cache;
pub mod cipher;
mod compaction;
pub mod db;
pub mod error;
mod file_header;
mod format_version;
mod kv;
mod memtable;
mod sst;
mod version;
mod wal;

/// Entry points for the cargo-fuzz targets in `fuzz/` (docs/reliability.md, "Coverage-guided
/// fuzzing"). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
#[global_allocator]
static PROBE: strata_base::fuzz_support::Probe = strata_base::fuzz_support::Probe;

/// The names and sizes of the store's files, for the engine's backups, which copy sealed files
/// as they are (never decrypted).
pub mod files {
    pub use crate::db::WAL_HEADER_LEN;
    pub use crate::sst::segment_file_name;
    pub use crate::version::MANIFEST_FILE;
    pub use crate::wal::wal_file_name;
}

pub use cache::CacheStats;
pub use cipher::{CipherSuite, CryptoStats};
pub use compaction::CompactionFilter;
pub use db::{
    every_key, Db, DbOptions, DbStats, Durability, FilterKeys, RecoveryReport, ScanIter, SealProgress,
};
pub use error::{Error, Result};
pub use kv::WriteBatch;
