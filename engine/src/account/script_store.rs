//! Scripts kept whole in the store (triggers, user-defined functions): their records under the
//! `Script` key space, sealed like items, and the create, replace, read, list and delete they
//! share.
//! Stored procedures differ (their names are in the catalog; procedure.rs). Owns the generic
//! record operations; must not know what a kind of script does.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::container::Container;
use super::procedure::{check_script, compile, script_key};
use super::script_tombstone::{bury, unbury, Tombstone};
use crate::error::{Error, Result};
use strata_lsm::WriteBatch;

/// A kind of script stored whole.
pub(super) trait ScriptRecord: Serialize + DeserializeOwned {
    /// Its kind byte in the `Script` key space.
    const KIND: u8;
    /// What it is called in messages ("trigger").
    const WHAT: &'static str;
    fn id(&self) -> &str;
    fn body(&self) -> &str;
    /// `(_ts, _etag)`: which of two versions is the later (sync).
    fn version(&self) -> (u64, &str);
}

/// Implements `ScriptRecord` for a struct with `id`, `body`, `etag` and `ts` fields.
macro_rules! script_record {
    ($t:ty, $kind:expr, $what:literal) => {
        impl $crate::account::script_store::ScriptRecord for $t {
            const KIND: u8 = $kind;
            const WHAT: &'static str = $what;
            fn id(&self) -> &str {
                &self.id
            }
            fn body(&self) -> &str {
                &self.body
            }
            fn version(&self) -> (u64, &str) {
                (self.ts, &self.etag)
            }
        }
    };
}
pub(super) use script_record;

impl Container {
    /// Checks `name` and `body` (400, 413), then stores what `record` makes of them under
    /// `name`: 409 if the name is taken.
    pub(super) fn create_script<T: ScriptRecord>(
        &self,
        name: &str,
        body: &str,
        record: impl FnOnce() -> T,
    ) -> Result<T> {
        self.put_script(name, body, Some(false), record)
    }

    /// As `create_script`, but in place of the script `name`: 404 if there is none. One put
    /// under the script's lock, so a reader sees the old record or the new one, never neither.
    pub(super) fn replace_script<T: ScriptRecord>(
        &self,
        name: &str,
        body: &str,
        record: impl FnOnce() -> T,
    ) -> Result<T> {
        self.put_script(name, body, Some(true), record)
    }

    /// Stores `record` under `name`, which must exist (`Some(true)`), must not
    /// (`Some(false)`), or either (`None`: what sync writes).
    pub(super) fn put_script<T: ScriptRecord>(
        &self,
        name: &str,
        body: &str,
        exists: Option<bool>,
        record: impl FnOnce() -> T,
    ) -> Result<T> {
        check_script(T::WHAT, name, body)?;
        let r = self.resolve()?;
        compile(body)?;
        let key = script_key(r.id, T::KIND, name);
        let _guard = self.inner.item_lock(&key)?;
        match (self.inner.store_for(r.id)?.get(&key)?.is_some(), exists) {
            (true, Some(false)) => {
                return Err(Error::Conflict(format!(
                    "{} '{name}' already exists in container '{}'; replace or delete it first",
                    T::WHAT,
                    self.name()
                )))
            }
            (false, Some(true)) => {
                return Err(Error::NotFound(format!(
                    "{} '{name}' does not exist in container '{}'",
                    T::WHAT,
                    self.name()
                )))
            }
            _ => {}
        }
        let record = record();
        let bytes = serde_json::to_vec(&record)
            .map_err(|e| Error::Internal(format!("serialising a {}: {e}", T::WHAT)))?;
        let mut batch = WriteBatch::new();
        batch.put(key, bytes);
        unbury(&mut batch, r.id, T::KIND, name);
        self.inner
            .store_for(r.id)?
            .write(batch, self.inner.default_durability())?;
        Ok(record)
    }

    /// The script `name`; 404 if there is none.
    pub(super) fn read_script<T: ScriptRecord>(&self, name: &str) -> Result<T> {
        let r = self.resolve()?;
        match self
            .inner
            .store_for(r.id)?
            .get(&script_key(r.id, T::KIND, name))?
        {
            Some(bytes) => parse::<T>(&bytes),
            None => Err(Error::NotFound(format!(
                "{} '{name}' does not exist in container '{}'",
                T::WHAT,
                self.name()
            ))),
        }
    }

    /// Every script of the kind, by name.
    pub(super) fn list_scripts<T: ScriptRecord>(&self) -> Result<Vec<T>> {
        let r = self.resolve()?;
        self.inner
            .store_for(r.id)?
            .scan_prefix(&script_key(r.id, T::KIND, ""))?
            .iter()
            .map(|(_, v)| parse::<T>(v))
            .collect()
    }

    /// Deletes the script `name`, leaving its tombstone (so that sync carries the deletion);
    /// 404 if there is none.
    pub(super) fn delete_script<T: ScriptRecord>(&self, name: &str) -> Result<()> {
        self.remove_script::<T>(&self.new_tombstone(name), true)
    }

    /// Replaces the script `t` names (if any) with `t` as it is, its etag and time kept: what
    /// sync writes for a deletion made on the other side; 404 only when `must_exist`.
    pub(super) fn remove_script<T: ScriptRecord>(&self, t: &Tombstone, must_exist: bool) -> Result<()> {
        let r = self.resolve()?;
        let key = script_key(r.id, T::KIND, &t.id);
        let _guard = self.inner.item_lock(&key)?;
        if must_exist {
            self.read_script::<T>(&t.id)?;
        }
        let mut batch = WriteBatch::new();
        batch.delete(key);
        bury(&mut batch, r.id, T::KIND, t)?;
        self.inner
            .store_for(r.id)?
            .write(batch, self.inner.default_durability())?;
        Ok(())
    }
}

fn parse<T: ScriptRecord>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("a stored {} does not parse: {e}", T::WHAT)))
}
