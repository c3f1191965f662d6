//! The body of a query request (`{"query": ..., "parameters": [...]}`) read into the query text
//! and its parameters, for the query handler and the query-plan handler alike. Reads the request
//! only; runs nothing.

use serde_json::Value;

use super::Request;
use crate::wire::Reply;

/// The query text and parameters of a query body: `{"query": "...", "parameters": [{"name":
/// "@p", "value": ...}]}`.
pub(super) fn query_spec(req: &Request<'_>) -> Result<(String, Vec<(String, Value)>), Reply> {
    let body = req.json_body()?;
    let sql = body
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::error(400, "the query body needs a string \"query\""))?
        .to_string();
    let mut params = Vec::new();
    match body.get("parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for p in list {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Reply::error(400, "each query parameter needs a string \"name\""))?;
                let value = p.get("value").cloned().unwrap_or(Value::Null);
                params.push((name.to_string(), value));
            }
        }
        Some(_) => {
            return Err(Reply::error(
                400,
                "\"parameters\" must be an array of {name, value}",
            ))
        }
    }
    Ok((sql, params))
}
