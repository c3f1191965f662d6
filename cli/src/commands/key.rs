//! `strata key ...`: the customer-key lifecycle of the account in --data: status, check (leave
//! or enter the revoked state) and rotate (re-wrap the data key; no data rewritten). Asks the
//! engine only.

use strata_engine::KeyStatus;

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

fn status_report(s: KeyStatus) -> Report {
    Report::new(200)
        .field("encryption", s.encryption)
        .opt_field("keyUri", s.key_uri)
        .opt_field("kid", s.kid)
        .field("identity", s.identity)
        .field("state", s.state)
        .field("lastCheck", s.last_check)
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
pub fn rotate(g: &Globals, to: Option<&str>) -> CliResult<Report> {
    let r = account::open(g)?.rotate_customer_key(to)?;
    Ok(Report::new(200)
        .field("keyUri", r.key_uri)
        .field("previousKid", r.previous_kid)
        .field("kid", r.kid))
}
