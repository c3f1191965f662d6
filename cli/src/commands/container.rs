//! `strata container create|list`, and the lookup of a container's partition-key path that the
//! item commands need. Engine calls and reports only.

use serde_json::Value;
use strata_engine::Database;

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

pub fn create(g: &Globals, db: &str, name: &str, pk_path: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    account.database(db).create_container(name, pk_path)?;
    Ok(Report::new(201)
        .field("database", db)
        .field("container", name)
        .field("partitionKeyPath", pk_path))
}

pub fn list(g: &Globals, db: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let rows = account
        .database(db)
        .list_containers()?
        .into_iter()
        .map(|c| vec![Value::from(c.name), Value::from(c.partition_key_path)])
        .collect();
    Ok(Report::new(200).list("containers", vec!["name", "partitionKeyPath"], rows))
}

/// The partition-key path of container `name` in `db` (404 with a hint if it does not exist).
pub fn partition_key_path(db: &Database, name: &str) -> CliResult<String> {
    db.list_containers()?
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.partition_key_path)
        .ok_or_else(|| {
            CliError::new(
                404,
                0,
                format!(
                    "container {name:?} does not exist in database {:?}; create it with \
                     `strata container create {} {name} --pk /path`",
                    db.name(),
                    db.name()
                ),
            )
        })
}
