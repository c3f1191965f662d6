//! Segment files (sorted string tables): immutable, sorted, sealed blocks read with positional reads.
//! Sees only `util`, `cache` and the `FileCipher` handed to it; never a vault or JSON.
//! See docs/format.md#segment.

pub mod block;
mod bloom;
mod codec;
#[cfg(any(test, feature = "fuzzing"))]
pub mod forge;
mod format;
mod merge;
mod reader;
mod writer;

pub use merge::{newest_per_key, MergeIter, RecordStream};
pub use reader::{Segment, SegmentIter};
pub use writer::{segment_file_name, SegmentMeta, SegmentWriter};

#[cfg(test)]
mod fuzz_tests;
