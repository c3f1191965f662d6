//! The enable-CMK migration of the store: after the account's `CipherSuite` gains its customer
//! layer, `start_reseal` moves writes to a new double-sealed WAL and flushes, and the background
//! thread rewrites (one segment at a time, in place in its level) every live segment still sealed
//! with fewer layers, then the MANIFEST; `seal_progress` reports how far it is. The same pass
//! rewrites segments of an older format version (docs/format.md#segment), which the thread runs
//! after every open, so they do not wait for a compaction to reach them. Knows nothing of vaults
//! or keyrings: the account decides when to start and records completion. Runs under the
//! compaction lock and installs under the maintenance lock, like every compaction
//! (db/maintenance.rs). See docs/keys.md#enabling-cmk.

use std::sync::Arc;

use super::state::{lock, Db, Shared};
use crate::compaction;
use crate::error::{Error, Result};
use crate::format_version::SEGMENT_VERSION;
use crate::sst::Segment;

/// How far the store is from having every file sealed with the account's layers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SealProgress {
    /// Seal layers of new files (1 service-managed, 2 customer-managed).
    pub layers: u8,
    /// Live segments, and how many of them carry `layers` layers.
    pub segments: u64,
    pub segments_sealed: u64,
    /// Their bytes, likewise.
    pub bytes: u64,
    pub bytes_sealed: u64,
    /// Every segment, the MANIFEST and the live WAL carry `layers` layers.
    pub complete: bool,
}

impl Db {
    /// Starts sealing with the suite's current layers: a new WAL (even for an empty memtable),
    /// a flush of everything the old WAL holds, hence a rewritten MANIFEST, then wakes the
    /// background thread, which re-seals the older segments (`background_compaction` on; else
    /// call `reseal`).
    pub fn start_reseal(&self) -> Result<()> {
        let s = &self.shared;
        s.check_poison()?;
        {
            let mut wal = lock(&s.wal)?;
            s.freeze_memtable(&mut wal)?;
        }
        s.poison_on_error(s.flush_frozen())?;
        s.wake_background();
        Ok(())
    }

    /// Re-seals every segment that still needs it, on the caller's thread.
    pub fn reseal(&self) -> Result<()> {
        let s = &self.shared;
        s.check_poison()?;
        let r = s.reseal_while_pending();
        s.poison_on_error(r)
    }

    /// Counts segments and bytes by seal layers.
    pub fn seal_progress(&self) -> Result<SealProgress> {
        let s = &self.shared;
        let layers = s.suite.layers();
        let sv = s.current()?;
        let mut p = SealProgress {
            layers,
            ..SealProgress::default()
        };
        for seg in sv.version.segments() {
            p.segments += 1;
            p.bytes += seg.file_len();
            if seg.layers() >= layers {
                p.segments_sealed += 1;
                p.bytes_sealed += seg.file_len();
            }
        }
        let manifest_sealed = lock(&s.manifest)?.layers >= layers;
        let wal_sealed = lock(&s.wal)?.writer.layers() >= layers;
        p.complete = p.segments_sealed == p.segments && manifest_sealed && wal_sealed;
        Ok(p)
    }
}

impl Shared {
    /// Re-seals segments one by one until none is left with fewer layers than new files get or
    /// in an older segment format (a version-1 filter), or the store shuts down; then rewrites the MANIFEST if it is sealed with fewer layers.
    pub(crate) fn reseal_while_pending(&self) -> Result<()> {
        let layers = self.suite.layers();
        loop {
            if self.shutting_down() {
                return Ok(());
            }
            let _c = lock(&self.compaction)?;
            self.check_poison()?;
            let next = {
                // Under the maintenance lock the current version matches the manifest.
                let _m = lock(&self.maintenance)?;
                self.current()?
                    .version
                    .segments()
                    .find(|s| s.layers() < layers || s.format_version() < SEGMENT_VERSION)
                    .cloned()
            };
            match next {
                Some(input) => self.poison_on_error(self.reseal_one(input))?,
                None => return self.poison_on_error(self.reseal_manifest(layers)),
            }
        }
    }

    fn reseal_manifest(&self, layers: u8) -> Result<()> {
        let mut manifest = lock(&self.manifest)?;
        if manifest.layers >= layers {
            return Ok(());
        }
        let mut m = manifest.clone();
        m.write(&self.dir, &self.suite)?;
        *manifest = m;
        Ok(())
    }

    /// Rewrites segment `id` under the current suite and puts the output where it stood in its
    /// level (L0 keeps its newest-first order). Nothing is dropped: no tombstone, no filter.
    /// Caller holds the compaction lock.
    fn reseal_one(&self, input: Arc<Segment>) -> Result<()> {
        let id = input.id();
        // Its level's compression (the compaction lock keeps it there meanwhile).
        let zstd_level = {
            let manifest = lock(&self.manifest)?;
            let levels = &manifest.levels;
            let level = levels
                .iter()
                .position(|v| v.iter().any(|s| s.id == id))
                .ok_or_else(|| Error::Internal(format!("re-seal input {id} not in the manifest")))?;
            let bottom = level > 0 && levels.iter().skip(level + 1).all(Vec::is_empty);
            self.outputs().zstd_level(level, bottom)
        };
        let outputs = compaction::merge_into_segments(
            std::slice::from_ref(&input),
            zstd_level,
            false,
            None,
            &self.outputs(),
            &mut || self.alloc_file_id(),
        )?;
        self.install_rewrite(&[id], |m| {
            let (level, pos) = m
                .levels
                .iter()
                .enumerate()
                .find_map(|(l, v)| v.iter().position(|s| s.id == id).map(|p| (l, p)))
                .ok_or_else(|| Error::Internal(format!("re-seal input {id} not in the manifest")))?;
            m.levels[level].splice(pos..=pos, outputs);
            Ok(())
        })
    }
}
