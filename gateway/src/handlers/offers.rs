//! Offers: the provisioned throughput of databases and collections as the SDKs read and replace
//! it (`GET /offers`, a query POSTed to `/offers`, `GET` and `PUT /offers/{id}`). As in the
//! service, an offer exists for each database and collection with RU/s of its own; a collection
//! that shares its database's throughput, or is unlimited, has none, and offers are made with
//! their owner (`x-ms-offer-throughput` at creation), never through this feed. Reads and sets
//! throughput through the engine only; owns the offer's wire checks, not the throughput rules.

use serde_json::{json, Value};
use strata_engine::{query_values, Account};

use super::query_body::query_spec;
use super::{engine, Request};
use crate::resources;
use crate::wire::Reply;

/// An offer and whose throughput it is.
struct Offer {
    body: Value,
    db: String,
    coll: Option<String>,
}

/// Every offer of the account: databases first, each followed by its collections.
fn all(account: &Account) -> Result<Vec<Offer>, Reply> {
    let mut out = Vec::new();
    for db in engine(account.list_databases())? {
        let database = account.database(&db);
        if let Some(t) = engine(database.throughput())? {
            out.push(Offer {
                body: resources::offer(&db, None, t),
                db: db.clone(),
                coll: None,
            });
        }
        for info in engine(database.list_containers())? {
            if let Some(t) = engine(database.container(&info.name).throughput())? {
                out.push(Offer {
                    body: resources::offer(&db, Some(&info.name), t),
                    db: db.clone(),
                    coll: Some(info.name.clone()),
                });
            }
        }
    }
    Ok(out)
}

fn feed(offers: Vec<Value>) -> Reply {
    let count = offers.len();
    Reply::json(200, &json!({"_rid": "", "Offers": offers, "_count": count}))
        .with_header("x-ms-item-count", count.to_string())
}

/// `GET /offers`: every offer, in one page.
pub fn list(account: &Account) -> Result<Reply, Reply> {
    Ok(feed(all(account)?.into_iter().map(|o| o.body).collect()))
}

/// A query POSTed to `/offers` (the SDKs ask `SELECT * FROM root r WHERE r.resource = @link`):
/// run by the engine's query language over the offers, in one page.
pub fn query(account: &Account, req: &Request<'_>) -> Result<Reply, Reply> {
    if !req.is_query()? {
        return Err(Reply::error(
            400,
            "an offer is made with its database or collection (x-ms-offer-throughput), not posted \
             to /offers; POST a query to find one",
        ));
    }
    let (sql, params) = query_spec(req)?;
    let offers = all(account)?.into_iter().map(|o| o.body);
    Ok(feed(engine(query_values(&sql, &params, offers))?))
}

fn find(account: &Account, id: &str) -> Result<Offer, Reply> {
    all(account)?
        .into_iter()
        .find(|o| o.body["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id)))
        .ok_or_else(|| Reply::error(404, format!("offer '{id}' does not exist")))
}

/// `GET /offers/{id}`.
pub fn read(account: &Account, id: &str) -> Result<Reply, Reply> {
    Ok(Reply::json(200, &find(account, id)?.body))
}

/// `PUT /offers/{id}`: a new `content.offerThroughput` for the offer's owner. The body must be
/// this offer (its `offerResourceId`, if given, the owner's); `If-Match` with another etag is a
/// 412; autoscale settings are refused (400: only manual throughput is served).
pub fn replace(account: &Account, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let offer = find(account, id)?;
    let body = req.json_body()?;
    if let Some(etag) = req.if_match()? {
        if offer.body["_etag"].as_str() != Some(etag.as_str()) {
            return Err(Reply::error(
                412,
                "the offer changed since it was read (If-Match)",
            ));
        }
    }
    if let Some(owner) = body.get("offerResourceId") {
        if owner != &offer.body["offerResourceId"] {
            return Err(Reply::error(
                400,
                "the body's offerResourceId is not this offer's resource",
            ));
        }
    }
    let content = body.get("content").and_then(Value::as_object);
    if content
        .and_then(|c| c.get("offerAutopilotSettings"))
        .is_some_and(|a| !a.is_null())
    {
        return Err(Reply::error(
            400,
            "autoscale throughput (offerAutopilotSettings) is not supported: give content.offerThroughput",
        ));
    }
    let throughput = content
        .and_then(|c| c.get("offerThroughput"))
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| {
            Reply::error(
                400,
                "the offer needs content.offerThroughput, a whole number of RU/s",
            )
        })?;
    let database = account.database(&offer.db);
    match &offer.coll {
        Some(coll) => engine(database.container(coll).set_throughput(Some(throughput)))?,
        None => engine(database.set_throughput(Some(throughput)))?,
    }
    Ok(Reply::json(
        200,
        &resources::offer(&offer.db, offer.coll.as_deref(), throughput),
    ))
}
