//! Small shared helpers: little-endian coding, file-system durability helpers, the I/O seam for
//! fault injection, framed metadata files, the wall clock. Knows nothing of keys, documents or the LSM.

pub(crate) mod coding;
#[cfg(any(test, feature = "fault-injection"))]
pub(crate) mod fault_plan;
pub(crate) mod faults;
pub(crate) mod file_header;
pub(crate) mod fs;
#[cfg(test)]
pub(crate) mod fuzz_support;
pub(crate) mod meta_file;
#[cfg(any(test, feature = "fault-injection"))]
pub(crate) mod power_loss;
pub(crate) mod wall_clock;
