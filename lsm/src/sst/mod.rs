//! Segment files (sorted string tables): immutable, sorted, sealed blocks read with positional reads.
//! Sees only `util`, `cache` and the `FileCipher` handed to it; never a vault or JSON.
//! See docs/format.md#segment.

pub(crate) mod block;
mod bloom;
mod bloom_v1;
mod codec;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod forge;
mod format;
mod index;
mod merge;
mod reader;
mod separator;
#[cfg(test)]
mod separator_tests;
mod writer;

pub(crate) use bloom::KeyHash;
#[cfg(test)]
pub(crate) use format::Footer;
pub(crate) use merge::{newest_per_key, MergeIter, RecordStream};
pub(crate) use reader::{Segment, SegmentIter, SegmentRevIter};
pub use writer::segment_file_name;
pub(crate) use writer::{SegmentMeta, SegmentWriter};

#[cfg(test)]
mod fuzz_tests;
