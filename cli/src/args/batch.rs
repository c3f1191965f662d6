//! `strata batch DB CONT (--pk V) --file OPS.json`: a transactional batch's partition key and
//! operations file, handed to `commands::batch`. Arguments only; no engine calls.

use std::path::PathBuf;

use clap::Args;

use super::shared::{Globals, PkArgs};
use crate::commands::batch;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct BatchCommand {
    db: String,
    container: String,
    #[command(flatten)]
    pk: PkArgs,
    /// A JSON array of operations in the managed service's batch format: operationType
    /// (Create|Replace|Upsert|Read|Delete|Patch), id, resourceBody, ifMatch, patchOperations,
    /// filterPredicate ("-" reads standard input).
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
}

impl BatchCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        batch::run(g, &self.db, &self.container, &self.pk, &self.file)
    }
}
