//! A container's triggers as resources: create, read, list, delete. A trigger is JavaScript run
//! before (pre) or after (post) an item write that names it, on one operation or all. Unlike
//! stored procedures' names, the contract lists nothing of a trigger as plaintext: its name,
//! type, operation and body are all stored sealed in the LSM (`Script` key space, kind 2), and
//! listing reads them from there. Owns the trigger record; must not run one (trigger_run.rs).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::container::{new_etag, Container};
use super::procedure::{check_script, compile, script_key, KIND_TRIGGER};
use crate::error::{Error, Result};
use strata_lsm::WriteBatch;

/// When a trigger runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerType {
    /// Before the write: may read and change the item (`getRequest().getBody()/setBody()`).
    Pre,
    /// After the write, in the same transaction: a throw rolls the write back.
    Post,
}

/// The operations a trigger runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerOperation {
    All,
    Create,
    Replace,
    Upsert,
    Delete,
}

impl FromStr for TriggerType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "pre" => Ok(TriggerType::Pre),
            "post" => Ok(TriggerType::Post),
            _ => Err(Error::BadRequest(format!(
                "trigger type '{s}' is not pre or post"
            ))),
        }
    }
}

impl FromStr for TriggerOperation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "all" => TriggerOperation::All,
            "create" => TriggerOperation::Create,
            "replace" => TriggerOperation::Replace,
            "upsert" => TriggerOperation::Upsert,
            "delete" => TriggerOperation::Delete,
            _ => {
                return Err(Error::BadRequest(format!(
                    "trigger operation '{s}' is not create, replace, upsert, delete or all"
                )))
            }
        })
    }
}

/// A trigger as the managed service shows one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub id: String,
    /// Its JavaScript: one function of no arguments.
    pub body: String,
    pub trigger_type: TriggerType,
    pub trigger_operation: TriggerOperation,
    #[serde(rename = "_etag")]
    pub etag: String,
    #[serde(rename = "_ts")]
    pub ts: u64,
}

impl Container {
    /// Stores a new trigger. 400 for a bad name or a body that does not compile or is not one
    /// function, 409 if the name is taken, 404 for a missing container, 403 while the customer
    /// key is revoked.
    pub fn create_trigger(
        &self,
        name: &str,
        trigger_type: TriggerType,
        trigger_operation: TriggerOperation,
        body: &str,
    ) -> Result<Trigger> {
        check_script("trigger", name, body)?;
        let r = self.resolve()?;
        compile(body)?;
        let key = script_key(r.id, KIND_TRIGGER, name);
        let _guard = self.inner.item_lock(&key)?;
        if self.inner.db.get(&key)?.is_some() {
            return Err(Error::Conflict(format!(
                "trigger '{name}' already exists in container '{}'; delete it first",
                self.name()
            )));
        }
        let t = Trigger {
            id: name.to_string(),
            body: body.to_string(),
            trigger_type,
            trigger_operation,
            etag: new_etag(),
            ts: self.inner.opts.wall_clock.now_secs(),
        };
        let bytes =
            serde_json::to_vec(&t).map_err(|e| Error::Internal(format!("serialising a trigger: {e}")))?;
        let mut batch = WriteBatch::new();
        batch.put(key, bytes);
        self.inner.db.write(batch, self.inner.default_durability())?;
        Ok(t)
    }

    /// The trigger `name`; 404 if there is none.
    pub fn trigger(&self, name: &str) -> Result<Trigger> {
        let r = self.resolve()?;
        match self.inner.db.get(&script_key(r.id, KIND_TRIGGER, name))? {
            Some(bytes) => parse_trigger(&bytes),
            None => Err(Error::NotFound(format!(
                "trigger '{name}' does not exist in container '{}'",
                self.name()
            ))),
        }
    }

    /// The container's triggers, by name.
    pub fn list_triggers(&self) -> Result<Vec<Trigger>> {
        let r = self.resolve()?;
        self.inner
            .db
            .scan_prefix(&script_key(r.id, KIND_TRIGGER, ""))?
            .iter()
            .map(|(_, v)| parse_trigger(v))
            .collect()
    }

    /// Deletes the trigger `name`; 404 if there is none.
    pub fn delete_trigger(&self, name: &str) -> Result<()> {
        let r = self.resolve()?;
        let key = script_key(r.id, KIND_TRIGGER, name);
        let _guard = self.inner.item_lock(&key)?;
        self.trigger(name)?;
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.inner.db.write(batch, self.inner.default_durability())?;
        Ok(())
    }
}

fn parse_trigger(bytes: &[u8]) -> Result<Trigger> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("a stored trigger does not parse: {e}")))
}
