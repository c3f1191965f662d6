//! One request, authenticated and read whole, turned into engine calls and a `Reply`: the
//! dispatch by route and verb, and the request-header helpers the handlers share (partition
//! key, If-Match, paging, JSON bodies). Runs inside `block_in_place` (the engine is synchronous).
//! Handlers must not write to the store before every part of the request has been validated.

mod batch;
mod bulk;
mod collections;
mod databases;
mod documents;
mod feed;
mod offers;
mod patch_body;
mod query;
mod query_body;
mod query_plan;
mod scripts;
mod sproc_exec;

use hyper::{HeaderMap, Method};
use serde_json::Value;
use strata_engine::{json_nesting_depth, Account, PartitionKey, TriggerOptions, MAX_ITEM_DEPTH};

use crate::route::{Route, ScriptKind};
use crate::wire::Reply;

/// Headers the gateway reads.
pub(crate) mod header {
    pub const PARTITION_KEY: &str = "x-ms-documentdb-partitionkey";
    pub const IS_UPSERT: &str = "x-ms-documentdb-is-upsert";
    pub const IS_QUERY: &str = "x-ms-documentdb-isquery";
    pub const IS_BATCH: &str = "x-ms-cosmos-is-batch-request";
    pub const BATCH_ATOMIC: &str = "x-ms-cosmos-batch-atomic";
    pub const BATCH_CONTINUE_ON_ERROR: &str = "x-ms-cosmos-batch-continue-on-error";
    pub const QUERY_PLAN: &str = "x-ms-cosmos-is-query-plan-request";
    pub const MAX_ITEM_COUNT: &str = "x-ms-max-item-count";
    pub const CONTINUATION: &str = "x-ms-continuation";
    pub const START_EPK: &str = "x-ms-start-epk";
    pub const END_EPK: &str = "x-ms-end-epk";
    pub const OFFER_THROUGHPUT: &str = "x-ms-offer-throughput";
    pub const A_IM: &str = "a-im";
    pub const PREFER: &str = "prefer";
    pub const PRE_TRIGGERS: &str = "x-ms-documentdb-pre-trigger-include";
    pub const POST_TRIGGERS: &str = "x-ms-documentdb-post-trigger-include";
    pub const SCRIPT_LOGGING: &str = "x-ms-documentdb-script-enable-logging";
}

/// A request as the handlers see it.
pub struct Request<'a> {
    pub method: &'a Method,
    pub route: Route,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// `http://host:port/`, as the client addressed the server (for the account's endpoints).
    pub endpoint: String,
}

impl<'a> Request<'a> {
    /// A POST to the account with these headers and body: what the handlers' unit tests read.
    #[cfg(test)]
    pub(crate) fn for_test(headers: &'a HeaderMap, body: &'a [u8]) -> Request<'a> {
        Request {
            method: &Method::POST,
            route: Route::Account,
            headers,
            body,
            endpoint: String::new(),
        }
    }

    /// A header as text; `Err` (400) if it is not visible ASCII.
    pub fn header(&self, name: &str) -> Result<Option<&str>, Reply> {
        match self.headers.get(name) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(Some)
                .map_err(|_| Reply::error(400, format!("header {name} is not visible ASCII"))),
        }
    }

    /// A `True`/`False` header (any case); absent is false.
    pub fn flag(&self, name: &str) -> Result<bool, Reply> {
        match self.header(name)? {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(Reply::error(
                400,
                format!("header {name} must be True or False, not {v:?}"),
            )),
        }
    }

    /// Whether a POST is a query: `x-ms-documentdb-isquery: True` or `Content-Type:
    /// application/query+json`.
    pub fn is_query(&self) -> Result<bool, Reply> {
        let query_content = self
            .header("content-type")?
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/query+json"));
        Ok(query_content || self.flag(header::IS_QUERY)?)
    }

    /// The body as a JSON value, refused (400) when malformed or nested deeper than an item
    /// may be (checked before parsing, so hostile nesting cannot overflow the stack).
    pub fn json_body(&self) -> Result<Value, Reply> {
        if json_nesting_depth(self.body) > MAX_ITEM_DEPTH {
            return Err(Reply::error(
                400,
                format!("the request body nests deeper than {MAX_ITEM_DEPTH} levels"),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(self.body);
        de.disable_recursion_limit();
        let v = serde::Deserialize::deserialize(&mut de)
            .and_then(|v: Value| de.end().map(|()| v))
            .map_err(|e| Reply::error(400, format!("the request body is not valid JSON: {e}")))?;
        Ok(v)
    }

    /// `x-ms-documentdb-partitionkey`: a JSON array of one value (`[{}]` or `[]`: the item has
    /// no value at the path), or one per level of a hierarchical key. `None` if absent.
    pub fn partition_key(&self) -> Result<Option<PartitionKey>, Reply> {
        match self.header(header::PARTITION_KEY)? {
            None => Ok(None),
            Some(raw) => partition_key_json(raw, &format!("header {}", header::PARTITION_KEY)).map(Some),
        }
    }

    /// The partition key of a request on one item: 400 when the header is missing.
    pub fn required_partition_key(&self) -> Result<PartitionKey, Reply> {
        self.partition_key()?.ok_or_else(|| {
            Reply::error(
                400,
                format!(
                    "this operation needs the item's partition key in header {}, e.g. [\"tenant-1\"]",
                    header::PARTITION_KEY
                ),
            )
        })
    }

    /// The triggers a write names: `x-ms-documentdb-pre-trigger-include` and
    /// `…-post-trigger-include`, each a comma-separated list of names (spaces around a name
    /// ignored); an empty name is a 400.
    pub fn triggers(&self) -> Result<TriggerOptions, Reply> {
        let names = |name: &str| -> Result<Vec<String>, Reply> {
            let Some(raw) = self.header(name)? else {
                return Ok(Vec::new());
            };
            raw.split(',')
                .map(|n| match n.trim() {
                    "" => Err(Reply::error(
                        400,
                        format!("header {name} must be trigger names separated by commas, not {raw:?}"),
                    )),
                    n => Ok(n.to_string()),
                })
                .collect()
        };
        Ok(TriggerOptions {
            pre_triggers: names(header::PRE_TRIGGERS)?,
            post_triggers: names(header::POST_TRIGGERS)?,
        })
    }

    /// `If-Match`, as given.
    pub fn if_match(&self) -> Result<Option<String>, Reply> {
        Ok(self.header("if-match")?.map(str::to_string))
    }
}

/// A partition key as the SDKs spell it, a JSON array as text: one value (`[{}]` or `[]`: the
/// item has no value at the path), or one per level of a hierarchical key (`{}` for none);
/// whether the count fits the container is the engine's check (400 naming its levels). `what`
/// names where it came from in the 400.
pub(super) fn partition_key_json(raw: &str, what: &str) -> Result<PartitionKey, Reply> {
    let bad = || {
        Reply::error(
            400,
            format!(
                "{what} must be a JSON array of one string, number, boolean or null (or, for a \
                 hierarchical key, one per level, up to 3), not {raw:?}"
            ),
        )
    };
    let v: Value = serde_json::from_str(raw).map_err(|_| bad())?;
    let Value::Array(parts) = v else {
        return Err(bad());
    };
    match parts.as_slice() {
        [] => Ok(PartitionKey::None),
        _ => PartitionKey::from_json_key(&Value::Array(parts)).map_err(|_| bad()),
    }
}

/// Serves one authenticated request.
pub fn dispatch(account: &Account, req: &Request<'_>) -> Reply {
    let m = req.method;
    let out = match &req.route {
        Route::Account if m == Method::GET => Ok(databases::account(account, req)),
        Route::Databases if m == Method::GET => databases::list(account),
        Route::Databases if m == Method::POST => databases::create(account, req),
        Route::Database { db } if m == Method::GET => databases::read(account, db),
        Route::Database { db } if m == Method::DELETE => databases::delete(account, db),
        Route::Collections { db } if m == Method::GET => collections::list(account, db),
        Route::Collections { db } if m == Method::POST => collections::create(account, db, req),
        Route::Collection { db, coll } if m == Method::GET => collections::read(account, db, coll),
        Route::Collection { db, coll } if m == Method::DELETE => collections::delete(account, db, coll),
        Route::Collection { db, coll } if m == Method::PUT => collections::replace(account, db, coll, req),
        Route::Documents { db, coll } if m == Method::POST => documents::post(account, db, coll, req),
        Route::Documents { db, coll } if m == Method::GET => query::read_feed(account, db, coll, req),
        Route::Document { db, coll, id } if m == Method::GET => documents::read(account, db, coll, id, req),
        Route::Document { db, coll, id } if m == Method::PUT => {
            documents::replace(account, db, coll, id, req)
        }
        Route::Document { db, coll, id } if m == Method::DELETE => {
            documents::delete(account, db, coll, id, req)
        }
        Route::Document { db, coll, id } if m == Method::PATCH => {
            documents::patch(account, db, coll, id, req)
        }
        Route::PartitionKeyRanges { db, coll } if m == Method::GET => {
            query::partition_key_ranges(account, db, coll, req)
        }
        Route::Scripts { db, coll, kind } => {
            let site = scripts::Site {
                db,
                coll,
                kind: *kind,
            };
            match *m {
                Method::GET => scripts::list(account, &site),
                Method::POST => scripts::create(account, &site, req),
                _ => Err(not_allowed(m)),
            }
        }
        Route::Script { db, coll, kind, id } => {
            let site = scripts::Site {
                db,
                coll,
                kind: *kind,
            };
            match *m {
                Method::GET => scripts::read(account, &site, id),
                Method::PUT => scripts::replace(account, &site, id, req),
                Method::DELETE => scripts::delete(account, &site, id),
                Method::POST if *kind == ScriptKind::StoredProcedure => {
                    sproc_exec::execute(account, db, coll, id, req)
                }
                _ => Err(not_allowed(m)),
            }
        }
        Route::Offers if m == Method::GET => offers::list(account),
        Route::Offers if m == Method::POST => offers::query(account, req),
        Route::Offer { id } if m == Method::GET => offers::read(account, id),
        Route::Offer { id } if m == Method::PUT => offers::replace(account, id, req),
        Route::Unsupported => Err(Reply::error(
            404,
            "this resource is not served by strata serve (see docs/gateway.md for what is)",
        )),
        _ => Err(not_allowed(m)),
    };
    out.unwrap_or_else(|e| e)
}

fn not_allowed(m: &Method) -> Reply {
    Reply::error(405, format!("{m} is not supported on this resource"))
}

/// An engine result as a reply.
pub(crate) fn engine<T>(r: strata_engine::Result<T>) -> Result<T, Reply> {
    r.map_err(|e| Reply::from_engine(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn with_pk(raw: &str) -> Result<Option<PartitionKey>, u16> {
        let mut headers = HeaderMap::new();
        headers.insert(header::PARTITION_KEY, HeaderValue::from_str(raw).unwrap());
        Request::for_test(&headers, b"")
            .partition_key()
            .map_err(|r| r.status)
    }

    #[test]
    fn partition_key_header_as_the_sdks_send_it() {
        assert_eq!(with_pk(r#"["a"]"#), Ok(Some(PartitionKey::String("a".into()))));
        assert_eq!(with_pk("[7]"), Ok(Some(PartitionKey::Number(7.0))));
        assert_eq!(with_pk("[null]"), Ok(Some(PartitionKey::Null)));
        assert_eq!(with_pk("[true]"), Ok(Some(PartitionKey::Bool(true))));
        assert_eq!(with_pk("[{}]"), Ok(Some(PartitionKey::None)));
        assert_eq!(with_pk("[]"), Ok(Some(PartitionKey::None)));
        assert_eq!(
            with_pk(r#"["t1", 2, {}]"#),
            Ok(Some(
                PartitionKey::hierarchical([
                    PartitionKey::from("t1"),
                    PartitionKey::from(2i64),
                    PartitionKey::None
                ])
                .unwrap()
            ))
        );
        for bad in [
            "a",
            r#""a""#,
            "[1,2,3,4]",
            r#"[{"x":1}]"#,
            r#"["a",{"x":1}]"#,
            "[[1]]",
            "{}",
            "[1",
        ] {
            assert_eq!(with_pk(bad), Err(400), "{bad}");
        }
    }

    fn triggers_of(pre: &str, post: Option<&str>) -> Result<TriggerOptions, u16> {
        let mut headers = HeaderMap::new();
        headers.insert(header::PRE_TRIGGERS, HeaderValue::from_str(pre).unwrap());
        if let Some(post) = post {
            headers.insert(header::POST_TRIGGERS, HeaderValue::from_str(post).unwrap());
        }
        Request::for_test(&headers, b"").triggers().map_err(|r| r.status)
    }

    #[test]
    fn trigger_headers_are_comma_separated_names() {
        let t = triggers_of("stamp, check", Some("audit")).unwrap();
        assert_eq!(t.pre_triggers, ["stamp", "check"]);
        assert_eq!(t.post_triggers, ["audit"]);
        assert!(triggers_of("stamp", None).unwrap().post_triggers.is_empty());
        assert_eq!(triggers_of("a,,b", None), Err(400));
        assert_eq!(triggers_of("", None), Err(400));
    }

    #[test]
    fn bodies_nested_past_an_items_depth_are_refused_before_parsing() {
        let headers = HeaderMap::new();
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_ITEM_DEPTH + 2),
            "]".repeat(MAX_ITEM_DEPTH + 2)
        );
        let req = Request {
            method: &Method::POST,
            route: Route::Account,
            headers: &headers,
            body: deep.as_bytes(),
            endpoint: String::new(),
        };
        assert_eq!(req.json_body().unwrap_err().status, 400);
        let ok = Request {
            body: br#"{"id": "1", "a": [[1]]}"#,
            ..req
        };
        assert_eq!(ok.json_body().unwrap()["a"][0][0], 1);
    }
}
