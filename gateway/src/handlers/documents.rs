//! Documents (items): create and upsert (`x-ms-documentdb-is-upsert`) by POST to the feed,
//! read (with `If-None-Match`), replace, patch and delete (with `If-Match`), each addressed by
//! `x-ms-documentdb-partitionkey`. A POST that is a query goes to `query`. A patch is a read, the
//! operations applied in memory (`patch`), and a replace conditioned on the etag read, retried
//! when another write came between (unless the client gave its own If-Match): atomic, as the
//! service's.

use serde_json::Value;
use strata_engine::{Account, Container, ItemOptions, ItemResponse, PartitionKey};

use super::{engine, header, query, Request};
use crate::patch::{Patch, SYSTEM_PROPERTIES};
use crate::wire::Reply;

/// How often a patch is retried when other writes keep changing the item in between.
const PATCH_ATTEMPTS: usize = 5;

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

/// The partition key of a request on one item: 400 when the header is missing.
fn required_partition_key(req: &Request<'_>) -> Result<PartitionKey, Reply> {
    req.partition_key()?.ok_or_else(|| {
        Reply::error(
            400,
            format!(
                "this operation needs the item's partition key in header {}, e.g. [\"tenant-1\"]",
                header::PARTITION_KEY
            ),
        )
    })
}

/// The partition key of an item about to be written: the header's, else the value at the
/// container's partition-key path (the engine checks that the two agree).
fn write_partition_key(req: &Request<'_>, c: &Container, item: &Value) -> Result<PartitionKey, Reply> {
    if let Some(pk) = req.partition_key()? {
        return Ok(pk);
    }
    let path = engine(c.partition_key_path())?;
    let mut at = item;
    for seg in path.trim_start_matches('/').split('/') {
        match at.get(seg) {
            Some(next) => at = next,
            None => return Ok(PartitionKey::None),
        }
    }
    engine(PartitionKey::from_json(at))
}

fn options(req: &Request<'_>) -> Result<ItemOptions, Reply> {
    Ok(ItemOptions {
        if_match: req.if_match()?,
        durability: None,
    })
}

/// POST to `/dbs/{db}/colls/{coll}/docs`: a query, a create or an upsert.
pub fn post(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let is_query_content = req
        .header("content-type")?
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/query+json"));
    if req.flag(header::IS_QUERY)? || is_query_content {
        return query::query(account, db, coll, req);
    }
    if req.flag(header::IS_BATCH)? {
        return Err(Reply::error(
            400,
            "transactional batch is not served by strata serve yet: send the operations one by one",
        ));
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
    let opts = options(req)?;
    let r = if req.flag(header::IS_UPSERT)? {
        engine(c.upsert_item_with(pk, &item, &opts))?
    } else {
        engine(c.create_item_with(pk, &item, &opts))?
    };
    item_reply(req, r)
}

pub fn read(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = required_partition_key(req)?;
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
    let r = engine(c.replace_item_with(pk, &item, &options(req)?))?;
    item_reply(req, r)
}

pub fn delete(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = required_partition_key(req)?;
    let c = account.database(db).container(coll);
    let r = engine(c.delete_item_with(pk, id, &options(req)?))?;
    Ok(Reply::empty(204).with_charge(r.request_charge))
}

pub fn patch(account: &Account, db: &str, coll: &str, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let pk = required_partition_key(req)?;
    let patch = Patch::parse(&req.json_body()?).map_err(|m| Reply::error(400, m))?;
    let c = account.database(db).container(coll);
    let pk_path = engine(c.partition_key_path())?;
    let protected = vec![
        vec!["id".to_string()],
        pk_path
            .trim_start_matches('/')
            .split('/')
            .map(str::to_string)
            .collect(),
    ];
    let client_if_match = req.if_match()?;
    let mut charge = 0.0;
    let charged = |e: &strata_engine::Error, so_far: f64| {
        let mut r = Reply::from_engine(e);
        r.charge += so_far;
        r
    };
    for _ in 0..PATCH_ATTEMPTS {
        let current: ItemResponse<Value> = c.read_item(pk.clone(), id).map_err(|e| charged(&e, charge))?;
        charge += current.request_charge;
        if client_if_match.is_some() && client_if_match != current.etag {
            return Err(Reply::error(
                412,
                "the item's etag is not the one given in If-Match: it changed since you read it",
            )
            .with_charge(charge));
        }
        let mut item = current.item.unwrap_or(Value::Null);
        if let Some(obj) = item.as_object_mut() {
            for p in SYSTEM_PROPERTIES {
                obj.remove(p);
            }
        }
        let patched = patch
            .apply(&item, &protected)
            .map_err(|m| Reply::error(400, m).with_charge(charge))?;
        let opts = ItemOptions {
            if_match: current.etag,
            durability: None,
        };
        match c.replace_item_with(pk.clone(), &patched, &opts) {
            Ok(mut r) => {
                r.request_charge += charge;
                return item_reply(req, r);
            }
            Err(e) if e.status() == 412 && client_if_match.is_none() => {
                charge += e.request_charge().unwrap_or(0.0);
            }
            Err(e) => return Err(charged(&e, charge)),
        }
    }
    Err(Reply::error(
        412,
        format!("the item changed under {PATCH_ATTEMPTS} patch attempts in a row; retry the patch"),
    )
    .with_charge(charge))
}
