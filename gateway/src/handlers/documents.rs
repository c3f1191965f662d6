//! Documents (items): create and upsert (`x-ms-documentdb-is-upsert`) by POST to the feed,
//! read (with `If-None-Match`), replace, patch and delete (with `If-Match`), each addressed by
//! `x-ms-documentdb-partitionkey`. A POST that is a query goes to `query`, a batch to `batch`. A patch is the
//! engine's (`Container::patch_item`: atomic, with If-Match and the `condition` predicate).
//! Writes and deletes that name triggers (`x-ms-documentdb-pre-trigger-include`,
//! `…-post-trigger-include`) go through the engine's triggered calls, in one transaction.

use serde_json::Value;
use strata_engine::{
    Account, Container, ItemOptions, ItemResponse, PartitionKey, PatchOptions, TriggerOperation,
};

use super::patch_body::patch_body;
use super::{batch, engine, header, query, Request};
use crate::wire::Reply;

/// The reply to a successful item operation: its status, etag and charge, and the item unless
/// the client asked for `Prefer: return=minimal`.
fn item_reply(req: &Request<'_>, r: ItemResponse<Value>) -> Result<Reply, Reply> {
    let minimal = req
        .header(header::PREFER)?
        .is_some_and(|p| p.eq_ignore_ascii_case("return=minimal"));
    let mut reply = match (&r.item, minimal) {
        (Some(item), false) => Reply::json(r.status_code, item),
        _ => Reply::empty(r.status_code),
    }
    .with_charge(r.request_charge);
    if let Some(etag) = r.etag {
        reply = reply.with_header("etag", etag);
    }
    Ok(reply)
}

/// The partition key of an item about to be written: the header's, else the item's under the
/// container's definition (the engine checks that the two agree).
fn write_partition_key(req: &Request<'_>, c: &Container, item: &Value) -> Result<PartitionKey, Reply> {
    if let Some(pk) = req.partition_key()? {
        return Ok(pk);
    }
    engine(c.partition_key_of(item))
}

/// 400 when a request the engine runs no triggers on names some (rather than ignoring them).
fn refuse_triggers(req: &Request<'_>, what: &str) -> Result<(), Reply> {
    if req.triggers()?.is_empty() {
        return Ok(());
    }
    Err(Reply::error(
        400,
        format!("triggers cannot run on {what}: they run on an item's create, replace, upsert and delete"),
    ))
}

fn options(req: &Request<'_>) -> Result<ItemOptions, Reply> {
    Ok(ItemOptions {
        if_match: req.if_match()?,
        durability: None,
    })
}

/// POST to `/dbs/{db}/colls/{coll}/docs`: a query, a create or an upsert.
pub fn post(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    // A plan request is a query whatever its content type: its body must never become an item.
    if req.is_query()? || req.flag(header::QUERY_PLAN)? {
        return query::query(account, db, coll, req);
    }
    if req.flag(header::IS_BATCH)? {
        refuse_triggers(req, "a transactional batch")?;
        return batch::execute(account, db, coll, req);
    }
    let item = req.json_body()?;
    if !item.is_object() {
        return Err(Reply::error(
            400,
            "the item must be a JSON object with a string \"id\"",
        ));
    }
    let c = account.database(db).container(coll);
    let pk = write_partition_key(req, &c, &item)?;
    let op = if req.flag(header::IS_UPSERT)? {
        TriggerOperation::Upsert
    } else {
        TriggerOperation::Create
    };
    item_reply(req, write(&c, op, pk, &item, req)?)
}

/// Creates, upserts or replaces `item` (`op` says which), with the triggers the request names.
fn write(
    c: &Container,
    op: TriggerOperation,
    pk: PartitionKey,
    item: &Value,
    req: &Request<'_>,
) -> Result<ItemResponse<Value>, Reply> {
    let opts = options(req)?;
    let triggers = req.triggers()?;
    engine(match op {
        _ if !triggers.is_empty() => c.write_item_with_triggers(op, pk, item, &opts, &triggers),
        TriggerOperation::Upsert => c.upsert_item_with(pk, item, &opts),
        TriggerOperation::Replace => c.replace_item_with(pk, item, &opts),
        _ => c.create_item_with(pk, item, &opts),
    })
}

pub fn read(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = req.required_partition_key()?;
    let c = account.database(db).container(coll);
    let r: ItemResponse<Value> = engine(c.read_item(pk, id))?;
    if let (Some(want), Some(have)) = (req.header("if-none-match")?, r.etag.as_deref()) {
        if want == have || want == "*" {
            return Ok(Reply::empty(304)
                .with_charge(r.request_charge)
                .with_header("etag", have));
        }
    }
    item_reply(req, r)
}

pub fn replace(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let item = req.json_body()?;
    match item.get("id").and_then(Value::as_str) {
        Some(body_id) if body_id == id => {}
        Some(body_id) => {
            return Err(Reply::error(
                400,
                format!("the item's id {body_id:?} is not the id in the URL ({id:?}); an id cannot change"),
            ))
        }
        None => {
            return Err(Reply::error(
                400,
                "the item must be a JSON object with a string \"id\"",
            ))
        }
    }
    let c = account.database(db).container(coll);
    let pk = write_partition_key(req, &c, &item)?;
    let r = write(&c, TriggerOperation::Replace, pk, &item, req)?;
    item_reply(req, r)
}

pub fn delete(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = req.required_partition_key()?;
    let c = account.database(db).container(coll);
    let triggers = req.triggers()?;
    let r = if triggers.is_empty() {
        engine(c.delete_item_with(pk, id, &options(req)?))?
    } else {
        engine(c.delete_item_with_triggers(pk, id, &options(req)?, &triggers))?
    };
    Ok(Reply::empty(204).with_charge(r.request_charge))
}

pub fn patch(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = req.required_partition_key()?;
    refuse_triggers(req, "a patch")?;
    let body = req.json_body()?;
    let (ops, condition) = patch_body(&body).map_err(|e| Reply::from_engine(&e))?;
    let opts = PatchOptions {
        if_match: req.if_match()?,
        filter_predicate: condition,
        durability: None,
    };
    let r = account
        .database(db)
        .container(coll)
        .patch_item(pk, id, &ops, &opts)
        .map_err(|e| Reply::from_engine(&e))?;
    item_reply(req, r)
}
