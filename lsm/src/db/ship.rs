//! What continuous backup needs from the store, without ever opening a sealed record: commit
//! times (each WAL record carries its group's, never decreasing), the shippable prefix of every
//! WAL file, and keeping WAL files whose data is in segments until the shipper releases them.
//! Thread-safe. See docs/backup.md#continuous-backup.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::maintenance::parse_id;
use super::state::{lock, Db, Shared, WalState};
use crate::error::{Error, Result};
use crate::wal::wal_file_name;
use strata_base::wall_clock::WallClock;

/// One WAL file and the length of its whole records at the time of the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalPrefix {
    pub id: u64,
    pub path: PathBuf,
    pub len: u64,
    /// A WAL that is no longer written to (an older one): `len` is final.
    pub sealed: bool,
}

/// The WAL files at one instant, and that instant as a commit time: every record committed at
/// or before `through_ms` lies within the listed prefixes, and every later commit is stamped
/// after it.
#[derive(Clone, Debug)]
pub struct LogView {
    pub wals: Vec<WalPrefix>,
    pub through_ms: u64,
}

impl Shared {
    fn clock_ms(&self) -> u64 {
        match &self.opts.commit_clock {
            Some(c) => c.now_millis(),
            None => strata_base::wall_clock::SystemWallClock.now_millis(),
        }
    }

    /// The commit time of the next group: the clock, never below an earlier commit or view.
    pub(crate) fn next_commit_ms(&self, wal: &mut WalState) -> u64 {
        let ms = self.clock_ms().max(wal.min_next_ms);
        wal.min_next_ms = ms;
        ms
    }
}

impl Db {
    /// Keeps (or, `false`, stops keeping) WAL files whose data is in segments.
    pub fn set_retain_wals(&self, on: bool) {
        self.shared.retain_wals.store(on, Ordering::SeqCst);
    }

    /// A commit time no write acknowledged so far exceeds.
    pub fn commit_time_now(&self) -> Result<u64> {
        let wal = lock(&self.shared.wal)?;
        Ok(self.shared.clock_ms().max(wal.min_next_ms))
    }

    /// The WAL files and their whole-record prefixes, taken under the WAL lock so that no group
    /// is half-written; later commits are stamped after `through_ms`.
    pub fn log_view(&self) -> Result<LogView> {
        let s = &self.shared;
        let mut wal = lock(&s.wal)?;
        let through_ms = s.clock_ms().max(wal.min_next_ms);
        wal.min_next_ms = through_ms + 1;
        let live = wal.writer.id();
        let mut wals = Vec::new();
        let entries = std::fs::read_dir(&s.wal_dir).map_err(|e| Error::io_path("listing", &s.wal_dir, e))?;
        for e in entries.flatten() {
            let Some(id) = parse_id(&e.file_name().to_string_lossy(), ".wal") else {
                continue;
            };
            if id > live {
                continue;
            }
            let len = if id == live {
                wal.writer.complete_len()
            } else {
                e.metadata()
                    .map_err(|err| Error::io_path("reading", &e.path(), err))?
                    .len()
            };
            wals.push(WalPrefix {
                id,
                path: e.path(),
                len,
                sealed: id != live,
            });
        }
        wals.sort_by_key(|w| w.id);
        Ok(LogView { wals, through_ms })
    }

    /// Deletes the given WAL files (already shipped whole) whose data is in segments.
    pub fn release_wals(&self, shipped: &[u64]) -> Result<()> {
        let log_number = lock(&self.shared.manifest)?.log_number;
        for id in shipped.iter().filter(|id| **id < log_number) {
            let path = self.shared.wal_dir.join(wal_file_name(*id));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io_path("removing shipped WAL", &path, e)),
            }
        }
        Ok(())
    }
}
