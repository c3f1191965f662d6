//! Item writes that name triggers (`Container::write_item_with_triggers`,
//! `delete_item_with_triggers`): the pre-triggers run first and may change the item, then the
//! write is staged, then the post-triggers run; every document operation of the triggers and
//! the write itself commit together in one write batch (procedure_run.rs's commit), or nothing
//! does: a trigger's throw answers 400.3703 and leaves no trace. Must not store anything before
//! the last post-trigger has returned.

use std::time::Duration;

use serde_json::Value;
use strata_script::{run_trigger, Limits, Procedure};

use super::container::{Container, WriteKind};
use super::procedure_host::ProcedureHost;
use super::procedure_run::{commit, CONFLICT_ATTEMPTS};
use super::response::{ItemOptions, ItemResponse};
use super::trigger::{Trigger, TriggerOperation, TriggerType};
use crate::document::PartitionKey;
use crate::error::{Error, Result};
use crate::metering::script_charge;

/// The triggers an item write names, as the managed service's request options do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TriggerOptions {
    pub pre_triggers: Vec<String>,
    pub post_triggers: Vec<String>,
}

impl TriggerOptions {
    pub fn is_empty(&self) -> bool {
        self.pre_triggers.is_empty() && self.post_triggers.is_empty()
    }
}

/// What a triggered write addresses: the item to write, or the id to delete.
enum Subject<'a> {
    Write(WriteKind, &'a Value),
    Delete(&'a str),
}

/// What one committed execution answered: status, etag, the item written, the charge.
type Committed = (u16, Option<String>, Option<Value>, f64);

impl Container {
    /// Creates, replaces or upserts `item` (`op` says which) with the named triggers around
    /// it. 400 for a trigger of the wrong type or operation, 404 for a missing one; otherwise
    /// the write's own statuses, and 400.3703 when a trigger throws (nothing written).
    pub fn write_item_with_triggers(
        &self,
        op: TriggerOperation,
        pk: impl Into<PartitionKey>,
        item: &Value,
        opts: &ItemOptions,
        triggers: &TriggerOptions,
    ) -> Result<ItemResponse<Value>> {
        let kind = match op {
            TriggerOperation::Create => WriteKind::Create,
            TriggerOperation::Replace => WriteKind::Replace,
            TriggerOperation::Upsert => WriteKind::Upsert,
            other => {
                return Err(Error::BadRequest(format!(
                    "{other:?} is not a write of an item: use create, replace or upsert"
                )))
            }
        };
        let pk = pk.into();
        let (status_code, etag, item, request_charge) =
            self.triggered(op, &pk, Subject::Write(kind, item), opts, triggers)?;
        Ok(ItemResponse {
            item,
            status_code,
            etag,
            request_charge,
        })
    }

    /// Deletes item `id` with the named triggers around it; see `write_item_with_triggers`.
    pub fn delete_item_with_triggers(
        &self,
        pk: impl Into<PartitionKey>,
        id: &str,
        opts: &ItemOptions,
        triggers: &TriggerOptions,
    ) -> Result<ItemResponse<()>> {
        let pk = pk.into();
        let (status_code, _, _, request_charge) =
            self.triggered(TriggerOperation::Delete, &pk, Subject::Delete(id), opts, triggers)?;
        Ok(ItemResponse {
            item: None,
            status_code,
            etag: None,
            request_charge,
        })
    }

    fn triggered(
        &self,
        op: TriggerOperation,
        pk: &PartitionKey,
        subject: Subject<'_>,
        opts: &ItemOptions,
        triggers: &TriggerOptions,
    ) -> Result<Committed> {
        let pre = self.named_triggers(&triggers.pre_triggers, TriggerType::Pre, op)?;
        let post = self.named_triggers(&triggers.post_triggers, TriggerType::Post, op)?;
        self.retrying(|| {
            for _ in 0..CONFLICT_ATTEMPTS {
                if let Some(done) = self.triggered_once(pk, &subject, opts, &pre, &post)? {
                    return Ok(done);
                }
            }
            Err(Error::Conflict(format!(
                "other writers changed the items the triggers read during each of {CONFLICT_ATTEMPTS} \
                 attempts; nothing was written: retry later"
            )))
        })
    }

    /// The triggers `names`, each checked to be of `want` type and to run on `op`.
    fn named_triggers(
        &self,
        names: &[String],
        want: TriggerType,
        op: TriggerOperation,
    ) -> Result<Vec<Trigger>> {
        names
            .iter()
            .map(|name| {
                let t = self.trigger(name)?;
                if t.trigger_type != want {
                    return Err(Error::BadRequest(format!(
                        "trigger '{name}' is a {:?}-trigger, named here as a {want:?}-trigger",
                        t.trigger_type
                    )));
                }
                if t.trigger_operation != TriggerOperation::All && t.trigger_operation != op {
                    return Err(Error::BadRequest(format!(
                        "trigger '{name}' runs on {:?}, not on {op:?}",
                        t.trigger_operation
                    )));
                }
                Ok(t)
            })
            .collect()
    }

    /// One attempt; `None` when an item it read changed before it could commit.
    fn triggered_once<'c>(
        &self,
        pk: &PartitionKey,
        subject: &Subject<'_>,
        opts: &ItemOptions,
        pre: &'c [Trigger],
        post: &'c [Trigger],
    ) -> Result<Option<Committed>> {
        let r = self.resolve()?;
        let (alt_link, now_ms) = self.script_site();
        let self_link = format!("{alt_link}/");
        let site = |t: &'c Trigger| Procedure {
            body: &t.body,
            self_link: &self_link,
            alt_link: &alt_link,
            now_ms,
            // A trigger's console output is dropped: only a procedure's execution returns a log.
            log: false,
        };
        let limits = Limits::default();
        let mut host = ProcedureHost::new(self, &r, pk);
        let mut time = Duration::ZERO;
        let mut request = match subject {
            Subject::Write(_, item) => (*item).clone(),
            Subject::Delete(_) => Value::Null,
        };
        for t in pre {
            match run_trigger(&site(t), &request, None, &mut host, limits) {
                Ok(o) => {
                    time += o.script_time;
                    request = o.request;
                }
                Err(e) => return Err(self.script_failed(&r, &mut host, e)),
            }
        }
        let if_match = opts.if_match.clone();
        let written = match subject {
            Subject::Write(kind, _) => Some(host.write(*kind, request.clone(), if_match)?),
            Subject::Delete(id) => {
                host.delete(id, if_match)?;
                None
            }
        };
        let (status, etag) = host
            .staged
            .last()
            .map(|s| (s.status, s.etag.clone()))
            .ok_or_else(|| Error::Internal("a triggered write staged nothing".into()))?;
        let response = written.clone().unwrap_or(Value::Null);
        for t in post {
            match run_trigger(&site(t), &request, Some(&response), &mut host, limits) {
                Ok(o) => time += o.script_time,
                Err(e) => return Err(self.script_failed(&r, &mut host, e)),
            }
        }
        Ok(commit(self, &r, host, script_charge(time))?.map(|charge| (status, etag, written, charge)))
    }
}
