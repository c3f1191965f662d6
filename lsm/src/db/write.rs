//! The write path: group commit. Writers enqueue their batch; whoever finds no leader becomes the
//! leader, takes every queued batch, appends them as one sealed WAL record, fsyncs once if any
//! writer asked for `Sync`, applies them to the memtable, and wakes the group. Freezes the
//! memtable and starts a new WAL when it is full. Thread-safe.

use std::sync::Arc;

use super::state::{lock, Db, Shared, SuperVersion, WalState};
use super::write_queue::Group;
use crate::db::Durability;
use crate::error::{Error, Result};
use crate::kv::WriteBatch;
use crate::memtable::Memtable;
use crate::wal::WalWriter;

/// Frozen memtables allowed before writers stall for the flush to catch up.
const MAX_FROZEN: usize = 2;

impl Db {
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        let mut b = WriteBatch::new();
        b.put(key, value);
        self.write(b, self.shared.opts.durability)
    }

    pub fn delete(&self, key: &[u8]) -> Result<u64> {
        let mut b = WriteBatch::new();
        b.delete(key);
        self.write(b, self.shared.opts.durability)
    }

    /// Applies `batch` atomically and returns its last sequence number. With `Durability::Sync`
    /// the batch is on disk (fsync) before this returns.
    pub fn write(&self, batch: WriteBatch, durability: Durability) -> Result<u64> {
        self.shared.write(batch, durability)
    }

    /// Makes every write acknowledged so far durable (fsync of the live WAL; older WALs were
    /// synced when their memtable froze). For bulk loads written with `Durability::Buffered`.
    /// 503 if the store is poisoned; a failed fsync poisons it.
    pub fn sync(&self) -> Result<()> {
        self.shared.sync()
    }
}

impl Shared {
    pub(crate) fn write(&self, batch: WriteBatch, durability: Durability) -> Result<u64> {
        self.check_poison()?;
        if batch.is_empty() {
            return Ok(lock(&self.wal)?.next_seq.saturating_sub(1));
        }
        let mut q = lock(&self.queue)?;
        let ticket = q.enqueue(batch, durability == Durability::Sync);
        loop {
            if let Some(done) = q.take_result(ticket) {
                return done;
            }
            if let Some(group) = q.lead() {
                drop(q);
                let outcome = self.commit_group(&group);
                q = lock(&self.queue)?;
                q.finish(&group, &outcome);
                self.queue_cv.notify_all();
                continue;
            }
            q = self
                .queue_cv
                .wait(q)
                .map_err(|_| Error::Poisoned("a writer panicked".into()))?;
        }
    }

    pub(crate) fn sync(&self) -> Result<()> {
        self.check_poison()?;
        let mut wal = lock(&self.wal)?;
        wal.writer.sync().inspect_err(|e| self.set_poison(e))
    }

    /// Commits one group; returns each batch's last sequence number.
    fn commit_group(&self, group: &Group) -> Result<Vec<u64>> {
        self.check_poison()?;
        self.wait_for_flush_room()?;
        let mut wal = lock(&self.wal)?;
        let ops: Vec<(&[u8], Option<&[u8]>)> = group
            .iter()
            .flat_map(|(_, b, _)| b.ops.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
            .collect();
        let first = wal.next_seq;
        let sync = group.iter().any(|(_, _, s)| *s);
        let commit_ms = self.next_commit_ms(&mut wal);
        let logged =
            wal.writer
                .append(commit_ms, first, &ops)
                .and_then(|_| if sync { wal.writer.sync() } else { Ok(()) });
        if let Err(e) = logged {
            self.set_poison(&e);
            return Err(e);
        }
        let sv = self.current()?;
        for (i, (k, v)) in ops.iter().enumerate() {
            sv.mem.insert(k, first + i as u64, v.map(<[u8]>::to_vec));
        }
        wal.next_seq = first + ops.len() as u64;
        let mut lasts = Vec::with_capacity(group.len());
        let mut seq = first;
        for (_, b, _) in group {
            seq += b.len() as u64;
            lasts.push(seq - 1);
        }
        if sv.mem.approximate_bytes() >= self.opts.memtable_bytes {
            self.freeze_memtable(&mut wal)?;
        }
        Ok(lasts)
    }

    /// Stalls writers while too many frozen memtables wait for the flush.
    fn wait_for_flush_room(&self) -> Result<()> {
        let mut bg = lock(&self.bg)?;
        loop {
            if let Some(e) = &bg.error {
                return Err(Error::Poisoned(e.clone()));
            }
            if bg.shutdown || self.current()?.imm.len() < MAX_FROZEN {
                return Ok(());
            }
            bg = self
                .bg_cv
                .wait(bg)
                .map_err(|_| Error::Poisoned("background thread panicked".into()))?;
        }
    }

    /// Freezes the active memtable and starts a new WAL for its successor. The old WAL is synced
    /// first, so only the newest WAL can ever end in a torn record. Caller holds the WAL lock.
    pub(crate) fn freeze_memtable(&self, wal: &mut WalState) -> Result<()> {
        let rotated = wal.writer.sync().and_then(|_| {
            let id = self.alloc_file_id();
            WalWriter::create(&self.wal_dir, id, &self.suite)
        });
        let writer = match rotated {
            Ok(w) => w,
            Err(e) => {
                self.set_poison(&e);
                return Err(e);
            }
        };
        let new_mem = Arc::new(Memtable::new(writer.id()));
        wal.writer = writer;
        self.swap_current(|sv| {
            let mut imm = Vec::with_capacity(sv.imm.len() + 1);
            imm.push(sv.mem.clone());
            imm.extend(sv.imm.iter().cloned());
            SuperVersion {
                mem: new_mem,
                imm,
                version: sv.version.clone(),
            }
        })?;
        self.wake_background();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::cipher::CipherSuite;
    use crate::db::Durability;
    use crate::db::{Db, DbOptions};
    use crate::error::Error;

    fn open(dir: &std::path::Path) -> Db {
        Db::open(dir, DbOptions::default(), Arc::new(CipherSuite::ephemeral(false))).unwrap()
    }

    #[test]
    fn sync_after_buffered_writes_keeps_them_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let suite = Arc::new(CipherSuite::ephemeral(false));
        {
            let db = Db::open(dir.path(), DbOptions::default(), suite.clone()).unwrap();
            let mut b = crate::kv::WriteBatch::new();
            b.put(b"k", b"v");
            db.write(b, Durability::Buffered).unwrap();
            db.sync().unwrap();
        }
        let db = Db::open(dir.path(), DbOptions::default(), suite).unwrap();
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn sync_of_a_poisoned_store_is_503() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        db.sync().unwrap();
        db.shared.set_poison(&Error::Internal("test".into()));
        let e = db.sync().unwrap_err();
        assert_eq!(e.status(), 503, "{e}");
    }
}
