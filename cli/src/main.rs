//! The `strata` binary: the clap definition of every command and the dispatch to `commands`.
//! Exit code 0 on success, 1 on any failure (printed by `output` as statusCode/subStatus/message).
//! Holds no storage logic; see commands/ for what each command calls in the engine.

mod args;
mod commands;
mod error;
mod output;
mod scan;
mod steps;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

use crate::args::{BodyArgs, Globals, PkArgs};
use crate::commands::item::Write;
use crate::commands::{account, container, db, demo, item, vault};
use crate::error::{CliError, CliResult};
use crate::output::Format;

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
    Demo {
        /// How many items the bulk-load step writes.
        #[arg(long, default_value_t = 2000)]
        items: usize,
        /// Keep the temporary directory afterwards for inspection.
        #[arg(long)]
        keep: bool,
    },
    /// The customer key vault under --home.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Create the account in --data (service-managed key unless --cmk is given).
    Init {
        /// Account name.
        #[arg(long, value_name = "NAME")]
        account: String,
        /// Customer-managed key URI from `strata vault key create`.
        #[arg(long, value_name = "KEY_URI")]
        cmk: Option<String>,
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
}

#[derive(Subcommand, Debug)]
enum VaultCommand {
    /// Customer-managed RSA keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Create a key (or a new version of an existing one); prints its versioned URI.
    Create {
        name: String,
        /// RSA modulus size in bits.
        #[arg(long, default_value_t = 3072, value_parser = key_size)]
        size: usize,
    },
    /// List every version of every key.
    List,
    /// Disable a key (all versions unless --version is given).
    Disable {
        name: String,
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Enable a key (all versions unless --version is given).
    Enable {
        name: String,
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Soft-delete a key (undo with `recover`).
    Delete { name: String },
    /// Recover a soft-deleted key.
    Recover { name: String },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Create a database.
    Create { db: String },
    /// List databases.
    List,
}

#[derive(Subcommand, Debug)]
enum ContainerCommand {
    /// Create a container with its partition-key path.
    Create {
        db: String,
        container: String,
        /// Partition-key path, e.g. /tenant or /address/city.
        #[arg(long, value_name = "PATH")]
        pk: String,
    },
    /// List the containers of a database.
    List { db: String },
}

#[derive(Subcommand, Debug)]
enum ItemCommand {
    /// Create an item (409 if its id exists in its partition).
    Create(WriteArgs),
    /// Create or replace an item.
    Upsert(WriteArgs),
    /// Replace an existing item (404 if missing; 412 if --if-match is stale).
    Replace {
        #[command(flatten)]
        target: WriteArgs,
        /// Only replace if the item's current etag is this one.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
    },
    /// Read an item.
    Get(AddressArgs),
    /// Delete an item (412 if --if-match is stale).
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
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::print_error(format, &err);
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: &Cli) -> CliResult<()> {
    let g = &cli.globals;
    let report = match &cli.command {
        Command::Demo { items, keep } => return demo::run(g, *items, *keep),
        Command::Vault {
            command: VaultCommand::Key { command },
        } => match command {
            KeyCommand::Create { name, size } => vault::create(g, name, *size)?,
            KeyCommand::List => vault::list(g)?,
            KeyCommand::Disable { name, version } => vault::set_enabled(g, name, version.as_deref(), false)?,
            KeyCommand::Enable { name, version } => vault::set_enabled(g, name, version.as_deref(), true)?,
            KeyCommand::Delete { name } => vault::delete(g, name)?,
            KeyCommand::Recover { name } => vault::recover(g, name)?,
        },
        Command::Init { account: name, cmk } => account::init(g, name, cmk.as_deref())?,
        Command::Db { command } => match command {
            DbCommand::Create { db: name } => db::create(g, name)?,
            DbCommand::List => db::list(g)?,
        },
        Command::Container { command } => match command {
            ContainerCommand::Create {
                db,
                container: name,
                pk,
            } => container::create(g, db, name, pk)?,
            ContainerCommand::List { db } => container::list(g, db)?,
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
    output::print(g.format(), &report);
    Ok(())
}

/// A command line clap could not parse: help and version print as usual (exit 0); anything else
/// is a 400 in the usual error shape (JSON) or clap's own explanation (table), exit 1.
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    match Format::resolve(output_flag(&args)) {
        Format::Json => {
            let text = e.render().to_string();
            let message = text.trim().trim_start_matches("error: ").to_string();
            output::print_error(Format::Json, &CliError::bad_input(message));
        }
        Format::Table => {
            // Best effort: if stderr is gone there is nowhere left to report to.
            let _ = e.print();
        }
    }
    ExitCode::FAILURE
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
    match value {
        Some("json") => Some(Format::Json),
        Some("table") => Some(Format::Table),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
    }
}
