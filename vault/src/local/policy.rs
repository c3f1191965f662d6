//! The local vault owner's access management and audit reading: set or remove a principal's
//! access policy (400 while the vault uses the rbac model), list the policies, read the audit log
//! with a filter. Policy changes are serialised by the vault's writer lock and audited.
//! Thread-safe.

use super::{LocalVault, OWNER};
use crate::access::AccessPolicies;
use crate::audit::{self, AuditEntry, AuditFilter};
use crate::error::{Error, Result};
use crate::permission::Permission;
use crate::rbac::{require_model, PermissionModel};
use crate::Principal;

impl LocalVault {
    /// Gives `who` exactly `permissions` (replacing what it had). 400 if the list is empty or the
    /// vault uses role-based access control.
    pub fn set_policy(&self, who: &Principal, permissions: &[Permission]) -> Result<()> {
        let res = (|| {
            if permissions.is_empty() {
                return Err(Error::BadRequest(
                    "no permissions given; to take every permission away use `strata vault \
                     policy remove`"
                        .into(),
                ));
            }
            let mut ps = permissions.to_vec();
            ps.sort();
            ps.dedup();
            let _w = self.lock();
            self.require_access_policy_model()?;
            let mut acl = self.access()?;
            acl.policies.insert(who.clone(), ps);
            acl.write(&self.dir, &self.sealer())
        })();
        let who = who.to_string();
        self.audited(OWNER, "setPolicy", Some(&who), None, 200, res)
    }

    /// Removes `who`'s access policy (404 if it has none; 400 under role-based access control).
    /// Removing the first-party grant is a
    /// revocation like any other: accounts calling as first-party lose access at their next use.
    pub fn remove_policy(&self, who: &Principal) -> Result<()> {
        let res = (|| {
            let _w = self.lock();
            self.require_access_policy_model()?;
            let mut acl = self.access()?;
            if acl.policies.remove(who).is_none() {
                return Err(Error::NotFound(format!(
                    "principal {who} has no access policy on key vault {}; list them with \
                     `strata vault policy list`",
                    self.name
                )));
            }
            acl.write(&self.dir, &self.sealer())
        })();
        let who = who.to_string();
        self.audited(OWNER, "removePolicy", Some(&who), None, 200, res)
    }

    /// Every access policy, sorted by principal.
    pub fn policies(&self) -> Result<Vec<(Principal, Vec<Permission>)>> {
        Ok(self.access()?.policies.into_iter().collect())
    }

    /// The audit log entries matching `filter`, oldest first (corruption if a line is damaged).
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        audit::read(&self.dir, filter, &self.sealer())
    }

    pub(super) fn access(&self) -> Result<AccessPolicies> {
        AccessPolicies::read(&self.dir, &self.sealer())
    }

    /// 400 naming the active model unless the vault uses access policies.
    fn require_access_policy_model(&self) -> Result<()> {
        let active = self.read_meta()?.permission_model;
        require_model(&self.name, active, PermissionModel::AccessPolicy)
    }
}
