//! Format versions and magic numbers of the engine's persistent artifacts (keyring, catalog,
//! backups), shared by readers and writers. The LSM's files (WAL, segment, manifest) are in
//! `strata_lsm`, the vault's in `strata_vault`. A format change bumps its constant here, updates
//! docs/format.md, and adds a fixture.

/// Keyring (wrapped data keys) magic and version. See docs/keys.md.
pub(crate) const KEYRING_MAGIC: &[u8; 8] = b"STRKEYR1";
pub(crate) const KEYRING_VERSION: u32 = 1;
/// The keyring version written while a container has its own customer key (same layout, one
/// more field): an older build, which would ignore that field and read and write the
/// container's items in the account's store, refuses the file instead. Version 1 is still
/// written otherwise.
pub(crate) const KEYRING_VERSION_OWN_KEYS: u32 = 2;

/// Catalog (plaintext metadata) magic and version. See docs/format.md#catalog.
pub(crate) const CATALOG_MAGIC: &[u8; 8] = b"STRCATL1";
pub(crate) const CATALOG_VERSION: u32 = 1;
/// The catalog version written while a container has a hierarchical partition key (same
/// layout, one more container field); version 1 is still written otherwise.
pub(crate) const CATALOG_VERSION_HIERARCHICAL: u32 = 2;

/// Backup manifest magic and version. See docs/format.md#backup-manifest.
pub(crate) const BACKUP_MAGIC: &[u8; 8] = b"STRBKUP1";
pub(crate) const BACKUP_VERSION: u32 = 1;

/// Shipped-log manifest (continuous backup) magic and version. See docs/format.md#shipped-log.
pub(crate) const BACKUP_LOG_MAGIC: &[u8; 8] = b"STRBLOG1";
pub(crate) const BACKUP_LOG_VERSION: u32 = 1;
