//! `strata analytics enable|disable|status|key|export|query`: the flags of a container's
//! analytical tier, handed to `commands::analytics`. Arguments only; no engine calls.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::analytics;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum AnalyticsCommand {
    /// Turn the tier on (or change its TTL); the schema is fixed at the first enable.
    #[command(after_help = "Examples:\n  strata analytics enable shop orders\n  \
                            strata analytics enable shop orders --ttl 2592000 --schema full-fidelity")]
    Enable {
        db: String,
        container: String,
        /// Analytical TTL: -1 keeps items forever, n seconds after their last change, 0 turns the tier off.
        #[arg(long, value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
        ttl: i64,
        /// well-defined (one type per path) or full-fidelity (a column per type).
        #[arg(long, value_name = "SCHEMA", default_value = "well-defined")]
        schema: String,
    },
    /// Turn the tier off (its files stay until it is enabled again).
    #[command(after_help = "Example:\n  strata analytics disable shop orders")]
    Disable { db: String, container: String },
    /// Catch the tier up and show its settings, applied LSN, rows, files and lag.
    #[command(after_help = "Example:\n  strata analytics status shop orders")]
    Status { db: String, container: String },
    /// Print the tier's 32-byte key (base64) for DuckDB or pyarrow, if the vault allows it.
    #[command(after_help = "Example:\n  strata analytics key shop orders --output jsonl")]
    Key { db: String, container: String },
    /// Write a compacted, encrypted Parquet snapshot of the tier into DIR.
    #[command(after_help = "Example:\n  strata analytics export shop orders ./snapshot")]
    Export {
        db: String,
        container: String,
        dir: PathBuf,
    },
    /// Run an aggregation over the tier (SELECT ... [WHERE ...] [GROUP BY ...]).
    #[command(
        after_help = "Example:\n  strata analytics query shop orders \"SELECT c.region, SUM(c.qty) AS q FROM c GROUP BY c.region\""
    )]
    Query {
        db: String,
        container: String,
        sql: String,
    },
}

impl AnalyticsCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            AnalyticsCommand::Enable {
                db,
                container,
                ttl,
                schema,
            } => analytics::enable(g, db, container, *ttl, schema),
            AnalyticsCommand::Disable { db, container } => analytics::disable(g, db, container),
            AnalyticsCommand::Status { db, container } => analytics::status(g, db, container),
            AnalyticsCommand::Key { db, container } => analytics::key(g, db, container),
            AnalyticsCommand::Export { db, container, dir } => analytics::export(g, db, container, dir),
            AnalyticsCommand::Query { db, container, sql } => analytics::query(g, db, container, sql),
        }
    }
}
