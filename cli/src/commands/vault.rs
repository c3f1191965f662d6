//! `strata vault key ...`: create, list, enable/disable, delete and recover customer-managed keys
//! in the local key vault under --home. Asks the vault only; never sees key material.

use serde_json::Value;
use strata_engine::LocalVault;

use crate::args::Globals;
use crate::error::CliResult;
use crate::output::Report;

fn vault(g: &Globals) -> CliResult<LocalVault> {
    Ok(LocalVault::open(&g.account_options().vault_dir())?)
}

/// `vault key create NAME [--size BITS]`: a new key, or a new version of an existing one.
pub fn create(g: &Globals, name: &str, bits: usize) -> CliResult<Report> {
    let uri = vault(g)?.create_key(name, bits)?;
    Ok(Report::new(201)
        .field("name", name)
        .field("bits", bits)
        .field("keyUri", uri.to_string()))
}

/// `vault key list`: every version of every key, with its attributes.
pub fn list(g: &Globals) -> CliResult<Report> {
    let keys = vault(g)?.list_keys()?;
    let rows = keys
        .into_iter()
        .map(|k| {
            vec![
                Value::from(k.name),
                Value::from(k.version),
                Value::from(k.bits),
                Value::from(k.enabled),
                Value::from(k.deleted),
                Value::from(k.created),
                Value::from(k.uri.to_string()),
            ]
        })
        .collect();
    Ok(Report::new(200).list(
        "keys",
        vec![
            "name", "version", "bits", "enabled", "deleted", "created", "keyUri",
        ],
        rows,
    ))
}

/// `vault key enable|disable NAME [--version V]`: all versions unless one is named.
pub fn set_enabled(g: &Globals, name: &str, version: Option<&str>, enabled: bool) -> CliResult<Report> {
    vault(g)?.set_enabled(name, version, enabled)?;
    Ok(Report::new(200)
        .field("name", name)
        .opt_field("version", version)
        .field("enabled", enabled))
}

/// `vault key delete NAME`: soft delete (recoverable with `vault key recover`).
pub fn delete(g: &Globals, name: &str) -> CliResult<Report> {
    vault(g)?.delete_key(name)?;
    Ok(Report::new(200).field("name", name).field("deleted", true))
}

/// `vault key recover NAME`: undoes a soft delete.
pub fn recover(g: &Globals, name: &str) -> CliResult<Report> {
    vault(g)?.recover_key(name)?;
    Ok(Report::new(200).field("name", name).field("deleted", false))
}
