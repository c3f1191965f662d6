//! Log sequence numbers per container: allocation, and the watermark below which every LSN's
//! write has finished. Writers to different items run concurrently, so LSN order and commit
//! order can differ; a change-feed reader therefore reads only up to `visible_limit` (the LSN
//! before the oldest write still in flight), and a continuation token never skips a write that
//! lands later with a smaller LSN. Thread-safe. Does not write anything itself: the writer puts
//! the high-water mark in its own batch.
//!
//! On first use after opening, a container's next LSN is recovered from its mark and then from
//! any feed record above it (concurrent writers may have stored the mark out of order).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use crate::document::{lsn_key, lsn_keys_end, lsn_mark_key, lsn_of};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use strata_lsm::db::Db;

struct Lsns {
    next: u64,
    in_flight: BTreeSet<u64>,
}

#[derive(Default)]
pub(crate) struct LsnTable {
    containers: Mutex<HashMap<u32, Lsns>>,
}

/// An allocated LSN; the write that holds it is in flight until the ticket drops.
pub(crate) struct LsnTicket<'a> {
    table: &'a LsnTable,
    container_id: u32,
    pub(crate) lsn: u64,
}

impl Drop for LsnTicket<'_> {
    fn drop(&mut self) {
        // A poisoned table is reported by the next caller of `with`; nothing to do here.
        if let Ok(mut t) = self.table.containers.lock() {
            if let Some(c) = t.get_mut(&self.container_id) {
                c.in_flight.remove(&self.lsn);
            }
        }
    }
}

/// The highest LSN the container has stored.
fn recover(db: &Db, container_id: u32) -> Result<u64> {
    let mark = match db.get(&lsn_mark_key(container_id))? {
        Some(v) => {
            let b: [u8; 8] = v.as_slice().try_into().map_err(|_| {
                Error::Internal(format!("the LSN mark of container {container_id} is malformed"))
            })?;
            u64::from_be_bytes(b)
        }
        None => 0,
    };
    let above = db.scan_range(
        &lsn_key(KeySpace::Feed, container_id, mark.saturating_add(1)),
        &lsn_keys_end(KeySpace::Feed, container_id),
        usize::MAX,
    )?;
    match above.last() {
        Some((k, _)) => lsn_of(k),
        None => Ok(mark),
    }
}

impl LsnTable {
    fn with<T>(&self, db: &Db, container_id: u32, f: impl FnOnce(&mut Lsns) -> T) -> Result<T> {
        let mut t = self
            .containers
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while allocating an LSN".into()))?;
        let c = match t.entry(container_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(Lsns {
                next: recover(db, container_id)? + 1,
                in_flight: BTreeSet::new(),
            }),
        };
        Ok(f(c))
    }

    /// Allocates the container's next LSN for a write about to start.
    pub(crate) fn begin(&self, db: &Db, container_id: u32) -> Result<LsnTicket<'_>> {
        let lsn = self.with(db, container_id, |c| {
            let lsn = c.next;
            c.next += 1;
            c.in_flight.insert(lsn);
            lsn
        })?;
        Ok(LsnTicket {
            table: self,
            container_id,
            lsn,
        })
    }

    /// The highest LSN at or below which no write is still in flight: everything a feed reader
    /// may return now without missing a smaller LSN later.
    pub(crate) fn visible_limit(&self, db: &Db, container_id: u32) -> Result<u64> {
        self.with(db, container_id, |c| match c.in_flight.first() {
            Some(oldest) => oldest - 1,
            None => c.next - 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Durability;
    use std::sync::Arc;
    use strata_lsm::db::DbOptions;
    use strata_lsm::CipherSuite;
    use strata_lsm::WriteBatch;

    #[test]
    fn limit_stops_below_the_oldest_write_in_flight_and_recovery_finds_the_top() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            DbOptions::default(),
            Arc::new(CipherSuite::ephemeral(false)),
        )
        .unwrap();
        let t = LsnTable::default();
        let a = t.begin(&db, 3).unwrap();
        let b = t.begin(&db, 3).unwrap();
        assert_eq!((a.lsn, b.lsn), (1, 2));
        assert_eq!(t.visible_limit(&db, 3).unwrap(), 0);
        drop(b);
        assert_eq!(t.visible_limit(&db, 3).unwrap(), 0, "lsn 1 is still in flight");
        drop(a);
        assert_eq!(t.visible_limit(&db, 3).unwrap(), 2);
        assert_eq!(t.visible_limit(&db, 4).unwrap(), 0, "containers count separately");

        // The mark says 5 but records up to 7 exist (writers stored the mark out of order).
        let mut batch = WriteBatch::new();
        batch.put(lsn_mark_key(9), 5u64.to_be_bytes().to_vec());
        for lsn in [4u64, 6, 7] {
            batch.put(lsn_key(KeySpace::Feed, 9, lsn), vec![0u8; 8]);
        }
        batch.put(lsn_key(KeySpace::Feed, 10, 100), vec![0u8; 8]);
        db.write(batch, Durability::Sync).unwrap();
        let fresh = LsnTable::default();
        assert_eq!(fresh.begin(&db, 9).unwrap().lsn, 8);
        assert_eq!(fresh.begin(&db, 11).unwrap().lsn, 1);
    }
}
