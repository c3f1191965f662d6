//! Periodic backups: pinned online snapshots of the sealed files copied (never decrypted) into a
//! backup directory with an authenticated backup manifest and a shared, incremental segment pool;
//! retention; verification; restore into a new data directory. See docs/backup.md.

mod copy;
mod info;
mod layout;
mod manifest;
mod policy;
mod pool;
mod restore;
mod retention;
mod snapshot;
mod verify;

pub use info::{BackupInfo, VerifyReport};
pub use policy::BackupPolicy;
