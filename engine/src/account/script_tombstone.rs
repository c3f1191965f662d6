//! Tombstones of deleted scripts, so that sync carries a deletion instead of bringing the
//! script back from the other side. Deleting a stored procedure, trigger or user-defined
//! function leaves `{id, _etag, _ts}` (the moment and a new etag) under the kind's tombstone
//! byte (`kind | 0x80`) in the `Script` key space, sealed like the script was; creating or
//! replacing a script of that name removes it in the same write batch. A tombstone is never
//! read as a script. Owns the record and its key; must not decide which version wins (sync,
//! script_sync.rs).

use serde::{Deserialize, Serialize};
use strata_lsm::WriteBatch;

use super::container::{new_etag, Container};
use super::procedure::script_key;
use crate::error::{Error, Result};

/// Set on a script's kind byte for its tombstone.
const TOMBSTONE: u8 = 0x80;

/// What is left of a deleted script: its name, and the version its deletion is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Tombstone {
    pub(super) id: String,
    #[serde(rename = "_etag")]
    pub(super) etag: String,
    /// Unix seconds of the deletion.
    #[serde(rename = "_ts")]
    pub(super) ts: u64,
}

impl Tombstone {
    /// `(_ts, _etag)`, compared with a live script's the same way (sync).
    pub(super) fn version(&self) -> (u64, &str) {
        (self.ts, &self.etag)
    }
}

/// `0x0B | container_id | kind | 0x80 | name`.
fn tombstone_key(container_id: u32, kind: u8, name: &str) -> Vec<u8> {
    script_key(container_id, kind | TOMBSTONE, name)
}

/// Adds to `batch` the tombstone of the script `name` of `kind`.
pub(super) fn bury(batch: &mut WriteBatch, container_id: u32, kind: u8, t: &Tombstone) -> Result<()> {
    let bytes =
        serde_json::to_vec(t).map_err(|e| Error::Internal(format!("serialising a tombstone: {e}")))?;
    batch.put(tombstone_key(container_id, kind, &t.id), bytes);
    Ok(())
}

/// Adds to `batch` the removal of the tombstone of `name` (a script of that name is stored).
pub(super) fn unbury(batch: &mut WriteBatch, container_id: u32, kind: u8, name: &str) {
    batch.delete(tombstone_key(container_id, kind, name));
}

impl Container {
    /// The tombstone a deletion of `name` leaves now.
    pub(super) fn new_tombstone(&self, name: &str) -> Tombstone {
        Tombstone {
            id: name.to_string(),
            etag: new_etag(),
            ts: self.inner.opts.wall_clock.now_secs(),
        }
    }

    /// The tombstone of the script `name` of `kind`, if it was deleted (and not created since).
    pub(super) fn tombstone(&self, kind: u8, name: &str) -> Result<Option<Tombstone>> {
        let r = self.resolve()?;
        self.inner
            .store_for(r.id)?
            .get(&tombstone_key(r.id, kind, name))?
            .map(|bytes| parse(&bytes))
            .transpose()
    }

    /// Every tombstone of the kind, by name.
    pub(super) fn tombstones(&self, kind: u8) -> Result<Vec<Tombstone>> {
        let r = self.resolve()?;
        self.inner
            .store_for(r.id)?
            .scan_prefix(&tombstone_key(r.id, kind, ""))?
            .iter()
            .map(|(_, v)| parse(v))
            .collect()
    }
}

fn parse(bytes: &[u8]) -> Result<Tombstone> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("a script's tombstone does not parse: {e}")))
}
