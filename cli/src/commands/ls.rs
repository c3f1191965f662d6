//! `strata ls`: the account's databases and containers with partition-key paths, throughput and
//! the account's encryption mode, from the catalog (no item scan, so no counts or sizes).
//! Engine calls and reports only.

use serde_json::Value;

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

/// One row per container; a database without containers gets one row with no container.
pub fn run(g: &Globals) -> CliResult<Report> {
    let account = account::open(g)?;
    let (mode, key_uri) = account::describe(&account.encryption());
    let mut rows = Vec::new();
    for db_name in account.list_databases()? {
        let db = account.database(&db_name);
        let shared = db.throughput()?;
        let containers = db.list_containers()?;
        if containers.is_empty() {
            rows.push(vec![
                Value::from(db_name.clone()),
                Value::Null,
                Value::Null,
                Value::from(shared),
                Value::from(mode),
            ]);
        }
        for c in containers {
            let own = db.container(&c.name).throughput()?;
            rows.push(vec![
                Value::from(db_name.clone()),
                Value::from(c.name),
                Value::from(c.partition_key_path),
                Value::from(own.or(shared)),
                Value::from(mode),
            ]);
        }
    }
    Ok(Report::new(200)
        .field("account", account.name())
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .list(
            "containers",
            vec![
                "database",
                "container",
                "partitionKeyPath",
                "throughput",
                "encryption",
            ],
            rows,
        ))
}
