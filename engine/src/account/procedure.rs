//! A container's stored procedures as resources: create, replace, read, list, delete. Names are
//! kept in the catalog (plaintext, as the contract allows); each body is stored in the LSM under
//! the `Script` key space, sealed like an item, since it is customer data. Owns that key layout
//! and the stored record; must not run a procedure (procedure_run.rs does).

use serde::{Deserialize, Serialize};

use super::container::{new_etag, Container};
use super::script_tombstone::{bury, unbury, Tombstone};
use crate::catalog::validate_name;
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use strata_lsm::WriteBatch;

/// The kind byte of a stored procedure in the `Script` key space.
pub(super) const KIND_PROCEDURE: u8 = 1;
/// The kind byte of a trigger (trigger.rs).
pub(super) const KIND_TRIGGER: u8 = 2;
/// The kind byte of a user-defined function (udf.rs).
pub(super) const KIND_UDF: u8 = 3;

/// Largest procedure body accepted, in bytes (the managed service's script size limit).
pub const MAX_PROCEDURE_BYTES: usize = 256 * 1024;

/// A stored procedure as the managed service shows one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredProcedure {
    /// Its name.
    pub id: String,
    /// Its JavaScript: one function.
    pub body: String,
    #[serde(rename = "_etag")]
    pub etag: String,
    /// Unix seconds of its last create or replace.
    #[serde(rename = "_ts")]
    pub ts: u64,
}

/// A script's name and size: 400 for a bad name, 413 over `MAX_PROCEDURE_BYTES`.
pub(super) fn check_script(what: &str, name: &str, body: &str) -> Result<()> {
    validate_name(what, name)?;
    if body.len() > MAX_PROCEDURE_BYTES {
        return Err(Error::TooLarge(format!(
            "the {what}'s body is {} bytes; the limit is {MAX_PROCEDURE_BYTES} bytes",
            body.len()
        )));
    }
    Ok(())
}

/// Compiles a body in the sandbox without running it: 400 unless it is one function.
pub(super) fn compile(body: &str) -> Result<()> {
    strata_script::check_procedure(body, strata_script::Limits::default()).map_err(Error::Script)
}

/// `0x0B | container_id | 1 | name`.
fn procedure_key(container_id: u32, name: &str) -> Vec<u8> {
    script_key(container_id, KIND_PROCEDURE, name)
}

/// `0x0B | container_id | kind | name`: where a script of `kind` is stored (an empty name: the
/// prefix of every script of that kind).
pub(super) fn script_key(container_id: u32, kind: u8, name: &str) -> Vec<u8> {
    let mut k = KeySpace::Script.container_prefix(container_id);
    k.push(kind);
    k.extend_from_slice(name.as_bytes());
    k
}

impl Container {
    /// Stores a new stored procedure. 400 for a bad name or a body that does not compile or
    /// is not one function (the body is checked in the sandbox, never run), 409 if the name is
    /// taken, 404 for a missing container, 403 while the customer key is revoked.
    pub fn create_stored_procedure(&self, name: &str, body: &str) -> Result<StoredProcedure> {
        self.put_procedure(self.new_procedure(name, body), Some(false))
    }

    /// Replaces a stored procedure's body: as `create_stored_procedure`, but 404 if it does not
    /// exist.
    pub fn replace_stored_procedure(&self, name: &str, body: &str) -> Result<StoredProcedure> {
        self.put_procedure(self.new_procedure(name, body), Some(true))
    }

    /// Stores `sp` as it is (its etag and time kept), creating or replacing: what sync writes.
    pub(super) fn put_replicated_procedure(&self, sp: StoredProcedure) -> Result<StoredProcedure> {
        self.put_procedure(sp, None)
    }

    fn new_procedure(&self, name: &str, body: &str) -> StoredProcedure {
        StoredProcedure {
            id: name.to_string(),
            body: body.to_string(),
            etag: new_etag(),
            ts: self.inner.opts.wall_clock.now_secs(),
        }
    }

    /// Stores `sp`: `replace` says whether it must exist (`Some(true)`), must not
    /// (`Some(false)`), or either (`None`).
    fn put_procedure(&self, sp: StoredProcedure, replace: Option<bool>) -> Result<StoredProcedure> {
        let (name, body) = (sp.id.as_str(), sp.body.as_str());
        check_script("stored procedure", name, body)?;
        let r = self.resolve()?;
        compile(body)?;
        let bytes =
            serde_json::to_vec(&sp).map_err(|e| Error::Internal(format!("serialising a procedure: {e}")))?;
        let (db, container) = (self.database_name().to_string(), self.name().to_string());
        // Under the catalog's lock: the body is stored first, so a name is never listed without
        // one (a crash in between leaves an unnamed body, replaced by the next create).
        self.inner.edit_catalog(|c| {
            let entry = c.container_mut(&db, &container)?;
            let exists = entry.stored_procedures.iter().any(|n| n == name);
            match (exists, replace) {
                (true, Some(false)) => {
                    return Err(Error::Conflict(format!(
                    "stored procedure '{name}' already exists in container '{container}'; replace it instead"
                )))
                }
                (false, Some(true)) => return Err(self.procedure_not_found(name)),
                _ => {}
            }
            let mut batch = WriteBatch::new();
            batch.put(procedure_key(r.id, name), bytes);
            unbury(&mut batch, r.id, KIND_PROCEDURE, name);
            self.inner
                .store_for(r.id)?
                .write(batch, self.inner.default_durability())?;
            if !exists {
                entry.stored_procedures.push(name.to_string());
            }
            Ok(())
        })?;
        Ok(sp)
    }

    /// The stored procedure `name`, with its body; 404 if there is none.
    pub fn stored_procedure(&self, name: &str) -> Result<StoredProcedure> {
        let r = self.resolve()?;
        let listed = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .stored_procedures
            .iter()
            .any(|n| n == name);
        let bytes = match self.inner.store_for(r.id)?.get(&procedure_key(r.id, name))? {
            Some(b) if listed => b,
            _ => return Err(self.procedure_not_found(name)),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("stored procedure '{name}' does not parse: {e}")))
    }

    /// The names of the container's stored procedures, sorted. Plaintext metadata: listed even
    /// while the customer key is revoked, as databases and containers are.
    pub fn list_stored_procedures(&self) -> Result<Vec<String>> {
        let mut names = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .stored_procedures
            .clone();
        names.sort();
        Ok(names)
    }

    /// Deletes the stored procedure `name`, leaving its tombstone (so that sync carries the
    /// deletion); 404 if there is none.
    pub fn delete_stored_procedure(&self, name: &str) -> Result<()> {
        self.remove_procedure(&self.new_tombstone(name), true)
    }

    /// Deletes the stored procedure `t` names, if there is one, leaving `t` as it is (its etag
    /// and time kept): what sync writes for a deletion made on the other side.
    pub(super) fn remove_replicated_procedure(&self, t: &Tombstone) -> Result<()> {
        self.remove_procedure(t, false)
    }

    /// Unlists the procedure, then replaces its body with its tombstone in one batch; 404 when
    /// it is not listed and `must_exist`.
    fn remove_procedure(&self, t: &Tombstone, must_exist: bool) -> Result<()> {
        let name = t.id.as_str();
        let r = self.resolve()?;
        let (db, container) = (self.database_name().to_string(), self.name().to_string());
        self.inner.edit_catalog(|c| {
            let entry = c.container_mut(&db, &container)?;
            let before = entry.stored_procedures.len();
            entry.stored_procedures.retain(|n| n != name);
            if must_exist && entry.stored_procedures.len() == before {
                return Err(self.procedure_not_found(name));
            }
            Ok(())
        })?;
        // Unlisted first: a crash here leaves an unnamed body, which nothing reads.
        let mut batch = WriteBatch::new();
        batch.delete(procedure_key(r.id, name));
        bury(&mut batch, r.id, KIND_PROCEDURE, t)?;
        self.inner
            .store_for(r.id)?
            .write(batch, self.inner.default_durability())?;
        Ok(())
    }

    fn procedure_not_found(&self, name: &str) -> Error {
        Error::NotFound(format!(
            "stored procedure '{name}' does not exist in container '{}'",
            self.name()
        ))
    }
}
