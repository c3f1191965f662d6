//! The shared state of an open store: the current memtables and version (swapped atomically as a
//! unit), the WAL writer, the manifest, the poison flag and the background thread's mailbox.
//! `Db` is Send + Sync: any number of reader and writer threads may share it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

use super::lock::DirLock;
use super::options::DbOptions;
use super::write_queue::WriteQueue;
use crate::cache::{BlockCache, CacheStats};
use crate::cipher::CipherSuite;
use crate::compaction::Outputs;
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::version::{Manifest, Version};
use crate::wal::WalWriter;

/// Everything a reader needs, replaced as a whole: readers clone the `Arc` and never block writers.
pub(crate) struct SuperVersion {
    pub(crate) mem: Arc<Memtable>,
    /// Frozen memtables waiting to be flushed, newest first.
    pub(crate) imm: Vec<Arc<Memtable>>,
    pub(crate) version: Arc<Version>,
}

pub(crate) struct WalState {
    pub(crate) writer: WalWriter,
    pub(crate) next_seq: u64,
    /// The least commit time (Unix ms) the next group may carry: commit times never decrease,
    /// and none falls at or before a time already reported as shipped (db/ship.rs).
    pub(crate) min_next_ms: u64,
}

#[derive(Default)]
pub(crate) struct BgState {
    /// A memtable was frozen (or the key came back): the flush thread has work.
    pub(crate) flush_pending: bool,
    /// A flush landed (or the key came back): the compaction thread should look for work.
    pub(crate) compact_pending: bool,
    /// Background threads inside their work right now (flushing, compacting, re-sealing): with
    /// the two flags, what `Db::wait_idle` waits on (db/idle.rs).
    pub(crate) running: usize,
    pub(crate) shutdown: bool,
    pub(crate) error: Option<String>,
}

/// What recovery found when the store was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub wal_files_replayed: u32,
    pub records_replayed: u64,
    /// A torn record at the end of the newest WAL (file, offset, bytes dropped). Such a record was
    /// never acknowledged as durable; it is dropped, and said so here.
    pub torn_tail: Option<(PathBuf, u64, u64)>,
    /// Segment files found on disk but not in the manifest (an interrupted flush or compaction),
    /// removed at open.
    pub orphans_removed: u32,
}

/// Shape of the tree, for tests, stats and the CLI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbStats {
    pub segments_per_level: Vec<usize>,
    pub bytes_per_level: Vec<u64>,
    pub memtable_bytes: usize,
    pub frozen_memtables: usize,
    pub last_seq: u64,
    pub cache: CacheStats,
    /// Bytes the open segments' block indexes hold in memory (every segment's, always resident).
    pub index_bytes: usize,
    /// Bytes the open segments' bloom filters hold in memory (always resident).
    pub filter_bytes: usize,
}

pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) wal_dir: PathBuf,
    pub(crate) seg_dir: PathBuf,
    pub(crate) opts: DbOptions,
    pub(crate) suite: Arc<CipherSuite>,
    pub(crate) cache: BlockCache,
    pub(crate) current: RwLock<Arc<SuperVersion>>,
    pub(crate) queue: Mutex<WriteQueue>,
    pub(crate) queue_cv: Condvar,
    pub(crate) wal: Mutex<WalState>,
    /// The manifest as last written; its lock also serialises version edits.
    pub(crate) manifest: Mutex<Manifest>,
    pub(crate) next_file_id: AtomicU64,
    pub(crate) poison: Mutex<Option<String>>,
    pub(crate) bg: Mutex<BgState>,
    pub(crate) bg_cv: Condvar,
    /// Serialises changes of the set of segments: a whole flush, the install of a compaction or
    /// re-seal, the choice of a compaction's inputs, a backup's pin. Held only briefly by
    /// compactions, so a flush never waits for a merge to finish.
    pub(crate) maintenance: Mutex<()>,
    /// Serialises compactions and re-seals (background and manual) for their whole run; taken
    /// before `maintenance`, never while holding it.
    pub(crate) compaction: Mutex<()>,
    /// Backup snapshots holding segment files, and the deletions waiting for them (db/pin.rs).
    pub(crate) pins: Mutex<super::pins::Pins>,
    /// WAL files whose data is in segments are kept until released (db/ship.rs).
    pub(crate) retain_wals: AtomicBool,
    pub(crate) report: RecoveryReport,
    pub(crate) _lock: DirLock,
}

/// Locks a mutex, treating a panic of another holder as a poisoned store rather than panicking.
pub(crate) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::Poisoned("a thread panicked while holding engine state".into()))
}

/// Whether `e` is a key refusal (403) rather than a failure of the store.
pub(crate) fn is_key_refusal(e: &Error) -> bool {
    matches!(e, Error::KeyWithheld(_) | Error::KeyMismatch(_))
}

impl Shared {
    pub(crate) fn current(&self) -> Result<Arc<SuperVersion>> {
        self.current
            .read()
            .map(|g| g.clone())
            .map_err(|_| Error::Poisoned("a thread panicked while swapping versions".into()))
    }

    /// Replaces the current super-version with `f(current)`, atomically for readers.
    pub(crate) fn swap_current(&self, f: impl FnOnce(&SuperVersion) -> SuperVersion) -> Result<()> {
        let mut g = self
            .current
            .write()
            .map_err(|_| Error::Poisoned("a thread panicked while swapping versions".into()))?;
        *g = Arc::new(f(&g));
        Ok(())
    }

    /// Where flushes and compactions write new segments, and how.
    pub(crate) fn outputs(&self) -> Outputs<'_> {
        Outputs {
            dir: &self.seg_dir,
            suite: &self.suite,
            target_file_size: self.opts.target_file_size,
            filter_keys: self.opts.filter_keys,
            zstd_levels: &self.opts.zstd_levels,
            bottom_zstd_level: self.opts.bottom_zstd_level,
        }
    }

    pub(crate) fn alloc_file_id(&self) -> u64 {
        self.next_file_id.fetch_add(1, Ordering::SeqCst)
    }

    pub(crate) fn check_poison(&self) -> Result<()> {
        match &*lock(&self.poison)? {
            Some(why) => Err(Error::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the store unwritable: after a failed fsync the page cache may no longer match the disk.
    /// A key refusal (403: the customer key is withheld) does not: a seal fails before anything
    /// of its block is written, so nothing on disk is uncertain.
    pub(crate) fn set_poison(&self, why: &Error) {
        if is_key_refusal(why) {
            return;
        }
        if let Ok(mut p) = self.poison.lock() {
            p.get_or_insert_with(|| why.to_string());
        }
    }

    pub(crate) fn wake_background(&self) {
        if let Ok(mut g) = self.bg.lock() {
            g.flush_pending = true;
            g.compact_pending = true;
        }
        self.bg_cv.notify_all();
    }
}

/// An open key-value store. Dropping it stops the background thread; unflushed data stays in
/// the WAL and is recovered at the next open.
pub struct Db {
    pub(crate) shared: Arc<Shared>,
    /// The flush thread and, with `background_compaction`, the compaction thread.
    pub(crate) bg: Vec<JoinHandle<()>>,
}

impl Db {
    /// What recovery found at open.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.shared.report
    }

    pub fn stats(&self) -> Result<DbStats> {
        let sv = self.shared.current()?;
        let next_seq = lock(&self.shared.wal)?.next_seq;
        Ok(DbStats {
            segments_per_level: sv.version.levels.iter().map(Vec::len).collect(),
            bytes_per_level: lock(&self.shared.manifest)?
                .levels
                .iter()
                .map(|l| l.iter().map(|s| s.size).sum())
                .collect(),
            memtable_bytes: sv.mem.approximate_bytes(),
            frozen_memtables: sv.imm.len(),
            last_seq: next_seq.saturating_sub(1),
            cache: self.shared.cache.stats(),
            index_bytes: sv.version.segments().map(|s| s.index_bytes()).sum(),
            filter_bytes: sv.version.segments().map(|s| s.filter_bytes()).sum(),
        })
    }

    /// Drops every plaintext block the cache holds (the customer key was withdrawn: nothing sealed
    /// under it may be served from memory).
    pub fn drop_cached_blocks(&self) {
        self.shared.cache.clear();
    }

    /// Wakes the background thread (the customer key came back: maintenance may resume).
    pub fn wake_background(&self) {
        self.shared.wake_background();
    }

    /// The data directory of this store.
    pub fn path(&self) -> &std::path::Path {
        &self.shared.dir
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut g) = self.shared.bg.lock() {
            g.shutdown = true;
        }
        self.shared.bg_cv.notify_all();
        for h in self.bg.drain(..) {
            let _ = h.join();
        }
        // Buffered writes reach the disk on a clean close. Not on a poisoned store: an fsync
        // that failed once is never retried (a retry may "succeed" over lost pages).
        if self.shared.check_poison().is_err() {
            return;
        }
        if let Ok(mut w) = self.shared.wal.lock() {
            let _ = w.writer.sync();
        }
    }
}
