//! `strata sync --from DIR --to DIR [--both-ways]` and `strata conflicts DB CONT [--delete ID]`:
//! open the two accounts (one home), call the engine's sync, and report what each direction did;
//! list or delete conflict-feed records. No storage logic.

use std::path::Path;

use serde_json::Value;
use strata_engine::{Account, SyncReport};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

fn open_at(g: &Globals, dir: &Path, flag: &str) -> CliResult<Account> {
    let mut opts = g.account_options();
    opts.data_dir = dir.to_path_buf();
    Account::open(opts).map_err(|e| {
        CliError::from(e).with_hint(format!(
            "{flag} must be the data directory of an existing account"
        ))
    })
}

fn report_json(r: &SyncReport) -> Value {
    serde_json::to_value(r).unwrap_or_default()
}

/// Syncs --to from --from (then back with --both-ways).
pub fn run(g: &Globals, from: &Path, to: &Path, both_ways: bool) -> CliResult<Report> {
    let source = open_at(g, from, "--from")?;
    let dest = open_at(g, to, "--to")?;
    let forward = dest.sync_from(&source)?;
    let mut report = Report::new(200)
        .field("from", from.display().to_string())
        .field("to", to.display().to_string())
        .field("forward", report_json(&forward));
    if both_ways {
        let back = source.sync_from(&dest)?;
        report = report.field("back", report_json(&back));
    }
    Ok(report)
}

/// Lists the conflict feed, or deletes one conflict.
pub fn conflicts(g: &Globals, db: &str, container: &str, delete: Option<&str>) -> CliResult<Report> {
    let account = account::open(g)?;
    let c = account.database(db).container(container);
    if let Some(id) = delete {
        c.delete_conflict(id)?;
        return Ok(Report::new(204).field("deleted", id));
    }
    let r = c.read_conflicts()?;
    Ok(Report::new(200)
        .field("requestCharge", r.request_charge)
        .field("conflicts", Value::Array(r.conflicts.clone()))
        .records("conflicts", r.conflicts))
}
