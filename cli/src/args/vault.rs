//! `strata vault create|show|update|audit` and the `vault key|policy|role` groups (their flags in
//! `vault_key` and `vault_access`): the vault's properties and audit log. Arguments only; the
//! vault is asked by `commands::vault`.

use clap::Subcommand;
use strata_engine::AuditFilter;

use super::shared::Globals;
use super::vault_access::{PolicyCommand, RoleCommand};
use super::vault_key::KeyCommand;
use crate::commands::vault;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum VaultCommand {
    /// Create a named vault under <home>/vaults/NAME (soft delete is always on), its keys in files
    /// there or, with --pkcs11-module, in a PKCS#11 token (an HSM).
    #[command(
        after_help = "Examples:\n  strata vault create team --purge-protection --retention-days 30\n  \
                      strata vault create hsm --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token \
                      strata --pin-env STRATA_TOKEN_PIN --purge-protection\n\nWith --pkcs11-module the \
                      key pairs are generated in the token, non-extractable; the token's user PIN is \
                      read from the environment variable --pin-env names, at every use, and never \
                      written."
    )]
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
        /// Keep the vault's keys in a PKCS#11 token: the module's absolute path.
        #[arg(long, value_name = "PATH", requires_all = ["token", "pin_env"])]
        pkcs11_module: Option<std::path::PathBuf>,
        /// The label of the token (with --pkcs11-module).
        #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
        token: Option<String>,
        /// The environment variable holding the token's user PIN (with --pkcs11-module).
        #[arg(long, value_name = "VAR", requires = "pkcs11_module")]
        pin_env: Option<String>,
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

impl VaultCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            VaultCommand::Create {
                name,
                tenant,
                purge_protection,
                retention_days,
                network,
                pkcs11_module,
                token,
                pin_env,
            } => vault::create_vault(
                g,
                name,
                tenant.as_deref(),
                *purge_protection,
                *retention_days,
                network,
                pkcs11_module.as_deref().map(|m| {
                    (
                        m,
                        token.as_deref().unwrap_or(""),
                        pin_env.as_deref().unwrap_or(""),
                    )
                }),
            ),
            VaultCommand::Show => vault::show_vault(g),
            VaultCommand::Update {
                purge_protection,
                permission_model,
            } => vault::update_vault(g, *purge_protection, permission_model.as_deref()),
            VaultCommand::Key { command } => command.run(g),
            VaultCommand::Policy { command } => command.run(g),
            VaultCommand::Role { command } => command.run(g),
            VaultCommand::Audit { key, version, since } => vault::audit(
                g,
                AuditFilter {
                    key: key.clone(),
                    version: version.clone(),
                    since: *since,
                },
            ),
        }
    }
}
