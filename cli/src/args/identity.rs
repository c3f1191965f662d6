//! `strata identity create|list`: user-assigned identities (principals `user:NAME`). Arguments
//! only; `commands::identity` keeps them.

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::identity;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Create a user-assigned identity, usable as user:NAME.
    #[command(after_help = "Example:\n  strata identity create etl")]
    Create { name: String },
    /// List the user-assigned identities.
    #[command(after_help = "Example:\n  strata identity list")]
    List,
}

impl IdentityCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            IdentityCommand::Create { name } => identity::create(g, name),
            IdentityCommand::List => identity::list(g),
        }
    }
}
