//! Opening a store and recovering it: lock, manifest, segments, then replay of the live WAL files
//! into a memtable that is written straight to an L0 segment, so every open starts from a fresh,
//! empty WAL (whose new salt keeps record-number nonces unique). Orphan files of an interrupted
//! flush or compaction are removed. Mid-log corruption fails the open, naming file and offset.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use super::lock::DirLock;
use super::maintenance::{parse_id, remove_wals_before, write_memtable_segment};
use super::options::DbOptions;
use super::state::{BgState, Db, RecoveryReport, Shared, SuperVersion, WalState};
use super::write_queue::WriteQueue;
use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::compaction::Outputs;
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::version::{Manifest, Version};
use crate::wal::{self, WalWriter};
use strata_base::fs::create_dir;

fn list_ids(dir: &Path, ext: &str) -> Result<Vec<u64>> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)
        .map_err(|e| Error::io_path("listing", dir, e))?
        .flatten()
        .filter_map(|e| parse_id(&e.file_name().to_string_lossy(), ext))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Cuts a WAL back to its last whole record (durably); one without a whole header is removed.
fn truncate_torn(path: &Path, len: u64) -> Result<()> {
    if len == 0 {
        return std::fs::remove_file(path).map_err(|e| Error::io_path("removing the torn WAL", path, e));
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io_path("opening", path, e))?;
    f.set_len(len)
        .and_then(|()| strata_base::faults::sync_all(&f, path))
        .map_err(|e| Error::io_path("truncating the torn tail of", path, e))
}

impl Db {
    /// Opens (creating if needed) the store in `dir`, sealed under `suite`.
    pub fn open(dir: &Path, opts: DbOptions, suite: Arc<CipherSuite>) -> Result<Db> {
        opts.validate()?;
        create_dir(dir, false)?;
        let lock = DirLock::acquire(dir)?;
        let wal_dir = dir.join("wal");
        let seg_dir = dir.join("seg");
        create_dir(&wal_dir, false)?;
        create_dir(&seg_dir, false)?;

        let mut manifest = match Manifest::read(dir, &suite)? {
            Some(m) => m,
            None => {
                if !list_ids(&seg_dir, ".seg")?.is_empty() {
                    return Err(Error::corruption(
                        dir,
                        0,
                        "segment files exist but the MANIFEST is missing",
                    ));
                }
                let mut m = Manifest::empty();
                m.write(dir, &suite)?;
                m
            }
        };
        let mut report = RecoveryReport::default();

        // Segments not in the manifest were written by a flush or compaction that did not finish.
        let live: std::collections::HashSet<u64> = manifest.all_segments().map(|(_, s)| s.id).collect();
        let seg_ids = list_ids(&seg_dir, ".seg")?;
        for id in &seg_ids {
            if !live.contains(id) {
                let p = seg_dir.join(crate::sst::segment_file_name(*id));
                std::fs::remove_file(&p).map_err(|e| Error::io_path("removing orphan segment", &p, e))?;
                report.orphans_removed += 1;
            }
        }
        let version = Version::build(&manifest, &seg_dir, &suite, &HashMap::new())?;

        // Replay the live logs, oldest first; only the newest may end in a torn record.
        let wal_ids = list_ids(&wal_dir, ".wal")?;
        let live_wals: Vec<u64> = wal_ids
            .iter()
            .copied()
            .filter(|id| *id >= manifest.log_number)
            .collect();
        let recovered = Memtable::new(0);
        let mut max_seq = manifest.last_seq;
        for (i, id) in live_wals.iter().enumerate() {
            let path = wal_dir.join(wal::wal_file_name(*id));
            let is_last = i + 1 == live_wals.len();
            let r = wal::replay_until(&path, *id, &suite, is_last, opts.replay_until_ms, |rec| {
                recovered.insert(&rec.key, rec.seq, rec.value)
            })?;
            report.wal_files_replayed += 1;
            report.records_replayed += r.records;
            max_seq = max_seq.max(r.max_seq);
            if let Some((off, n)) = r.torn_tail {
                if opts.retain_wals {
                    // A retained WAL is shipped to a backup later; it must end in whole records.
                    truncate_torn(&path, off)?;
                }
                report.torn_tail = Some((path, off, n));
            }
            if r.stopped_at_time {
                break;
            }
        }
        let max_on_disk = wal_ids.iter().chain(seg_ids.iter()).copied().max().unwrap_or(0);
        let mut next_id = manifest.next_file_id.max(max_on_disk + 1);
        let mut version = version;

        // Recovered records go to a segment and the manifest moves past the replayed logs
        // *before* a new WAL exists, so a crash at any point of recovery leaves either the old
        // logs (replayed again, idempotently) or the new state — never an old torn log that is
        // no longer the newest.
        if !live_wals.is_empty() {
            let mut new_segment = None;
            if !recovered.is_empty() {
                let out = Outputs {
                    dir: &seg_dir,
                    suite: &suite,
                    target_file_size: opts.target_file_size,
                    filter_keys: opts.filter_keys,
                    zstd_levels: &opts.zstd_levels,
                    bottom_zstd_level: opts.bottom_zstd_level,
                };
                new_segment = Some(write_memtable_segment(&out, next_id, &recovered)?);
                next_id += 1;
            }
            if let Some(meta) = &new_segment {
                manifest.levels[0].insert(0, meta.clone());
            }
            manifest.last_seq = manifest.last_seq.max(max_seq);
            manifest.log_number = next_id;
            manifest.next_file_id = next_id + 1;
            manifest.write(dir, &suite)?;
            version = Version::build(&manifest, &seg_dir, &suite, &version.by_id())?;
        }
        if !opts.retain_wals {
            remove_wals_before(&wal_dir, manifest.log_number)?;
        }

        // The fresh WAL of this run: a new file and salt, never appended to an old one.
        let new_wal = next_id;
        let writer = WalWriter::create(&wal_dir, new_wal, &suite)?;
        let retain_wals = opts.retain_wals;
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            wal_dir,
            seg_dir,
            cache: BlockCache::new(opts.cache_bytes),
            opts,
            suite,
            current: RwLock::new(Arc::new(SuperVersion {
                mem: Arc::new(Memtable::new(new_wal)),
                imm: Vec::new(),
                version: Arc::new(version),
            })),
            queue: Mutex::new(WriteQueue::default()),
            queue_cv: Condvar::new(),
            wal: Mutex::new(WalState {
                writer,
                next_seq: max_seq + 1,
                min_next_ms: 0,
            }),
            manifest: Mutex::new(manifest),
            next_file_id: AtomicU64::new(new_wal + 1),
            poison: Mutex::new(None),
            bg: Mutex::new(BgState::default()),
            bg_cv: Condvar::new(),
            maintenance: Mutex::new(()),
            compaction: Mutex::new(()),
            pins: Mutex::new(Default::default()),
            retain_wals: AtomicBool::new(retain_wals),
            report,
            _lock: lock,
        });

        let mut db = Db {
            shared,
            bg: Vec::new(),
        };
        // On failure `db` drops: the threads started so far are told to stop and joined.
        let flusher = db.shared.clone();
        db.bg.push(spawn("strata-flush", move || flusher.flush_loop())?);
        if db.shared.opts.background_compaction {
            let compactor = db.shared.clone();
            db.bg
                .push(spawn("strata-compact", move || compactor.compaction_loop())?);
        }
        db.shared.wake_background();
        Ok(db)
    }
}

/// Starts one of the store's background threads (db/background.rs).
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| Error::io(format!("starting the thread {name}"), e))
}
