//! Executing a stored procedure: POST `/dbs/{db}/colls/{coll}/sprocs/{id}` with the partition
//! key in `x-ms-documentdb-partitionkey` and the arguments as a JSON array body (empty or
//! `null`: none). The engine runs it (`Container::execute_stored_procedure`: all or nothing);
//! the reply is what the script set with `getResponse().setBody()`, with the charge. Script
//! failures keep the engine's status and substatus (400.3703 a throw, 408.3701 over the time
//! budget, 400.3702 over the memory cap, 403.4002 revoked). With
//! `x-ms-documentdb-script-enable-logging: true` a successful reply carries the script's console
//! output, URL-encoded, in `x-ms-documentdb-script-log-results`; the log is only ever in that
//! reply. With `If-Match`, the procedure runs only while its etag is that one (412 otherwise,
//! nothing run). Owns no script state.

use serde_json::Value;
use strata_engine::{Account, ProcedureOptions};

use super::{engine, header, Request};
use crate::percent::percent_encode;
use crate::wire::Reply;

/// The response header carrying the script log.
const SCRIPT_LOG_RESULTS: &str = "x-ms-documentdb-script-log-results";

/// The procedure's arguments: the body's JSON array, in order.
fn arguments(req: &Request<'_>) -> Result<Vec<Value>, Reply> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    match req.json_body()? {
        Value::Null => Ok(Vec::new()),
        Value::Array(args) => Ok(args),
        _ => Err(Reply::error(
            400,
            "a stored procedure's arguments must be a JSON array (its parameters, in order)",
        )),
    }
}

pub fn execute(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = req.partition_key()?.ok_or_else(|| {
        Reply::error(
            400,
            format!(
                "a stored procedure runs on one partition key: give it in header {}, e.g. [\"tenant-1\"]",
                header::PARTITION_KEY
            ),
        )
    })?;
    let args = arguments(req)?;
    let options = ProcedureOptions {
        enable_script_logging: req.flag(header::SCRIPT_LOGGING)?,
        if_match: req.if_match()?,
        ..ProcedureOptions::default()
    };
    let c = account.database(db).container(coll);
    let r = engine(c.execute_stored_procedure_with(id, pk, &args, options))?;
    let reply = Reply::json(r.status_code, &r.body).with_charge(r.request_charge);
    Ok(match r.log {
        Some(log) => reply.with_header(SCRIPT_LOG_RESULTS, percent_encode(&log)),
        None => reply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::HeaderMap;

    fn args_of(body: &[u8]) -> Result<Vec<Value>, u16> {
        let headers = HeaderMap::new();
        arguments(&Request::for_test(&headers, body)).map_err(|r| r.status)
    }

    #[test]
    fn arguments_are_an_array_or_nothing() {
        assert_eq!(args_of(b""), Ok(vec![]));
        assert_eq!(args_of(b"null"), Ok(vec![]));
        assert_eq!(
            args_of(br#"["a", 2]"#),
            Ok(vec![Value::from("a"), Value::from(2)])
        );
        assert_eq!(args_of(br#"{"a": 1}"#), Err(400));
        assert_eq!(args_of(b"[1,"), Err(400));
    }
}
