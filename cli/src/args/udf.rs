//! `strata udf create|replace|get|list|delete`: a container's user-defined functions (called in queries
//! as `udf.NAME(args)`), handed to `commands::udf`. Arguments only; no engine calls.

use clap::Subcommand;

use super::shared::Globals;
use super::sproc::{ScriptAddress, SprocBody};
use crate::commands::udf;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum UdfCommand {
    /// Store a user-defined function: JavaScript (one function) that queries call as
    /// udf.NAME(args).
    #[command(
        after_help = "Example:\n  strata udf create shop orders tax --body 'function tax(price) { return price * 0.2; }'\n  \
                            strata query shop orders \"SELECT c.id, udf.tax(c.price) AS tax FROM c\""
    )]
    Create {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Replace a user-defined function's body (a new etag); queries that start after it call
    /// the new one.
    #[command(
        after_help = "Example:\n  strata udf replace shop orders tax --body 'function tax(price) { return price * 0.25; }'"
    )]
    Replace {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Print a user-defined function with its body.
    #[command(after_help = "Example:\n  strata udf get shop orders tax")]
    Get(ScriptAddress),
    /// List a container's user-defined functions.
    #[command(after_help = "Example:\n  strata udf list shop orders")]
    List { db: String, container: String },
    /// Delete a user-defined function.
    #[command(after_help = "Example:\n  strata udf delete shop orders tax")]
    Delete(ScriptAddress),
}

impl UdfCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            UdfCommand::Create { at, body } => udf::put(g, at.named(), body, false),
            UdfCommand::Replace { at, body } => udf::put(g, at.named(), body, true),
            UdfCommand::Get(at) => udf::get(g, at.named()),
            UdfCommand::List { db, container } => udf::list(g, db, container),
            UdfCommand::Delete(at) => udf::delete(g, at.named()),
        }
    }
}
