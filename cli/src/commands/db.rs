//! `strata db create|list|delete`: databases of the account in --data, with the throughput their
//! containers share. Engine calls and reports only.

use serde_json::Value;
use strata_engine::DatabaseOptions;

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

pub fn create(g: &Globals, name: &str, throughput: Option<u32>) -> CliResult<Report> {
    let db = account::open(g)?.create_database_with(name, DatabaseOptions { throughput })?;
    Ok(Report::new(201)
        .field("database", db.name())
        .opt_field("throughput", throughput))
}

pub fn list(g: &Globals) -> CliResult<Report> {
    let names = account::open(g)?.list_databases()?;
    let rows = names.into_iter().map(|n| vec![Value::from(n)]).collect();
    Ok(Report::new(200).list("databases", vec!["database"], rows))
}

/// `strata db delete DB`: 204, or 404.
pub fn delete(g: &Globals, name: &str) -> CliResult<Report> {
    account::open(g)?.delete_database(name)?;
    Ok(Report::new(204).field("database", name))
}
