//! `strata container create|set-index-policy|delete|index-status|list|set-ttl`: the flags of
//! containers and their indexing policy, handed to `commands::container` and `commands::index`.
//! Arguments only; no engine calls.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::{container, index};
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Create a container with its partition-key path, or two or three paths for a
    /// hierarchical key (MultiHash).
    #[command(
        after_help = "Examples:\n  strata container create sales orders --pk /customer\n  \
                            strata container create sales events --pk /device --ttl 86400 --conflict-policy custom\n  \
                            strata container create sales sessions --pk /tenant --pk /user --pk /session\n  \
                            strata container create sales ledger --pk /account --cmk https://keys.vault.local/keys/ledger"
    )]
    Create {
        db: String,
        container: String,
        /// Partition-key path, e.g. /tenant or /address/city; repeat it (up to three times) for
        /// a hierarchical key, e.g. --pk /tenant --pk /user.
        #[arg(long, value_name = "PATH", required = true)]
        pk: Vec<String>,
        /// RU/s of this container alone (at least 400, in steps of 100) [default: the database's
        /// shared throughput, else unlimited].
        #[arg(long, value_name = "RU_PER_SEC")]
        throughput: Option<u32>,
        /// defaultTtl: -1 (TTL on, items expire only by their own ttl) or seconds [default: off].
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        ttl: Option<i64>,
        /// How `strata sync` resolves conflicting changes, fixed at creation: lww (last writer
        /// wins on _ts), lww:/numeric/path (highest wins), or custom (recorded in the conflict
        /// feed) [default: lww].
        #[arg(long, value_name = "POLICY")]
        conflict_policy: Option<String>,
        /// A JSON file with the indexing policy (indexingMode, includedPaths, excludedPaths,
        /// compositeIndexes, spatialIndexes) [default: every path but /_etag indexed].
        #[arg(long, value_name = "FILE")]
        index_policy: Option<PathBuf>,
        /// A customer-managed key of the container's own (a key URI from `strata vault key
        /// create`): its data is kept in a store of its own, sealed inside under a data key this
        /// key wraps, and revoking the key makes this container alone unavailable [default: the
        /// account's keys].
        #[arg(long, value_name = "KEY_URI")]
        cmk: Option<String>,
    },
    /// Replace a container's indexing policy; the index is rebuilt in the background (queries
    /// keep working, reading every item until it is ready). Waits for it unless --no-wait.
    #[command(after_help = "Example:\n  strata container set-index-policy sales orders policy.json")]
    SetIndexPolicy {
        db: String,
        container: String,
        /// The JSON policy file.
        file: PathBuf,
        /// Return at once; the next command that opens the account carries the rebuild on.
        #[arg(long)]
        no_wait: bool,
    },
    /// Delete a container and all its items.
    #[command(after_help = "Example:\n  strata container delete sales drafts")]
    Delete { db: String, container: String },
    /// Show a container's indexing policy and whether its index is ready.
    #[command(after_help = "Example:\n  strata container index-status sales orders")]
    IndexStatus { db: String, container: String },
    /// List the containers of a database.
    #[command(after_help = "Example:\n  strata container list sales")]
    List { db: String },
    /// Set a container's defaultTtl: -1 (on, no default), seconds, or off.
    #[command(after_help = "Examples:\n  strata container set-ttl sales orders 3600\n  \
                            strata container set-ttl sales orders off")]
    SetTtl {
        db: String,
        container: String,
        /// -1, a number of seconds, or off.
        #[arg(value_name = "N|off", allow_hyphen_values = true)]
        ttl: String,
    },
}

impl ContainerCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            ContainerCommand::Create {
                db,
                container: name,
                pk,
                throughput,
                ttl,
                conflict_policy,
                index_policy,
                cmk,
            } => container::create(
                g,
                &container::NewContainer {
                    db,
                    name,
                    pk_paths: pk,
                    throughput: *throughput,
                    default_ttl: *ttl,
                    conflict_policy: conflict_policy.as_deref(),
                    index_policy: index_policy.as_deref(),
                    customer_key: cmk.as_deref(),
                },
            ),
            ContainerCommand::SetIndexPolicy {
                db,
                container: name,
                file,
                no_wait,
            } => index::set(g, db, name, file, *no_wait),
            ContainerCommand::IndexStatus { db, container: name } => index::status(g, db, name),
            ContainerCommand::List { db } => container::list(g, db),
            ContainerCommand::Delete { db, container: name } => container::delete(g, db, name),
            ContainerCommand::SetTtl {
                db,
                container: name,
                ttl,
            } => container::set_ttl(g, db, name, ttl),
        }
    }
}
