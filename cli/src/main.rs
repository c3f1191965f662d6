//! The `strata` binary: the clap definition of every command and the dispatch to `commands`.
//! Exit codes (docs/cli.md): 0 ok, 1 request error, 2 usage error, 3 store unavailable or key
//! revoked; failures are printed by `output`. Holds no storage logic; see commands/.

mod args;
mod color;
mod commands;
mod error;
mod output;
mod progress;
mod records;
mod rows;
mod scan;
mod session;
mod shell;
mod steps;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::args::{BodyArgs, Globals, PkArgs};
use crate::commands::item::Write;
use crate::commands::{
    account, analytics, backup, bench, container, db, demo, export, feed, identity, import, index, item, key,
    ls, query, stats, sync, vault,
};
use crate::error::{CliError, CliResult, EXIT_USAGE};
use crate::output::{Format, Report};

/// Strata: an embedded, encrypted, log-structured document store.
#[derive(Parser, Debug)]
#[command(name = "strata", version)]
struct Cli {
    #[command(flatten)]
    globals: Globals,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the tour end to end in a fresh temporary directory (vault key, CMK account, items,
    /// etags, bulk load, compaction, reopen, plaintext scan).
    #[command(after_help = "Example:\n  strata demo --items 500 --keep")]
    Demo {
        /// How many items the bulk-load step writes.
        #[arg(long, default_value_t = 2000)]
        items: usize,
        /// Keep the temporary directory afterwards for inspection.
        #[arg(long)]
        keep: bool,
    },
    /// Measure what a customer-managed key costs: each workload under SMK and CMK, interleaved,
    /// in a fresh temporary directory (see docs/bench.md).
    #[command(after_help = "Examples:\n  strata bench --items 100000\n  \
                            strata bench --quick --report bench.json --workloads read-zipf,query")]
    Bench {
        /// Items the bulk load writes (the other workloads read and replace them).
        #[arg(long, default_value_t = 1_000_000)]
        items: usize,
        /// Size of each item's JSON in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = 1024)]
        size: usize,
        /// Tiny counts (at most 2,000 items, 2 rounds): a smoke run of a few seconds.
        #[arg(long)]
        quick: bool,
        /// Also write the JSON report to this file.
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
        /// Also draw the measured CMK overhead per workload, beside the published RU surcharge,
        /// as an SVG bar chart in this file.
        #[arg(long, value_name = "FILE.svg")]
        chart: Option<PathBuf>,
        /// Comma-separated workloads: load, write, read-uniform, read-zipf, replace, query-eq,
        /// query, aggregate, feed, read-cold (load always runs) [default: all].
        #[arg(long, value_name = "LIST")]
        workloads: Option<String>,
        /// Comma-separated thread counts of the durable-write workload: one row per count
        /// (write-t1, write-t2, ...).
        #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2,4,8")]
        write_threads: Vec<usize>,
        /// Also run the peers (fjall, SQLite, SQLCipher) on load and read-uniform and print
        /// Strata/peer ratios; needs a build with `--features peers`.
        #[arg(long)]
        peers: bool,
    },
    /// The customer key vault under --home.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Create the account in --data (service-managed key unless --cmk is given).
    #[command(after_help = "Examples:\n  strata --data ./shop init --account shop\n  \
                            strata --data ./shop init --account shop --cmk https://local.vault.local/keys/shop-key")]
    Init {
        /// Account name.
        #[arg(long, value_name = "NAME")]
        account: String,
        /// Customer-managed key URI from `strata vault key create`.
        #[arg(long, value_name = "KEY_URI")]
        cmk: Option<String>,
        /// The identity the account calls the vault as: first-party, system or user:NAME.
        #[arg(long, value_name = "PRINCIPAL", default_value = "first-party")]
        identity: String,
    },
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
    Restore {
        /// The backup folder (as `strata backup list` prints it); with --at, the backup directory.
        #[arg(long, value_name = "BACKUP")]
        from: PathBuf,
        /// The new data directory.
        #[arg(long, value_name = "NEW_DATA_DIR")]
        to: PathBuf,
        /// Point-in-time restore: the state as of this moment (Unix milliseconds, or RFC 3339 UTC
        /// such as 2026-11-26T17:30:00Z), within the continuous backup's window.
        #[arg(long, value_name = "TIMESTAMP")]
        at: Option<String>,
        /// The identity the restored account calls the vault as (user:NAME; required with a
        /// customer-managed key).
        #[arg(long, value_name = "user:NAME", requires = "at")]
        identity: Option<String>,
        /// Restore only this database or container (repeatable).
        #[arg(long, value_name = "DB[/CONT]", requires = "at")]
        only: Vec<String>,
    },
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
    Import {
        db: String,
        container: String,
        /// JSON Lines (one item per line) or one JSON array of items; "-" reads standard input.
        file: PathBuf,
        /// Replace items whose id exists (default: such items fail with 409).
        #[arg(long)]
        upsert: bool,
        /// Stop at the first item that fails (what was imported before it stays, synced).
        #[arg(long)]
        stop_on_error: bool,
    },
    /// Write a container's items as JSON Lines to FILE (or stdout), without system properties.
    #[command(after_help = "Examples:\n  strata export shop orders orders.jsonl\n  \
                            strata export shop orders --query \"SELECT * FROM c WHERE c.qty > 5\" > big.jsonl")]
    Export {
        db: String,
        container: String,
        /// Output file (replaced when the export completes); standard output when omitted.
        file: Option<PathBuf>,
        /// Export only what this query returns, e.g. "SELECT * FROM c WHERE c.tenant = 'a'".
        #[arg(long, value_name = "SQL")]
        query: Option<String>,
        /// Keep _rid, _self, _etag, _attachments, _ts and _lsn (a CMK account refuses them on import).
        #[arg(long)]
        with_system_properties: bool,
    },
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
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: Shell,
    },
    /// Read one page of a container's change feed (304 when nothing changed since the token).
    #[command(
        after_help = "Examples:\n  strata feed shop orders --mode all --max-items 50\n  \
                            strata feed shop orders --continuation 'cf1:latest:1:*:42' --pk alice"
    )]
    Feed {
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
        /// Read one partition key's feed range only (JSON number/true/false/null, else a string).
        #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
        pk: Option<String>,
        /// Most changes in the page [default: 100].
        #[arg(long = "max-items", value_name = "N")]
        max_items: Option<usize>,
    },
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
    Conflicts {
        db: String,
        container: String,
        /// Delete the conflict with this id (the item is not touched).
        #[arg(long, value_name = "ID")]
        delete: Option<String>,
    },
    /// Apply the changes of the account in --from to the account in --to (both under --home),
    /// resolving conflicts by each container's policy.
    #[command(after_help = "Example:\n  strata sync --from ./edge --to ./central --both-ways")]
    Sync {
        /// The source account's data directory.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The destination account's data directory.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Then sync back from --to to --from.
        #[arg(long)]
        both_ways: bool,
    },
    /// Request units, operations and 429s of every container over its life (this and earlier
    /// sessions); `--stats` on any command prints that command's own total.
    #[command(after_help = "Example:\n  strata stats --output table")]
    Stats,
    /// Run a query over a container's items and print one page of results.
    #[command(
        after_help = "Example:\n  strata query shop orders \"SELECT * FROM c WHERE c.qty > @min\" --param @min=5 --output csv"
    )]
    Query {
        db: String,
        container: String,
        /// The query, e.g. "SELECT * FROM c WHERE c.qty > @min ORDER BY c.qty".
        sql: String,
        /// A parameter, repeatable: --param @name=VALUE (VALUE read as JSON when it parses, else a string).
        #[arg(long = "param", value_name = "@NAME=VALUE", allow_hyphen_values = true)]
        params: Vec<String>,
        /// Query one partition only: read as JSON when it is a number, true, false or null, else as a string.
        #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
        pk: Option<String>,
        /// Most items in the page [default: 100].
        #[arg(long = "max-items", value_name = "N")]
        max_items: Option<usize>,
        /// The continuation token a previous page printed, to get the next page.
        #[arg(long, value_name = "TOKEN")]
        continuation: Option<String>,
        /// Print the plan (whether and how an index is used) instead of running the query.
        #[arg(long)]
        explain: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AnalyticsCommand {
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

#[derive(Subcommand, Debug)]
enum VaultCommand {
    /// Create a named vault under <home>/vaults/NAME (soft delete is always on).
    #[command(after_help = "Example:\n  strata vault create team --purge-protection --retention-days 30")]
    Create {
        name: String,
        /// Tenant id (a UUID) [default: a new random tenant].
        #[arg(long, value_name = "T")]
        tenant: Option<String>,
        /// Turn purge protection on (it can never be turned off); accounts require it.
        #[arg(long)]
        purge_protection: bool,
        /// Days a deleted key stays recoverable, 7 to 90; fixed at creation.
        #[arg(long, value_name = "N", default_value_t = 90)]
        retention_days: u32,
        /// Network access: public, trusted-services or private-endpoint-only.
        #[arg(long, value_name = "ACCESS", default_value = "public")]
        network: String,
    },
    /// The vault's properties (tenant, soft delete, purge protection, network access).
    #[command(after_help = "Example:\n  strata --vault team vault show")]
    Show,
    /// Turn purge protection on (there is no way to turn it off), or switch the permission model.
    #[command(
        after_help = "Examples:\n  strata vault update --purge-protection\n  strata vault update \
                            --permission-model rbac\n  strata vault update --vault prod --permission-model \
                            access-policy\n\nUnder rbac, access policies are ignored and role assignments \
                            (`strata vault role`) decide; under access-policy, the reverse. Switching to rbac \
                            before assigning roles revokes every identity at its next key check."
    )]
    Update {
        #[arg(long)]
        purge_protection: bool,
        /// The permission model: access-policy or rbac (role-based access control).
        #[arg(long, value_name = "MODEL")]
        permission_model: Option<String>,
    },
    /// Customer-managed RSA keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Access policies: which principal may get, list, wrapKey, unwrapKey.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Role assignments (role-based access control; used when the permission model is rbac).
    Role {
        #[command(subcommand)]
        command: RoleCommand,
    },
    /// The vault's audit log, oldest first.
    #[command(after_help = "Example:\n  strata vault audit --key shop-key --since 1764000000")]
    Audit {
        /// Only entries for this key (or, for policy changes, this principal).
        #[arg(long, value_name = "NAME")]
        key: Option<String>,
        /// Only entries for this key version.
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// Only entries at or after this unix time (seconds).
        #[arg(long, value_name = "UNIXTIME")]
        since: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Give a principal (first-party, system, system:ACCOUNT, user:NAME) exactly these permissions.
    #[command(
        after_help = "Example:\n  strata vault policy set user:etl --permissions get,wrapKey,unwrapKey"
    )]
    Set {
        principal: String,
        /// Comma-separated: get, list, wrapKey, unwrapKey.
        #[arg(long, value_name = "LIST")]
        permissions: String,
    },
    /// Remove a principal's access policy (a revocation).
    #[command(after_help = "Example:\n  strata vault policy remove user:etl")]
    Remove { principal: String },
    /// List the access policies.
    #[command(after_help = "Example:\n  strata vault policy list --output table")]
    List,
}

#[derive(Subcommand, Debug)]
enum RoleCommand {
    /// Assign a role to a principal (first-party, system, system:ACCOUNT, user:NAME).
    #[command(
        after_help = "Roles:\n  \"Key Vault Administrator\"                   get, list, wrapKey, unwrapKey \
                            (and key management)\n  \"Key Vault Crypto Service Encryption User\"  get, wrapKey, \
                            unwrapKey\n\nExamples:\n  strata vault update --permission-model rbac\n  strata vault \
                            role assign \"Key Vault Crypto Service Encryption User\" user:ops\n  strata vault role \
                            assign \"Key Vault Crypto Service Encryption User\" system --key cmk\n  strata vault \
                            role assign \"Key Vault Administrator\" first-party"
    )]
    Assign {
        role: String,
        principal: String,
        /// Scope the assignment to this key [default: every key of the vault].
        #[arg(long, value_name = "NAME")]
        key: Option<String>,
    },
    /// Remove a role assignment (a revocation: the identity loses access at its next key check).
    #[command(
        after_help = "Examples:\n  strata vault role remove \"Key Vault Crypto Service Encryption User\" \
                            user:ops\n  strata vault role remove \"Key Vault Crypto Service Encryption User\" \
                            system --key cmk"
    )]
    Remove {
        role: String,
        principal: String,
        /// The key the assignment is scoped to [default: the vault-wide assignment].
        #[arg(long, value_name = "NAME")]
        key: Option<String>,
    },
    /// List the role assignments and the vault's permission model.
    #[command(after_help = "Example:\n  strata vault role list --output json")]
    List,
}

#[derive(Subcommand, Debug)]
enum AccountKeyCommand {
    /// The configured key, the key id in use, the identity and the state (active or revoked).
    #[command(after_help = "Example:\n  strata key status")]
    Status,
    /// Unwrap the customer key again now: restores a revoked account, or revokes it (403.x).
    #[command(after_help = "Example:\n  strata key check")]
    Check,
    /// Re-wrap the data key under the newest enabled version of the key (or --to another key).
    #[command(after_help = "Examples:\n  strata key rotate\n  \
                            strata key rotate --to https://local.vault.local/keys/other-key")]
    Rotate {
        /// Another key URI to rotate to.
        #[arg(long, value_name = "KEY_URI")]
        to: Option<String>,
    },
    /// Use a customer-managed key on a service-managed account: new writes are sealed twice at
    /// once; existing data is re-sealed (before returning, unless --no-wait).
    #[command(
        name = "enable-cmk",
        after_help = "Examples:\n  strata key enable-cmk https://local.vault.local/keys/my-key\n  \
                      strata key enable-cmk https://local.vault.local/keys/my-key --no-wait"
    )]
    EnableCmk {
        /// The customer key, `https://<vault>.vault.local/keys/<name>[/<version>]`.
        #[arg(value_name = "KEY_URI")]
        key_uri: String,
        /// Return once new writes are sealed twice; re-seal the rest in the background.
        #[arg(long)]
        no_wait: bool,
    },
}

#[derive(Subcommand, Debug)]
enum BackupCommand {
    /// Set the periodic policy (interval 1-24 h, retention from twice the interval to 720 h), or
    /// turn on continuous backup with point-in-time restore over 7 or 30 days.
    #[command(
        after_help = "Examples:\n  strata backup policy --interval-hours 4 --retention-hours 48\n  \
                            strata backup policy --continuous 7 --backup-dir /mnt/backups/acct"
    )]
    Policy {
        /// Periodic backups (the default mode; needs --interval-hours and --retention-hours).
        #[arg(long, conflicts_with = "continuous")]
        periodic: bool,
        #[arg(
            long,
            value_name = "N",
            required_unless_present = "continuous",
            conflicts_with = "continuous"
        )]
        interval_hours: Option<u32>,
        #[arg(
            long,
            value_name = "M",
            required_unless_present = "continuous",
            conflicts_with = "continuous"
        )]
        retention_hours: Option<u32>,
        /// Continuous backup: the tier, 7 or 30 days of point-in-time restore.
        #[arg(long, value_name = "7|30")]
        continuous: Option<u32>,
        /// Where continuous backup ships the log [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR", requires = "continuous")]
        backup_dir: Option<PathBuf>,
        /// Take periodic backups into DIR on the interval, while the account is open (a
        /// long-running application; one-shot commands take one when due as they run).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["continuous", "no_schedule"])]
        schedule: Option<PathBuf>,
        /// Stop the scheduled periodic backups.
        #[arg(long, conflicts_with = "continuous")]
        no_schedule: bool,
    },
    /// Show continuous backup: the tier and the restore window (earliest and latest restorable
    /// timestamps); ships the log first.
    #[command(after_help = "Example:\n  strata backup status")]
    Status,
    /// Take a backup now (online); removes backups older than the retention.
    #[command(after_help = "Example:\n  strata backup now --backup-dir /mnt/backups/acct")]
    Now {
        /// Where backups go [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
    /// List the backups, oldest first.
    #[command(after_help = "Example:\n  strata backup list --output table")]
    List {
        /// Where backups are [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
    /// Recompute every checksum of one backup and authenticate its manifest.
    #[command(after_help = "Example:\n  strata backup verify /mnt/backups/acct/0001764165000000")]
    Verify {
        /// The backup folder.
        backup: PathBuf,
    },
    /// Bring a deleted database or container back into this account, as it was at a moment
    /// of its continuous backup (409 if it exists now).
    #[command(
        after_help = "Example:\n  strata backup restore-deleted sales/orders --at 2026-11-26T17:30:00Z"
    )]
    RestoreDeleted {
        /// DB or DB/CONT.
        #[arg(value_name = "DB[/CONT]")]
        scope: String,
        /// Unix milliseconds, or RFC 3339 in UTC (2026-11-26T17:30:00Z).
        #[arg(long, value_name = "TIMESTAMP")]
        at: String,
        /// The continuous backup's directory [default: the one the policy names].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum AccountCommand {
    /// Call the vault as another identity (first-party, system or user:NAME) from now on.
    #[command(after_help = "Example:\n  strata account set-identity user:etl")]
    SetIdentity { principal: String },
}

#[derive(Subcommand, Debug)]
enum IdentityCommand {
    /// Create a user-assigned identity, usable as user:NAME.
    #[command(after_help = "Example:\n  strata identity create etl")]
    Create { name: String },
    /// List the user-assigned identities.
    #[command(after_help = "Example:\n  strata identity list")]
    List,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Create a key (or a new version of an existing one); prints its versioned URI.
    #[command(after_help = "Example:\n  strata vault key create shop-key --size 3072")]
    Create {
        name: String,
        /// RSA modulus size in bits.
        #[arg(long, default_value_t = 3072, value_parser = key_size)]
        size: usize,
    },
    /// List every version of every key.
    #[command(after_help = "Example:\n  strata vault key list --output table")]
    List,
    /// A key's versions, its newest version and its rotation policy.
    #[command(after_help = "Example:\n  strata vault key show cmk --output json")]
    Show { name: String },
    /// Disable a key (all versions unless --version is given).
    #[command(after_help = "Examples:\n  strata vault key disable shop-key\n  \
                            strata vault key disable shop-key --version <V>")]
    Disable {
        name: String,
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Enable a key (all versions unless --version is given).
    #[command(after_help = "Example:\n  strata vault key enable shop-key")]
    Enable {
        name: String,
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Soft-delete a key (undo with `recover`).
    #[command(after_help = "Example:\n  strata vault key delete shop-key")]
    Delete { name: String },
    /// Recover a soft-deleted key.
    #[command(after_help = "Example:\n  strata vault key recover shop-key")]
    Recover { name: String },
    /// Create a new version of a key now (same size as its newest version).
    #[command(after_help = "Example:\n  strata vault key rotate shop-key")]
    Rotate { name: String },
    /// Autorotate: a new version whenever the newest is N days old (7 to 3650), or --off.
    #[command(
        after_help = "Examples:\n  strata vault key rotation-policy cmk --every-days 90\n  strata vault \
                            key rotation-policy cmk --off\n\nThere is no background task: the policy is checked \
                            whenever the vault is used on the key (an account's open or key check, get, wrap, \
                            unwrap, list). Accounts configured with a version-less key URI move to the new \
                            version at their next key check."
    )]
    RotationPolicy {
        name: String,
        /// Days between versions, 7 to 3650.
        #[arg(
            long,
            value_name = "N",
            conflicts_with = "off",
            required_unless_present = "off"
        )]
        every_days: Option<u32>,
        /// Remove the key's rotation policy.
        #[arg(long)]
        off: bool,
    },
    /// Set when a key version becomes usable for wrap (nbf) and stops being (exp); 0 clears one.
    #[command(after_help = "Example:\n  strata vault key set-attributes shop-key --exp 1795000000")]
    SetAttributes {
        name: String,
        /// The version [default: the newest].
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// Activation time, unix seconds.
        #[arg(long, value_name = "UNIX")]
        nbf: Option<u64>,
        /// Expiration time, unix seconds.
        #[arg(long, value_name = "UNIX")]
        exp: Option<u64>,
    },
    /// Permanently remove a soft-deleted key (refused while purge protection holds it).
    #[command(after_help = "Example:\n  strata vault key purge shop-key")]
    Purge { name: String },
    /// Write a protected backup of a key (all versions) to a new file.
    #[command(after_help = "Example:\n  strata vault key backup shop-key --out shop-key.backup")]
    Backup {
        name: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a key backup into the vault (same tenant; the key name must be free).
    #[command(after_help = "Example:\n  strata vault key restore shop-key.backup")]
    Restore { file: PathBuf },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Create a database.
    #[command(
        after_help = "Examples:\n  strata db create sales\n  strata db create sales --throughput 1000"
    )]
    Create {
        db: String,
        /// RU/s shared by its containers (at least 400, in steps of 100) [default: unlimited].
        #[arg(long, value_name = "RU_PER_SEC")]
        throughput: Option<u32>,
    },
    /// List databases.
    #[command(after_help = "Example:\n  strata db list --output csv")]
    List,
    /// Delete a database, its containers and all their items.
    #[command(after_help = "Example:\n  strata db delete scratch")]
    Delete { db: String },
}

#[derive(Subcommand, Debug)]
enum ContainerCommand {
    /// Create a container with its partition-key path.
    #[command(
        after_help = "Examples:\n  strata container create sales orders --pk /customer\n  \
                            strata container create sales events --pk /device --ttl 86400 --conflict-policy custom"
    )]
    Create {
        db: String,
        container: String,
        /// Partition-key path, e.g. /tenant or /address/city.
        #[arg(long, value_name = "PATH")]
        pk: String,
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
        /// compositeIndexes) [default: every path but /_etag indexed].
        #[arg(long, value_name = "FILE")]
        index_policy: Option<PathBuf>,
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

#[derive(Subcommand, Debug)]
enum ItemCommand {
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
struct WriteArgs {
    db: String,
    container: String,
    #[command(flatten)]
    body: BodyArgs,
}

/// One item's address: database, container, id and partition-key value.
#[derive(Args, Debug)]
struct AddressArgs {
    db: String,
    container: String,
    id: String,
    #[command(flatten)]
    pk: PkArgs,
}

fn key_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n @ (2048 | 3072 | 4096)) => Ok(n),
        _ => Err("must be 2048, 3072 or 4096".to_string()),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let format = cli.globals.format();
    let outcome = dispatch(&cli);
    if cli.globals.stats {
        eprintln!("{}", session::line());
    }
    match outcome {
        Ok(Outcome::Print(report)) => {
            output::print(format, &report);
            ExitCode::from(report.exit_code())
        }
        Ok(Outcome::Done(code)) => ExitCode::from(code),
        Err(err) => {
            output::print_error(format, &err, cli.globals.error_context().as_ref());
            ExitCode::from(err.exit_code())
        }
    }
}

/// What a command that succeeded leaves to do.
enum Outcome {
    /// Print this report (and exit with its exit code).
    Print(Report),
    /// The command printed its own output; exit with this code.
    Done(u8),
}

/// Runs the command.
fn dispatch(cli: &Cli) -> CliResult<Outcome> {
    let g = &cli.globals;
    let report = match &cli.command {
        Command::Demo { items, keep } => return demo::run(g, *items, *keep).map(|()| Outcome::Done(0)),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "strata", &mut std::io::stdout());
            return Ok(Outcome::Done(0));
        }
        Command::Bench {
            items,
            size,
            quick,
            report,
            chart,
            workloads,
            write_threads,
            peers,
        } => bench::run(
            g,
            &bench::BenchArgs {
                items: *items,
                size: *size,
                quick: *quick,
                report: report.as_deref(),
                chart: chart.as_deref(),
                workloads: workloads.as_deref(),
                write_threads,
                peers: *peers,
            },
        )?,
        Command::Ls => ls::run(g)?,
        Command::Shell => return shell::run(g).map(Outcome::Done),
        Command::Import {
            db,
            container,
            file,
            upsert,
            stop_on_error,
        } => import::run(
            g,
            &import::ImportArgs {
                db,
                container,
                file,
                upsert: *upsert,
                stop_on_error: *stop_on_error,
            },
        )?,
        Command::Export {
            db,
            container,
            file,
            query,
            with_system_properties,
        } => {
            let args = export::ExportArgs {
                db,
                container,
                file: file.as_deref(),
                query: query.as_deref(),
                with_system_properties: *with_system_properties,
            };
            return Ok(export::run(g, &args)?.map_or(Outcome::Done(0), Outcome::Print));
        }
        Command::Analytics { command } => match command {
            AnalyticsCommand::Enable {
                db,
                container,
                ttl,
                schema,
            } => analytics::enable(g, db, container, *ttl, schema)?,
            AnalyticsCommand::Disable { db, container } => analytics::disable(g, db, container)?,
            AnalyticsCommand::Status { db, container } => analytics::status(g, db, container)?,
            AnalyticsCommand::Key { db, container } => analytics::key(g, db, container)?,
            AnalyticsCommand::Export { db, container, dir } => analytics::export(g, db, container, dir)?,
            AnalyticsCommand::Query { db, container, sql } => analytics::query(g, db, container, sql)?,
        },
        Command::Conflicts {
            db,
            container,
            delete,
        } => sync::conflicts(g, db, container, delete.as_deref())?,
        Command::Sync { from, to, both_ways } => sync::run(g, from, to, *both_ways)?,
        Command::Feed {
            db,
            container,
            mode,
            from_beginning: _,
            from_now,
            from_time,
            continuation,
            pk,
            max_items,
        } => feed::run(
            g,
            &feed::FeedArgs {
                db,
                container,
                mode,
                from_now: *from_now,
                from_time: from_time.as_deref(),
                continuation: continuation.as_deref(),
                pk: pk.as_deref(),
                max_items: *max_items,
            },
        )?,
        Command::Stats => stats::run(g)?,
        Command::Query {
            db,
            container,
            sql,
            params,
            pk,
            max_items,
            continuation,
            explain,
        } => {
            let args = query::QueryArgs {
                explain: *explain,
                db,
                container,
                sql,
                params,
                pk: pk.as_deref(),
                max_items: *max_items,
                continuation: continuation.as_deref(),
            };
            query::run(g, &args)?
        }
        Command::Vault {
            command:
                VaultCommand::Create {
                    name,
                    tenant,
                    purge_protection,
                    retention_days,
                    network,
                },
        } => vault::create_vault(
            g,
            name,
            tenant.as_deref(),
            *purge_protection,
            *retention_days,
            network,
        )?,
        Command::Vault {
            command: VaultCommand::Show,
        } => vault::show_vault(g)?,
        Command::Vault {
            command:
                VaultCommand::Update {
                    purge_protection,
                    permission_model,
                },
        } => vault::update_vault(g, *purge_protection, permission_model.as_deref())?,
        Command::Vault {
            command: VaultCommand::Key { command },
        } => match command {
            KeyCommand::Create { name, size } => vault::create(g, name, *size)?,
            KeyCommand::List => vault::list(g)?,
            KeyCommand::Show { name } => vault::show_key(g, name)?,
            KeyCommand::RotationPolicy {
                name,
                every_days,
                off: _,
            } => vault::rotation_policy(g, name, *every_days)?,
            KeyCommand::Disable { name, version } => vault::set_enabled(g, name, version.as_deref(), false)?,
            KeyCommand::Enable { name, version } => vault::set_enabled(g, name, version.as_deref(), true)?,
            KeyCommand::Delete { name } => vault::delete(g, name)?,
            KeyCommand::Recover { name } => vault::recover(g, name)?,
            KeyCommand::Rotate { name } => vault::rotate(g, name)?,
            KeyCommand::SetAttributes {
                name,
                version,
                nbf,
                exp,
            } => vault::set_attributes(g, name, version.as_deref(), *nbf, *exp)?,
            KeyCommand::Purge { name } => vault::purge(g, name)?,
            KeyCommand::Backup { name, out } => vault::backup(g, name, out)?,
            KeyCommand::Restore { file } => vault::restore(g, file)?,
        },
        Command::Vault {
            command: VaultCommand::Policy { command },
        } => match command {
            PolicyCommand::Set {
                principal,
                permissions,
            } => vault::policy_set(g, principal, permissions)?,
            PolicyCommand::Remove { principal } => vault::policy_remove(g, principal)?,
            PolicyCommand::List => vault::policy_list(g)?,
        },
        Command::Vault {
            command: VaultCommand::Role { command },
        } => match command {
            RoleCommand::Assign { role, principal, key } => {
                vault::role_assign(g, role, principal, key.as_deref())?
            }
            RoleCommand::Remove { role, principal, key } => {
                vault::role_remove(g, role, principal, key.as_deref())?
            }
            RoleCommand::List => vault::role_list(g)?,
        },
        Command::Vault {
            command: VaultCommand::Audit { key, version, since },
        } => vault::audit(
            g,
            strata_engine::AuditFilter {
                key: key.clone(),
                version: version.clone(),
                since: *since,
            },
        )?,
        Command::Key { command } => match command {
            AccountKeyCommand::Status => key::status(g)?,
            AccountKeyCommand::Check => key::check(g)?,
            AccountKeyCommand::Rotate { to } => key::rotate(g, to.as_deref())?,
            AccountKeyCommand::EnableCmk { key_uri, no_wait } => key::enable_cmk(g, key_uri, *no_wait)?,
        },
        Command::Backup { command } => match command {
            BackupCommand::Policy {
                continuous: Some(days),
                backup_dir,
                ..
            } => backup::continuous(g, *days, backup_dir.as_deref())?,
            BackupCommand::Policy {
                interval_hours: Some(interval_hours),
                retention_hours: Some(retention_hours),
                schedule,
                no_schedule,
                ..
            } => {
                let schedule = match (schedule, no_schedule) {
                    (Some(dir), _) => Some(Some(dir.as_path())),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                backup::policy(g, *interval_hours, *retention_hours, schedule)?
            }
            BackupCommand::Policy { .. } => {
                return Err(CliError::bad_input(
                    "give --interval-hours N and --retention-hours M, or --continuous 7|30",
                ))
            }
            BackupCommand::Status => backup::status(g)?,
            BackupCommand::Now { backup_dir } => backup::now(g, backup_dir.as_deref())?,
            BackupCommand::List { backup_dir } => backup::list(g, backup_dir.as_deref())?,
            BackupCommand::Verify { backup: path } => backup::verify(g, path)?,
            BackupCommand::RestoreDeleted {
                scope,
                at,
                backup_dir,
            } => backup::restore_deleted(g, scope, at, backup_dir.as_deref())?,
        },
        Command::Restore {
            from, to, at: None, ..
        } => backup::restore(g, from, to)?,
        Command::Restore {
            from,
            to,
            at: Some(at),
            identity,
            only,
        } => backup::restore_at(g, from, to, at, identity.as_deref(), only)?,
        Command::Account {
            command: AccountCommand::SetIdentity { principal },
        } => account::set_identity(g, principal)?,
        Command::Identity { command } => match command {
            IdentityCommand::Create { name } => identity::create(g, name)?,
            IdentityCommand::List => identity::list(g)?,
        },
        Command::Init {
            account: name,
            cmk,
            identity,
        } => account::init(g, name, cmk.as_deref(), identity)?,
        Command::Db { command } => match command {
            DbCommand::Create { db: name, throughput } => db::create(g, name, *throughput)?,
            DbCommand::List => db::list(g)?,
            DbCommand::Delete { db: name } => db::delete(g, name)?,
        },
        Command::Container { command } => match command {
            ContainerCommand::Create {
                db,
                container: name,
                pk,
                throughput,
                ttl,
                conflict_policy,
                index_policy,
            } => container::create(
                g,
                &container::NewContainer {
                    db,
                    name,
                    pk_path: pk,
                    throughput: *throughput,
                    default_ttl: *ttl,
                    conflict_policy: conflict_policy.as_deref(),
                    index_policy: index_policy.as_deref(),
                },
            )?,
            ContainerCommand::SetIndexPolicy {
                db,
                container: name,
                file,
                no_wait,
            } => index::set(g, db, name, file, *no_wait)?,
            ContainerCommand::IndexStatus { db, container: name } => index::status(g, db, name)?,
            ContainerCommand::List { db } => container::list(g, db)?,
            ContainerCommand::Delete { db, container: name } => container::delete(g, db, name)?,
            ContainerCommand::SetTtl {
                db,
                container: name,
                ttl,
            } => container::set_ttl(g, db, name, ttl)?,
        },
        Command::Item { command } => match command {
            ItemCommand::Create(w) => item::write(g, Write::Create, &w.db, &w.container, &w.body, None)?,
            ItemCommand::Upsert(w) => item::write(g, Write::Upsert, &w.db, &w.container, &w.body, None)?,
            ItemCommand::Replace { target: w, if_match } => item::write(
                g,
                Write::Replace,
                &w.db,
                &w.container,
                &w.body,
                if_match.as_deref(),
            )?,
            ItemCommand::Get(a) => item::get(g, &a.db, &a.container, &a.id, &a.pk)?,
            ItemCommand::Delete { target: a, if_match } => {
                item::delete(g, &a.db, &a.container, &a.id, &a.pk, if_match.as_deref())?
            }
        },
    };
    Ok(Outcome::Print(report))
}

/// A command line clap could not parse: help and version print as usual (exit 0); anything else
/// is a 400 in the usual error shape (json, jsonl) or clap's own explanation, exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    let format = Format::resolve(output_flag(&args));
    if format.is_json() {
        let text = e.render().to_string();
        let message = text.trim().trim_start_matches("error: ").to_string();
        output::print_error(format, &CliError::bad_input(message), None);
    } else {
        // Best effort: if stderr is gone there is nowhere left to report to.
        let _ = e.print();
    }
    ExitCode::from(EXIT_USAGE)
}

/// `--output` as written on a command line clap rejected (so the error can use that format).
fn output_flag(args: &[String]) -> Option<Format> {
    let mut value = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--output" {
            value = it.next().map(String::as_str);
        } else if let Some(v) = a.strip_prefix("--output=") {
            value = Some(v);
        }
    }
    value.and_then(|v| <Format as clap::ValueEnum>::from_str(v, false).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn output_flag_found_in_raw_args() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            output_flag(&a(&["strata", "--output", "json", "x"])),
            Some(Format::Json)
        );
        assert_eq!(
            output_flag(&a(&["strata", "x", "--output=table"])),
            Some(Format::Table)
        );
        assert_eq!(output_flag(&a(&["strata", "x"])), None);
        assert_eq!(
            output_flag(&a(&["strata", "--output", "jsonl"])),
            Some(Format::Jsonl)
        );
        assert_eq!(output_flag(&a(&["strata", "--output=csv"])), Some(Format::Csv));
        assert_eq!(output_flag(&a(&["strata", "--output=xml"])), None);
    }
}
