//! Collections (containers): list/create `/dbs/{db}/colls`, read/replace/delete
//! `/dbs/{db}/colls/{coll}`, with the partition-key definition, indexing policy and `defaultTtl`.

use serde_json::{json, Value};
use strata_engine::{Account, ContainerOptions, IndexingPolicy};

use super::databases::{body_id, offer_throughput, require};
use super::{engine, Request};
use crate::resources::{self, CollectionInfo};
use crate::wire::Reply;

fn describe(account: &Account, db: &str, coll: &str) -> Result<Value, Reply> {
    let c = account.database(db).container(coll);
    let partition_key_path = engine(c.partition_key_path())?;
    let indexing_policy = engine(c.indexing_policy())?;
    let default_ttl = engine(c.default_ttl())?;
    Ok(resources::collection(&CollectionInfo {
        db,
        coll,
        partition_key_path: &partition_key_path,
        indexing_policy: &indexing_policy,
        default_ttl,
    }))
}

pub fn list(account: &Account, db: &str) -> Result<Reply, Reply> {
    require(account, db)?;
    let infos = engine(account.database(db).list_containers())?;
    let colls = infos
        .iter()
        .map(|i| describe(account, db, &i.name))
        .collect::<Result<Vec<_>, _>>()?;
    let count = colls.len();
    Ok(Reply::json(
        200,
        &json!({"_rid": resources::database_rid(db), "DocumentCollections": colls, "_count": count}),
    )
    .with_header("x-ms-item-count", count.to_string()))
}

pub fn read(account: &Account, db: &str, coll: &str) -> Result<Reply, Reply> {
    Ok(Reply::json(200, &describe(account, db, coll)?))
}

/// The partition-key path of a create body: `{"paths": ["/x"], "kind": "Hash"}`.
fn partition_key_path(body: &Value) -> Result<String, Reply> {
    let def = body.get("partitionKey").ok_or_else(|| {
        Reply::error(
            400,
            "the collection needs a partitionKey definition, e.g. {\"paths\": [\"/tenant\"], \"kind\": \"Hash\"}",
        )
    })?;
    match def.get("kind").and_then(Value::as_str) {
        None | Some("Hash") => {}
        Some(kind) => {
            return Err(Reply::error(
                400,
                format!("partition key kind {kind:?} is not supported: use Hash with one path"),
            ))
        }
    }
    match def.get("paths").and_then(Value::as_array).map(Vec::as_slice) {
        Some([Value::String(p)]) => Ok(p.clone()),
        _ => Err(Reply::error(
            400,
            "partitionKey.paths must hold exactly one path (hierarchical keys are not supported)",
        )),
    }
}

/// The `indexingPolicy` of a collection body, if any.
fn indexing_policy(body: &Value) -> Result<Option<IndexingPolicy>, Reply> {
    match body.get("indexingPolicy") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value::<IndexingPolicy>(v.clone())
            .map(Some)
            .map_err(|e| Reply::error(400, format!("the indexing policy is not valid: {e}"))),
    }
}

/// The `defaultTtl` of a collection body (absent or null: TTL off); 400 unless -1 or positive.
fn default_ttl(body: &Value) -> Result<Option<i64>, Reply> {
    match body.get("defaultTtl") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(t) if t == -1 || t > 0 => Ok(Some(t)),
            _ => Err(Reply::error(
                400,
                "defaultTtl must be -1 or a positive whole number of seconds",
            )),
        },
    }
}

pub fn create(account: &Account, db: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let (body, id) = body_id(req, "collection")?;
    let path = partition_key_path(&body)?;
    let indexing_policy = indexing_policy(&body)?;
    let default_ttl = default_ttl(&body)?;
    let opts = ContainerOptions {
        throughput: offer_throughput(req)?,
        default_ttl,
        conflict_resolution: None,
        indexing_policy,
    };
    engine(account.database(db).create_container_with(&id, &path, opts))?;
    Ok(Reply::json(201, &describe(account, db, &id)?))
}

pub fn delete(account: &Account, db: &str, coll: &str) -> Result<Reply, Reply> {
    engine(account.database(db).delete_container(coll))?;
    Ok(Reply::empty(204))
}

/// PUT of a collection: its indexing policy and `defaultTtl` change; its id and partition key
/// cannot. Everything is checked before anything changes.
pub fn replace(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let (body, id) = body_id(req, "collection")?;
    if id != coll {
        return Err(Reply::error(
            400,
            format!("the body's id {id:?} is not the collection in the URL ({coll:?})"),
        ));
    }
    let c = account.database(db).container(coll);
    let current_path = engine(c.partition_key_path())?;
    if partition_key_path(&body)? != current_path {
        return Err(Reply::error(
            400,
            format!("a collection's partition key cannot change (it is {current_path})"),
        ));
    }
    let ttl = default_ttl(&body)?;
    if let Some(policy) = indexing_policy(&body)? {
        if policy != engine(c.indexing_policy())? {
            engine(c.set_indexing_policy(policy))?;
        }
    }
    engine(c.set_default_ttl(ttl))?;
    Ok(Reply::json(200, &describe(account, db, coll)?))
}
