//! `strata key ...`: the customer-key lifecycle of the account in --data: status, check (leave
//! or enter the revoked state), rotate (re-wrap the data key; no data rewritten) and enable-cmk
//! (a service-managed account gets a customer key). Asks the engine only.

use strata_engine::KeyStatus;

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

fn status_report(s: KeyStatus) -> Report {
    Report::new(200)
        .field("encryption", s.encryption)
        .opt_field("keyUri", s.key_uri)
        .opt_field("kid", s.kid)
        .field("identity", s.identity)
        .field("state", s.state)
        .field("lastCheck", s.last_check)
        .field("keyInMemory", s.key_in_memory)
        .opt_field(
            "migration",
            s.migration.and_then(|m| serde_json::to_value(m).ok()),
        )
        .opt_field(
            "containers",
            (!s.containers.is_empty())
                .then(|| serde_json::to_value(&s.containers).ok())
                .flatten(),
        )
}

/// `key status`: the configured key, the key id in use, the identity and the state.
pub fn status(g: &Globals) -> CliResult<Report> {
    Ok(status_report(account::open(g)?.key_status()?))
}

/// `key check`: unwraps the customer key again now; 403.x if that fails.
pub fn check(g: &Globals) -> CliResult<Report> {
    Ok(status_report(account::open(g)?.check_key()?))
}

/// `key rotate [--to URI]`: re-wraps the customer data key under the newest enabled version
/// of the configured key, or under another key.
pub fn rotate(g: &Globals, to: Option<&str>, container: Option<&str>) -> CliResult<Report> {
    let account = account::open(g)?;
    let r = match container {
        None => account.rotate_customer_key(to)?,
        Some(scope) => {
            let (db, name) = scope
                .split_once('/')
                .ok_or_else(|| CliError::bad_input(format!("--container {scope:?} is not DB/CONT")))?;
            account.database(db).container(name).rotate_customer_key(to)?
        }
    };
    Ok(Report::new(200)
        .field("keyUri", r.key_uri)
        .field("previousKid", r.previous_kid)
        .field("kid", r.kid))
}

/// `key enable-cmk KEY_URI [--no-wait]`: seals the account under a customer key from now on and
/// re-seals the existing data (before returning, unless `--no-wait`: then it goes on whenever
/// the account is open; `key status` shows how far it is).
pub fn enable_cmk(g: &Globals, key_uri: &str, no_wait: bool) -> CliResult<Report> {
    let account = account::open(g)?;
    let status = account.enable_cmk(key_uri)?;
    let status = if no_wait {
        status
    } else {
        account.finish_cmk_migration()?
    };
    Ok(status_report(status))
}
