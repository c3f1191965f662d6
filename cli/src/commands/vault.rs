//! `strata vault create|show|update` (vault properties), `strata vault key ...` (create, list,
//! enable/disable, set-attributes, delete, recover, purge customer-managed keys),
//! `strata vault policy ...` (access policies) and `strata vault audit` for the local key vault
//! under --home. Asks the vault only; never sees key material.

use serde_json::Value;
use strata_engine::{
    key_size_warning, AuditFilter, Error, LocalVault, NetworkAccess, Permission, VaultProperties,
};

use crate::args::Globals;
use crate::error::CliResult;
use crate::output::Report;

/// The vault `--vault NAME` names (404 if it was never created), else the default vault.
fn vault(g: &Globals) -> CliResult<LocalVault> {
    let opts = g.account_options();
    match g.vault.as_deref() {
        None | Some("local") => Ok(LocalVault::open(&opts.vault_dir())?),
        Some(name) => {
            // Validates the name as a vault name (one DNS label: no path separators).
            strata_engine::KeyUri::new(name, "probe", None)?;
            let dir = opts.named_vault_dir(name);
            if !dir.join("vault.json").exists() {
                return Err(Error::NotFound(format!(
                    "no key vault named {name}; create it with `strata vault create {name}`"
                ))
                .into());
            }
            Ok(LocalVault::open(&dir)?)
        }
    }
}

/// `vault create NAME [--tenant T] [--purge-protection] [--retention-days N] [--network N]`.
pub fn create_vault(
    g: &Globals,
    name: &str,
    tenant: Option<&str>,
    purge_protection: bool,
    retention_days: u32,
    network: &str,
) -> CliResult<Report> {
    if name == "local" {
        return Err(Error::Conflict(
            "the default vault is named local and always exists; choose another name".into(),
        )
        .into());
    }
    let props = VaultProperties {
        tenant_id: tenant.map(str::to_string),
        retention_days,
        purge_protection,
        network: NetworkAccess::parse(network)?,
    };
    let opts = g.account_options();
    let v = LocalVault::create_with(&opts.named_vault_dir(name), name, &props)?;
    // A vault of a tenant this home already has shares that tenant's backup secret.
    if tenant.is_some() {
        if let Some(peer) = peer_of_tenant(&opts, &v)? {
            v.share_tenant_secret(&peer)?;
        }
    }
    Ok(properties(Report::new(201), &v))
}

/// Another existing vault of `v`'s tenant in this home: the default vault, or one in vaults/.
fn peer_of_tenant(opts: &strata_engine::AccountOptions, v: &LocalVault) -> CliResult<Option<LocalVault>> {
    let mut dirs = vec![opts.vault_dir()];
    if let Ok(entries) = std::fs::read_dir(opts.home.join("vaults")) {
        dirs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    for dir in dirs {
        if dir == v.dir() || !dir.join("vault.json").exists() {
            continue;
        }
        let peer = LocalVault::open(&dir)?;
        if peer.tenant_id().eq_ignore_ascii_case(v.tenant_id()) {
            return Ok(Some(peer));
        }
    }
    Ok(None)
}

/// `vault key backup NAME --out FILE`: a protected backup of the key (new file, mode 0600).
pub fn backup(g: &Globals, name: &str, out: &std::path::Path) -> CliResult<Report> {
    let blob = vault(g)?.backup_key(name)?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Conflict(format!(
                "{} exists; choose a new file for the backup",
                out.display()
            ))
        } else {
            Error::BadRequest(format!("cannot create {}: {e}", out.display()))
        }
    })?;
    std::io::Write::write_all(&mut f, &blob)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::BadRequest(format!("cannot write {}: {e}", out.display())))?;
    Ok(Report::new(200)
        .field("name", name)
        .field("file", out.display().to_string())
        .field("bytes", blob.len()))
}

/// `vault key restore FILE`: restores a backup into this vault (same tenant, new name only).
pub fn restore(g: &Globals, file: &std::path::Path) -> CliResult<Report> {
    let blob =
        std::fs::read(file).map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", file.display())))?;
    let uri = vault(g)?.restore_key(&blob)?;
    Ok(Report::new(201)
        .field("name", uri.name())
        .field("keyUri", uri.to_string()))
}

/// `vault show [--vault NAME]`: the vault's properties.
pub fn show_vault(g: &Globals) -> CliResult<Report> {
    Ok(properties(Report::new(200), &vault(g)?))
}

/// `vault update [--vault NAME] --purge-protection`: turns purge protection on (never off).
pub fn update_vault(g: &Globals, purge_protection: bool) -> CliResult<Report> {
    let mut v = vault(g)?;
    if !purge_protection {
        return Err(Error::BadRequest(
            "nothing to update; the only vault property that can change is --purge-protection              (on; it cannot be turned off)"
                .into(),
        )
        .into());
    }
    v.enable_purge_protection()?;
    Ok(properties(Report::new(200), &v))
}

fn properties(r: Report, v: &LocalVault) -> Report {
    r.field("name", v.name())
        .field("tenantId", v.tenant_id())
        .field("softDelete", true)
        .field("retentionDays", v.retention_days())
        .field("purgeProtection", v.purge_protection())
        .field("network", v.network().as_str())
        .field("dir", v.dir().display().to_string())
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
                Value::from(k.nbf),
                Value::from(k.exp),
                Value::from(k.uri.to_string()),
            ]
        })
        .collect();
    Ok(Report::new(200).list(
        "keys",
        vec![
            "name", "version", "bits", "enabled", "deleted", "created", "nbf", "exp", "keyUri",
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

/// `vault key set-attributes NAME [--version V] [--nbf UNIX] [--exp UNIX]` (0 clears a bound).
pub fn set_attributes(
    g: &Globals,
    name: &str,
    version: Option<&str>,
    nbf: Option<u64>,
    exp: Option<u64>,
) -> CliResult<Report> {
    let k = vault(g)?.set_attributes(name, version, nbf, exp)?;
    Ok(Report::new(200)
        .field("name", k.name)
        .field("version", k.version)
        .field("nbf", k.nbf)
        .field("exp", k.exp))
}

/// `vault key purge NAME`: permanently removes a soft-deleted key.
pub fn purge(g: &Globals, name: &str) -> CliResult<Report> {
    vault(g)?.purge_key(name)?;
    Ok(Report::new(200).field("name", name).field("purged", true))
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
