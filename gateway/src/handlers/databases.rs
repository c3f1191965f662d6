//! The account resource and databases: GET `/`, list/create `/dbs`, read/delete `/dbs/{db}`.

use serde_json::{json, Value};
use strata_engine::{Account, DatabaseOptions};

use super::{engine, header, Request};
use crate::resources;
use crate::wire::Reply;

pub fn account(account: &Account, req: &Request<'_>) -> Reply {
    Reply::json(200, &resources::account(&account.name(), &req.endpoint))
}

pub fn list(account: &Account) -> Result<Reply, Reply> {
    let names = engine(account.list_databases())?;
    let dbs: Vec<Value> = names.iter().map(|n| resources::database(n)).collect();
    let count = dbs.len();
    Ok(
        Reply::json(200, &json!({"_rid": "", "Databases": dbs, "_count": count}))
            .with_header("x-ms-item-count", count.to_string()),
    )
}

/// The `id` of a create body: a JSON object with a string `id`.
pub(super) fn body_id(req: &Request<'_>, what: &str) -> Result<(Value, String), Reply> {
    let body = req.json_body()?;
    let id = body
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::error(400, format!("the {what} needs a string \"id\"")))?
        .to_string();
    Ok((body, id))
}

/// `x-ms-offer-throughput`: provisioned RU/s, if given.
pub(super) fn offer_throughput(req: &Request<'_>) -> Result<Option<u32>, Reply> {
    match req.header(header::OFFER_THROUGHPUT)? {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Reply::error(
                400,
                format!(
                    "header {} must be a whole number of RU/s, not {v:?}",
                    header::OFFER_THROUGHPUT
                ),
            )
        }),
    }
}

pub fn create(account: &Account, req: &Request<'_>) -> Result<Reply, Reply> {
    let (_, id) = body_id(req, "database")?;
    let throughput = offer_throughput(req)?;
    engine(account.create_database_with(&id, DatabaseOptions { throughput }))?;
    Ok(Reply::json(201, &resources::database(&id)))
}

/// 404 unless the database exists.
pub(super) fn require(account: &Account, db: &str) -> Result<(), Reply> {
    if engine(account.list_databases())?.iter().any(|n| n == db) {
        Ok(())
    } else {
        Err(Reply::error(404, format!("database '{db}' does not exist")))
    }
}

pub fn read(account: &Account, db: &str) -> Result<Reply, Reply> {
    require(account, db)?;
    Ok(Reply::json(200, &resources::database(db)))
}

pub fn delete(account: &Account, db: &str) -> Result<Reply, Reply> {
    engine(account.delete_database(db))?;
    Ok(Reply::empty(204))
}
