//! `strata init` (create the account in --data) and opening an existing account for the other
//! commands. Owns the hints shown when no account exists; must not touch files itself.

use strata_engine::vault::{ServiceKey, VaultHome};
use strata_engine::{Account, Encryption, Error, KeyUri, Principal};

use crate::args::Globals;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// `strata init --account NAME [--cmk KEY_URI] [--identity first-party|system|user:NAME]`:
/// service-managed keys unless `--cmk` is given; the vault is called as the identity.
/// With `--smk-pkcs11-vault VAULT` the home's service key is created encrypted by that vault's
/// PKCS#11 token first (docs/keys.md#pkcs11-backend).
pub fn init(
    g: &Globals,
    name: &str,
    cmk: Option<&str>,
    identity: &str,
    smk_vault: Option<&str>,
) -> CliResult<Report> {
    let opts = g.account_options();
    let identity = Principal::parse(identity, Some(name))?;
    let encryption = match cmk {
        // Parse first so a malformed URI is a 400 before anything is written.
        Some(uri) => Encryption::CustomerManaged {
            key_uri: KeyUri::parse(uri)?.to_string(),
        },
        None => Encryption::ServiceManaged,
    };
    let data_dir = opts.data_dir.display().to_string();
    let home = opts.home.display().to_string();
    if let Some(vault) = smk_vault {
        let token = VaultHome::new(&opts.home)
            .open_local(Some(vault))?
            .token()?
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "vault {vault} keeps its keys in files, not in a PKCS#11 token; make a token vault \
                 with `strata vault create NAME --pkcs11-module PATH --token LABEL --pin-env VAR`"
                ))
            })?;
        ServiceKey::create_in_token(&opts.service_dir(), &token)?;
    }
    let account = Account::create_with_identity(opts, name, encryption, identity)?;
    let (mode, key_uri) = describe(&account.encryption());
    Ok(Report::new(201)
        .field("account", account.name())
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .field("identity", account.default_identity()?.to_string())
        .field("dataDir", data_dir)
        .field("home", home)
        .opt_field("serviceKeyVault", smk_vault))
}

/// `account set-identity PRINCIPAL`: the identity the account calls the vault as from now on.
/// Works without opening the account, so it also works once the old identity lost access.
pub fn set_identity(g: &Globals, principal: &str) -> CliResult<Report> {
    let opts = g.account_options();
    let name = Account::name_at(&opts)?;
    let who = Principal::parse(principal, Some(&name))?;
    Account::set_default_identity_at(&opts, who.clone())?;
    Ok(Report::new(200)
        .field("account", name)
        .field("identity", who.to_string()))
}

/// Opens the account in --data for a command that needs one.
pub fn open(g: &Globals) -> CliResult<Account> {
    open_with(g, g.account_options())
}

/// Opens the account for one query page: the process exits after it, so no result is spilled
/// for later pages (the next process's open would remove the spill unread; docs/query.md).
pub fn open_for_one_page(g: &Globals) -> CliResult<Account> {
    open_with(g, g.account_options().query_spills(false))
}

fn open_with(g: &Globals, opts: strata_engine::AccountOptions) -> CliResult<Account> {
    let account = Account::open(opts).map_err(|e| with_init_hint(g, e.into()))?;
    if g.stats {
        crate::session::remember(&account);
    }
    Ok(account)
}

/// A 404 for a missing account, with the command that creates one.
pub fn with_init_hint(g: &Globals, err: CliError) -> CliError {
    if err.status == 404 && !err.message.contains("strata init") {
        let data_dir = g.data.display();
        err.with_hint(format!(
            "create one with `strata --data {data_dir} init --account NAME`"
        ))
    } else {
        err
    }
}

/// ("service-managed" | "customer-managed", the key URI for CMK).
pub fn describe(enc: &Encryption) -> (&'static str, Option<String>) {
    match enc {
        Encryption::ServiceManaged => ("service-managed", None),
        Encryption::CustomerManaged { key_uri } => ("customer-managed", Some(key_uri.clone())),
    }
}
