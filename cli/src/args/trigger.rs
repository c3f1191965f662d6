//! `strata trigger create|replace|get|list|delete`: a container's triggers, their type (pre|post),
//! operation and body, handed to `commands::trigger`. Arguments only; no engine calls.

use clap::{Args, Subcommand};

use super::shared::Globals;
use super::sproc::{ScriptAddress, SprocBody};
use crate::commands::trigger;
use crate::error::CliResult;
use crate::output::Report;

/// What a trigger is: when it runs, on which operation, and its JavaScript.
#[derive(Args, Debug)]
pub struct TriggerDefinition {
    /// pre (before the write; may change the item) or post (after it, same transaction).
    #[arg(long = "type", value_name = "pre|post")]
    trigger_type: String,
    /// The operation it runs on: create, replace, upsert, delete or all.
    #[arg(long, value_name = "OPERATION")]
    operation: String,
    #[command(flatten)]
    body: SprocBody,
}

#[derive(Subcommand, Debug)]
pub enum TriggerCommand {
    /// Store a trigger: JavaScript that item writes naming it (--pre-trigger / --post-trigger)
    /// run before or after the write, in its transaction.
    #[command(
        after_help = "Example:\n  strata trigger create shop orders stamp --type pre --operation create --file stamp.js"
    )]
    Create {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        def: TriggerDefinition,
    },
    /// Replace a trigger's type, operation and body (a new etag).
    #[command(
        after_help = "Example:\n  strata trigger replace shop orders stamp --type pre --operation all --file stamp.js"
    )]
    Replace {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        def: TriggerDefinition,
    },
    /// Print a trigger with its type, operation and body.
    #[command(after_help = "Example:\n  strata trigger get shop orders stamp")]
    Get(ScriptAddress),
    /// List a container's triggers.
    #[command(after_help = "Example:\n  strata trigger list shop orders")]
    List { db: String, container: String },
    /// Delete a trigger.
    #[command(after_help = "Example:\n  strata trigger delete shop orders stamp")]
    Delete(ScriptAddress),
}

impl TriggerCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        use TriggerCommand::*;
        match self {
            Create { at, def } => put(g, at, def, false),
            Replace { at, def } => put(g, at, def, true),
            Get(at) => trigger::get(g, at.named()),
            List { db, container } => trigger::list(g, db, container),
            Delete(at) => trigger::delete(g, at.named()),
        }
    }
}

fn put(g: &Globals, at: &ScriptAddress, def: &TriggerDefinition, replace: bool) -> CliResult<Report> {
    let kind = (def.trigger_type.as_str(), def.operation.as_str());
    trigger::put(g, at.named(), kind, &def.body, replace)
}
