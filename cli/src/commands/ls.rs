//! `strata ls`: the account's databases and containers with partition-key paths, item counts and
//! sizes, throughput, encryption mode, analytical tier, TTL and conflict policy. Names, paths and
//! settings come from the catalog (readable with the service key alone); counts and sizes need
//! the data keys, so while the customer key is revoked (or another process holds the data
//! directory) they are null with a note instead of an error. Engine calls and reports only.

use serde_json::Value;
use strata_engine::{Account, ConflictResolutionPolicy};

use crate::args::Globals;
use crate::commands::{account, container};
use crate::error::{CliError, CliResult, EXIT_UNAVAILABLE};
use crate::output::Report;

const COLUMNS: [&str; 13] = [
    "database",
    "container",
    "partitionKeyPath",
    "itemCount",
    "bytes",
    "throughput",
    "encryption",
    "keyUri",
    "customerKey",
    "analytical",
    "defaultTtl",
    "conflictPolicy",
    "note",
];

/// One row per container; a database without containers gets one row with no container.
pub fn run(g: &Globals) -> CliResult<Report> {
    let opts = g.account_options();
    let listing = Account::catalog_at(&opts).map_err(|e| account::with_init_hint(g, e.into()))?;
    // Counts and sizes need the account open (its data keys); when the store is unavailable the
    // catalog is still shown, with the reason in place of the numbers.
    let (opened, mut unavailable) = match account::open(g) {
        Ok(a) => (Some(a), None),
        Err(e) if e.exit_code() == EXIT_UNAVAILABLE => (None, Some(reason(&e))),
        Err(e) => return Err(e),
    };
    let (mode, key_uri) = account::describe(&listing.encryption);
    let mut rows = Vec::new();
    for db in &listing.databases {
        if db.containers.is_empty() {
            let mut row = vec![Value::Null; COLUMNS.len()];
            row[0] = Value::from(db.name.clone());
            row[5] = Value::from(db.throughput);
            row[6] = Value::from(mode);
            row[7] = Value::from(key_uri.clone());
            rows.push(row);
        }
        let handle = opened.as_ref().map(|a| a.database(&db.name));
        for c in &db.containers {
            let (stats, note) = match &handle {
                None => (None, unavailable.clone()),
                Some(d) => match d.container(&c.name).stats().map_err(CliError::from) {
                    Ok(s) => (Some(s), None),
                    // A container whose own key is refused: its row alone says so.
                    Err(e) if e.exit_code() == EXIT_UNAVAILABLE && c.customer_key.is_some() => {
                        (None, Some(reason(&e)))
                    }
                    // The key was revoked since the open: the remaining rows say so too.
                    Err(e) if e.exit_code() == EXIT_UNAVAILABLE => {
                        let why = reason(&e);
                        unavailable.get_or_insert_with(|| why.clone());
                        (None, Some(why))
                    }
                    Err(e) => return Err(e),
                },
            };
            rows.push(vec![
                Value::from(db.name.clone()),
                Value::from(c.name.clone()),
                container::pk_paths_value(&c.partition_key_paths),
                Value::from(stats.map(|s| s.item_count)),
                Value::from(stats.map(|s| s.bytes)),
                Value::from(c.throughput.or(db.throughput)),
                // A container with its own key is sealed under it, whatever the account's mode.
                Value::from(if c.customer_key.is_some() {
                    "customer-managed"
                } else {
                    mode
                }),
                Value::from(c.customer_key.clone().or_else(|| key_uri.clone())),
                container::key_of(c.customer_key.as_deref()),
                Value::from(if c.analytical.is_some() { "on" } else { "off" }),
                c.default_ttl.map_or(Value::from("off"), Value::from),
                Value::from(policy(&c.conflict_resolution_policy)),
                Value::from(note),
            ]);
        }
    }
    Ok(Report::new(200)
        .field("account", listing.account)
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .opt_field("note", unavailable)
        .list("containers", COLUMNS.to_vec(), rows))
}

/// Why counts and sizes are unavailable, short enough for a table cell.
fn reason(e: &CliError) -> String {
    match e.status {
        403 => format!(
            "customer key revoked ({}.{}): counts unavailable",
            e.status, e.substatus
        ),
        423 => "data directory in use by another process (423): counts unavailable".to_string(),
        s => format!("store unavailable ({s}): counts unavailable"),
    }
}

/// The policy as `--conflict-policy` takes it: `lww:/_ts`, `lww:/path` or `custom`.
fn policy(p: &ConflictResolutionPolicy) -> String {
    match p {
        ConflictResolutionPolicy::LastWriterWins { path } => format!("lww:{path}"),
        ConflictResolutionPolicy::Custom => "custom".to_string(),
    }
}
