//! `strata identity ...`: user-assigned managed identities under --home, and turning a principal
//! as written on the command line (`first-party`, `system`, `system:ACCOUNT`, `user:NAME`) into
//! an engine `Principal`. Asks the engine only.

use serde_json::Value;
use strata_engine::{Account, Identities, Principal};

use crate::args::Globals;
use crate::error::CliResult;
use crate::output::Report;

/// `identity create NAME`: a new user-assigned identity, `user:NAME`.
pub fn create(g: &Globals, name: &str) -> CliResult<Report> {
    let id = Identities::new(&g.account_options().home).create(name)?;
    Ok(Report::new(201)
        .field("principal", format!("user:{}", id.name))
        .field("created", id.created))
}

/// `identity list`: every user-assigned identity.
pub fn list(g: &Globals) -> CliResult<Report> {
    let ids = Identities::new(&g.account_options().home).list()?;
    let rows = ids
        .into_iter()
        .map(|i| vec![Value::from(format!("user:{}", i.name)), Value::from(i.created)])
        .collect();
    Ok(Report::new(200).list("identities", vec!["principal", "created"], rows))
}

/// A principal from the command line; a bare `system` means the account in --data (its name is
/// read with the service key only, so this works while the customer key is unavailable).
pub fn principal(g: &Globals, s: &str) -> CliResult<Principal> {
    let account = if s == "system" {
        Some(Account::name_at(&g.account_options())?)
    } else {
        None
    };
    Ok(Principal::parse(s, account.as_deref())?)
}
