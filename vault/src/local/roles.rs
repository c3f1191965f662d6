//! The local vault owner's role-based access management: which permission model the vault
//! enforces (vault.json), and role assignments (access.json), which may be changed only while the
//! vault uses the rbac model (400 otherwise). Changes are serialised by the writer lock and
//! audited with caller `owner`. Enforcement is not here: it is `check_access` in data_plane.rs.
//! Thread-safe. See docs/keys.md#role-based-access-control.

use super::{write_meta, LocalVault, OWNER};
use crate::error::{Error, Result};
use crate::rbac::{require_model, PermissionModel, Role, RoleAssignment};
use crate::Principal;

impl LocalVault {
    /// The permission model the vault enforces now (read from vault.json on every call, so a
    /// switch made through another handle is seen at once).
    pub fn permission_model(&self) -> Result<PermissionModel> {
        Ok(self.read_meta()?.permission_model)
    }

    /// Switches the vault to `model`. The rules of the other model are kept, unused, and apply
    /// again if the vault is switched back. Switching to rbac with no role assignment revokes
    /// every principal at its next call; that is the owner's decision. Audited as
    /// `setPermissionModel` with the model in the entry's key field.
    pub fn set_permission_model(&self, model: PermissionModel) -> Result<()> {
        let res = (|| {
            let _w = self.lock();
            let mut meta = self.read_meta()?;
            if meta.permission_model != model {
                meta.permission_model = model;
                write_meta(&self.dir, &meta, &self.sealer())?;
            }
            Ok(())
        })();
        self.audited(OWNER, "setPermissionModel", Some(model.as_str()), None, 200, res)
    }

    /// Assigns `role` to `who` on the whole vault (`key: None`) or on one key. 400 unless the vault
    /// uses rbac; 409 if that exact assignment exists. A key-scoped assignment may name a key
    /// that does not exist yet (as a cloud scope may), but not an invalid key name.
    pub fn assign_role(&self, role: Role, who: &Principal, key: Option<&str>) -> Result<RoleAssignment> {
        let res = (|| {
            if let Some(k) = key {
                crate::key_uri::check_key_name(k).map_err(Error::BadRequest)?;
            }
            let _w = self.lock();
            require_model(
                &self.name,
                self.read_meta()?.permission_model,
                PermissionModel::Rbac,
            )?;
            let mut rules = self.access()?;
            let a = RoleAssignment {
                principal: who.clone(),
                role,
                key: key.map(str::to_string),
            };
            if rules.role_assignments.contains(&a) {
                return Err(Error::Conflict(format!(
                    "principal {who} has the role \"{role}\" at scope {} of key vault {} already; \
                     list the assignments with `strata vault role list`",
                    a.scope(),
                    self.name
                )));
            }
            rules.role_assignments.push(a.clone());
            rules.role_assignments.sort();
            rules.write(&self.dir, &self.sealer())?;
            Ok(a)
        })();
        let who = who.to_string();
        self.audited(OWNER, "assignRole", Some(&who), None, 200, res)
    }

    /// Removes the assignment of `role` to `who` at that scope (a revocation: accounts calling as
    /// `who` lose what it granted at their next key check). 400 unless the vault uses rbac; 404
    /// if there is no such assignment.
    pub fn remove_role(&self, role: Role, who: &Principal, key: Option<&str>) -> Result<()> {
        let res = (|| {
            let _w = self.lock();
            require_model(
                &self.name,
                self.read_meta()?.permission_model,
                PermissionModel::Rbac,
            )?;
            let mut rules = self.access()?;
            let before = rules.role_assignments.len();
            rules
                .role_assignments
                .retain(|a| !(a.principal == *who && a.role == role && a.key.as_deref() == key));
            if rules.role_assignments.len() == before {
                let scope = key.map_or("/".to_string(), |k| format!("/keys/{k}"));
                return Err(Error::NotFound(format!(
                    "principal {who} has no assignment of the role \"{role}\" at scope {scope} of \
                     key vault {}; list the assignments with `strata vault role list`",
                    self.name
                )));
            }
            rules.write(&self.dir, &self.sealer())
        })();
        let who = who.to_string();
        self.audited(OWNER, "removeRole", Some(&who), None, 200, res)
    }

    /// Every role assignment, sorted by principal, role, then scope (listed under either model;
    /// they are enforced only under rbac).
    pub fn role_assignments(&self) -> Result<Vec<RoleAssignment>> {
        Ok(self.access()?.role_assignments)
    }
}
