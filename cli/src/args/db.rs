//! `strata db create|list|delete`: the flags of databases, handed to `commands::db`. Arguments
//! only; no engine calls.

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::db;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Create a database.
    #[command(
        after_help = "Examples:\n  strata db create sales\n  strata db create sales --throughput 1000"
    )]
    Create {
        db: String,
        /// RU/s shared by its containers (at least 400, in steps of 100) [default: unlimited].
        #[arg(long, value_name = "RU_PER_SEC")]
        throughput: Option<u32>,
    },
    /// List databases.
    #[command(after_help = "Example:\n  strata db list --output csv")]
    List,
    /// Delete a database, its containers and all their items.
    #[command(after_help = "Example:\n  strata db delete scratch")]
    Delete { db: String },
}

impl DbCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            DbCommand::Create { db: name, throughput } => db::create(g, name, *throughput),
            DbCommand::List => db::list(g),
            DbCommand::Delete { db: name } => db::delete(g, name),
        }
    }
}
