//! The `KeyVault` trait: what Strata asks of a customer key vault, whichever backend holds the
//! keys. The engine holds an `Arc<dyn KeyVault>` (found by `locate::open_vault` from the key
//! URI) and reaches customer key material only through it: wrap and unwrap data keys as a
//! principal, read a key's attributes, and check that an account may use the vault. Management
//! calls (create, rotate, enable/disable, soft-delete/recover/purge, access rules, audit) are part
//! of the trait too, so a second backend (an HSM over PKCS#11, a cloud KMS) plugs in whole.
//! Implementations must be thread-safe, must never return private key material, and must
//! audit every data-plane call. See docs/keys.md.

use zeroize::Zeroizing;

use crate::audit::{AuditEntry, AuditFilter};
use crate::error::Result;
use crate::key_uri::KeyUri;
use crate::local::KeyInfo;
use crate::permission::Permission;
use crate::principal::Principal;

/// A customer key vault backend. Every data-plane call names the principal it acts for; the
/// vault checks that principal's permission (403.4002 when missing), the key's state (disabled,
/// outside its activation window: 403.4002) and existence (403.4003).
pub trait KeyVault: Send + Sync {
    /// The vault's name (the `<vault>` of its key URIs).
    fn name(&self) -> &str;

    /// The tenant (UUID) the vault belongs to.
    fn tenant_id(&self) -> &str;

    /// Checks that an account of tenant `account_tenant` may use this vault: same tenant, purge
    /// protection on, network access allowed (403.4002 otherwise).
    fn check_account_use(&self, account_tenant: &str) -> Result<()>;

    // --- data plane, as a principal ---

    /// The attributes of the key `uri` names (its newest enabled version if version-less).
    fn get_key(&self, caller: &Principal, uri: &KeyUri) -> Result<KeyInfo>;

    /// Wraps `dek` (RSA-OAEP-256) under the key `uri` names; returns the versioned key id used.
    fn wrap_key(&self, caller: &Principal, uri: &KeyUri, dek: &[u8]) -> Result<(KeyUri, Vec<u8>)>;

    /// Unwraps `wrapped` with the key version `kid`; the plaintext is wiped when dropped.
    fn unwrap_key(&self, caller: &Principal, kid: &KeyUri, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;

    /// The keys `caller` may list.
    fn list_keys_as(&self, caller: &Principal) -> Result<Vec<KeyInfo>>;

    // --- management (the vault's owner) ---

    /// Creates an RSA key of `bits` (2048, 3072 or 4096); returns its versioned URI.
    fn create_key(&self, name: &str, bits: usize) -> Result<KeyUri>;

    /// Adds a new version of key `name`; returns its URI.
    fn rotate_key(&self, name: &str) -> Result<KeyUri>;

    /// Every key version with its attributes.
    fn list_keys(&self) -> Result<Vec<KeyInfo>>;

    /// Enables or disables a key version (`None`: every version).
    fn set_enabled(&self, name: &str, version: Option<&str>, enabled: bool) -> Result<()>;

    /// Soft-deletes key `name` (recoverable for the retention period).
    fn delete_key(&self, name: &str) -> Result<()>;

    /// Brings a soft-deleted key back.
    fn recover_key(&self, name: &str) -> Result<()>;

    /// Removes a soft-deleted key for good (refused under purge protection until it expires).
    fn purge_key(&self, name: &str) -> Result<()>;

    /// Grants `who` exactly `permissions` (access-policy vaults).
    fn set_policy(&self, who: &Principal, permissions: &[Permission]) -> Result<()>;

    /// Removes `who`'s access policy.
    fn remove_policy(&self, who: &Principal) -> Result<()>;

    /// The audit log's entries that `filter` selects.
    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
}
