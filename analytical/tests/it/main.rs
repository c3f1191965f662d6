//! The analytical tier's integration tests, one module per subject, in one test binary (one link
//! of Arrow and Parquet instead of one per file). `common` holds the shared fixtures.
//!
//! A new test file here must be declared below (`every_test_file_is_a_module_of_its_binary`, in
//! the facade crate's tests/it/main.rs, checks that none is left out).

mod common;

mod export_schema;
mod interop;
mod query;
mod security;
mod store_merge;
