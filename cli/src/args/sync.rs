//! `strata sync --from --to [--both-ways]` and `strata conflicts DB CONT [--delete ID]`: applying
//! one account's changes to another and the conflict feed that leaves. Arguments only;
//! `commands::sync` does both.

use std::path::PathBuf;

use clap::Args;

use super::shared::Globals;
use crate::commands::sync;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct SyncCommand {
    /// The source account's data directory.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The destination account's data directory.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// Then sync back from --to to --from.
    #[arg(long)]
    both_ways: bool,
}

impl SyncCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        sync::run(g, &self.from, &self.to, self.both_ways)
    }
}

#[derive(Args, Debug)]
pub struct ConflictsCommand {
    db: String,
    container: String,
    /// Delete the conflict with this id (the item is not touched).
    #[arg(long, value_name = "ID")]
    delete: Option<String>,
}

impl ConflictsCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        sync::conflicts(g, &self.db, &self.container, self.delete.as_deref())
    }
}
