//! The facade crate's scenario tests, one module per subject, in one test binary: each binary links
//! the whole store, so one binary instead of one per file keeps a clean test build's link time and
//! disk use down. `tests/it/common` holds the shared helpers.
//!
//! A new test file here must be declared below (`every_test_file_is_a_module_of_its_binary`, in
//! the facade crate's tests/it/main.rs, checks that none is left out).

mod common;

mod account_items;
mod analytical_tier;
mod backup_pitr;
mod backup_restore;
mod batch;
mod change_feed;
mod cmk_vault;
mod container_cmk;
mod crash_recovery;
mod enable_cmk;
mod hierarchical_keys;
mod hostile_input;
mod indexing;
#[cfg(unix)]
mod key_custody;
mod key_revocation;
mod key_rotation;
mod leak_scan;
mod lifecycle;
mod lsm_concurrency;
mod lsm_model;
mod lsm_recovery;
mod lsm_tamper;
mod optimistic_concurrency;
mod patch;
mod property_order;
mod query_conformance;
mod query_errors;
mod query_paging;
mod query_spill;
mod ru_charges;
mod script_logging;
mod script_sync;
mod secrets_types;
mod spatial_index;
mod stored_procedures;
mod stress;
mod sync;
mod throughput;
mod triggers;
mod ttl;
mod udfs;
mod vault_access;
mod vault_autorotation;
mod vault_key_backup;
mod vault_properties;
mod vault_rbac;

/// Every `.rs` file in the workspace's `tests/it` directories is declared in its `main.rs`: a file
/// left out would silently never run.
#[test]
fn every_test_file_is_a_module_of_its_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for dir in ["tests/it", "cli/tests/it", "analytical/tests/it"] {
        let dir = root.join(dir);
        let declared = std::fs::read_to_string(dir.join("main.rs")).expect("read main.rs");
        for entry in std::fs::read_dir(&dir).expect("read the test directory") {
            let name = entry.expect("directory entry").file_name();
            let name = name.to_string_lossy();
            if let Some(module) = name.strip_suffix(".rs") {
                if module != "main" && !declared.contains(&format!("\nmod {module};\n")) {
                    missing.push(dir.join(&*name));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "test files not declared in their main.rs: {missing:?}"
    );
}
