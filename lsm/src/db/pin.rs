//! Pinning the sealed files of one consistent state for an online backup: `pinned_snapshot`
//! flushes, then (under the maintenance lock, so no flush or compaction is mid-install) takes the
//! MANIFEST bytes and the live segment list and raises a pin count. While any pin is held,
//! compaction defers deleting its inputs to a pending list, emptied when the last pin drops.
//! Thread-safe. See docs/backup.md#consistency.

use std::path::PathBuf;
use std::sync::Arc;

use super::state::{lock, Db, Shared};
use crate::error::{Error, Result};
use crate::sst::segment_file_name;
use crate::version::MANIFEST_FILE;

/// One live segment of a snapshot.
#[derive(Clone, Debug)]
pub struct PinnedSegment {
    pub id: u64,
    pub path: PathBuf,
}

/// A consistent, pinned set of sealed files; the segments stay on disk until this drops.
pub struct Snapshot {
    /// The MANIFEST file as it was when the snapshot was taken (sealed bytes).
    pub manifest: Vec<u8>,
    pub segments: Vec<PinnedSegment>,
    /// The MANIFEST's log number: WAL files from this id on hold what the segments do not.
    pub log_number: u64,
    shared: Arc<Shared>,
}

impl Db {
    /// Flushes every acknowledged write to a segment, then pins the current MANIFEST and its
    /// segments. Writers are not blocked; flushes continue, compactions defer their deletions.
    pub fn pinned_snapshot(&self) -> Result<Snapshot> {
        self.flush()?;
        let s = &self.shared;
        let _m = lock(&s.maintenance)?;
        let manifest = lock(&s.manifest)?;
        let path = s.dir.join(MANIFEST_FILE);
        let bytes = strata_base::faults::read(&path).map_err(|e| Error::io_path("reading", &path, e))?;
        let segments = manifest
            .all_segments()
            .map(|(_, m)| PinnedSegment {
                id: m.id,
                path: s.seg_dir.join(segment_file_name(m.id)),
            })
            .collect();
        lock(&s.pins)?.pin();
        Ok(Snapshot {
            manifest: bytes,
            segments,
            log_number: manifest.log_number,
            shared: s.clone(),
        })
    }
}

impl Shared {
    /// Deletes segment files no version needs, or defers that while a snapshot pins them.
    pub(crate) fn remove_segments(&self, paths: Vec<PathBuf>) -> Result<()> {
        let Some(paths) = lock(&self.pins)?.defer(paths) else {
            return Ok(());
        };
        for path in paths {
            std::fs::remove_file(&path)
                .map_err(|e| Error::io_path("removing compacted segment", &path, e))?;
        }
        Ok(())
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let pending = match self.shared.pins.lock() {
            Ok(mut p) => p.unpin(),
            Err(_) => return,
        };
        // A file left behind (failed removal, crash) is not in the manifest: the next open
        // removes it as an orphan.
        for path in pending {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::cipher::CipherSuite;
    use crate::db::{Db, DbOptions};

    #[test]
    fn compaction_defers_deleting_pinned_segments_until_the_pin_drops() {
        let dir = tempfile::tempdir().unwrap();
        let opts = DbOptions {
            background_compaction: false,
            ..DbOptions::default()
        };
        let db = Db::open(dir.path(), opts, Arc::new(CipherSuite::ephemeral(false))).unwrap();
        for round in 0..3u8 {
            db.put(&[b'k', round], b"v").unwrap();
            db.flush().unwrap();
        }
        let snap = db.pinned_snapshot().unwrap();
        assert_eq!(snap.segments.len(), 3);
        let second = db.pinned_snapshot().unwrap();
        db.compact().unwrap();
        assert!(
            snap.segments.iter().all(|s| s.path.exists()),
            "pinned inputs were deleted"
        );
        drop(snap);
        assert!(
            second.segments.iter().all(|s| s.path.exists()),
            "deleted with a pin still held"
        );
        let inputs: Vec<_> = second.segments.iter().map(|s| s.path.clone()).collect();
        drop(second);
        assert!(
            inputs.iter().all(|p| !p.exists()),
            "deferred deletions did not run"
        );
        assert_eq!(live_files(&db), 1);
        assert_eq!(db.get(&[b'k', 2]).unwrap(), Some(b"v".to_vec()));
    }

    fn live_files(db: &Db) -> usize {
        std::fs::read_dir(&db.shared.seg_dir).unwrap().flatten().count()
    }
}
