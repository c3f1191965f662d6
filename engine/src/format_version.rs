//! Format versions and magic numbers of every persistent artifact, shared by readers and writers.
//! A format change bumps its constant here, updates docs/format.md, and adds a fixture.

/// Write-ahead log file header magic and version. See docs/format.md#wal. Version 2 records
/// carry their commit time (for point-in-time restore); version 1 files (no commit time) are
/// still replayed.
pub(crate) const WAL_MAGIC: &[u8; 8] = b"STRWAL01";
pub(crate) const WAL_VERSION: u32 = 2;
/// The first WAL version: records without a commit time. Read, never written.
pub(crate) const WAL_VERSION_V1: u32 = 1;

/// Segment (sorted table) file magic and version. See docs/format.md#segment.
pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"STRSEG01";
pub(crate) const SEGMENT_VERSION: u32 = 1;

/// Manifest (the current set of segments) magic and version. See docs/format.md#manifest.
pub(crate) const MANIFEST_MAGIC: &[u8; 8] = b"STRMAN01";
pub(crate) const MANIFEST_VERSION: u32 = 1;

/// Keyring (wrapped data keys) magic and version. See docs/keys.md.
pub(crate) const KEYRING_MAGIC: &[u8; 8] = b"STRKEYR1";
pub(crate) const KEYRING_VERSION: u32 = 1;

/// Catalog (plaintext metadata) magic and version. See docs/format.md#catalog.
pub(crate) const CATALOG_MAGIC: &[u8; 8] = b"STRCATL1";
pub(crate) const CATALOG_VERSION: u32 = 1;

/// Service key store file magic and version. See docs/keys.md.
pub(crate) const SERVICE_KEY_MAGIC: &[u8; 8] = b"STRSMK01";
pub(crate) const SERVICE_KEY_VERSION: u32 = 1;

/// Local vault key-version file magic and version. See docs/keys.md ("the local vault").
pub(crate) const VAULT_KEY_MAGIC: &[u8; 8] = b"STRVKEY1";
pub(crate) const VAULT_KEY_VERSION: u32 = 1;

/// Local vault access-policy file magic and version. See docs/keys.md#access.
pub(crate) const VAULT_ACCESS_MAGIC: &[u8; 8] = b"STRVACL1";
pub(crate) const VAULT_ACCESS_VERSION: u32 = 1;

/// Backup manifest magic and version. See docs/format.md#backup-manifest.
pub(crate) const BACKUP_MAGIC: &[u8; 8] = b"STRBKUP1";
pub(crate) const BACKUP_VERSION: u32 = 1;

/// Shipped-log manifest (continuous backup) magic and version. See docs/format.md#shipped-log.
pub(crate) const BACKUP_LOG_MAGIC: &[u8; 8] = b"STRBLOG1";
pub(crate) const BACKUP_LOG_VERSION: u32 = 1;
