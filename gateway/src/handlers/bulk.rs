//! The non-atomic batch (bulk): a POST to `…/docs` with `x-ms-cosmos-is-batch-request: True` and
//! `x-ms-cosmos-batch-atomic: False`, as the JavaScript SDK's `items.bulk` and
//! `executeBulkOperations` send it. Each operation names its own partition key (`partitionKey`,
//! a JSON array as text; the request's partition-key header stands in for an operation without
//! one) and runs on its own, as a one-operation transactional batch of the engine, so one that
//! fails undoes nothing of the others. With `x-ms-cosmos-batch-continue-on-error: True` every
//! operation runs; without it, those after the first failure are not run and answer 424. A 429 is
//! that operation's result (the SDKs retry it); any other engine refusal (the container is gone,
//! the customer key is revoked) answers the request, after the operations before it ran.
//! Owns the envelope only; every write is the engine's.

use serde_json::Value;
use strata_engine::{Account, BatchOperationResult};

use super::batch::{operation, operations_of, result, MULTI_STATUS};
use super::{header, partition_key_json, Request};
use crate::wire::Reply;

/// Status of an operation the request did not run (an earlier one failed).
const FAILED_DEPENDENCY: u16 = 424;

/// POST of a non-atomic batch to `/dbs/{db}/colls/{coll}/docs`.
pub fn execute(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let keep_going = req.flag(header::BATCH_CONTINUE_ON_ERROR)?;
    let default_pk = req.partition_key()?;
    let raw = operations_of(
        req,
        "[{\"operationType\": \"Create\", \"partitionKey\": \"[\\\"a\\\"]\", \"resourceBody\": {...}}]",
    )?;
    // Every operation is read before any runs, so a malformed one writes nothing.
    let mut planned = Vec::with_capacity(raw.len());
    for (i, op) in raw.into_iter().enumerate() {
        let Value::Object(mut fields) = op else {
            return Err(Reply::error(
                400,
                format!("batch operation {i}: is not a JSON object"),
            ));
        };
        let what = format!("batch operation {i}: partitionKey");
        let pk = match fields.remove("partitionKey") {
            Some(Value::String(text)) => partition_key_json(&text, &what)?,
            Some(list @ Value::Array(_)) => partition_key_json(&list.to_string(), &what)?,
            None | Some(Value::Null) => default_pk.clone().ok_or_else(|| {
                Reply::error(
                    400,
                    format!(
                        "batch operation {i}: a non-atomic batch needs each operation's \
                         partitionKey (or the {} header)",
                        header::PARTITION_KEY
                    ),
                )
            })?,
            Some(other) => partition_key_json(&other.to_string(), &what)?,
        };
        let (op, envelope) = operation(i, Value::Object(fields))?;
        planned.push((pk, op, envelope));
    }
    let container = account.database(db).container(coll);
    let mut charge = 0.0;
    let mut all_ok = true;
    let mut results = Vec::with_capacity(planned.len());
    for (pk, op, envelope) in planned {
        if !all_ok && !keep_going {
            results.push(result(not_run(), &envelope));
            continue;
        }
        let outcome = match container.execute_batch(pk, std::slice::from_ref(&op)) {
            Ok(mut r) => {
                charge += r.request_charge;
                r.results.pop().unwrap_or_else(not_run)
            }
            Err(e) if e.status() == 429 => BatchOperationResult {
                status_code: 429,
                sub_status: e.substatus(),
                request_charge: 0.0,
                etag: None,
                resource_body: None,
                message: Some(e.to_string()),
            },
            Err(e) => return Err(Reply::from_engine(&e)),
        };
        all_ok &= outcome.status_code < 400;
        results.push(result(outcome, &envelope));
    }
    let status = if all_ok { 200 } else { MULTI_STATUS };
    Ok(Reply::json(status, &Value::Array(results)).with_charge(charge))
}

fn not_run() -> BatchOperationResult {
    BatchOperationResult {
        status_code: FAILED_DEPENDENCY,
        sub_status: 0,
        request_charge: 0.0,
        etag: None,
        resource_body: None,
        message: Some("not run: an earlier operation of this non-atomic batch failed".into()),
    }
}
