//! `strata vault policy set|remove|list` and `strata vault role assign|remove|list`: who may use
//! the vault's keys, under each permission model. Arguments only; `commands::vault` asks the
//! vault.

use clap::Subcommand;

use super::shared::Globals;
use crate::commands::vault;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
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

impl PolicyCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            PolicyCommand::Set {
                principal,
                permissions,
            } => vault::policy_set(g, principal, permissions),
            PolicyCommand::Remove { principal } => vault::policy_remove(g, principal),
            PolicyCommand::List => vault::policy_list(g),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
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

impl RoleCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            RoleCommand::Assign { role, principal, key } => {
                vault::role_assign(g, role, principal, key.as_deref())
            }
            RoleCommand::Remove { role, principal, key } => {
                vault::role_remove(g, role, principal, key.as_deref())
            }
            RoleCommand::List => vault::role_list(g),
        }
    }
}
