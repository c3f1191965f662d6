//! `strata item create|upsert|replace|get|delete`: an item's address (database, container, id,
//! partition key), its body and `--if-match`, handed to `commands::item`. Arguments only; no
//! engine calls.

use clap::{Args, Subcommand};

use super::shared::{BodyArgs, Globals, PkArgs};
use crate::commands::item::{self, Write};
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum ItemCommand {
    /// Create an item (409 if its id exists in its partition).
    #[command(
        after_help = "Example:\n  strata item create sales orders --json '{\"id\":\"o1\",\"customer\":\"alice\"}'"
    )]
    Create(WriteArgs),
    /// Create or replace an item.
    #[command(after_help = "Example:\n  strata item upsert sales orders --file o1.json")]
    Upsert(WriteArgs),
    /// Replace an existing item (404 if missing; 412 if --if-match is stale).
    #[command(
        after_help = "Example:\n  strata item replace sales orders --file o1.json --if-match '\"<etag>\"'"
    )]
    Replace {
        #[command(flatten)]
        target: WriteArgs,
        /// Only replace if the item's current etag is this one.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
    },
    /// Read an item.
    #[command(after_help = "Example:\n  strata item get sales orders o1 --pk alice")]
    Get(AddressArgs),
    /// Delete an item (412 if --if-match is stale).
    #[command(after_help = "Example:\n  strata item delete sales orders o1 --pk alice")]
    Delete {
        #[command(flatten)]
        target: AddressArgs,
        /// Only delete if the item's current etag is this one.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
    },
}

/// Where an item goes and what it is; its partition key comes from the item itself.
#[derive(Args, Debug)]
pub struct WriteArgs {
    db: String,
    container: String,
    #[command(flatten)]
    body: BodyArgs,
}

/// One item's address: database, container, id and partition-key value.
#[derive(Args, Debug)]
pub struct AddressArgs {
    db: String,
    container: String,
    id: String,
    #[command(flatten)]
    pk: PkArgs,
}

impl ItemCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            ItemCommand::Create(w) => item::write(g, Write::Create, &w.db, &w.container, &w.body, None),
            ItemCommand::Upsert(w) => item::write(g, Write::Upsert, &w.db, &w.container, &w.body, None),
            ItemCommand::Replace { target: w, if_match } => item::write(
                g,
                Write::Replace,
                &w.db,
                &w.container,
                &w.body,
                if_match.as_deref(),
            ),
            ItemCommand::Get(a) => item::get(g, &a.db, &a.container, &a.id, &a.pk),
            ItemCommand::Delete { target: a, if_match } => {
                item::delete(g, &a.db, &a.container, &a.id, &a.pk, if_match.as_deref())
            }
        }
    }
}
