//! Format versions and magic numbers of the local vault's files, shared by readers and writers.
//! A format change bumps its constant here, updates docs/keys.md, and adds a fixture.

/// Local vault key-version file magic and version. See docs/keys.md ("the local vault").
pub(crate) const VAULT_KEY_MAGIC: &[u8; 8] = b"STRVKEY1";
pub(crate) const VAULT_KEY_VERSION: u32 = 1;

/// Local vault access-policy file magic and version. See docs/keys.md#access.
pub(crate) const VAULT_ACCESS_MAGIC: &[u8; 8] = b"STRVACL1";
pub(crate) const VAULT_ACCESS_VERSION: u32 = 1;
/// The same file sealed by the vault's PKCS#11 token (see access.rs).
pub(crate) const VAULT_ACCESS_SEALED_VERSION: u32 = 2;

/// Service key store file magic and version. See docs/keys.md.
pub(crate) const SERVICE_KEY_MAGIC: &[u8; 8] = b"STRSMK01";
pub(crate) const SERVICE_KEY_VERSION: u32 = 1;
/// The same file when the SMK is encrypted by a PKCS#11 token (see pkcs11/service_key.rs).
pub(crate) const SERVICE_KEY_TOKEN_VERSION: u32 = 2;

/// A token vault's `vault.json`, sealed by its PKCS#11 token (see sealed_doc.rs); a file vault's
/// stays plain JSON.
pub(crate) const VAULT_META_SEALED_MAGIC: &[u8; 8] = b"STRVMET1";
/// A token vault key's `rotation.json`, sealed the same way.
pub(crate) const VAULT_ROTATION_SEALED_MAGIC: &[u8; 8] = b"STRVROT1";
/// Version of both sealed documents.
pub(crate) const VAULT_SEALED_DOC_VERSION: u32 = 1;
