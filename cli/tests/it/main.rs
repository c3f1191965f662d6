//! The CLI's end-to-end tests, one module per command group, in one test binary (one link of the
//! store instead of one per file). They run the built `strata` binary; `common` holds the
//! environment they run it in.
//!
//! A new test file here must be declared below (`every_test_file_is_a_module_of_its_binary`, in
//! the facade crate's tests/it/main.rs, checks that none is left out).

mod common;

mod analytics;
mod backup;
mod bench;
mod cli;
mod exit_codes;
mod feed;
mod help_examples;
mod hierarchical;
mod hostile_input;
mod import_export;
mod indexing;
mod ls;
mod output_formats;
mod patch_batch;
mod query;
mod readme_tour;
mod serve;
mod serve_scripts;
mod serve_tls;
mod shell;
mod sproc;
mod stats;
mod sync;
mod ttl;
mod vault_keys;
mod vault_pkcs11;
mod vault_properties;
mod vault_rbac;
mod verbose;
