//! `strata init` (create the account in --data) and `strata account set-identity`: their flags,
//! handed to `commands::account`. Arguments only; no engine calls.

use clap::{Args, Subcommand};

use super::shared::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Args, Debug)]
pub struct InitCommand {
    /// Account name.
    #[arg(long, value_name = "NAME")]
    account: String,
    /// Customer-managed key URI from `strata vault key create`.
    #[arg(long, value_name = "KEY_URI")]
    cmk: Option<String>,
    /// The identity the account calls the vault as: first-party, system or user:NAME.
    #[arg(long, value_name = "PRINCIPAL", default_value = "first-party")]
    identity: String,
    /// Keep this home's service key encrypted by the PKCS#11 token of vault NAME (made with
    /// `vault create NAME --pkcs11-module ...`); for a home that has no service key yet.
    #[arg(long, value_name = "VAULT")]
    smk_pkcs11_vault: Option<String>,
}

impl InitCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        account::init(
            g,
            &self.account,
            self.cmk.as_deref(),
            &self.identity,
            self.smk_pkcs11_vault.as_deref(),
        )
    }
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Call the vault as another identity (first-party, system or user:NAME) from now on.
    #[command(after_help = "Example:\n  strata account set-identity user:etl")]
    SetIdentity { principal: String },
}

impl AccountCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            AccountCommand::SetIdentity { principal } => account::set_identity(g, principal),
        }
    }
}
