//! `strata container set-index-policy DB CONT FILE` and `strata container index-status DB CONT`:
//! read a policy file, hand it to the engine, and show the background rebuild's progress (a bar
//! on a terminal) until the index is ready. Engine calls and reports only.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use strata_engine::{Container, IndexStatus, IndexingPolicy};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// How often the rebuild's progress is polled.
const POLL: Duration = Duration::from_millis(100);

/// Reads and validates a policy file (400 naming the file for a bad one).
pub fn read_policy(path: &Path) -> CliResult<IndexingPolicy> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::bad_input(format!("cannot read the indexing policy {}: {e}", path.display()))
    })?;
    IndexingPolicy::from_json(&text).map_err(|e| {
        CliError::bad_input(format!(
            "{}: {}",
            path.display(),
            e.to_string().trim_start_matches("400 ")
        ))
    })
}

/// Sets the policy, then (unless `no_wait`) waits for the rebuild with a progress bar. The
/// rebuild runs in this process's engine; when it stops early (`--no-wait`, or the command
/// is killed), the next command that opens the account carries it on.
pub fn set(g: &Globals, db: &str, name: &str, file: &Path, no_wait: bool) -> CliResult<Report> {
    let policy = read_policy(file)?;
    let account = account::open(g)?;
    let c = account.database(db).container(name);
    let mut status = c.set_indexing_policy(policy)?;
    if !no_wait {
        status = wait_ready(&c)?;
    }
    report(db, name, &c, &status)
}

/// `strata container index-status DB CONT`.
pub fn status(g: &Globals, db: &str, name: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let c = account.database(db).container(name);
    let status = c.index_status()?;
    report(db, name, &c, &status)
}

fn wait_ready(c: &Container) -> CliResult<IndexStatus> {
    let total = c.stats()?.item_count;
    let bar = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("rebuilding the index {wide_bar} {pos}/{len} items") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    loop {
        let s = c.index_status()?;
        if s.ready {
            bar.finish_and_clear();
            return Ok(s);
        }
        bar.set_position(s.items_indexed.min(total));
        std::thread::sleep(POLL);
    }
}

fn report(db: &str, name: &str, c: &Container, s: &IndexStatus) -> CliResult<Report> {
    let policy = serde_json::to_value(c.indexing_policy()?).unwrap_or(Value::Null);
    Ok(Report::new(200)
        .field("database", db)
        .field("container", name)
        .field("indexingPolicy", policy)
        .field("generation", s.generation)
        .field("ready", s.ready)
        .field("itemsIndexed", s.items_indexed))
}
