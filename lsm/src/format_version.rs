//! Format versions and magic numbers of the LSM's persistent files, shared by readers and
//! writers. A format change bumps its constant here, updates docs/format.md, and adds a fixture.

/// Write-ahead log file header magic and version. See docs/format.md#wal. Version 2 records
/// carry their commit time (for point-in-time restore); version 1 files (no commit time) are
/// still replayed.
pub(crate) const WAL_MAGIC: &[u8; 8] = b"STRWAL01";
pub(crate) const WAL_VERSION: u32 = 2;
/// The first WAL version: records without a commit time. Read, never written.
pub(crate) const WAL_VERSION_V1: u32 = 1;

/// Segment (sorted table) file magic and version. See docs/format.md#segment. Version 2 segments
/// carry a cache-line-blocked bloom filter over xxh3 hashes; version 1 segments (a filter spread
/// over the whole bit array, FNV-1a hashes) are still read, and rewritten in the new format by
/// the background re-seal pass and by any compaction that takes them.
pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"STRSEG01";
pub(crate) const SEGMENT_VERSION: u32 = 2;
/// The first segment version: the whole-array bloom filter (sst/bloom_v1.rs). Read, never written.
pub(crate) const SEGMENT_VERSION_V1: u32 = 1;

/// Manifest (the current set of segments) magic and version. See docs/format.md#manifest.
pub(crate) const MANIFEST_MAGIC: &[u8; 8] = b"STRMAN01";
pub(crate) const MANIFEST_VERSION: u32 = 1;
