//! Collections (containers): list/create `/dbs/{db}/colls`, read/replace/delete
//! `/dbs/{db}/colls/{coll}`, with the partition-key definition, indexing policy and `defaultTtl`.

use serde_json::{json, Value};
use strata_engine::{Account, ContainerOptions, IndexingPolicy, MAX_PARTITION_KEY_LEVELS};

use super::databases::{body_id, offer_throughput, require};
use super::{engine, Request};
use crate::resources::{self, CollectionInfo};
use crate::wire::Reply;

fn describe(account: &Account, db: &str, coll: &str) -> Result<Value, Reply> {
    let c = account.database(db).container(coll);
    let partition_key = engine(c.partition_key_definition())?;
    let indexing_policy = engine(c.indexing_policy())?;
    let default_ttl = engine(c.default_ttl())?;
    Ok(resources::collection(&CollectionInfo {
        db,
        coll,
        partition_key_paths: partition_key.paths(),
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

/// The partition-key paths of a create body: `{"paths": ["/x"], "kind": "Hash"}`, or a
/// hierarchical key, `{"paths": ["/t", "/u"], "kind": "MultiHash", "version": 2}` (two or three
/// paths). The paths themselves are the engine's to check.
fn partition_key_paths(body: &Value) -> Result<Vec<String>, Reply> {
    let def = body.get("partitionKey").ok_or_else(|| {
        Reply::error(
            400,
            "the collection needs a partitionKey definition, e.g. {\"paths\": [\"/tenant\"], \"kind\": \"Hash\"}",
        )
    })?;
    let paths: Vec<String> = def
        .get("paths")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|p| p.as_str().map(str::to_string)).collect())
        .ok_or_else(|| {
            Reply::error(
                400,
                "partitionKey.paths must be an array of paths, e.g. [\"/tenant\"]",
            )
        })?;
    let levels = 2..=MAX_PARTITION_KEY_LEVELS;
    match def.get("kind").and_then(Value::as_str) {
        None | Some("Hash") if paths.len() == 1 => Ok(paths),
        None | Some("Hash") => Err(Reply::error(
            400,
            "a Hash partition key has exactly one path; for two or three use kind MultiHash (version 2)",
        )),
        Some("MultiHash") if def.get("version").is_some_and(|v| v != 2) => {
            Err(Reply::error(400, "a MultiHash partition key is version 2"))
        }
        Some("MultiHash") if levels.contains(&paths.len()) => Ok(paths),
        Some("MultiHash") => Err(Reply::error(
            400,
            format!(
                "a MultiHash partition key has 2 to {MAX_PARTITION_KEY_LEVELS} paths, not {}",
                paths.len()
            ),
        )),
        Some(kind) => Err(Reply::error(
            400,
            format!("partition key kind {kind:?} is not supported: use Hash (one path) or MultiHash"),
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
    let paths = partition_key_paths(&body)?;
    let indexing_policy = indexing_policy(&body)?;
    let default_ttl = default_ttl(&body)?;
    let opts = ContainerOptions {
        throughput: offer_throughput(req)?,
        default_ttl,
        conflict_resolution: None,
        indexing_policy,
        // The REST API has no per-container key (the managed service has none either).
        customer_key: None,
    };
    engine(
        account
            .database(db)
            .create_container_with_paths(&id, &paths, opts),
    )?;
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
    let current = engine(c.partition_key_definition())?;
    if partition_key_paths(&body)? != current.paths() {
        return Err(Reply::error(
            400,
            format!(
                "a collection's partition key cannot change (it is {})",
                current.paths().join(", ")
            ),
        ));
    }
    let ttl = default_ttl(&body)?;
    if let Some(policy) = indexing_policy(&body)? {
        // Compared as the engine stores it (normalised: the `_etag` exclusion added, paths in
        // order), so the SDK's read-modify-replace of other settings rebuilds nothing.
        let policy = engine(policy.normalized())?;
        if policy != engine(c.indexing_policy())? {
            engine(c.set_indexing_policy(policy))?;
        }
    }
    engine(c.set_default_ttl(ttl))?;
    Ok(Reply::json(200, &describe(account, db, coll)?))
}
