//! A container's triggers as resources: create, read, list, delete. A trigger is JavaScript run
//! before (pre) or after (post) an item write that names it, on one operation or all. Unlike
//! stored procedures' names, the contract lists nothing of a trigger as plaintext: its name,
//! type, operation and body are all stored sealed in the LSM (`Script` key space, kind 2), and
//! listing reads them from there. Create, replace, read, list, delete. Owns the trigger record;
//! must not run one (trigger_run.rs).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::container::{new_etag, Container};
use super::procedure::KIND_TRIGGER;
use super::script_store::script_record;
use crate::error::{Error, Result};

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

script_record!(Trigger, KIND_TRIGGER, "trigger");

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
        self.create_script(name, body, || {
            self.new_trigger(name, trigger_type, trigger_operation, body)
        })
    }

    /// Replaces the trigger `name` (its type, operation and body; a new etag): as
    /// `create_trigger`, but 404 if there is none.
    pub fn replace_trigger(
        &self,
        name: &str,
        trigger_type: TriggerType,
        trigger_operation: TriggerOperation,
        body: &str,
    ) -> Result<Trigger> {
        self.replace_script(name, body, || {
            self.new_trigger(name, trigger_type, trigger_operation, body)
        })
    }

    fn new_trigger(
        &self,
        name: &str,
        trigger_type: TriggerType,
        trigger_operation: TriggerOperation,
        body: &str,
    ) -> Trigger {
        Trigger {
            id: name.to_string(),
            body: body.to_string(),
            trigger_type,
            trigger_operation,
            etag: new_etag(),
            ts: self.inner.opts.wall_clock.now_secs(),
        }
    }

    /// The trigger `name`; 404 if there is none.
    pub fn trigger(&self, name: &str) -> Result<Trigger> {
        self.read_script(name)
    }

    /// The container's triggers, by name.
    pub fn list_triggers(&self) -> Result<Vec<Trigger>> {
        self.list_scripts()
    }

    /// Deletes the trigger `name`; 404 if there is none.
    pub fn delete_trigger(&self, name: &str) -> Result<()> {
        self.delete_script::<Trigger>(name)
    }
}
