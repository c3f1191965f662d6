//! The wire between api.js and the host: the JSON text the one native function takes (an
//! operation name and its arguments) and gives back (a value, an error, or "not accepted").
//! Owns that format; must not run requests (the host does) nor touch the runtime.

use serde_json::{json, Value};

use crate::host::{HostError, Page, Request};

/// Parses what api.js sent for `op`; a malformed call is the script's error (400).
pub(crate) fn parse_request(op: &str, arg: &str) -> Result<Request, HostError> {
    let bad = |m: String| HostError {
        status: 400,
        substatus: 0,
        message: m,
        fatal: false,
    };
    let arg: Value =
        serde_json::from_str(arg).map_err(|e| bad(format!("{op}: arguments are not JSON: {e}")))?;
    let text = |name: &str| -> Result<String, HostError> {
        arg.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{op}: '{name}' must be a string")))
    };
    let doc = || -> Result<Value, HostError> {
        match arg.get("doc") {
            Some(d @ Value::Object(_)) => Ok(d.clone()),
            _ => Err(bad(format!("{op}: the document must be a JSON object"))),
        }
    };
    let if_match = || arg.get("ifMatch").and_then(Value::as_str).map(str::to_string);
    Ok(match op {
        "read" => Request::Read { link: text("link")? },
        "create" => Request::Create {
            doc: doc()?,
            auto_id: arg.get("autoId").and_then(Value::as_bool).unwrap_or(true),
        },
        "replace" => Request::Replace {
            link: text("link")?,
            doc: doc()?,
            if_match: if_match(),
        },
        "upsert" => Request::Upsert {
            doc: doc()?,
            if_match: if_match(),
        },
        "delete" => Request::Delete {
            link: text("link")?,
            if_match: if_match(),
        },
        "query" => Request::Query {
            sql: text("sql")?,
            parameters: parameters(arg.get("parameters")).map_err(bad)?,
            page: page(&arg),
        },
        "readAll" => Request::ReadAll { page: page(&arg) },
        other => return Err(bad(format!("unknown collection operation '{other}'"))),
    })
}

/// The page a query asks for: `continuation` and `pageSize` (-1 or absent: the default).
fn page(arg: &Value) -> Page {
    Page {
        continuation: arg
            .get("continuation")
            .and_then(Value::as_str)
            .map(str::to_string),
        size: arg
            .get("pageSize")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .map(|n| n as usize),
    }
}

/// `[{name, value}]` as the managed service's query specs write parameters.
fn parameters(v: Option<&Value>) -> Result<Vec<(String, Value)>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Value::Array(list) = v else {
        return Err("query parameters are an array of {name, value}".into());
    };
    list.iter()
        .map(
            |p| match (p.get("name").and_then(Value::as_str), p.get("value")) {
                (Some(n), Some(v)) => Ok((n.to_string(), v.clone())),
                (Some(n), None) => Ok((n.to_string(), Value::Null)),
                _ => Err("each query parameter is {name: \"@p\", value}".to_string()),
            },
        )
        .collect()
}

/// The reply api.js reads.
pub(crate) fn reply(result: &Result<Value, HostError>) -> String {
    match result {
        Ok(v) => json!({"ok": true, "value": v}),
        Err(e) => json!({"ok": false, "status": e.status, "substatus": e.substatus, "message": e.message}),
    }
    .to_string()
}

/// The reply to an operation not accepted (the budget is nearly spent).
pub(crate) const NOT_ACCEPTED: &str = r#"{"accepted":false}"#;
