//! `strata feed DB CONT`: where a change-feed page starts (beginning, now, a time or a
//! continuation token), its mode, partition key and size, handed to `commands::feed`. Arguments
//! only; no engine calls.

use clap::Args;

use super::shared::{Globals, ScopeArgs};
use crate::commands::feed;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct FeedCommand {
    db: String,
    container: String,
    /// latest: creates and updates, each item once at its newest version; all: every create,
    /// replace and delete (TTL deletes included) with metadata.
    #[arg(long, value_name = "MODE", default_value = "latest")]
    mode: String,
    /// Start at the oldest change still held (the default).
    #[arg(long, conflicts_with_all = ["from_now", "from_time", "continuation"])]
    from_beginning: bool,
    /// Start after the newest change: prints an empty page (304) and its token.
    #[arg(long, conflicts_with_all = ["from_time", "continuation"])]
    from_now: bool,
    /// Start at changes committed at or after this Unix second.
    #[arg(long, value_name = "T", conflicts_with = "continuation")]
    from_time: Option<String>,
    /// The continuation token a previous page printed.
    #[arg(long, value_name = "TOKEN")]
    continuation: Option<String>,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Most changes in the page [default: 100].
    #[arg(long = "max-items", value_name = "N")]
    max_items: Option<usize>,
}

impl FeedCommand {
    /// `--from-beginning` is what no other start flag means, so it is not passed on.
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        feed::run(
            g,
            &feed::FeedArgs {
                db: &self.db,
                container: &self.container,
                mode: &self.mode,
                from_now: self.from_now,
                from_time: self.from_time.as_deref(),
                continuation: self.continuation.as_deref(),
                pk: self.scope.partition_key()?,
                max_items: self.max_items,
            },
        )
    }
}
