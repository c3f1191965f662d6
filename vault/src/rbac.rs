//! Role-based access control of the local vault, the second of a cloud key vault's two permission
//! models: the model a vault uses (`PermissionModel`, recorded in vault.json), the built-in roles
//! and what they grant, and role assignments (principal -> role, at vault or key scope). Pure
//! values and the RBAC decision; no I/O (assignments are stored in access.json by access.rs, the
//! model in vault.json by local.rs). See docs/keys.md#role-based-access-control.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::permission::Permission;
use super::principal::Principal;
use crate::error::{substatus, Error, Result};

/// Which permission model a vault enforces; exactly one is active at a time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermissionModel {
    /// Access policies: principal -> permissions (the default, and what a vault.json written
    /// before the model existed reads as).
    #[default]
    AccessPolicy,
    /// Role-based access control: principal -> roles; access policies are ignored.
    Rbac,
}

impl PermissionModel {
    /// Parses `access-policy` (or `accessPolicy`) or `rbac` (400 otherwise).
    pub fn parse(s: &str) -> Result<PermissionModel> {
        match s {
            "access-policy" | "accessPolicy" => Ok(PermissionModel::AccessPolicy),
            "rbac" => Ok(PermissionModel::Rbac),
            other => Err(Error::BadRequest(format!(
                "permission model {:?} is not known; use access-policy or rbac",
                other.chars().take(50).collect::<String>()
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionModel::AccessPolicy => "access-policy",
            PermissionModel::Rbac => "rbac",
        }
    }
}

impl fmt::Display for PermissionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A built-in key vault role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Every data-plane permission (get, list, wrapKey, unwrapKey) plus key management.
    #[serde(rename = "Key Vault Administrator")]
    Administrator,
    /// get, wrapKey and unwrapKey: what a service encrypting with a customer key needs.
    #[serde(rename = "Key Vault Crypto Service Encryption User")]
    CryptoServiceEncryptionUser,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Administrator, Role::CryptoServiceEncryptionUser];

    /// The role's name, as in a cloud key vault and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "Key Vault Administrator",
            Role::CryptoServiceEncryptionUser => "Key Vault Crypto Service Encryption User",
        }
    }

    /// Parses a role name, ignoring ASCII case (400 naming the roles otherwise).
    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "role {:?} is not known; use \"Key Vault Administrator\" or \"Key Vault Crypto \
                     Service Encryption User\"",
                    s.chars().take(60).collect::<String>()
                ))
            })
    }

    /// The data-plane permissions the role grants.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Administrator => &Permission::ALL,
            Role::CryptoServiceEncryptionUser => {
                &[Permission::Get, Permission::WrapKey, Permission::UnwrapKey]
            }
        }
    }

    /// The narrowest role that grants `perm` (for the hint in a refusal).
    fn narrowest_for(perm: Permission) -> Role {
        if Role::CryptoServiceEncryptionUser.permissions().contains(&perm) {
            Role::CryptoServiceEncryptionUser
        } else {
            Role::Administrator
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One role given to one principal, on the whole vault (`key: None`) or on one key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub principal: Principal,
    pub role: Role,
    /// The key the assignment is scoped to; `None`: every key of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl RoleAssignment {
    /// The scope as a cloud vault writes it: `/` for the vault, `/keys/<name>` for one key.
    pub fn scope(&self) -> String {
        match &self.key {
            None => "/".to_string(),
            Some(k) => format!("/keys/{k}"),
        }
    }

    /// Whether this assignment gives `who` the permission `perm` on `key` (`None`: an operation
    /// on the vault as a whole, such as list, which only a vault-scoped assignment covers).
    fn grants(&self, who: &Principal, perm: Permission, key: Option<&str>) -> bool {
        let in_scope = match (&self.key, key) {
            (None, _) => true,
            (Some(scoped), Some(k)) => scoped == k,
            (Some(_), None) => false,
        };
        &self.principal == who && in_scope && self.role.permissions().contains(&perm)
    }
}

/// 403.4002 unless one of `assignments` grants `who` the permission `perm` on `key`; the message
/// names the permission, the model and the `strata vault role assign` command that grants it.
pub(crate) fn check(
    vault: &str,
    assignments: &[RoleAssignment],
    who: &Principal,
    perm: Permission,
    key: Option<&str>,
) -> Result<()> {
    if assignments.iter().any(|a| a.grants(who, perm, key)) {
        return Ok(());
    }
    let role = Role::narrowest_for(perm);
    let on = key.map_or(String::new(), |k| format!(" for key {k}"));
    Err(Error::vault(
        substatus::KEY_VAULT_ACCESS,
        format!(
            "principal {who} does not have the {perm} permission{on} on key vault {vault}: the \
             vault uses role-based access control (access policies are ignored) and no role \
             assigned to {who} grants {perm}; grant it with `strata vault role assign \"{role}\" \
             {who}`"
        ),
    ))
}

/// 400 unless the vault uses `want`; `what` is the refused operation, `instead` what to do.
pub(crate) fn require_model(vault: &str, active: PermissionModel, want: PermissionModel) -> Result<()> {
    if active == want {
        return Ok(());
    }
    let why = match active {
        PermissionModel::Rbac => format!(
            "key vault {vault} uses the rbac permission model (role-based access control), so \
             access policies are ignored and cannot be changed; assign a role with `strata vault \
             role assign ROLE PRINCIPAL`, or switch the vault to access policies with `strata \
             vault update --permission-model access-policy`"
        ),
        PermissionModel::AccessPolicy => format!(
            "key vault {vault} uses the access-policy permission model, so role assignments are \
             ignored and cannot be changed; set an access policy with `strata vault policy set \
             PRINCIPAL --permissions ...`, or switch the vault to role-based access control with \
             `strata vault update --permission-model rbac`"
        ),
    };
    Err(Error::BadRequest(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_grant_exactly_their_permissions() {
        assert_eq!(
            Role::parse("key vault administrator").unwrap(),
            Role::Administrator
        );
        assert_eq!(
            Role::parse("Key Vault Crypto Service Encryption User").unwrap(),
            Role::CryptoServiceEncryptionUser
        );
        for bad in ["", "Owner", "Key Vault Reader"] {
            assert_eq!(Role::parse(bad).unwrap_err().status(), 400, "{bad}");
        }
        let json = serde_json::to_string(&Role::CryptoServiceEncryptionUser).unwrap();
        assert_eq!(json, "\"Key Vault Crypto Service Encryption User\"");
        assert_eq!(Role::Administrator.permissions(), &Permission::ALL);
        assert!(!Role::CryptoServiceEncryptionUser
            .permissions()
            .contains(&Permission::List));
    }

    #[test]
    fn models_parse_and_default_to_access_policy() {
        assert_eq!(PermissionModel::default(), PermissionModel::AccessPolicy);
        for m in [PermissionModel::AccessPolicy, PermissionModel::Rbac] {
            assert_eq!(PermissionModel::parse(m.as_str()).unwrap(), m);
        }
        assert_eq!(
            PermissionModel::parse("accessPolicy").unwrap(),
            PermissionModel::AccessPolicy
        );
        assert_eq!(PermissionModel::parse("RBAC").unwrap_err().status(), 400);
    }

    #[test]
    fn scoped_assignments_cover_only_their_key() {
        let ops = Principal::User("ops".into());
        let a = vec![RoleAssignment {
            principal: ops.clone(),
            role: Role::CryptoServiceEncryptionUser,
            key: Some("cmk".into()),
        }];
        check("v", &a, &ops, Permission::UnwrapKey, Some("cmk")).unwrap();
        let e = check("v", &a, &ops, Permission::UnwrapKey, Some("other")).unwrap_err();
        assert_eq!((e.status(), e.substatus()), (403, 4002));
        assert!(e
            .to_string()
            .contains("strata vault role assign \"Key Vault Crypto Service Encryption User\" user:ops"));
        let e = check("v", &a, &ops, Permission::List, None).unwrap_err();
        assert!(e.to_string().contains("\"Key Vault Administrator\""), "{e}");
        assert!(check("v", &a, &Principal::FirstParty, Permission::Get, Some("cmk")).is_err());
    }
}
