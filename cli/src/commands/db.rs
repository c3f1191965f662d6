//! `strata db create|list`: databases of the account in --data. Engine calls and reports only.

use serde_json::Value;

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

pub fn create(g: &Globals, name: &str) -> CliResult<Report> {
    let db = account::open(g)?.create_database(name)?;
    Ok(Report::new(201).field("database", db.name()))
}

pub fn list(g: &Globals) -> CliResult<Report> {
    let names = account::open(g)?.list_databases()?;
    let rows = names.into_iter().map(|n| vec![Value::from(n)]).collect();
    Ok(Report::new(200).list("databases", vec!["database"], rows))
}
