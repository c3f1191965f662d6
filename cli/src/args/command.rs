//! The command tree: `Cli` (the global flags and one `Command`) and `dispatch`, which hands each
//! command to its group's `run`. Holds each top-level command's help (in the order `strata
//! --help` lists them); the flags of a command live in its group's file. No engine calls.

use clap::{CommandFactory, Parser, Subcommand};

use super::account::{AccountCommand, InitCommand};
use super::analytics::AnalyticsCommand;
use super::backup::{BackupCommand, RestoreCommand};
use super::batch::BatchCommand;
use super::bench::BenchCommand;
use super::completions::CompletionsCommand;
use super::container::ContainerCommand;
use super::db::DbCommand;
use super::demo::DemoCommand;
use super::export::ExportCommand;
use super::feed::FeedCommand;
use super::identity::IdentityCommand;
use super::import::ImportCommand;
use super::item::ItemCommand;
use super::key::AccountKeyCommand;
use super::keys::AccessKeysCommand;
use super::outcome::Outcome;
use super::query::QueryCommand;
use super::serve::ServeCommand;
use super::shared::Globals;
use super::sproc::SprocCommand;
use super::sync::{ConflictsCommand, SyncCommand};
use super::trigger::TriggerCommand;
use super::udf::UdfCommand;
use super::vault::VaultCommand;
use crate::commands::{ls, stats};
use crate::error::CliResult;
use crate::shell;

/// Strata: an embedded, encrypted, log-structured document store.
#[derive(Parser, Debug)]
#[command(name = "strata", version)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the tour end to end in a fresh temporary directory (vault key, CMK account, items,
    /// etags, bulk load, compaction, reopen, plaintext scan).
    #[command(after_help = "Example:\n  strata demo --items 500 --keep")]
    Demo(DemoCommand),
    /// Measure what a customer-managed key costs: each workload under SMK and CMK, interleaved,
    /// in a fresh temporary directory (see docs/bench.md).
    #[command(after_help = "Examples:\n  strata bench --items 100000\n  \
                            strata bench --quick --report bench.json --workloads read-zipf,query")]
    Bench(BenchCommand),
    /// The customer key vault under --home.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Create the account in --data (service-managed key unless --cmk is given).
    #[command(after_help = "Examples:\n  strata --data ./shop init --account shop\n  \
                            strata --data ./shop init --account shop --cmk https://local.vault.local/keys/shop-key\n  \
                            strata --data ./shop init --account shop --smk-pkcs11-vault hsm")]
    Init(InitCommand),
    /// The account's customer key: status, check, rotate.
    Key {
        #[command(subcommand)]
        command: AccountKeyCommand,
    },
    /// Periodic backups of the account in --data: policy, now, list, verify.
    #[command(
        after_help = "Examples:\n  strata backup now --backup-dir /mnt/backups/acct\n  \
                            strata backup verify /mnt/backups/acct/0001764165000000"
    )]
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Restore a backup, or (with --at) a moment of a continuous backup, into a new account in a
    /// new (absent or empty) data directory.
    #[command(
        after_help = "Examples:\n  strata restore --from ~/.strata/backups/acct/0001764165000000 --to ./restored\n  \
                      strata restore --from ~/.strata/backups/acct --to ./restored --at 2026-11-26T17:30:00Z \\\n      \
                      --only sales/orders --identity user:restore-ops"
    )]
    Restore(RestoreCommand),
    /// The account in --data.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// User-assigned managed identities (principals `user:NAME`).
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// Databases.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Containers.
    Container {
        #[command(subcommand)]
        command: ContainerCommand,
    },
    /// Items.
    Item {
        #[command(subcommand)]
        command: ItemCommand,
    },
    /// List the databases and containers: partition-key path, item count, size, throughput,
    /// encryption, analytical tier, TTL, conflict policy (names and paths also while the customer
    /// key is revoked).
    #[command(
        after_help = "Examples:\n  strata ls --output table\n  strata ls --output csv > containers.csv"
    )]
    Ls,
    /// Load items from JSON Lines or a JSON array into a container (buffered writes, one sync
    /// at the end); bad lines are reported with their line number and skipped.
    #[command(after_help = "Examples:\n  strata import shop orders orders.jsonl\n  \
                            cat orders.json | strata import shop orders - --upsert --stop-on-error")]
    Import(ImportCommand),
    /// Write a container's items as JSON Lines to FILE (or stdout), without system properties.
    #[command(after_help = "Examples:\n  strata export shop orders orders.jsonl\n  \
                            strata export shop orders --query \"SELECT * FROM c WHERE c.qty > 5\" > big.jsonl")]
    Export(ExportCommand),
    /// An interactive session: `use db/cont`, queries and item statements, the RU charge after
    /// each; reads statements from stdin when it is not a terminal.
    #[command(
        after_help = "Examples:\n  strata shell\n  printf 'use shop/orders\\nSELECT * FROM c\\n' | strata shell --output json"
    )]
    Shell,
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  strata completions bash > ~/.local/share/bash-completion/completions/strata"
    )]
    Completions(CompletionsCommand),
    /// Read one page of a container's change feed (304 when nothing changed since the token).
    #[command(
        after_help = "Examples:\n  strata feed shop orders --mode all --max-items 50\n  \
                            strata feed shop orders --continuation 'cf1:latest:1:*:42' --pk alice"
    )]
    Feed(FeedCommand),
    /// The analytical tier of a container: encrypted Parquet fed from the change feed.
    Analytics {
        #[command(subcommand)]
        command: AnalyticsCommand,
    },
    /// List a container's conflict feed (changes `sync` recorded under a custom policy), or
    /// delete one conflict.
    #[command(
        after_help = "Examples:\n  strata conflicts shop orders\n  strata conflicts shop orders --delete 42"
    )]
    Conflicts(ConflictsCommand),
    /// Apply the changes of the account in --from to the account in --to (both under --home),
    /// resolving conflicts by each container's policy.
    #[command(after_help = "Example:\n  strata sync --from ./edge --to ./central --both-ways")]
    Sync(SyncCommand),
    /// Request units, operations and 429s of every container over its life (this and earlier
    /// sessions); `--stats` on any command prints that command's own total.
    #[command(after_help = "Example:\n  strata stats --output table")]
    Stats,
    /// Run a query over a container's items and print one page of results.
    #[command(
        after_help = "Example:\n  strata query shop orders \"SELECT * FROM c WHERE c.qty > @min\" --param @min=5 --output csv"
    )]
    Query(QueryCommand),
    /// Run a transactional batch on one partition key: up to 100 create, replace, upsert, read,
    /// delete and patch operations from a JSON file, all stored together or none (the failing
    /// operation answers its own status, the others 424; exit code 1).
    #[command(
        after_help = "Example:\n  strata batch sales orders --pk alice --file ops.json\n\n\
                            ops.json, in the managed service's batch format:\n  \
                            [{\"operationType\": \"Create\", \"resourceBody\": {\"id\": \"o2\", \"customer\": \"alice\"}},\n   \
                            {\"operationType\": \"Patch\", \"id\": \"o1\", \"patchOperations\": [{\"op\": \"incr\", \"path\": \"/qty\", \"value\": 1}]}]"
    )]
    Batch(BatchCommand),
    /// A container's stored procedures: JavaScript run inside the store on one partition key,
    /// all its writes stored together or none (see docs/scripts.md).
    Sproc {
        #[command(subcommand)]
        command: SprocCommand,
    },
    /// A container's triggers: JavaScript that item writes naming them run before or after the
    /// write, in its transaction (see docs/scripts.md).
    Trigger {
        #[command(subcommand)]
        command: TriggerCommand,
    },
    /// A container's user-defined functions: JavaScript that queries call as udf.NAME(args)
    /// (see docs/scripts.md).
    Udf {
        #[command(subcommand)]
        command: UdfCommand,
    },
    /// Serve the account in --data over the managed service's REST protocol, so its official
    /// SDKs work against it (HTTPS with a self-signed certificate unless --tls-cert/--tls-key
    /// are given; master-key auth). See docs/gateway.md.
    #[command(after_help = "Examples:\n  strata serve --print-cert > strata.pem\n  \
                            strata serve --addr 127.0.0.1:8081\n  \
                            strata serve --addr 0.0.0.0:8081 --tls-cert server.crt --tls-key server.key\n  \
                            strata serve --insecure-http --addr 127.0.0.1:8081\n  \
                            strata serve --print-keys")]
    Serve(ServeCommand),
    /// The access keys `strata serve` checks request signatures with: list, regenerate.
    Keys {
        #[command(subcommand)]
        command: AccessKeysCommand,
    },
}

/// Runs the command.
pub fn dispatch(cli: &Cli) -> CliResult<Outcome> {
    let g = &cli.globals;
    let report = match &cli.command {
        Command::Demo(c) => return c.run(g),
        Command::Bench(c) => c.run(g)?,
        Command::Vault { command } => command.run(g)?,
        Command::Init(c) => c.run(g)?,
        Command::Key { command } => command.run(g)?,
        Command::Backup { command } => command.run(g)?,
        Command::Restore(c) => c.run(g)?,
        Command::Account { command } => command.run(g)?,
        Command::Identity { command } => command.run(g)?,
        Command::Db { command } => command.run(g)?,
        Command::Container { command } => command.run(g)?,
        Command::Item { command } => command.run(g)?,
        Command::Ls => ls::run(g)?,
        Command::Import(c) => c.run(g)?,
        Command::Export(c) => return c.run(g),
        Command::Shell => return shell::run(g).map(Outcome::Done),
        Command::Completions(c) => return Ok(c.run(&mut Cli::command())),
        Command::Feed(c) => c.run(g)?,
        Command::Analytics { command } => command.run(g)?,
        Command::Conflicts(c) => c.run(g)?,
        Command::Sync(c) => c.run(g)?,
        Command::Stats => stats::run(g)?,
        Command::Query(c) => c.run(g)?,
        Command::Batch(c) => c.run(g)?,
        Command::Sproc { command } => command.run(g)?,
        Command::Trigger { command } => command.run(g)?,
        Command::Udf { command } => command.run(g)?,
        Command::Serve(c) => return c.run(g),
        Command::Keys { command } => return command.run(g),
    };
    Ok(Outcome::Print(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
