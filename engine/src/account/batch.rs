//! `Container::execute_batch`: a transactional batch of up to 100 operations (create, replace,
//! upsert, read, delete, patch) on one partition-key value, all or nothing. Every item the batch
//! names is locked (in stripe order), each operation is staged in order (staged.rs), seeing what
//! the earlier ones did to its item, and the
//! staged writes go to the store in ONE write batch, which the LSM applies atomically. When an
//! operation fails nothing is written: it answers its own status, every other one 424.
//! Must not write anything before every operation has succeeded. See docs/batch.md.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::container::{public_size, without_lsn, Container, Resolved, WriteKind};
use super::patch::Conditions;
use super::staged::{Current, Staged};
use crate::document::{validate_patch, PartitionKey, PatchOperation};
use crate::error::{Error, Result};
use crate::metering::{point_read_charge, summed_charge};
use crate::query::Predicate;
use strata_lsm::WriteBatch;

/// Most operations one transactional batch may carry (more: 400).
pub const MAX_BATCH_OPERATIONS: usize = 100;

/// Most bytes the operations of one batch may add up to as JSON (the managed service's request
/// payload limit); more: 413.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Status of the operations of a failed batch other than the one that failed.
pub const FAILED_DEPENDENCY: u16 = 424;

/// The kind of a batch operation, spelled as the managed service's batch format does
/// (`"Create"`; the lower-case spelling is accepted too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum BatchOperationType {
    #[serde(alias = "create")]
    Create,
    #[serde(alias = "replace")]
    Replace,
    #[serde(alias = "upsert")]
    Upsert,
    #[serde(alias = "read")]
    Read,
    #[serde(alias = "delete")]
    Delete,
    #[serde(alias = "patch")]
    Patch,
}

/// One operation of a batch, in the managed service's batch format.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchOperation {
    pub operation_type: BatchOperationType,
    /// The item's id: required for read, delete and patch; for replace, it must be the body's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The item, for create, replace and upsert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_body: Option<Value>,
    /// Replace, upsert, delete or patch only if the current etag is this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    /// The operations of a patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_operations: Option<Vec<PatchOperation>>,
    /// A patch's filter predicate, `FROM c WHERE …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_predicate: Option<String>,
    /// The partition-key value, if the operation names one: it must be the batch's. Given as the
    /// value itself, or as the managed service's REST format writes it: a one-element JSON
    /// array, or that array serialised into a string (`"[\"alice\"]"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<Value>,
}

impl BatchOperation {
    fn new(operation_type: BatchOperationType, id: Option<&str>, resource_body: Option<Value>) -> Self {
        BatchOperation {
            operation_type,
            id: id.map(str::to_string),
            resource_body,
            if_match: None,
            patch_operations: None,
            filter_predicate: None,
            partition_key: None,
        }
    }

    pub fn create(item: Value) -> Self {
        Self::new(BatchOperationType::Create, None, Some(item))
    }

    pub fn replace(item: Value) -> Self {
        Self::new(BatchOperationType::Replace, None, Some(item))
    }

    pub fn upsert(item: Value) -> Self {
        Self::new(BatchOperationType::Upsert, None, Some(item))
    }

    pub fn read(id: &str) -> Self {
        Self::new(BatchOperationType::Read, Some(id), None)
    }

    pub fn delete(id: &str) -> Self {
        Self::new(BatchOperationType::Delete, Some(id), None)
    }

    pub fn patch(id: &str, ops: Vec<PatchOperation>) -> Self {
        BatchOperation {
            patch_operations: Some(ops),
            ..Self::new(BatchOperationType::Patch, Some(id), None)
        }
    }

    pub fn with_if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    pub fn with_filter(mut self, predicate: impl Into<String>) -> Self {
        self.filter_predicate = Some(predicate.into());
        self
    }
}

/// Parses a JSON array of batch operations (400 naming the first malformed one).
pub fn parse_batch_operations(json: &Value) -> Result<Vec<BatchOperation>> {
    let Value::Array(items) = json else {
        return Err(Error::BadRequest(
            "a batch is a JSON array of {\"operationType\", \"id\"?, \"resourceBody\"?, \"ifMatch\"?, \
             \"patchOperations\"?} objects"
                .into(),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v.clone())
                .map_err(|e| Error::BadRequest(format!("batch operation {i} is malformed: {e}")))
        })
        .collect()
}

/// The outcome of one operation of a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOperationResult {
    pub status_code: u16,
    #[serde(skip_serializing_if = "is_zero")]
    pub sub_status: u32,
    pub request_charge: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The item, for reads and writes (not deletes) of a batch that succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_body: Option<Value>,
    /// Why the operation failed (the one that failed; the others answer 424).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The outcome of a batch: 200 when every operation succeeded (and all its writes are stored),
/// else the status of the operation that failed (and nothing is stored).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResponse {
    pub status_code: u16,
    pub request_charge: f64,
    /// One per operation, in order.
    pub results: Vec<BatchOperationResult>,
}

impl BatchResponse {
    pub fn is_success(&self) -> bool {
        self.status_code == 200
    }
}

/// An operation checked against the batch (or bulk call), before anything is read.
pub(super) struct Planned<'o> {
    pub(super) op: &'o BatchOperation,
    pub(super) id: String,
    pub(super) key: Vec<u8>,
    filter: Option<Predicate>,
}

/// What one operation did, once staged.
pub(super) enum Done<'t> {
    Read {
        item: Value,
        etag: Option<String>,
    },
    /// A staged write; for a create, replace, upsert or patch the stored item is left in the
    /// operation's body (see `run_planned`).
    Write(Box<Staged<'t>>),
}

impl Container {
    /// Runs `ops` on the partition `pk` as one transaction. Err (nothing done) for a batch that
    /// is malformed as a whole: no operations or more than 100 (400), over 2 MB (413), an operation without what its
    /// type needs, or an item whose partition key is not `pk` (400);
    /// and for what fails every operation alike (404 container, 403 revoked key, 429, 5xx).
    /// Otherwise the response says per operation how it went; see `BatchResponse`.
    pub fn execute_batch(
        &self,
        pk: impl Into<PartitionKey>,
        ops: &[BatchOperation],
    ) -> Result<BatchResponse> {
        let pk = pk.into();
        if ops.is_empty() || ops.len() > MAX_BATCH_OPERATIONS {
            return Err(Error::BadRequest(format!(
                "a transactional batch carries 1 to {MAX_BATCH_OPERATIONS} operations ({} given); \
                 split it into several batches",
                ops.len()
            )));
        }
        let mut bytes = 0usize;
        for op in ops {
            bytes += serde_json::to_vec(op)
                .map_err(|e| Error::Internal(format!("serialising a batch operation: {e}")))?
                .len();
        }
        if bytes > MAX_BATCH_BYTES {
            return Err(Error::TooLarge(format!(
                "the batch's operations are {bytes} bytes as JSON; the limit is {MAX_BATCH_BYTES} \
                 bytes (2 MB): split it into several batches"
            )));
        }
        self.retrying(|| self.execute_batch_once(&pk, ops))
    }

    fn execute_batch_once(&self, pk: &PartitionKey, ops: &[BatchOperation]) -> Result<BatchResponse> {
        let r = self.resolve()?;
        // A batch works in one partition: a full key, as an item is addressed by.
        r.pk.check_full(pk)?;
        let plan = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                self.plan(&r, pk, op, op.resource_body.as_ref())
                    .map_err(|e| match e {
                        Error::BadRequest(m) => Error::BadRequest(format!("batch operation {i}: {m}")),
                        other => other,
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let _guards = self.inner.item_locks(plan.iter().map(|p| p.key.as_slice()))?;
        let cmk = self.inner.container_cmk(r.id);
        let mut done = Vec::with_capacity(plan.len());
        let mut bodies = Vec::with_capacity(plan.len());
        let mut read_charges = Vec::with_capacity(plan.len());
        // What the batch's earlier operations left under a key (`None`: deleted): a later
        // operation on the same item sees it, as it would after them in sequence.
        let mut overlay: HashMap<&[u8], Option<Current>> = HashMap::new();
        for (i, p) in plan.iter().enumerate() {
            let current = match overlay.get(p.key.as_slice()) {
                Some(staged) => staged.clone(),
                None => self.current(&p.key)?,
            };
            let live = current.as_ref().filter(|c| self.is_live(&r, &c.item));
            read_charges.push(point_read_charge(
                live.map_or(0, |c| public_size(c.len, &c.item)),
                cmk,
            ));
            let mut body = p.op.resource_body.clone().unwrap_or_default();
            match self.run_planned(&r, pk, p, current, &mut body) {
                Ok(d) => {
                    if let Done::Write(staged) = &d {
                        overlay.insert(p.key.as_slice(), staged.after()?);
                    }
                    done.push(d);
                    bodies.push(body);
                }
                Err(e) if is_operation_error(&e) => {
                    let charge = summed_charge(read_charges);
                    self.charge(&r, charge)?;
                    return Ok(failed(ops.len(), i, &e, charge));
                }
                Err(e) => return Err(e),
            }
        }
        let charges: Vec<f64> = done
            .iter()
            .zip(&read_charges)
            .map(|(d, read)| match d {
                Done::Read { .. } => *read,
                Done::Write(staged) => staged.charge,
            })
            .collect();
        let total = summed_charge(charges.iter().copied());
        self.charge(&r, total)?;
        let mut batch = WriteBatch::new();
        for d in &done {
            if let Done::Write(staged) = d {
                staged.add_to(&mut batch, r.id)?;
            }
        }
        if !batch.is_empty() {
            self.inner
                .store_for(r.id)?
                .write(batch, self.inner.default_durability())?;
        }
        let results = done
            .into_iter()
            .zip(bodies)
            .zip(charges)
            .map(|((d, body), request_charge)| d.result(body, request_charge, true))
            .collect();
        Ok(BatchResponse {
            status_code: 200,
            request_charge: total,
            results,
        })
    }

    /// Checks one operation against the batch: what its type needs, its item (`body`, the
    /// operation's `resource_body` or what was taken out of it), its key.
    pub(super) fn plan<'o>(
        &self,
        r: &Resolved,
        pk: &PartitionKey,
        op: &'o BatchOperation,
        body: Option<&Value>,
    ) -> Result<Planned<'o>> {
        use BatchOperationType::*;
        let t = op.operation_type;
        if let Some(v) = &op.partition_key {
            let given = PartitionKey::from_json_key(&unwrap_rest_partition_key(v))?;
            if given != *pk {
                return Err(Error::BadRequest(format!(
                    "its partition key {given} is not the batch's ({pk}); a batch works on one partition"
                )));
            }
        }
        let refuse = |what: &str| Err(Error::BadRequest(format!("{t:?} {what}")));
        if matches!(t, Create | Read) && op.if_match.is_some() {
            return refuse("takes no ifMatch");
        }
        if (t == Patch) != op.patch_operations.is_some() || (t != Patch && op.filter_predicate.is_some()) {
            return refuse("takes patchOperations (and filterPredicate) only when it is a Patch");
        }
        let (id, key) = match (t, body) {
            (Create | Replace | Upsert, Some(body)) => {
                let (id, key) = self.check_item(r, pk, body)?;
                if op.id.as_deref().is_some_and(|given| given != id) {
                    return refuse(&format!(
                        "names id '{}' but its resourceBody has id '{id}'",
                        op.id.as_deref().unwrap_or_default()
                    ));
                }
                (id, key)
            }
            (Create | Replace | Upsert, None) => return refuse("needs a resourceBody (the item)"),
            (Read | Delete | Patch, None) => {
                let Some(id) = op.id.clone() else {
                    return refuse("needs the item's id");
                };
                let key = r.item_key(pk, &id)?;
                (id, key)
            }
            (Read | Delete | Patch, Some(_)) => return refuse("takes no resourceBody"),
        };
        if let Some(ops) = &op.patch_operations {
            validate_patch(ops, r.pk.segments())?;
        }
        let filter = op.filter_predicate.as_deref().map(Predicate::new).transpose()?;
        Ok(Planned { op, id, key, filter })
    }

    /// Stages (or, for a read, performs) one planned operation; `body` is its item (`Null`
    /// for read, delete and patch). On a staged create, replace, upsert or patch, `body` holds
    /// the item as it will be stored (stamped with its system properties); on an error it may
    /// be stamped too (`remove_system_properties` restores it). The caller holds the locks.
    pub(super) fn run_planned(
        &self,
        r: &Resolved,
        pk: &PartitionKey,
        p: &Planned<'_>,
        current: Option<Current>,
        body: &mut Value,
    ) -> Result<Done<'_>> {
        use BatchOperationType::*;
        let target = (pk, p.id.as_str(), p.key.clone());
        let if_match = p.op.if_match.as_deref();
        let (kind, if_match) = match p.op.operation_type {
            Read => {
                let Some(c) = current.filter(|c| self.is_live(r, &c.item)) else {
                    return Err(self.not_found(pk, &p.id));
                };
                let etag = c.item.get("_etag").and_then(Value::as_str).map(str::to_string);
                return Ok(Done::Read {
                    item: without_lsn(c.item),
                    etag,
                });
            }
            Delete => {
                let staged = self.stage_delete(r, target, if_match, current)?;
                return Ok(Done::Write(Box::new(staged)));
            }
            Patch => {
                let ops = p.op.patch_operations.as_deref().unwrap_or_default();
                let cond = Conditions {
                    if_match,
                    filter: p.filter.as_ref(),
                };
                *body = self.patched(r, (pk, &p.id), current.as_ref(), ops, &cond)?;
                (WriteKind::Replace, None)
            }
            Create => (WriteKind::Create, if_match),
            Replace => (WriteKind::Replace, if_match),
            Upsert => (WriteKind::Upsert, if_match),
        };
        let staged = self.stage_write(r, kind, target, body, if_match, current)?;
        Ok(Done::Write(Box::new(staged)))
    }
}

impl Done<'_> {
    /// The operation's result once its write is stored; `body` as `run_planned` left it, and
    /// returned for reads and writes (not deletes) when `content` is asked for.
    pub(super) fn result(self, body: Value, request_charge: f64, content: bool) -> BatchOperationResult {
        let (status_code, etag, resource_body) = match self {
            Done::Read { item, etag } => (200, etag, Some(item)),
            Done::Write(staged) => {
                let item = (content && staged.status != 204).then(|| without_lsn(body));
                (staged.status, staged.etag.clone(), item)
            }
        };
        BatchOperationResult {
            status_code,
            sub_status: 0,
            request_charge,
            etag,
            resource_body: resource_body.filter(|_| content),
            message: None,
        }
    }
}

/// The value of a `partitionKey` as the REST batch format writes it (`["v"]`, or that array as
/// a JSON string); any other value as it is.
fn unwrap_rest_partition_key(v: &Value) -> Value {
    v.as_str()
        .filter(|t| t.starts_with('['))
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(|| v.clone())
}

/// Errors one operation answers for itself (the others answering 424); anything else (a
/// revoked key, throttling, storage failure) fails the whole batch.
pub(super) fn is_operation_error(e: &Error) -> bool {
    matches!(e.status(), 400 | 404 | 409 | 412 | 413)
}

/// The response of a batch whose operation `at` failed with `e`.
fn failed(n: usize, at: usize, e: &Error, charge: f64) -> BatchResponse {
    let results = (0..n)
        .map(|i| {
            let own = i == at;
            BatchOperationResult {
                status_code: if own { e.status() } else { FAILED_DEPENDENCY },
                sub_status: if own { e.substatus() } else { 0 },
                request_charge: 0.0,
                etag: None,
                resource_body: None,
                message: Some(if own {
                    e.to_string()
                } else {
                    format!("not applied: operation {at} of the batch failed ({})", e.status())
                }),
            }
        })
        .collect();
    BatchResponse {
        status_code: e.status(),
        request_charge: charge,
        results,
    }
}
