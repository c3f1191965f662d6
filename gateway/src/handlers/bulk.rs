//! The non-atomic batch (bulk): a POST to `…/docs` with `x-ms-cosmos-is-batch-request: True` and
//! `x-ms-cosmos-batch-atomic: False`, as the JavaScript SDK's `items.bulk` and
//! `executeBulkOperations` send it. Each operation names its own partition key (`partitionKey`,
//! a JSON array as text; the request's partition-key header stands in for an operation without
//! one) and answers for itself; the whole request is one engine bulk call (`bulk_write`,
//! docs/bulk.md), so its successful writes share one LSM commit, and one that fails undoes
//! nothing of the others. With `x-ms-cosmos-batch-continue-on-error: True` every operation runs;
//! without it, those after the first failure are not run and answer 424. A 429 is that
//! operation's result (the SDKs retry it), and the operations after it answer 429 unrun (with
//! continue-on-error) or 424 (engine's `BulkOptions`). Any other engine refusal (the container is gone, the customer key
//! is revoked) answers the request, and nothing of it is written.
//! Owns the envelope only; every write is the engine's.

use serde_json::Value;
use strata_engine::{Account, BulkOperation, BulkOptions};

use super::batch::{operation, operations_of, result, MULTI_STATUS};
use super::{header, partition_key_json, Request};
use crate::wire::Reply;

/// POST of a non-atomic batch to `/dbs/{db}/colls/{coll}/docs`.
pub fn execute(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let keep_going = req.flag(header::BATCH_CONTINUE_ON_ERROR)?;
    let default_pk = req.partition_key()?;
    let raw = operations_of(
        req,
        "[{\"operationType\": \"Create\", \"partitionKey\": \"[\\\"a\\\"]\", \"resourceBody\": {...}}]",
    )?;
    // Every operation is read before any runs, so a malformed one writes nothing.
    let mut ops = Vec::with_capacity(raw.len());
    let mut envelopes = Vec::with_capacity(raw.len());
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
        ops.push(BulkOperation::new(pk, op));
        envelopes.push(envelope);
    }
    let opts = BulkOptions {
        durability: None,
        content_response: true,
        // The SDKs retry a 429 themselves, after the retry-after it carries.
        retry_throttled: false,
        stop_on_error: !keep_going,
    };
    let outcomes = account
        .database(db)
        .container(coll)
        .bulk_write(ops, &opts)
        .map_err(|e| Reply::from_engine(&e))?;
    let charge = outcomes.iter().map(|o| o.request_charge).sum::<f64>();
    let all_ok = outcomes.iter().all(|o| o.status_code < 400);
    let results = outcomes
        .into_iter()
        .zip(&envelopes)
        .map(|(outcome, envelope)| result(outcome, envelope))
        .collect();
    let status = if all_ok { 200 } else { MULTI_STATUS };
    Ok(Reply::json(status, &Value::Array(results)).with_charge(charge))
}
