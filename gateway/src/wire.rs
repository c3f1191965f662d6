//! What goes back on the wire, before HTTP framing: status, substatus, request charge, extra
//! headers and a JSON body, and how an engine error becomes one (`{code, message}` with the
//! engine's status and substatus, as the service answers). Owns no I/O and no routing.

use serde_json::Value;
use strata_engine::Error;

/// One response of the gateway.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// `x-ms-substatus`, sent when not 0.
    pub substatus: u32,
    /// `x-ms-request-charge`.
    pub charge: f64,
    pub headers: Vec<(&'static str, String)>,
    /// JSON, or empty.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body.
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            substatus: 0,
            charge: 0.0,
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// No body (204, 304, or a write with `Prefer: return=minimal`).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            substatus: 0,
            charge: 0.0,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// An error of the gateway itself (bad header, unknown resource, body too large).
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        let body = serde_json::json!({"code": code(status), "message": message.into()});
        Reply::json(status, &body)
    }

    /// 401, the same for every authentication failure: nothing that tells a forger which part
    /// of the request was wrong.
    pub fn unauthorized() -> Reply {
        Reply::error(
            401,
            "The input authorization token can't serve the request. Sign the request with the \
             account's primary or secondary key (strata keys list).",
        )
    }

    /// An engine error: its status, substatus, message, the charge it still cost, and for a
    /// 429 the retry-after.
    pub fn from_engine(e: &Error) -> Reply {
        let mut reply = Reply::error(e.status(), e.to_string());
        reply.substatus = e.substatus();
        reply.charge = e.request_charge().unwrap_or(0.0);
        if let Some(ms) = e.retry_after() {
            reply.headers.push(("x-ms-retry-after-ms", ms.to_string()));
        }
        reply
    }

    /// For a client that may be someone else (a server off loopback): a 5xx loses its message,
    /// which can name files under the data directory, for one pointing at the server's log by
    /// `activity`; status, substatus, charge and headers stay. Returns the reply and, for a 5xx,
    /// the log line (JSON) with the message it held.
    pub fn without_server_detail(mut self, activity: &str) -> (Reply, Option<String>) {
        if self.status < 500 {
            return (self, None);
        }
        let held: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let log = serde_json::json!({
            "level": "error",
            "activityId": activity,
            "status": self.status,
            "subStatus": self.substatus,
            "message": held.get("message").cloned().unwrap_or(Value::Null),
        });
        let public = serde_json::json!({
            "code": code(self.status),
            "message": format!(
                "the request failed inside the server; its log has the details under activity id {activity}"
            ),
        });
        self.body = serde_json::to_vec(&public).unwrap_or_default();
        (self, Some(log.to_string()))
    }

    pub fn with_charge(mut self, charge: f64) -> Reply {
        self.charge = charge;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// The service's error code for a status.
fn code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        408 => "RequestTimeout",
        409 => "Conflict",
        412 => "PreconditionFailed",
        413 => "RequestEntityTooLarge",
        423 => "Locked",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        501 => "NotImplemented",
        503 => "ServiceUnavailable",
        _ => "InternalServerError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_status_substatus_and_charge() {
        let e = Error::PreconditionFailed("etag moved".into());
        let r = Reply::from_engine(&e);
        assert_eq!((r.status, r.substatus), (412, 0));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], "PreconditionFailed");
        assert!(body["message"].as_str().unwrap().contains("etag moved"));

        let e = Error::KeyVault {
            substatus: strata_engine::substatus::KEY_VAULT_ACCESS,
            message: "key disabled".into(),
        };
        let r = Reply::from_engine(&e);
        assert_eq!((r.status, r.substatus), (403, 4002));
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap()["code"],
            "Forbidden"
        );
    }

    #[test]
    fn server_errors_lose_their_detail_for_others_and_keep_it_for_the_log() {
        let path = "/srv/data/000042.sst";
        let e = Error::Internal(format!("cannot read {path}"));
        let (r, log) = Reply::from_engine(&e)
            .with_charge(1.5)
            .without_server_detail("a-1");
        assert_eq!((r.status, r.charge), (500, 1.5));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], "InternalServerError");
        let msg = body["message"].as_str().unwrap();
        assert!(!msg.contains(path) && msg.contains("a-1"), "{msg}");
        let log: Value = serde_json::from_str(&log.unwrap()).unwrap();
        assert_eq!(log["activityId"], "a-1");
        assert!(log["message"].as_str().unwrap().contains(path), "{log}");

        let (r, log) = Reply::from_engine(&Error::NotFound("item x".into())).without_server_detail("a-2");
        assert!(log.is_none());
        assert!(String::from_utf8_lossy(&r.body).contains("item x"));
    }

    #[test]
    fn unauthorized_says_nothing_about_the_request() {
        let r = Reply::unauthorized();
        assert_eq!(r.status, 401);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], "Unauthorized");
        let msg = body["message"].as_str().unwrap();
        for leak in ["date", "skew", "signature mismatch", "primary key is", "expected"] {
            assert!(!msg.contains(leak), "{msg}");
        }
    }
}
