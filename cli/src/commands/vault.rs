//! `strata vault create|show|update` (vault properties and permission model), `strata vault key
//! ...` (create, list, show, enable/disable, set-attributes, rotate, rotation-policy, delete,
//! recover, purge customer-managed keys), `strata vault policy ...` (access policies), `strata
//! vault role ...` (role assignments) and `strata vault audit` for the local key vault under
//! --home. Asks the vault only; never sees key material.

use serde_json::Value;
use strata_engine::vault::Pkcs11Config;
use strata_engine::vault::VaultHome;
use strata_engine::{
    key_size_warning, AuditFilter, Error, LocalVault, NetworkAccess, Permission, PermissionModel, Role,
    VaultProperties,
};

use crate::args::Globals;
use crate::error::CliResult;
use crate::output::Report;

/// The home's vaults (`--home`): where `--vault NAME` and `vault create` find them.
fn home(g: &Globals) -> VaultHome {
    VaultHome::new(g.account_options().home)
}

/// The vault `--vault NAME` names (404 if it was never created), else the default vault.
fn vault(g: &Globals) -> CliResult<LocalVault> {
    Ok(home(g).open_local(g.vault.as_deref())?)
}

/// `vault create NAME [--tenant T] [--purge-protection] [--retention-days N] [--network N]
/// [--pkcs11-module PATH --token LABEL --pin-env VAR]`; a vault of a tenant this home already has
/// shares that tenant's backup secret. `pkcs11` is (module, token label, PIN variable).
pub fn create_vault(
    g: &Globals,
    name: &str,
    tenant: Option<&str>,
    purge_protection: bool,
    retention_days: u32,
    network: &str,
    pkcs11: Option<(&std::path::Path, &str, &str)>,
) -> CliResult<Report> {
    VaultHome::check_new_name(name)?;
    let props = VaultProperties {
        tenant_id: tenant.map(str::to_string),
        retention_days,
        purge_protection,
        network: NetworkAccess::parse(network)?,
    };
    let token = pkcs11
        .map(|(module, label, pin_env)| Pkcs11Config::new(module, label, pin_env))
        .transpose()?;
    let v = home(g).create_held(name, &props, token.as_ref())?;
    properties(Report::new(201), &v)
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
    properties(Report::new(200), &vault(g)?)
}

/// `vault update [--vault NAME] [--purge-protection] [--permission-model MODEL]`: turns purge
/// protection on (never off) and/or switches the permission model.
pub fn update_vault(
    g: &Globals,
    purge_protection: bool,
    permission_model: Option<&str>,
) -> CliResult<Report> {
    let model = permission_model.map(PermissionModel::parse).transpose()?;
    if !purge_protection && model.is_none() {
        return Err(Error::BadRequest(
            "nothing to update; the vault properties that can change are --purge-protection (on; it \
             cannot be turned off) and --permission-model access-policy|rbac"
                .into(),
        )
        .into());
    }
    let mut v = vault(g)?;
    if purge_protection {
        v.enable_purge_protection()?;
    }
    let mut warning = None;
    if let Some(m) = model {
        v.set_permission_model(m)?;
        if m == PermissionModel::Rbac && v.role_assignments()?.is_empty() {
            warning = Some(
                "the vault now uses role-based access control and has no role assignment: every \
                 identity is refused until one is assigned (`strata vault role assign \"Key Vault \
                 Crypto Service Encryption User\" first-party`)",
            );
        }
    }
    Ok(properties(Report::new(200), &v)?.opt_field("warning", warning))
}

fn properties(r: Report, v: &LocalVault) -> CliResult<Report> {
    let token = v.token()?;
    Ok(r.field("name", v.name())
        .field("tenantId", v.tenant_id())
        .field("softDelete", true)
        .field("retentionDays", v.retention_days())
        .field("purgeProtection", v.purge_protection())
        .field("network", v.network().as_str())
        .field("permissionModel", v.permission_model()?.as_str())
        .field("dir", v.dir().display().to_string())
        .field("keyHolder", if token.is_some() { "pkcs11" } else { "files" })
        .opt_field(
            "pkcs11Module",
            token.as_ref().map(|t| t.module.display().to_string()),
        )
        .opt_field("token", token.as_ref().map(|t| t.token.clone()))
        .opt_field("pinEnv", token.map(|t| t.pin_env)))
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

/// `vault key show NAME`: the key's versions (oldest first), its newest version and its rotation
/// policy. Like every use of the vault, runs a due autorotation first.
pub fn show_key(g: &Globals, name: &str) -> CliResult<Report> {
    let v = vault(g)?;
    let versions: Vec<_> = v.list_keys()?.into_iter().filter(|k| k.name == name).collect();
    let Some(newest) = versions.last() else {
        return Err(Error::NotFound(format!(
            "key {name} not found in vault {}; list the keys with `strata vault key list`",
            v.name()
        ))
        .into());
    };
    let policy = v.rotation_policy(name)?;
    let rows = versions
        .iter()
        .map(|k| {
            vec![
                Value::from(k.version.clone()),
                Value::from(k.bits),
                Value::from(k.enabled),
                Value::from(k.created),
                Value::from(k.nbf),
                Value::from(k.exp),
            ]
        })
        .collect();
    Ok(Report::new(200)
        .field("name", name)
        .field("deleted", newest.deleted)
        .field("keyUri", newest.uri.without_version().to_string())
        .field("newestVersion", newest.version.clone())
        .field("rotationEveryDays", policy.as_ref().map(|p| p.every_days))
        .field("nextRotation", policy.as_ref().map(|p| p.next_rotation))
        .list(
            "versions",
            vec!["version", "bits", "enabled", "created", "nbf", "exp"],
            rows,
        ))
}

/// `vault key rotation-policy NAME --every-days N | --off`: sets or removes autorotation.
pub fn rotation_policy(g: &Globals, name: &str, every_days: Option<u32>) -> CliResult<Report> {
    let policy = vault(g)?.set_rotation_policy(name, every_days)?;
    Ok(Report::new(200)
        .field("name", name)
        .field("rotationEveryDays", policy.as_ref().map(|p| p.every_days))
        .field("nextRotation", policy.as_ref().map(|p| p.next_rotation)))
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

/// `vault role assign ROLE PRINCIPAL [--key NAME]`: a role at vault (or key) scope; rbac only.
pub fn role_assign(g: &Globals, role: &str, principal: &str, key: Option<&str>) -> CliResult<Report> {
    let role = Role::parse(role)?;
    let who = super::identity::principal(g, principal)?;
    strata_engine::Identities::new(&g.account_options().home).require(&who)?;
    let a = vault(g)?.assign_role(role, &who, key)?;
    Ok(Report::new(200)
        .field("principal", who.to_string())
        .field("role", role.as_str())
        .field("scope", a.scope())
        .field("permissions", join(role.permissions())))
}

/// `vault role remove ROLE PRINCIPAL [--key NAME]`: removes one assignment (a revocation).
pub fn role_remove(g: &Globals, role: &str, principal: &str, key: Option<&str>) -> CliResult<Report> {
    let role = Role::parse(role)?;
    let who = super::identity::principal(g, principal)?;
    vault(g)?.remove_role(role, &who, key)?;
    Ok(Report::new(200)
        .field("principal", who.to_string())
        .field("role", role.as_str())
        .field("scope", key.map_or("/".to_string(), |k| format!("/keys/{k}")))
        .field("removed", true))
}

/// `vault role list`: the permission model and every role assignment.
pub fn role_list(g: &Globals) -> CliResult<Report> {
    let v = vault(g)?;
    let rows = v
        .role_assignments()?
        .into_iter()
        .map(|a| {
            vec![
                Value::from(a.principal.to_string()),
                Value::from(a.role.as_str()),
                Value::from(a.scope()),
                Value::from(join(a.role.permissions())),
            ]
        })
        .collect();
    Ok(Report::new(200)
        .field("permissionModel", v.permission_model()?.as_str())
        .list(
            "assignments",
            vec!["principal", "role", "scope", "permissions"],
            rows,
        ))
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
