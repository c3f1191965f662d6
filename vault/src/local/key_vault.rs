//! `KeyVault` for the local vault: each call is the inherent method of the same name, so the
//! trait and the local vault's own API cannot drift apart.

use zeroize::Zeroizing;

use super::{KeyInfo, LocalVault};
use crate::audit::{AuditEntry, AuditFilter};
use crate::error::Result;
use crate::key_uri::KeyUri;
use crate::key_vault::KeyVault;
use crate::permission::Permission;
use crate::principal::Principal;

impl KeyVault for LocalVault {
    fn name(&self) -> &str {
        LocalVault::name(self)
    }

    fn tenant_id(&self) -> &str {
        LocalVault::tenant_id(self)
    }

    fn check_account_use(&self, account_tenant: &str) -> Result<()> {
        LocalVault::check_account_use(self, account_tenant)
    }

    fn get_key(&self, caller: &Principal, uri: &KeyUri) -> Result<KeyInfo> {
        LocalVault::get_key(self, caller, uri)
    }

    fn wrap_key(&self, caller: &Principal, uri: &KeyUri, dek: &[u8]) -> Result<(KeyUri, Vec<u8>)> {
        LocalVault::wrap_key(self, caller, uri, dek)
    }

    fn unwrap_key(&self, caller: &Principal, kid: &KeyUri, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        LocalVault::unwrap_key(self, caller, kid, wrapped)
    }

    fn list_keys_as(&self, caller: &Principal) -> Result<Vec<KeyInfo>> {
        LocalVault::list_keys_as(self, caller)
    }

    fn create_key(&self, name: &str, bits: usize) -> Result<KeyUri> {
        LocalVault::create_key(self, name, bits)
    }

    fn rotate_key(&self, name: &str) -> Result<KeyUri> {
        LocalVault::rotate_key(self, name)
    }

    fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        LocalVault::list_keys(self)
    }

    fn set_enabled(&self, name: &str, version: Option<&str>, enabled: bool) -> Result<()> {
        LocalVault::set_enabled(self, name, version, enabled)
    }

    fn delete_key(&self, name: &str) -> Result<()> {
        LocalVault::delete_key(self, name)
    }

    fn recover_key(&self, name: &str) -> Result<()> {
        LocalVault::recover_key(self, name)
    }

    fn purge_key(&self, name: &str) -> Result<()> {
        LocalVault::purge_key(self, name)
    }

    fn set_policy(&self, who: &Principal, permissions: &[Permission]) -> Result<()> {
        LocalVault::set_policy(self, who, permissions)
    }

    fn remove_policy(&self, who: &Principal) -> Result<()> {
        LocalVault::remove_policy(self, who)
    }

    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        LocalVault::audit_log(self, filter)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::error::substatus;
    use crate::home::VaultHome;
    use strata_base::wall_clock::SystemWallClock;

    const DEK: [u8; 32] = [0x42; 32];

    /// The engine's path: a key URI finds the backend through `VaultHome`, and every data-plane
    /// call goes through the trait object; disabling the key through the trait revokes unwrap.
    #[test]
    fn the_trait_object_wraps_unwraps_and_honours_revocation() {
        let tmp = tempfile::tempdir().unwrap();
        let home = VaultHome::new(tmp.path());
        let local = home.open_local(None).unwrap();
        let uri = local.create_key("cmk", 2048).unwrap();
        let vault: Arc<dyn KeyVault> = home.open_for_uri(&uri, Arc::new(SystemWallClock)).unwrap();
        assert_eq!(vault.name(), "local");
        let me = Principal::FirstParty;
        let (kid, wrapped) = vault.wrap_key(&me, &uri.without_version(), &DEK).unwrap();
        assert_eq!(kid, uri);
        assert_eq!(&vault.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &DEK[..]);
        assert_eq!(vault.get_key(&me, &uri).unwrap().uri, uri);

        vault.set_enabled("cmk", None, false).unwrap();
        let e = vault.unwrap_key(&me, &kid, &wrapped).unwrap_err();
        assert_eq!(
            (e.status(), e.substatus()),
            (403, substatus::KEY_VAULT_ACCESS),
            "{e}"
        );
        let audit = vault.audit_log(&AuditFilter::default()).unwrap();
        assert!(audit.len() >= 3, "{audit:?}");
    }

    /// A URI whose vault does not exist in the home is 403.4003, not a new vault.
    #[test]
    fn a_missing_vault_is_key_not_found() {
        let tmp = tempfile::tempdir().unwrap();
        let uri = KeyUri::parse("https://local.vault.local/keys/k").unwrap();
        let e = VaultHome::new(tmp.path())
            .open_for_uri(&uri, Arc::new(SystemWallClock))
            .err()
            .unwrap();
        assert_eq!(
            (e.status(), e.substatus()),
            (403, substatus::KEY_NOT_FOUND),
            "{e}"
        );
        assert!(!tmp.path().join("vault").exists());
    }
}
