//! `strata query DB CONT SQL`: parameters, partition key, page size, continuation and
//! `--explain`, handed to `commands::query`. Arguments only; no engine calls.

use clap::Args;

use super::shared::{Globals, ScopeArgs};
use crate::commands::query;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct QueryCommand {
    db: String,
    container: String,
    /// The query, e.g. "SELECT * FROM c WHERE c.qty > @min ORDER BY c.qty".
    sql: String,
    /// A parameter, repeatable: --param @name=VALUE (VALUE read as JSON when it parses, else a string).
    #[arg(long = "param", value_name = "@NAME=VALUE", allow_hyphen_values = true)]
    params: Vec<String>,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Most items in the page [default: 100].
    #[arg(long = "max-items", value_name = "N")]
    max_items: Option<usize>,
    /// The continuation token a previous page printed, to get the next page.
    #[arg(long, value_name = "TOKEN")]
    continuation: Option<String>,
    /// Print the plan (whether and how an index is used) instead of running the query.
    #[arg(long)]
    explain: bool,
}

impl QueryCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        query::run(
            g,
            &query::QueryArgs {
                explain: self.explain,
                db: &self.db,
                container: &self.container,
                sql: &self.sql,
                params: &self.params,
                pk: self.scope.partition_key()?,
                max_items: self.max_items,
                continuation: self.continuation.as_deref(),
            },
        )
    }
}
