//! Transactional batch over REST: a POST to `…/docs` with `x-ms-cosmos-is-batch-request: True`
//! and `x-ms-cosmos-batch-atomic: True`, its body a JSON array of operations in the service's
//! batch format, run as one transaction by the engine (`Container::execute_batch`) on the
//! partition named by `x-ms-documentdb-partitionkey`. Owns the envelope only: the SDKs'
//! spellings the engine's `BatchOperation` does not take (a patch's `resourceBody: {"operations",
//! "condition"?}`, a read's `ifNoneMatch`, `minimalReturnPreference`), and the answer as the
//! service gives it (200, or 207 Multi-Status when an operation failed, with per-operation
//! results). Must not write anything itself: all or nothing is the engine's.

use serde_json::{json, Map, Value};
use strata_engine::{
    Account, BatchOperation, BatchOperationResult, BatchOperationType, BatchResponse, Error,
};

use super::patch_body::patch_body;
use super::{engine, header, Request};
use crate::wire::Reply;

/// The HTTP status of an atomic batch one of whose operations failed (and which wrote
/// nothing): the service's Multi-Status. The SDKs read the failing operation from the body (its
/// own status; 424 for the others) and raise their batch error; a 4xx here would make them
/// raise a plain HTTP error without the per-operation results.
pub(super) const MULTI_STATUS: u16 = 207;

/// What the gateway does with an operation beyond the engine's fields.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Envelope {
    /// A read's `ifNoneMatch`: 304 without the item when the item's etag is this one (or `*`).
    if_none_match: Option<String>,
    /// `minimalReturnPreference: true` on a write: its result carries no item.
    minimal: bool,
}

/// POST of a batch to `/dbs/{db}/colls/{coll}/docs`.
pub fn execute(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    if !req.flag(header::BATCH_ATOMIC)? {
        return super::bulk::execute(account, db, coll, req);
    }
    if req.flag(header::BATCH_CONTINUE_ON_ERROR)? {
        return Err(Reply::error(
            400,
            format!(
                "an atomic batch ({}: True) cannot continue on error ({}: True): it is all or \
                 nothing; send a non-atomic batch to run the operations one by one",
                header::BATCH_ATOMIC,
                header::BATCH_CONTINUE_ON_ERROR
            ),
        ));
    }
    let pk = req.required_partition_key()?;
    let raw = operations_of(
        req,
        "[{\"operationType\": \"Create\", \"resourceBody\": {...}}, {\"operationType\": \"Read\", \"id\": \"1\"}]",
    )?;
    let (ops, envelopes): (Vec<BatchOperation>, Vec<Envelope>) = raw
        .into_iter()
        .enumerate()
        .map(|(i, op)| operation(i, op))
        .collect::<Result<Vec<_>, Reply>>()?
        .into_iter()
        .unzip();
    let response = engine(account.database(db).container(coll).execute_batch(pk, &ops))?;
    Ok(reply(response, &envelopes))
}

/// The operations of a batch body, a JSON array (400 with `example` otherwise).
pub(super) fn operations_of(req: &Request<'_>, example: &str) -> Result<Vec<Value>, Reply> {
    match req.json_body()? {
        Value::Array(raw) => Ok(raw),
        _ => Err(Reply::error(
            400,
            format!("a batch body is a JSON array of operations, e.g. {example}"),
        )),
    }
}

/// One operation of the body as the engine takes it, and what is left for the gateway.
pub(super) fn operation(i: usize, op: Value) -> Result<(BatchOperation, Envelope), Reply> {
    let bad = |m: &str| Reply::error(400, format!("batch operation {i}: {m}"));
    let Value::Object(mut fields) = op else {
        return Err(bad("is not a JSON object"));
    };
    let if_none_match = match fields.remove("ifNoneMatch") {
        None | Some(Value::Null) => None,
        Some(Value::String(etag)) => Some(etag),
        Some(_) => return Err(bad("ifNoneMatch is an etag, a string")),
    };
    let minimal = match fields.remove("minimalReturnPreference") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(bad("minimalReturnPreference is true or false")),
    };
    // The SDKs send a patch as the single-item PATCH's body under resourceBody; the engine
    // takes its operations and condition as fields of their own.
    let is_patch = fields
        .get("operationType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("patch"));
    let patch = match fields.get("resourceBody") {
        Some(body) if is_patch && !fields.contains_key("patchOperations") => {
            Some(patch_body(body).map_err(|e| match e {
                Error::BadRequest(m) => bad(&m),
                other => Reply::from_engine(&other),
            })?)
        }
        _ => None,
    };
    if patch.is_some() {
        fields.remove("resourceBody");
    }
    let mut op: BatchOperation =
        serde_json::from_value(Value::Object(fields)).map_err(|e| bad(&format!("malformed: {e}")))?;
    if let Some((ops, condition)) = patch {
        op.patch_operations = Some(ops);
        op.filter_predicate = condition;
    }
    let is_read = op.operation_type == BatchOperationType::Read;
    if if_none_match.is_some() && !is_read {
        return Err(bad(&format!(
            "{:?} takes no ifNoneMatch (a Read does: 304 when the item's etag is that one)",
            op.operation_type
        )));
    }
    let envelope = Envelope {
        if_none_match,
        minimal: minimal && !is_read,
    };
    Ok((op, envelope))
}

/// The engine's response in the service's format: 200 with every operation's result, or 207
/// with the failing one's status (and substatus) and 424 for the rest; the summed charge.
fn reply(r: BatchResponse, envelopes: &[Envelope]) -> Reply {
    let (status, substatus) = if r.is_success() {
        (200, 0)
    } else {
        let failing = r.results.iter().find(|x| x.status_code == r.status_code);
        (MULTI_STATUS, failing.map_or(0, |x| x.sub_status))
    };
    let body: Vec<Value> = r
        .results
        .into_iter()
        .zip(envelopes)
        .map(|(x, e)| result(x, e))
        .collect();
    let mut reply = Reply::json(status, &Value::Array(body)).with_charge(r.request_charge);
    reply.substatus = substatus;
    reply
}

/// One operation's result, spelled as the service does (`statusCode`, `subStatusCode`,
/// `requestCharge`, `eTag`, `resourceBody`), with the engine's message on a failure.
pub(super) fn result(x: BatchOperationResult, e: &Envelope) -> Value {
    let not_modified = x.status_code == 200
        && e.if_none_match
            .as_deref()
            .is_some_and(|want| want == "*" || x.etag.as_deref() == Some(want));
    let mut out = Map::new();
    out.insert(
        "statusCode".into(),
        json!(if not_modified { 304 } else { x.status_code }),
    );
    if x.sub_status != 0 {
        out.insert("subStatusCode".into(), json!(x.sub_status));
    }
    out.insert("requestCharge".into(), json!(x.request_charge));
    if let Some(etag) = x.etag {
        out.insert("eTag".into(), json!(etag));
    }
    if let Some(item) = x.resource_body.filter(|_| !not_modified && !e.minimal) {
        out.insert("resourceBody".into(), item);
    }
    if let Some(message) = x.message {
        out.insert("message".into(), json!(message));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_engine::PatchOperation;

    fn op(v: Value) -> Result<(BatchOperation, Envelope), u16> {
        operation(3, v).map_err(|r| r.status)
    }

    #[test]
    fn a_patch_as_the_sdks_send_it_becomes_the_engines_fields() {
        let (o, e) = op(json!({"operationType": "Patch", "id": "1", "resourceBody": {
            "operations": [{"op": "incr", "path": "/n", "value": 1}],
            "condition": "FROM c WHERE c.n < 10"}}))
        .unwrap();
        assert_eq!(o.operation_type, BatchOperationType::Patch);
        assert_eq!(o.id.as_deref(), Some("1"));
        assert_eq!(o.resource_body, None);
        let ops: Vec<PatchOperation> =
            serde_json::from_value(json!([{"op": "incr", "path": "/n", "value": 1}])).unwrap();
        assert_eq!(o.patch_operations, Some(ops));
        assert_eq!(o.filter_predicate.as_deref(), Some("FROM c WHERE c.n < 10"));
        assert_eq!(e, Envelope::default());
        // The engine's own spelling still works.
        let (o, _) = op(json!({"operationType": "Patch", "id": "1",
            "patchOperations": [{"op": "remove", "path": "/n"}]}))
        .unwrap();
        assert_eq!(o.patch_operations.map(|p| p.len()), Some(1));
    }

    #[test]
    fn malformed_operations_are_400s_naming_the_operation() {
        for bad in [
            json!("Create"),
            json!({"operationType": "Patch", "id": "1", "resourceBody": {"operations": [], "x": 1}}),
            json!({"operationType": "Patch", "id": "1", "resourceBody": {"condition": 7, "operations": []}}),
            json!({"operationType": "Create", "resourceBody": {"id": "1"}, "ifNoneMatch": "\"e\""}),
            json!({"operationType": "Read", "id": "1", "ifNoneMatch": 7}),
            json!({"operationType": "Upsert", "resourceBody": {"id": "1"}, "minimalReturnPreference": "yes"}),
            json!({"operationType": "Create", "resourceBody": {"id": "1"}, "timeToLiveInSeconds": 5}),
            json!({"operationType": "Merge", "id": "1"}),
        ] {
            let r = operation(3, bad.clone()).unwrap_err();
            assert_eq!(r.status, 400, "{bad}");
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert!(
                body["message"].as_str().unwrap().starts_with("batch operation 3"),
                "{body}"
            );
        }
    }

    fn ok(status_code: u16, etag: &str) -> BatchOperationResult {
        BatchOperationResult {
            status_code,
            sub_status: 0,
            request_charge: 1.0,
            etag: Some(etag.into()),
            resource_body: Some(json!({"id": "1"})),
            message: None,
        }
    }

    #[test]
    fn results_are_spelled_as_the_service_does() {
        let (_, read) = op(json!({"operationType": "Read", "id": "1", "ifNoneMatch": "\"e1\""})).unwrap();
        let (_, write) = op(json!({"operationType": "Upsert", "resourceBody": {"id": "1"},
            "minimalReturnPreference": true}))
        .unwrap();
        assert!(write.minimal);
        let r = BatchResponse {
            status_code: 200,
            request_charge: 3.5,
            results: vec![ok(200, "\"e1\""), ok(200, "\"e2\""), ok(201, "\"e3\"")],
        };
        let reply = reply(r, &[read, Envelope::default(), write]);
        assert_eq!((reply.status, reply.substatus, reply.charge), (200, 0, 3.5));
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            body[0],
            json!({"statusCode": 304, "requestCharge": 1.0, "eTag": "\"e1\""})
        );
        assert_eq!(body[1]["resourceBody"], json!({"id": "1"}));
        assert_eq!(body[1]["eTag"], "\"e2\"");
        assert_eq!(
            body[2],
            json!({"statusCode": 201, "requestCharge": 1.0, "eTag": "\"e3\""})
        );
    }

    #[test]
    fn a_failed_batch_is_a_multi_status_led_by_the_failing_operation() {
        let failing = BatchOperationResult {
            status_code: 409,
            sub_status: 0,
            request_charge: 0.0,
            etag: None,
            resource_body: None,
            message: Some("conflict: id 1 exists".into()),
        };
        let other = BatchOperationResult {
            status_code: 424,
            message: Some("not applied".into()),
            ..failing.clone()
        };
        let r = BatchResponse {
            status_code: 409,
            request_charge: 2.0,
            results: vec![other.clone(), failing, other],
        };
        let reply = reply(
            r,
            &[Envelope::default(), Envelope::default(), Envelope::default()],
        );
        assert_eq!((reply.status, reply.substatus, reply.charge), (207, 0, 2.0));
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        let statuses: Vec<&Value> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|x| &x["statusCode"])
            .collect();
        assert_eq!(statuses, [424, 409, 424]);
        assert_eq!(body[1].get("subStatusCode"), None);
        assert_eq!(body[1]["message"], "conflict: id 1 exists");
        assert_eq!(body[0].get("resourceBody"), None);
    }
}
