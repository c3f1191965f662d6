//! Access rules of the local vault (`<vault>/access.json`): access policies (principal ->
//! permissions among get, list, wrapKey, unwrapKey, as in a cloud key vault's access-policy model)
//! and role assignments (the RBAC model, see rbac.rs). Which of the two is enforced is recorded in
//! vault.json, not here. Pure data plus load and atomic save; the vault's writer lock serialises
//! changes. See docs/keys.md#access.
//!
//! ```text
//! access.json := meta_file(magic "STRVACL1", version 1, JSON {
//!                  "policies": {principal: [permission]},
//!                  "roleAssignments"?: [{"principal", "role", "key"?}]   (absent when empty)
//!                })
//! ```
//!
//! `roleAssignments` was added without a version change: a file without it reads as no
//! assignments, and a vault that never assigned a role writes the file exactly as before.
//!
//! A vault whose keys live in a PKCS#11 token writes version 2 instead, sealed by the token
//! (key_holder.rs, `Sealer`, context "strata/v1/access"), and accepts nothing else:
//!
//! ```text
//! access.json := meta_file(magic "STRVACL1", version 2, json: bytes | seal: bytes)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::permission::Permission;
use super::principal::Principal;
use super::rbac::RoleAssignment;
use crate::error::{substatus, Error, Result};
use crate::format_version::{VAULT_ACCESS_MAGIC, VAULT_ACCESS_SEALED_VERSION, VAULT_ACCESS_VERSION};
use crate::key_holder::Sealer;
use crate::sealed_doc::{pack, unpack};
use strata_base::meta_file;

pub(crate) const ACCESS_FILE: &str = "access.json";
/// What the seal of a token vault's access.json covers besides the JSON.
const ACCESS_SEAL_CONTEXT: &str = "strata/v1/access";

/// The vault's access policies, keyed by principal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessPolicies {
    pub(crate) policies: BTreeMap<Principal, Vec<Permission>>,
    /// Role assignments, sorted; enforced only while the vault uses the rbac model.
    #[serde(rename = "roleAssignments", default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) role_assignments: Vec<RoleAssignment>,
}

impl AccessPolicies {
    /// What a new vault grants: the first-party identity may get, wrapKey and unwrapKey.
    pub(crate) fn initial() -> AccessPolicies {
        let mut policies = BTreeMap::new();
        policies.insert(
            Principal::FirstParty,
            vec![Permission::Get, Permission::WrapKey, Permission::UnwrapKey],
        );
        AccessPolicies {
            policies,
            role_assignments: Vec::new(),
        }
    }

    /// 403.4002 unless `who` holds `perm`; the message names the permission and how to grant it.
    pub(crate) fn check(&self, vault: &str, who: &Principal, perm: Permission) -> Result<()> {
        if self.policies.get(who).is_some_and(|ps| ps.contains(&perm)) {
            return Ok(());
        }
        Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "principal {who} does not have the {perm} permission on key vault {vault}; grant \
                 it with `strata vault policy set {who} --permissions {}`",
                self.with(who, perm)
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ))
    }

    /// `who`'s current permissions plus `perm`, sorted (for the hint in a refusal).
    fn with(&self, who: &Principal, perm: Permission) -> Vec<Permission> {
        let mut ps = self.policies.get(who).cloned().unwrap_or_default();
        ps.push(perm);
        ps.sort();
        ps.dedup();
        ps
    }

    /// Reads `access.json` and checks its seal (or its absence) with `sealer`; a missing file,
    /// or one whose seal does not match, is corruption (a vault always has one).
    pub(crate) fn read(dir: &Path, sealer: &Sealer<'_>) -> Result<AccessPolicies> {
        let path = dir.join(ACCESS_FILE);
        let Some((version, payload)) = meta_file::read(&path, VAULT_ACCESS_MAGIC)? else {
            return Err(Error::corruption(
                &path,
                0,
                "the vault's access policies are missing; restore access.json from a backup",
            ));
        };
        let damaged = |why: &str| Error::corruption(&path, 20, format!("access policies {why}"));
        let (json, seal) = match version {
            VAULT_ACCESS_VERSION => (payload.as_slice(), None),
            VAULT_ACCESS_SEALED_VERSION => {
                let (json, seal) = unpack(&payload).map_err(|why| damaged(&format!("are damaged: {why}")))?;
                (json, Some(seal))
            }
            _ => {
                return Err(Error::corruption(
                    &path,
                    8,
                    format!("unsupported access policy format version {version}"),
                ))
            }
        };
        if !sealer.verify(ACCESS_SEAL_CONTEXT, json, seal)? {
            return Err(damaged(
                "are not sealed as this vault seals them: the file was changed or replaced outside \
                 Strata; restore access.json from a backup",
            ));
        }
        serde_json::from_slice(json).map_err(|e| damaged(&format!("do not parse: {e}")))
    }

    /// Replaces `access.json` atomically (mode 0600), sealed if `sealer` seals.
    pub(crate) fn write(&self, dir: &Path, sealer: &Sealer<'_>) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("encoding access policies: {e}")))?;
        let (version, payload) = match sealer.seal(ACCESS_SEAL_CONTEXT, &json)? {
            None => (VAULT_ACCESS_VERSION, json),
            Some(seal) => (VAULT_ACCESS_SEALED_VERSION, pack(&json, &seal)),
        };
        Ok(meta_file::write(
            &dir.join(ACCESS_FILE),
            VAULT_ACCESS_MAGIC,
            version,
            &payload,
            true,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_permission_lists() {
        use Permission::*;
        let table: &[(&str, &[Permission])] = &[
            ("get", &[Get]),
            ("unwrapKey,get,wrapKey", &[Get, WrapKey, UnwrapKey]),
            ("get, list ,get", &[Get, List]),
            ("GET,WRAPKEY", &[Get, WrapKey]),
        ];
        for (s, want) in table {
            assert_eq!(&Permission::parse_list(s).unwrap()[..], *want, "{s}");
        }
        for bad in ["", ",", "get,sign", "decrypt"] {
            assert_eq!(Permission::parse_list(bad).unwrap_err().status(), 400, "{bad}");
        }
    }

    #[test]
    fn check_refuses_with_a_grant_hint_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut acl = AccessPolicies::initial();
        acl.check("v", &Principal::FirstParty, Permission::UnwrapKey)
            .unwrap();
        let user = Principal::User("ops".into());
        acl.policies.insert(user.clone(), vec![Permission::Get]);
        let e = acl.check("v", &user, Permission::WrapKey).unwrap_err();
        assert_eq!((e.status(), e.substatus()), (403, substatus::KEY_VAULT_ACCESS));
        let msg = e.to_string();
        assert!(msg.contains("wrapKey permission"), "{msg}");
        assert!(
            msg.contains("strata vault policy set user:ops --permissions get,wrapKey"),
            "{msg}"
        );
        assert!(acl.check("v", &Principal::FirstParty, Permission::List).is_err());

        acl.write(dir.path(), &Sealer::none()).unwrap();
        assert_eq!(AccessPolicies::read(dir.path(), &Sealer::none()).unwrap(), acl);
        let path = dir.path().join(ACCESS_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(AccessPolicies::read(dir.path(), &Sealer::none())
            .unwrap_err()
            .is_corruption());
        std::fs::remove_file(&path).unwrap();
        assert!(AccessPolicies::read(dir.path(), &Sealer::none())
            .unwrap_err()
            .is_corruption());
    }
}
