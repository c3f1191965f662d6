//! `strata import DB CONT FILE`: its flags, handed to `commands::import`. Arguments only; the
//! reading and writing of items is `commands::import`'s.

use std::path::PathBuf;

use clap::Args;

use super::shared::Globals;
use crate::commands::import;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct ImportCommand {
    db: String,
    container: String,
    /// JSON Lines (one item per line) or one JSON array of items; "-" reads standard input.
    file: PathBuf,
    /// Replace items whose id exists (default: such items fail with 409).
    #[arg(long)]
    upsert: bool,
    /// Stop at the first item that fails (what was imported before it stays, synced).
    #[arg(long)]
    stop_on_error: bool,
    /// Items written per commit (one engine bulk call each); a chunk also ends after about
    /// 1 MiB of input.
    #[arg(long, value_name = "N", default_value_t = import::DEFAULT_CHUNK_ITEMS,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    chunk_items: u16,
}

impl ImportCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        import::run(
            g,
            &import::ImportArgs {
                db: &self.db,
                container: &self.container,
                file: &self.file,
                upsert: self.upsert,
                stop_on_error: self.stop_on_error,
                chunk_items: usize::from(self.chunk_items),
            },
        )
    }
}
