//! `Db::wait_idle`: waits, up to a deadline, until no flush or compaction is pending or running,
//! so that what is on disk is what the store will keep (the bench measures its size then). It
//! only watches the background state of db/background.rs; it must not flush, compact or start
//! anything itself.

use std::time::{Duration, Instant};

use super::state::{lock, Db};
use crate::error::{Error, Result};

impl Db {
    /// Waits until the background threads have nothing to do: no frozen memtable waits for its
    /// flush, no flush or compaction (or re-seal) is requested or running. Returns `Ok(true)`
    /// once idle, `Ok(false)` if `timeout` passed first (e.g. a withheld customer key stalls the
    /// flush), and 503 if the store is poisoned or a background thread failed. Without
    /// `background_compaction` compactions are the caller's, so only flushes are waited for. The
    /// memtable being written is not flushed: call `flush` first to settle it too.
    pub fn wait_idle(&self, timeout: Duration) -> Result<bool> {
        let s = &self.shared;
        let deadline = Instant::now() + timeout;
        let compacts = s.opts.background_compaction;
        let mut g = lock(&s.bg)?;
        loop {
            if let Some(e) = &g.error {
                return Err(Error::Poisoned(e.clone()));
            }
            s.check_poison()?;
            let pending = g.flush_pending || (compacts && g.compact_pending);
            if g.shutdown || (!pending && g.running == 0 && s.current()?.imm.is_empty()) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            g = s
                .bg_cv
                .wait_timeout(g, deadline - now)
                .map_err(|_| Error::Poisoned("a background thread panicked".into()))?
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::cipher::CipherSuite;
    use crate::db::{Db, DbOptions, Durability};
    use crate::error::Error;
    use crate::kv::WriteBatch;

    const TRIGGER: usize = 2;

    fn open(dir: &std::path::Path) -> Db {
        let opts = DbOptions {
            memtable_bytes: 16 << 10,
            l0_compaction_trigger: TRIGGER,
            base_level_bytes: 64 << 10,
            target_file_size: 16 << 10,
            ..DbOptions::default()
        };
        Db::open(dir, opts, Arc::new(CipherSuite::ephemeral(true))).unwrap()
    }

    /// Names and sizes of the segment files.
    fn segments(dir: &std::path::Path) -> Vec<(String, u64)> {
        let mut out: Vec<_> = std::fs::read_dir(dir.join("seg"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_loaded_store_settles_and_stays_put() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        assert!(db.wait_idle(Duration::from_secs(10)).unwrap());
        // Many small memtables: the flush thread freezes and flushes them, and the compaction
        // thread merges the L0 segments they leave while the writes go on.
        for round in 0..40u32 {
            let mut b = WriteBatch::new();
            for i in 0..200u32 {
                let v = format!("value {round} {i} {}", "x".repeat(40 + (i % 13) as usize));
                b.put(
                    format!("k{:06}", (i * 7919 + round) % 5000).into_bytes(),
                    v.into_bytes(),
                );
            }
            db.write(b, Durability::Buffered).unwrap();
        }
        assert!(db.wait_idle(Duration::from_secs(60)).unwrap());
        let stats = db.stats().unwrap();
        assert_eq!(stats.frozen_memtables, 0, "{stats:?}");
        assert!(stats.segments_per_level[0] < TRIGGER, "{stats:?}");
        assert!(stats.segments_per_level.iter().sum::<usize>() > 0, "{stats:?}");
        // Settled: nothing rewrites the files afterwards.
        let settled = segments(dir.path());
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(segments(dir.path()), settled);
    }

    #[test]
    fn a_poisoned_store_is_503_not_idle() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        db.shared.set_poison(&Error::Internal("test".into()));
        let e = db.wait_idle(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.status(), 503, "{e}");
    }
}
