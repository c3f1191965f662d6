//! Strata's ground floor, shared by the LSM, the vault and the engine: the I/O seam every file
//! call goes through (fault injection and power-loss simulation behind a feature), durable
//! file-system helpers, little-endian coding, framed metadata files, the one AEAD primitive
//! (`ring`'s AES-256-GCM) with data keys and HKDF, resource-name rules and the wall clock.
//! Knows nothing of segments, documents, vaults or request units.

pub mod coding;
pub mod error;
mod fault_kind;
#[cfg(any(test, feature = "fault-injection"))]
pub mod fault_plan;
pub mod faults;
pub mod fs;
#[cfg(any(test, feature = "test-support"))]
pub mod fuzz_support;
pub mod meta_file;
pub mod name;
#[cfg(any(test, feature = "fault-injection"))]
pub mod power_loss;
pub mod seal;
pub mod wall_clock;

pub use error::{Error, Result};
