//! The current set of segment files: the sealed manifest on disk (source of truth) and the
//! in-memory `Version` of opened segments built from it. Sees only `sst`, `util` and the cipher.

mod manifest;
mod set;

#[cfg(test)]
mod fuzz_tests;

pub(crate) use manifest::Manifest;
pub use manifest::MANIFEST_FILE;
pub(crate) use set::Version;

/// Number of levels: L0 (overlapping flushes) and L1..L6 (each sorted, non-overlapping).
pub(crate) const NUM_LEVELS: usize = 7;
