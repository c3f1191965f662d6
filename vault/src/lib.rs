//! Strata's key holders outside the data directory. The customer key vault: RSA keys with versions and attributes, wrap/unwrap of data keys under
//! them (RSA-OAEP-SHA256) on behalf of a principal, access policies or role-based access (one
//! model per vault), rotation policies, user-assigned identities and the audit log. Owns everything under the vault directory (and `<home>/identities.json`); must
//! never read or write the data directory, and must never put private key material in a message
//! or `Debug`. Also the service key store (`ServiceKey`, the SMK under `$STRATA_HOME/service/`),
//! which wraps service-layer data keys itself. Knows nothing of the LSM, documents or accounts'
//! data. See docs/keys.md.

mod access;
mod audit;
mod custody;
pub mod error;
mod format_version;
mod home;
mod identity;
mod key_holder;
mod key_uri;
mod key_vault;
mod local;
mod permission;
mod pkcs11;
mod principal;
mod properties;
mod rbac;
mod sealed_doc;
mod service_key;

pub use audit::{AuditEntry, AuditFilter};
pub use error::{substatus, Error, Result};
pub use home::{VaultHome, DEFAULT_VAULT};
pub use identity::{Identities, UserIdentity};
pub use key_uri::KeyUri;
pub use key_vault::KeyVault;
pub use local::{
    key_size_warning, KeyInfo, LocalVault, RotationPolicy, MAX_ROTATION_DAYS, MIN_ROTATION_DAYS,
};
pub use permission::Permission;
#[cfg(any(test, feature = "test-token"))]
pub use pkcs11::soft_token::SoftToken;
pub use pkcs11::Pkcs11Config;
pub use principal::Principal;
pub use properties::{check_tenant_id, NetworkAccess, VaultProperties};
pub use rbac::{PermissionModel, Role, RoleAssignment};
pub use service_key::ServiceKey;
