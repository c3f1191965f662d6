//! `strata container create|list`: containers of a database with their partition-key paths and
//! provisioned throughput.
//! Engine calls and reports only.

use serde_json::Value;
use strata_engine::ContainerOptions;

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

pub fn create(
    g: &Globals,
    db: &str,
    name: &str,
    pk_path: &str,
    throughput: Option<u32>,
) -> CliResult<Report> {
    let account = account::open(g)?;
    account
        .database(db)
        .create_container_with(name, pk_path, ContainerOptions { throughput })?;
    Ok(Report::new(201)
        .field("database", db)
        .field("container", name)
        .field("partitionKeyPath", pk_path)
        .opt_field("throughput", throughput))
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
