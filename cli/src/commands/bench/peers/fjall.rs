//! fjall, the plaintext LSM peer: one keyspace with one partition, keys `pk/id`, values the
//! item's JSON; default journal (written per insert, not synced, except the durable writes, which
//! `fdatasync` it after each insert) and 64 MiB of cache like Strata. Used only by bench/peers.rs;
//! it must not encrypt or know Strata's accounts.

use std::path::Path;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};
use serde_json::Value;

use super::{key, parse, Peer, CACHE_BYTES};
use crate::error::{CliError, CliResult};

pub(super) struct Fjall {
    keyspace: Keyspace,
    items: PartitionHandle,
}

impl Fjall {
    pub(super) fn open(dir: &Path) -> CliResult<Fjall> {
        let keyspace = Config::new(dir).cache_size(CACHE_BYTES).open().map_err(err)?;
        let items = keyspace
            .open_partition("items", PartitionCreateOptions::default())
            .map_err(err)?;
        Ok(Fjall { keyspace, items })
    }
}

impl Peer for Fjall {
    fn put(&mut self, pk: &str, id: &str, body: &[u8]) -> CliResult<()> {
        self.items.insert(key(pk, id), body).map_err(err)
    }

    /// Syncs the journal (a user's way to make a load durable); the memtable is flushed to
    /// segments in the background, as fjall does by itself.
    fn finish_load(&mut self) -> CliResult<()> {
        self.keyspace.persist(PersistMode::SyncAll).map_err(err)
    }

    fn get(&mut self, pk: &str, id: &str) -> CliResult<Option<Value>> {
        match self.items.get(key(pk, id)).map_err(err)? {
            Some(body) => parse(&body).map(Some),
            None => Ok(None),
        }
    }
}

impl Fjall {
    /// `insert`, then `persist(SyncData)`: the journal is written and `fdatasync`ed before the
    /// call returns, as Strata's WAL is for a `Durability::Sync` write (also `fdatasync`). Safe
    /// from several threads at once.
    pub(super) fn put_durable(&self, pk: &str, id: &str, body: &[u8]) -> CliResult<()> {
        self.items.insert(key(pk, id), body).map_err(err)?;
        self.keyspace.persist(PersistMode::SyncData).map_err(err)
    }
}

fn err(e: fjall::Error) -> CliError {
    CliError::internal(format!("fjall: {e}"))
}
