//! Periodic backups: pinned online snapshots of the sealed files copied (never decrypted) into a
//! backup directory with an authenticated backup manifest and a shared, incremental segment pool;
//! retention; verification; restore into a new data directory. Continuous backup: the sealed
//! WAL shipped beside a base backup, and point-in-time restore from them. See docs/backup.md.

mod continuous;
mod continuous_policy;
mod copy;
mod info;
mod layout;
mod log_manifest;
mod manifest;
mod pitr;
mod policy;
mod pool;
mod progress;
mod restore;
mod retention;
mod schedule;
mod scope;
mod ship;
mod shipper;
mod snapshot;
mod tagged;
mod trim;
mod undelete;
mod verify;

pub use continuous_policy::ContinuousPolicy;
pub use info::{BackupInfo, ContinuousStatus, ShipReport, VerifyReport};
pub use pitr::PointInTimeRestore;
pub use policy::BackupPolicy;
pub use progress::{observe_progress, Progress};
pub(crate) use shipper::Shipper;
pub use undelete::UndeleteReport;
