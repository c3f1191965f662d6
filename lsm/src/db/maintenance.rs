//! Flushes and compactions: writing frozen memtables to L0 segments, running the compaction
//! strategy's tasks, and installing each result (manifest first, then the in-memory version, then
//! deleting files no version needs). A failure poisons the store. Also the public `flush` and
//! `compact`. The threads that call these live in db/background.rs.
//!
//! Locks: a flush holds `maintenance` throughout; a compaction holds `compaction` throughout but
//! `maintenance` only to choose its inputs and to install its outputs, so flushes (and with them
//! writers) go on while it merges. A flush only adds L0 segments newer than anything a running
//! compaction reads, and the install edits the manifest as it is then, so neither undoes the
//! other.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::state::{lock, Db, Shared, SuperVersion};
use crate::compaction::{self, Outputs, StrategyConfig, Task};
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::sst::{segment_file_name, Segment, SegmentMeta};
use crate::version::{Manifest, Version};
use strata_base::fs::sync_dir;

impl Db {
    /// Freezes the memtable (if it holds anything) and waits until every frozen memtable is in a
    /// segment file.
    pub fn flush(&self) -> Result<()> {
        let s = &self.shared;
        s.check_poison()?;
        {
            let mut wal = lock(&s.wal)?;
            if !s.current()?.mem.is_empty() {
                s.freeze_memtable(&mut wal)?;
            }
        }
        // Flush here rather than wait for the background thread: callers want it done now.
        s.poison_on_error(s.flush_frozen())
    }

    /// Flushes, then merges every segment into one sorted run at the deepest level, dropping
    /// tombstones. Waits for it.
    pub fn compact(&self) -> Result<()> {
        self.flush()?;
        let s = &self.shared;
        let _c = lock(&s.compaction)?;
        s.check_poison()?;
        match s.choose(compaction::full)? {
            Some((task, inputs)) => s.poison_on_error(s.run_compaction(&task, inputs)),
            None => Ok(()),
        }
    }
}

impl Shared {
    /// A flush or compaction that failed part-way (a failed fsync, a damaged input) leaves the
    /// on-disk state uncertain: refuse further writes until the store is reopened and recovered.
    pub(super) fn poison_on_error(&self, r: Result<()>) -> Result<()> {
        if let Err(e) = &r {
            self.set_poison(e);
        }
        r
    }

    fn strategy(&self) -> StrategyConfig {
        StrategyConfig {
            l0_trigger: self.opts.l0_compaction_trigger,
            base_level_bytes: self.opts.base_level_bytes,
            multiplier: 10,
        }
    }

    pub(super) fn shutting_down(&self) -> bool {
        self.bg.lock().map_or(true, |g| g.shutdown)
    }

    /// Writes every frozen memtable, oldest first, to an L0 segment. Refused on a poisoned store
    /// (503): a flush that failed in one thread is not retried by another as if nothing happened.
    pub(crate) fn flush_frozen(&self) -> Result<()> {
        let _m = lock(&self.maintenance)?;
        while let Some(oldest) = self.current()?.imm.last().cloned() {
            self.check_poison()?;
            // Poisoned before the maintenance lock is released, so that no other thread
            // (background or caller) takes the failed flush up again as if nothing happened.
            self.poison_on_error(self.flush_one(&oldest))?;
            self.notify_flushed();
        }
        Ok(())
    }

    /// Wakes writers stalled on a full set of frozen memtables. The `bg` lock is taken first:
    /// a stalled writer checks the frozen count and waits under that lock, so a notification
    /// sent between its check and its wait would otherwise be lost.
    fn notify_flushed(&self) {
        drop(self.bg.lock());
        self.bg_cv.notify_all();
    }

    fn flush_one(&self, mem: &Arc<Memtable>) -> Result<()> {
        let meta = self.write_memtable(mem)?;
        let mut manifest = lock(&self.manifest)?;
        let sv = self.current()?;
        let mut m = manifest.clone();
        if let Some(meta) = &meta {
            m.levels[0].insert(0, meta.clone());
            m.last_seq = m.last_seq.max(meta.max_seq);
        }
        // The oldest WAL still needed is that of the oldest memtable not yet in a segment.
        m.log_number = sv
            .imm
            .iter()
            .filter(|x| !Arc::ptr_eq(x, mem))
            .map(|x| x.wal_id())
            .chain(std::iter::once(sv.mem.wal_id()))
            .min()
            .unwrap_or(mem.wal_id() + 1);
        m.next_file_id = self.next_file_id.load(std::sync::atomic::Ordering::SeqCst);
        m.write(&self.dir, &self.suite)?;
        let version = Version::build(&m, &self.seg_dir, &self.suite, &sv.version.by_id())?;
        *manifest = m;
        let log_number = manifest.log_number;
        drop(manifest);
        let version = Arc::new(version);
        self.swap_current(|sv| SuperVersion {
            mem: sv.mem.clone(),
            imm: sv.imm.iter().filter(|x| !Arc::ptr_eq(x, mem)).cloned().collect(),
            version: version.clone(),
        })?;
        self.remove_obsolete_wals(log_number)
    }

    /// Writes a memtable to a new segment; `None` if it was empty.
    pub(crate) fn write_memtable(&self, mem: &Memtable) -> Result<Option<SegmentMeta>> {
        if mem.is_empty() {
            return Ok(None);
        }
        write_memtable_segment(&self.outputs(), self.alloc_file_id(), mem).map(Some)
    }

    pub(crate) fn remove_obsolete_wals(&self, log_number: u64) -> Result<()> {
        if self.retain_wals.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        remove_wals_before(&self.wal_dir, log_number)
    }

    pub(super) fn compact_while_due(&self) -> Result<()> {
        let cfg = self.strategy();
        loop {
            if self.shutting_down() {
                return Ok(());
            }
            let _c = lock(&self.compaction)?;
            self.check_poison()?;
            match self.choose(|levels| compaction::pick(levels, &cfg))? {
                Some((task, inputs)) => self.poison_on_error(self.run_compaction(&task, inputs))?,
                None => return Ok(()),
            }
        }
    }

    /// The task `pick` chooses from the manifest's levels, with its input segments, taken under
    /// the maintenance lock: there the manifest and the current version agree (a flush changes
    /// both before it lets go), so every input is open. Caller holds the compaction lock.
    pub(super) fn choose(
        &self,
        pick: impl FnOnce(&[Vec<SegmentMeta>]) -> Option<Task>,
    ) -> Result<Option<(Task, Vec<Arc<Segment>>)>> {
        let _m = lock(&self.maintenance)?;
        let Some(task) = pick(&lock(&self.manifest)?.levels) else {
            return Ok(None);
        };
        let by_id = self.current()?.version.by_id();
        let inputs = task
            .inputs
            .iter()
            .map(|id| {
                by_id.get(id).cloned().ok_or_else(|| {
                    Error::Internal(format!("compaction input {id} not in the current version"))
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some((task, inputs)))
    }

    /// Merges a task's inputs (without the maintenance lock) and installs the result. Caller
    /// holds the compaction lock.
    pub(crate) fn run_compaction(&self, task: &Task, inputs: Vec<Arc<Segment>>) -> Result<()> {
        let outputs = compaction::merge_into_segments(
            &inputs,
            // A task that may drop tombstones writes the bottom level (nothing lies deeper).
            self.outputs().zstd_level(task.output_level, task.drop_tombstones),
            task.drop_tombstones,
            self.opts.compaction_filter.as_deref(),
            &self.outputs(),
            &mut || self.alloc_file_id(),
        )?;
        let gone: HashSet<u64> = task.inputs.iter().copied().collect();
        self.install_rewrite(&task.inputs, |m| {
            for level in &mut m.levels {
                level.retain(|s| !gone.contains(&s.id));
            }
            let out_level = &mut m.levels[task.output_level];
            out_level.extend(outputs);
            out_level.sort_by(|a, b| a.smallest.cmp(&b.smallest));
            Ok(())
        })
    }

    /// Installs the result of a rewrite of segments `inputs` (a compaction or a re-seal):
    /// `edit` places the outputs in a copy of the manifest, which is written; then the in-memory
    /// version is swapped, the inputs leave the block cache and their files are deleted (deferred
    /// while a backup snapshot pins them, db/pin.rs). Takes the maintenance lock; the caller
    /// holds the compaction lock, so the inputs are still live.
    pub(super) fn install_rewrite(
        &self,
        inputs: &[u64],
        edit: impl FnOnce(&mut Manifest) -> Result<()>,
    ) -> Result<()> {
        let _m = lock(&self.maintenance)?;
        // The segments open now, including L0 segments flushed while the outputs were written.
        let reuse: HashMap<u64, Arc<Segment>> = self.current()?.version.by_id();
        let mut manifest = lock(&self.manifest)?;
        let mut m = manifest.clone();
        edit(&mut m)?;
        m.next_file_id = self.next_file_id.load(std::sync::atomic::Ordering::SeqCst);
        m.write(&self.dir, &self.suite)?;
        let version = Arc::new(Version::build(&m, &self.seg_dir, &self.suite, &reuse)?);
        *manifest = m;
        drop(manifest);
        self.swap_current(|sv| SuperVersion {
            mem: sv.mem.clone(),
            imm: sv.imm.clone(),
            version: version.clone(),
        })?;
        for id in inputs {
            self.cache.evict_segment(*id);
        }
        self.remove_segments(
            inputs
                .iter()
                .map(|id| self.seg_dir.join(segment_file_name(*id)))
                .collect(),
        )
    }
}

/// Writes every record of `mem` (in key order) to segment `id` in `out.dir`, durably; on failure
/// removes what it wrote.
pub(crate) fn write_memtable_segment(out: &Outputs<'_>, id: u64, mem: &Memtable) -> Result<SegmentMeta> {
    let seg_dir = out.dir;
    let mut w = out.writer(id, out.zstd_level(0, false))?;
    let path = w.path().to_path_buf();
    let written = (|| {
        for r in mem.records() {
            w.add(&r)?;
        }
        let meta = w.finish()?;
        sync_dir(seg_dir)?;
        Ok(meta)
    })();
    if written.is_err() {
        // Not in the manifest: a half-written file is removed now rather than left to the next
        // open (e.g. a seal refused because the customer key was withdrawn mid-flush).
        let _ = std::fs::remove_file(&path);
    }
    written
}

/// Deletes the WAL files whose data is in segments (ids below the manifest's log number).
pub(crate) fn remove_wals_before(wal_dir: &Path, log_number: u64) -> Result<()> {
    let entries = std::fs::read_dir(wal_dir).map_err(|e| Error::io_path("listing", wal_dir, e))?;
    for e in entries.flatten() {
        if let Some(id) = parse_id(&e.file_name().to_string_lossy(), ".wal") {
            if id < log_number {
                std::fs::remove_file(e.path()).map_err(|err| Error::io_path("removing", &e.path(), err))?;
            }
        }
    }
    Ok(())
}

/// `0000000000000042.wal` -> 42.
pub(crate) fn parse_id(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?;
    (stem.len() == 16 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse_ids() {
        assert_eq!(super::parse_id("0000000000000042.wal", ".wal"), Some(42));
        assert_eq!(super::parse_id("42.wal", ".wal"), None);
        assert_eq!(super::parse_id("0000000000000042.seg", ".wal"), None);
    }
}
