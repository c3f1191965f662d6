//! `Container::bulk_write`: many independent operations (create, replace, upsert, delete,
//! read, patch), each on its own item and partition key, stored in as few LSM commits as
//! possible (one, unless a 429 or the byte cap below splits the call). Each operation answers
//! for itself exactly as the single operation would (status, substatus, charge, etag); one that
//! fails writes nothing and does not stop the others. Owns the grouping of staged writes into
//! commits only: checking, staging and charging are the single writes' (batch.rs, staged.rs).
//! Must not let a failed or throttled operation reach the store. See docs/bulk.md.
//!
//! Lock rule: a commit round takes the lock stripes of every item it may write at once, in
//! ascending stripe order (`item_locks`), and releases them all after its commit; single writes
//! hold one stripe, transactional batches take theirs in the same order, so no two writers can
//! wait on each other in a cycle.

use std::collections::HashMap;

use serde_json::Value;

use super::batch::{
    is_operation_error, BatchOperation, BatchOperationResult, BatchOperationType, Done, Planned,
    FAILED_DEPENDENCY,
};
use super::container::{public_size, Container, Resolved};
use super::staged::Current;
use crate::document::{remove_system_properties, PartitionKey};
use crate::error::{Error, Result};
use crate::metering::point_read_charge;
use crate::options::Durability;
use strata_lsm::WriteBatch;

/// Most operations one bulk call may carry (more: 400).
pub const MAX_BULK_OPERATIONS: usize = 1000;

/// A commit round stops staging once its items add up to this many bytes and commits; the
/// rest of the call goes on in a new round. Keeps one WAL record and memtable insert bounded.
const MAX_COMMIT_BYTES: usize = 16 << 20;

/// One operation of a bulk call: a batch operation with its own partition key.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkOperation {
    pub partition_key: PartitionKey,
    pub operation: BatchOperation,
}

impl BulkOperation {
    pub fn new(partition_key: impl Into<PartitionKey>, operation: BatchOperation) -> Self {
        BulkOperation {
            partition_key: partition_key.into(),
            operation,
        }
    }
}

/// How a bulk call runs.
#[derive(Clone, Debug, Default)]
pub struct BulkOptions {
    /// Overrides the account's default durability for the call's commits.
    pub durability: Option<Durability>,
    /// Return the items read and written (`resource_body`); off, none are (the SDKs' content
    /// response on write turned off), which spares a copy per item.
    pub content_response: bool,
    /// Wait and go on after a 429 as the account's `RetryPolicy` says, as single operations do.
    /// Off (and once the policy gives up), the throttled operation and every one after it
    /// answer 429 unrun, for the caller to send again (424 after it with `stop_on_error`).
    pub retry_throttled: bool,
    /// Stop at the first operation that fails: those before it are stored, those after it
    /// answer 424 unrun (the REST bulk without continue-on-error, `strata import
    /// --stop-on-error`). Off, every operation runs.
    pub stop_on_error: bool,
}

/// Where a commit round stopped.
enum Stop {
    /// Every operation was run.
    End,
    /// Operation `at` was throttled (nothing of it stored); it and those after it are unrun.
    Throttled { at: usize, error: Error },
    /// The byte cap was reached before operation `at`.
    Full { at: usize },
    /// An operation failed, with `stop_on_error`; those from `at` on are unrun.
    Failed { at: usize },
}

impl Container {
    /// Runs `ops` in order, each as its own operation, and returns one result per operation.
    /// Operations on the same item see the earlier ones (as if run one after the other);
    /// the successful writes of a round are stored in one atomic commit. Err (nothing stored
    /// by the round that failed; earlier rounds stay) for what fails every operation alike:
    /// more than `MAX_BULK_OPERATIONS` (400), the container missing (404), the customer key
    /// revoked (403), a storage failure (5xx).
    pub fn bulk_write(
        &self,
        ops: Vec<BulkOperation>,
        opts: &BulkOptions,
    ) -> Result<Vec<BatchOperationResult>> {
        if ops.len() > MAX_BULK_OPERATIONS {
            return Err(Error::BadRequest(format!(
                "a bulk call carries at most {MAX_BULK_OPERATIONS} operations ({} given); split it",
                ops.len()
            )));
        }
        let (ops, mut bodies): (Vec<_>, Vec<_>) = ops
            .into_iter()
            .map(|mut o| {
                let body = o.operation.resource_body.take();
                (o, body)
            })
            .unzip();
        let mut results: Vec<Option<BatchOperationResult>> = vec![None; ops.len()];
        let policy = &self.inner.opts.retry_policy;
        let (mut from, mut retries, mut waited) = (0, 0u32, std::time::Duration::ZERO);
        while from < ops.len() {
            match self.bulk_round(&ops[from..], &mut bodies[from..], &mut results[from..], opts)? {
                Stop::End => break,
                Stop::Full { at } => from += at,
                Stop::Failed { at } => {
                    for r in &mut results[from + at..] {
                        *r = Some(not_run());
                    }
                    break;
                }
                Stop::Throttled { at, error } => {
                    from += at;
                    let wait = std::time::Duration::from_millis(error.retry_after().unwrap_or(0));
                    let retry = opts.retry_throttled
                        && retries < policy.max_attempts
                        && waited.saturating_add(wait) <= policy.max_wait;
                    if !retry {
                        for (k, r) in results[from..].iter_mut().enumerate() {
                            *r = Some(if k > 0 && opts.stop_on_error {
                                not_run()
                            } else {
                                error_result(&error, 0.0)
                            });
                        }
                        break;
                    }
                    self.inner.opts.clock.sleep(wait);
                    waited = waited.saturating_add(wait);
                    retries += 1;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::Internal("a bulk operation was left without a result".into())))
            .collect()
    }

    /// One commit round over `ops`: locks their items, stages them in order (filling the
    /// results of those that fail), charges each, and stores the staged writes in one batch.
    fn bulk_round(
        &self,
        ops: &[BulkOperation],
        bodies: &mut [Option<Value>],
        results: &mut [Option<BatchOperationResult>],
        opts: &BulkOptions,
    ) -> Result<Stop> {
        let r = self.resolve()?;
        let mut plans: Vec<Option<Planned<'_>>> = Vec::with_capacity(ops.len());
        for (i, o) in ops.iter().enumerate() {
            match self.plan(&r, &o.partition_key, &o.operation, bodies[i].as_ref()) {
                Ok(p) => plans.push(Some(p)),
                Err(e) if is_operation_error(&e) => {
                    results[i] = Some(error_result(&e, 0.0));
                    plans.push(None);
                }
                Err(e) => return Err(e),
            }
        }
        let _guards = self
            .inner
            .item_locks(plans.iter().flatten().map(|p| p.key.as_slice()))?;
        // The round's latest staged write of each key, by its place in `done`: a later
        // operation on the item sees what it left (parsed only then; repeats are rare).
        let mut overlay: HashMap<&[u8], usize> = HashMap::new();
        let mut done = Vec::with_capacity(ops.len());
        let mut bytes = 0usize;
        let mut stop = Stop::End;
        for (i, p) in plans.iter().enumerate() {
            let Some(p) = p else {
                if opts.stop_on_error {
                    stop = Stop::Failed { at: i + 1 };
                    break;
                }
                continue;
            };
            if bytes >= MAX_COMMIT_BYTES {
                stop = Stop::Full { at: i };
                break;
            }
            let given = bodies[i].take();
            let has_body = given.is_some();
            let mut body = given.unwrap_or_default();
            let current = match overlay.get(p.key.as_slice()) {
                Some(&at) => match done.get(at) {
                    Some((_, Done::Write(staged), _, _)) => Some(staged.after()?),
                    _ => None,
                }
                .flatten(),
                None => self.current(&p.key)?,
            };
            match self.bulk_stage(&r, &ops[i].partition_key, p, current, &mut body) {
                Ok((d, charge)) => {
                    if let Done::Write(staged) = &d {
                        overlay.insert(p.key.as_slice(), done.len());
                        bytes += staged.stored_len();
                    }
                    done.push((i, d, body, charge));
                }
                Err(e) if e.status() == 429 => {
                    // Unrun: the next round starts from the item as it was given (a read,
                    // delete or patch was given none).
                    if has_body {
                        remove_system_properties(&mut body);
                        bodies[i] = Some(body);
                    }
                    stop = Stop::Throttled { at: i, error: e };
                    break;
                }
                Err(e) if is_operation_error(&e) => {
                    results[i] = Some(error_result(&e, e.request_charge().unwrap_or(0.0)));
                    if opts.stop_on_error {
                        stop = Stop::Failed { at: i + 1 };
                        break;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let mut batch = WriteBatch::new();
        for (_, d, _, _) in &done {
            if let Done::Write(staged) = d {
                staged.add_to(&mut batch, r.id)?;
            }
        }
        if !batch.is_empty() {
            let durability = opts.durability.unwrap_or(self.inner.default_durability());
            self.inner.store_for(r.id)?.write(batch, durability)?;
        }
        for (i, d, body, charge) in done {
            results[i] = Some(d.result(body, charge, opts.content_response));
        }
        Ok(stop)
    }

    /// Stages one planned operation on `current` (what the round left under its item, else
    /// what the store holds) and takes its charge: the staged operation and its charge, or why
    /// it failed (a read of a missing item is charged, as a single read is).
    fn bulk_stage<'s>(
        &'s self,
        r: &Resolved,
        pk: &PartitionKey,
        p: &Planned<'_>,
        current: Option<Current>,
        body: &mut Value,
    ) -> Result<(Done<'s>, f64)> {
        let read_charge = {
            let live = current.as_ref().filter(|c| self.is_live(r, &c.item));
            point_read_charge(
                live.map_or(0, |c| public_size(c.len, &c.item)),
                self.inner.is_cmk(),
            )
        };
        let is_read = p.op.operation_type == BatchOperationType::Read;
        let d = match self.run_planned(r, pk, p, current, body) {
            Ok(d) => d,
            Err(e) if is_read && e.status() == 404 => {
                self.charge(r, read_charge)?;
                return Err(e.with_charge(read_charge));
            }
            Err(e) => return Err(e),
        };
        let charge = match &d {
            Done::Read { .. } => read_charge,
            Done::Write(staged) => staged.charge,
        };
        self.charge(r, charge)?;
        Ok((d, charge))
    }
}

/// The result of an operation not run because an earlier one failed (`stop_on_error`).
fn not_run() -> BatchOperationResult {
    BatchOperationResult {
        status_code: FAILED_DEPENDENCY,
        sub_status: 0,
        request_charge: 0.0,
        etag: None,
        resource_body: None,
        message: Some("not run: an earlier operation of this bulk call failed".into()),
    }
}

/// The result of an operation that failed (or was not run) with `e`.
fn error_result(e: &Error, request_charge: f64) -> BatchOperationResult {
    BatchOperationResult {
        status_code: e.status(),
        sub_status: e.substatus(),
        request_charge,
        etag: None,
        resource_body: None,
        message: Some(e.to_string()),
    }
}
