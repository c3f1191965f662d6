//! Dropping continuous-backup history older than the tier's window: the newest base consistent
//! at or before the window's start becomes the log's start, and shipped WAL files before its log
//! number leave the LOG (their files are removed after the LOG is replaced). Deciding (`trim`,
//! on a manifest) is separate from deleting (`remove_dropped`). Callers hold `log/LOCK`.

use std::path::Path;

use super::log_manifest::LogManifest;
use super::retention::scan;
use crate::error::{Error, Result};
use strata_lsm::files::wal_file_name;

/// Moves `m`'s start to the newest base of `backup_dir` consistent at or before
/// `now_ms - tier`, if that is later than the current start; returns the ids of the shipped
/// WAL files no longer needed.
pub(crate) fn trim(backup_dir: &Path, m: &mut LogManifest, now_ms: u64) -> Result<Vec<u64>> {
    let window_start = m.window_start(now_ms);
    let newest = scan(backup_dir)?
        .into_iter()
        .filter_map(|(_, b)| b.ok())
        .filter(|b| b.account == m.account)
        .filter_map(|b| Some((b.pinned_ms?, b.log_number?)))
        .filter(|(t, n)| *t <= window_start && *n >= m.start_log_number)
        .max();
    let Some((start_ms, start_log_number)) = newest.filter(|(t, _)| *t > m.start_ms) else {
        return Ok(Vec::new());
    };
    m.start_ms = start_ms;
    m.start_log_number = start_log_number;
    let dropped = m
        .wals
        .iter()
        .map(|w| w.id)
        .filter(|id| *id < start_log_number)
        .collect();
    m.wals.retain(|w| w.id >= start_log_number);
    Ok(dropped)
}

/// Removes the shipped files of the dropped WAL ids (already out of the LOG).
pub(crate) fn remove_dropped(log: &Path, ids: &[u64]) -> Result<()> {
    for id in ids {
        let path = log.join(wal_file_name(*id));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io_path(
                    "removing a shipped WAL older than the window",
                    &path,
                    e,
                ))
            }
        }
    }
    Ok(())
}
