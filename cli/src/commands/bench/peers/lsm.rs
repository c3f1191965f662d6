//! Strata's own key-value store alone (`strata-lsm`'s `Db`), as a peer: the same keys (`pk/id`)
//! and values (the item's JSON) as the fjall peer, sealed with both layers (fresh random service
//! and customer data keys, as a customer-key account's store is), with Strata's default cache and
//! buffered WAL writes (each write reaches the OS before it returns; the load ends with a WAL
//! sync). What it measures is the store under the engine: no documents, indexes, change feed or
//! request units. Used only by bench/peers.rs; it must not open an account or a vault.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use strata_engine::db::{Db, DbOptions, Durability};
use strata_engine::CipherSuite;

use super::{key, parse, Peer, CACHE_BYTES};
use crate::error::{CliError, CliResult};

pub(super) struct Lsm {
    db: Db,
}

impl Lsm {
    pub(super) fn open(dir: &Path) -> CliResult<Lsm> {
        let opts = DbOptions {
            durability: Durability::Buffered,
            cache_bytes: CACHE_BYTES as usize,
            ..DbOptions::default()
        };
        let db = Db::open(dir, opts, Arc::new(CipherSuite::ephemeral(true))).map_err(err)?;
        Ok(Lsm { db })
    }
}

impl Peer for Lsm {
    fn put(&mut self, pk: &str, id: &str, body: &[u8]) -> CliResult<()> {
        self.db.put(&key(pk, id), body).map(|_| ()).map_err(err)
    }

    fn finish_load(&mut self) -> CliResult<()> {
        self.db.sync().map_err(err)
    }

    fn get(&mut self, pk: &str, id: &str) -> CliResult<Option<Value>> {
        match self.db.get(&key(pk, id)).map_err(err)? {
            Some(body) => parse(&body).map(Some),
            None => Ok(None),
        }
    }
}

fn err(e: strata_engine::db::Error) -> CliError {
    CliError::internal(format!("strata-lsm: {e}"))
}
