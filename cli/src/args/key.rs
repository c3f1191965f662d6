//! `strata key status|check|rotate|enable-cmk`: the account's customer key (not the vault's keys,
//! which are `vault_key`). Arguments only; `commands::key` asks the account.

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::key;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum AccountKeyCommand {
    /// The configured key, the key id in use, the identity and the state (active or revoked).
    #[command(after_help = "Example:\n  strata key status")]
    Status,
    /// Unwrap the customer key again now: restores a revoked account, or revokes it (403.x).
    #[command(after_help = "Example:\n  strata key check")]
    Check,
    /// Re-wrap the data key under the newest enabled version of the key (or --to another key);
    /// with --container, the data key of a container that has its own key.
    #[command(after_help = "Examples:\n  strata key rotate\n  \
                            strata key rotate --to https://local.vault.local/keys/other-key\n  \
                            strata key rotate --container sales/ledger")]
    Rotate {
        /// Another key URI to rotate to.
        #[arg(long, value_name = "KEY_URI")]
        to: Option<String>,
        /// A container with its own customer key (`container create --cmk`), as DB/CONT.
        #[arg(long, value_name = "DB/CONT")]
        container: Option<String>,
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

impl AccountKeyCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            AccountKeyCommand::Status => key::status(g),
            AccountKeyCommand::Check => key::check(g),
            AccountKeyCommand::Rotate { to, container } => {
                key::rotate(g, to.as_deref(), container.as_deref())
            }
            AccountKeyCommand::EnableCmk { key_uri, no_wait } => key::enable_cmk(g, key_uri, *no_wait),
        }
    }
}
