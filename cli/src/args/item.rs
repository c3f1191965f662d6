//! `strata item create|upsert|replace|get|delete|patch`: an item's address (database, container,
//! id, partition key), its body or patch operations and conditions, handed to `commands::item`. Arguments only; no
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
    /// Patch an item: apply 1 to 10 operations (add, set, replace, remove, incr, move) in order
    /// and store the result as a replace (400 for an operation that does not apply; 412 if
    /// --if-match or --filter does not match; nothing is written on any error).
    #[command(after_help = "Example:\n  strata item patch sales orders o1 --pk alice \
                            --ops '[{\"op\":\"incr\",\"path\":\"/qty\",\"value\":1}]' \
                            --filter 'FROM c WHERE c.qty < 10'")]
    Patch {
        #[command(flatten)]
        target: AddressArgs,
        /// The operations, a JSON array: [{"op":"set","path":"/a/b","value":1},
        /// {"op":"move","from":"/x","path":"/y"}, ...].
        #[arg(long, value_name = "JSON")]
        ops: String,
        /// Only patch if the item satisfies this predicate, e.g. 'FROM c WHERE c.qty < 10'.
        #[arg(long, value_name = "SQL")]
        filter: Option<String>,
        /// Only patch if the item's current etag is this one.
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
            ItemCommand::Patch {
                target: a,
                ops,
                filter,
                if_match,
            } => item::patch(
                g,
                (&a.db, &a.container, &a.id, &a.pk),
                ops,
                filter.as_deref(),
                if_match.as_deref(),
            ),
            ItemCommand::Delete { target: a, if_match } => {
                item::delete(g, &a.db, &a.container, &a.id, &a.pk, if_match.as_deref())
            }
        }
    }
}
