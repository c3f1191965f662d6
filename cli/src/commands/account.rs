//! `strata init` (create the account in --data) and opening an existing account for the other
//! commands. Owns the hints shown when no account exists; must not touch files itself.

use strata_engine::{Account, Encryption, KeyUri};

use crate::args::Globals;
use crate::error::CliResult;
use crate::output::Report;

/// `strata init --account NAME [--cmk KEY_URI]`: service-managed keys unless `--cmk` is given.
pub fn init(g: &Globals, name: &str, cmk: Option<&str>) -> CliResult<Report> {
    let opts = g.account_options();
    let encryption = match cmk {
        // Parse first so a malformed URI is a 400 before anything is written.
        Some(uri) => Encryption::CustomerManaged {
            key_uri: KeyUri::parse(uri)?.to_string(),
        },
        None => Encryption::ServiceManaged,
    };
    let data_dir = opts.data_dir.display().to_string();
    let home = opts.home.display().to_string();
    let account = Account::create(opts, name, encryption)?;
    let (mode, key_uri) = describe(&account.encryption());
    Ok(Report::new(201)
        .field("account", account.name())
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .field("dataDir", data_dir)
        .field("home", home))
}

/// Opens the account in --data for a command that needs one.
pub fn open(g: &Globals) -> CliResult<Account> {
    let opts = g.account_options();
    let data_dir = opts.data_dir.display().to_string();
    Account::open(opts).map_err(|e| {
        let err = crate::error::CliError::from(e);
        if err.status == 404 && !err.message.contains("strata init") {
            err.with_hint(format!(
                "create one with `strata --data {data_dir} init --account NAME`"
            ))
        } else {
            err
        }
    })
}

/// ("service-managed" | "customer-managed", the key URI for CMK).
pub fn describe(enc: &Encryption) -> (&'static str, Option<String>) {
    match enc {
        Encryption::ServiceManaged => ("service-managed", None),
        Encryption::CustomerManaged { key_uri } => ("customer-managed", Some(key_uri.clone())),
    }
}
