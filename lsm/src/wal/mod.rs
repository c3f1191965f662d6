//! The write-ahead log: one file per memtable, framed and sealed records, group-committed by the
//! db's write path. Sees only `util` and the `FileCipher` handed to it. See docs/format.md#wal.

mod format;
#[cfg(feature = "fuzzing")]
pub(crate) use format::encode_record;
mod reader;
mod writer;

#[cfg(test)]
pub(crate) use reader::replay;
pub(crate) use reader::replay_until;
pub use writer::wal_file_name;
pub(crate) use writer::WalWriter;

#[cfg(test)]
mod fuzz_tests;
