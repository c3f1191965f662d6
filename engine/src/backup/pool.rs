//! The shared segment pool of a backup directory: each sealed segment file stored once under its
//! SHA-256, so a backup copies only segments no earlier backup holds (incremental), and
//! garbage collection of pool files no backup references. Callers hold the backup dir's LOCK.

use std::collections::HashSet;
use std::path::Path;

use super::copy::{copy_file, hash_file};
use super::layout::{pool_dir, pool_file, TMP_PREFIX};
use super::manifest::SegmentEntry;
use crate::error::{Error, Result};
use strata_base::fs::sync_dir;
use strata_lsm::db::PinnedSegment;

/// Puts a pinned segment into the pool unless the pool has it. `Ok((entry, copied))`.
pub(crate) fn put(backup_dir: &Path, seg: &PinnedSegment) -> Result<(SegmentEntry, bool)> {
    let (sha256, size) = hash_file(&seg.path)?;
    let entry = SegmentEntry {
        id: seg.id,
        size,
        sha256,
    };
    let dest = pool_file(backup_dir, &entry.sha256);
    if std::fs::metadata(&dest).is_ok_and(|m| m.len() == size) {
        return Ok((entry, false));
    }
    let tmp = pool_dir(backup_dir).join(format!("{TMP_PREFIX}{}", entry.sha256));
    let (copied_sha, _) = copy_file(&seg.path, &tmp)?;
    if copied_sha != entry.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Internal(format!(
            "segment {} changed while it was copied although it was pinned",
            seg.path.display()
        )));
    }
    strata_base::faults::rename(&tmp, &dest).map_err(|e| Error::io_path("renaming into place", &dest, e))?;
    Ok((entry, true))
}

/// Removes pool files (and interrupted copies) that no backup in `referenced` names.
pub(crate) fn collect_garbage(backup_dir: &Path, referenced: &HashSet<String>) -> Result<usize> {
    let dir = pool_dir(backup_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io_path("listing", &dir, e)),
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let keep = name
            .strip_suffix(".seg")
            .is_some_and(|sha| referenced.contains(sha));
        if !keep {
            std::fs::remove_file(e.path()).map_err(|err| Error::io_path("removing", &e.path(), err))?;
            removed += 1;
        }
    }
    sync_dir(&dir)?;
    Ok(removed)
}
