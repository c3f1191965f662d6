//! `strata vault key ...`: the flags of managing customer-managed RSA keys (create, list, show,
//! enable/disable, set-attributes, rotate, rotation-policy, delete, recover, purge, backup,
//! restore) and the accepted key sizes. Arguments only; `commands::vault` asks the vault.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::vault;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
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

impl KeyCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            KeyCommand::Create { name, size } => vault::create(g, name, *size),
            KeyCommand::List => vault::list(g),
            KeyCommand::Show { name } => vault::show_key(g, name),
            // `--off` is the absence of `--every-days` (clap makes one of them required).
            KeyCommand::RotationPolicy {
                name,
                every_days,
                off: _,
            } => vault::rotation_policy(g, name, *every_days),
            KeyCommand::Disable { name, version } => vault::set_enabled(g, name, version.as_deref(), false),
            KeyCommand::Enable { name, version } => vault::set_enabled(g, name, version.as_deref(), true),
            KeyCommand::Delete { name } => vault::delete(g, name),
            KeyCommand::Recover { name } => vault::recover(g, name),
            KeyCommand::Rotate { name } => vault::rotate(g, name),
            KeyCommand::SetAttributes {
                name,
                version,
                nbf,
                exp,
            } => vault::set_attributes(g, name, version.as_deref(), *nbf, *exp),
            KeyCommand::Purge { name } => vault::purge(g, name),
            KeyCommand::Backup { name, out } => vault::backup(g, name, out),
            KeyCommand::Restore { file } => vault::restore(g, file),
        }
    }
}

/// `--size`: the RSA sizes the vault makes.
fn key_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n @ (2048 | 3072 | 4096)) => Ok(n),
        _ => Err("must be 2048, 3072 or 4096".to_string()),
    }
}
