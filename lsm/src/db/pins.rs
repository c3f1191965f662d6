//! The pin count of online-backup snapshots (pin.rs) and the segment files whose deletion waits
//! for it to reach zero. Pure bookkeeping under the store's pins mutex; must not delete files
//! itself (pin.rs and compaction do, with what this hands back).

use std::path::PathBuf;

#[derive(Default)]
pub(crate) struct Pins {
    count: usize,
    pending: Vec<PathBuf>,
}

impl Pins {
    /// One more snapshot holds the current files.
    pub(crate) fn pin(&mut self) {
        self.count += 1;
    }

    /// Files compaction no longer needs: kept for later while a snapshot is pinned (`None`),
    /// else handed back to be deleted now.
    pub(crate) fn defer(&mut self, paths: Vec<PathBuf>) -> Option<Vec<PathBuf>> {
        if self.count > 0 {
            self.pending.extend(paths);
            return None;
        }
        Some(paths)
    }

    /// A snapshot dropped its pin: the deferred files to delete now if it was the last.
    pub(crate) fn unpin(&mut self) -> Vec<PathBuf> {
        self.count = self.count.saturating_sub(1);
        if self.count == 0 {
            std::mem::take(&mut self.pending)
        } else {
            Vec::new()
        }
    }
}
