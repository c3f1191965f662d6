//! `strata item create|upsert|replace|get|delete|patch`: an item's address (database, container,
//! id, partition key), its body or patch operations and conditions, handed to `commands::item`. Arguments only; no
//! engine calls.

use clap::{Args, Subcommand};

use super::shared::{BodyArgs, Globals, PkArgs};
use crate::commands::item::{self, Write};
use crate::error::CliResult;
use crate::output::Report;
use strata_engine::TriggerOptions;

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
        #[command(flatten)]
        triggers: TriggerArgs,
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
    #[command(flatten)]
    triggers: TriggerArgs,
}

/// The triggers a write names (see docs/scripts.md).
#[derive(Args, Debug)]
pub struct TriggerArgs {
    /// Run this pre-trigger before the write (repeatable, in order); it may change the item.
    #[arg(long = "pre-trigger", value_name = "NAME")]
    pre: Vec<String>,
    /// Run this post-trigger after the write, in its transaction (repeatable, in order).
    #[arg(long = "post-trigger", value_name = "NAME")]
    post: Vec<String>,
}

impl TriggerArgs {
    fn options(&self) -> TriggerOptions {
        TriggerOptions {
            pre_triggers: self.pre.clone(),
            post_triggers: self.post.clone(),
        }
    }
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

impl WriteArgs {
    fn write(&self, g: &Globals, kind: Write, if_match: Option<&str>) -> CliResult<Report> {
        item::write(
            g,
            kind,
            (&self.db, &self.container),
            &self.body,
            if_match,
            &self.triggers.options(),
        )
    }
}

impl ItemCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            ItemCommand::Create(w) => w.write(g, Write::Create, None),
            ItemCommand::Upsert(w) => w.write(g, Write::Upsert, None),
            ItemCommand::Replace { target: w, if_match } => w.write(g, Write::Replace, if_match.as_deref()),
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
            ItemCommand::Delete {
                target: a,
                if_match,
                triggers,
            } => item::delete(
                g,
                (&a.db, &a.container, &a.id, &a.pk),
                if_match.as_deref(),
                &triggers.options(),
            ),
        }
    }
}
