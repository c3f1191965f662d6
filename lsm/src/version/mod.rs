//! The current set of segment files: the sealed manifest on disk (source of truth) and the
//! in-memory `Version` of opened segments built from it. Sees only `sst`, `util` and the cipher.

mod manifest;
mod set;

#[cfg(test)]
mod fuzz_tests;

pub use manifest::{Manifest, MANIFEST_FILE};
pub use set::Version;

/// Number of levels: L0 (overlapping flushes) and L1..L6 (each sorted, non-overlapping).
pub const NUM_LEVELS: usize = 7;
