//! `strata vault key ...` (create, list, enable/disable, delete, recover customer-managed keys),
//! `strata vault policy ...` (access policies) and `strata vault audit` for the local key vault
//! under --home. Asks the vault only; never sees key material.

use serde_json::Value;
use strata_engine::{key_size_warning, AuditFilter, LocalVault, Permission};

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
        .field("keyUri", uri.to_string())
        .opt_field("warning", key_size_warning(bits)))
}

/// `vault key rotate NAME`: a new version now, the size of the newest one.
pub fn rotate(g: &Globals, name: &str) -> CliResult<Report> {
    let uri = vault(g)?.rotate_key(name)?;
    Ok(Report::new(201)
        .field("name", name)
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

/// `vault policy set PRINCIPAL --permissions LIST`: replaces the principal's permissions.
pub fn policy_set(g: &Globals, principal: &str, permissions: &str) -> CliResult<Report> {
    let who = super::identity::principal(g, principal)?;
    let perms = Permission::parse_list(permissions)?;
    strata_engine::Identities::new(&g.account_options().home).require(&who)?;
    vault(g)?.set_policy(&who, &perms)?;
    Ok(Report::new(200)
        .field("principal", who.to_string())
        .field("permissions", join(&perms)))
}

/// `vault policy remove PRINCIPAL`: takes every permission away (a revocation).
pub fn policy_remove(g: &Globals, principal: &str) -> CliResult<Report> {
    let who = super::identity::principal(g, principal)?;
    vault(g)?.remove_policy(&who)?;
    Ok(Report::new(200)
        .field("principal", who.to_string())
        .field("removed", true))
}

/// `vault policy list`: every principal with its permissions.
pub fn policy_list(g: &Globals) -> CliResult<Report> {
    let rows = vault(g)?
        .policies()?
        .into_iter()
        .map(|(who, perms)| vec![Value::from(who.to_string()), Value::from(join(&perms))])
        .collect();
    Ok(Report::new(200).list("policies", vec!["principal", "permissions"], rows))
}

/// `vault audit [--key NAME] [--version V] [--since UNIXTIME]`: the audit log, oldest first.
pub fn audit(g: &Globals, filter: AuditFilter) -> CliResult<Report> {
    let rows = vault(g)?
        .audit_log(&filter)?
        .into_iter()
        .map(|e| {
            vec![
                Value::from(e.time),
                Value::from(e.caller),
                Value::from(e.operation),
                Value::from(e.key),
                Value::from(e.version),
                Value::from(e.status),
                Value::from(e.sub_status),
            ]
        })
        .collect();
    Ok(Report::new(200).list(
        "entries",
        vec![
            "time",
            "caller",
            "operation",
            "key",
            "version",
            "status",
            "subStatus",
        ],
        rows,
    ))
}

fn join(perms: &[Permission]) -> String {
    perms.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}
