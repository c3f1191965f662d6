//! `strata export DB CONT [FILE]`: its flags, handed to `commands::export`. Arguments only; the
//! query and the writing of JSON Lines are `commands::export`'s.

use std::path::PathBuf;

use clap::Args;

use super::outcome::Outcome;
use super::shared::Globals;
use crate::commands::export;
use crate::error::CliResult;

#[derive(Args, Debug)]
pub struct ExportCommand {
    db: String,
    container: String,
    /// Output file (replaced when the export completes); standard output when omitted.
    file: Option<PathBuf>,
    /// Export only what this query returns, e.g. "SELECT * FROM c WHERE c.tenant = 'a'".
    #[arg(long, value_name = "SQL")]
    query: Option<String>,
    /// Keep _rid, _self, _etag, _attachments, _ts and _lsn (a CMK account refuses them on import).
    #[arg(long)]
    with_system_properties: bool,
}

impl ExportCommand {
    /// A report when the items went to a file; nothing more to print when they went to stdout.
    pub fn run(&self, g: &Globals) -> CliResult<Outcome> {
        let args = export::ExportArgs {
            db: &self.db,
            container: &self.container,
            file: self.file.as_deref(),
            query: self.query.as_deref(),
            with_system_properties: self.with_system_properties,
        };
        Ok(export::run(g, &args)?.map_or(Outcome::Done(0), Outcome::Print))
    }
}
