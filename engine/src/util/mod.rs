//! Small shared helpers: little-endian coding, file-system durability helpers, framed metadata
//! files, the wall clock. Knows nothing of keys, documents or the LSM.

pub(crate) mod coding;
pub(crate) mod file_header;
pub(crate) mod fs;
#[cfg(test)]
pub(crate) mod fuzz_support;
pub(crate) mod meta_file;
pub(crate) mod wall_clock;
