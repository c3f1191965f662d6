//! `KeyVault` for the local vault: each call is the inherent method of the same name, so the
//! trait and the local vault's own API cannot drift apart.

use zeroize::Zeroizing;

use super::{KeyInfo, LocalVault};
use crate::access::Permission;
use crate::audit::{AuditEntry, AuditFilter};
use crate::error::Result;
use crate::key_uri::KeyUri;
use crate::key_vault::KeyVault;
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
