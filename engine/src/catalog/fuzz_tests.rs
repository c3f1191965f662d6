//! Decoder fuzzing of the metadata files (proptest, stable Rust, part of every `cargo test`): the
//! metadata frame decoder on arbitrary bytes; the CATALOG, written for real and then damaged or replaced by random bytes, read back as exactly what was written or fail with
//! a corruption error naming the file (the MANIFEST's test is the LSM's). See docs/reliability.md ("Decoder fuzzing").

use proptest::collection::vec;
use proptest::prelude::*;

use super::{Catalog, ContainerEntry, DatabaseEntry, CATALOG_FILE};
use crate::error::Error;
use crate::format_version::CATALOG_MAGIC;
use strata_base::fuzz_support::{apply, config, damage, largest_allocation};
use strata_base::meta_file;
use strata_lsm::CipherSuite;

const ALLOC_LIMIT: usize = 8 << 20;

fn assert_corruption_naming(e: &Error, name: &str) {
    assert!(e.is_corruption(), "{e}");
    assert!(e.to_string().contains(name), "error does not name the file: {e}");
}

fn catalog(names: &[String], ids: &[u32]) -> Catalog {
    let mut c = Catalog::new("acct", "service-managed", None, None);
    c.databases = vec![DatabaseEntry {
        name: "db".into(),
        containers: names
            .iter()
            .zip(ids)
            .map(|(name, id)| ContainerEntry {
                name: name.clone(),
                id: *id,
                partition_key_path: "/pk".into(),
                partition_key_paths: Vec::new(),
                throughput: None,
                default_ttl: (*id % 2 == 0).then_some(60),
                conflict_policy: None,
                analytical: None,
                indexing_policy: None,
                index_generation: 0,
                stored_procedures: Vec::new(),
                parsed_pk: super::parsed_pk::ParsedPk::default(),
            })
            .collect(),
        throughput: Some(400),
    }];
    c
}

proptest! {
    // 256 cases: each decodes at most a few hundred bytes.
    #![proptest_config(config(256))]

    /// Arbitrary bytes through the metadata frame decoder: refused or a payload that re-frames
    /// to the same bytes, never a panic or a large allocation.
    #[test]
    fn meta_frame_decoder_takes_any_bytes(bytes in vec(any::<u8>(), 0..512), magic_ok in any::<bool>()) {
        let mut bytes = bytes;
        if magic_ok && bytes.len() >= 8 {
            bytes[..8].copy_from_slice(CATALOG_MAGIC);
        }
        let p = std::path::Path::new("CATALOG");
        let (got, largest) = largest_allocation(|| meta_file::decode(p, CATALOG_MAGIC, &bytes));
        prop_assert!(largest <= ALLOC_LIMIT);
        match got {
            Ok((v, payload)) => prop_assert_eq!(meta_file::encode(CATALOG_MAGIC, v, payload), bytes),
            Err(e) => assert_corruption_naming(&Error::from(e), "CATALOG"),
        }
    }
}

proptest! {
    // 128 cases: each writes one small metadata file and reads back a damaged copy (one HKDF
    // and one HMAC or AEAD open each); about a millisecond a case.
    #![proptest_config(config(128))]

    /// A damaged CATALOG reads back as the catalog written or fails with a corruption error
    /// naming it; the damage is always detected.
    #[test]
    fn damaged_catalog_reads_original_or_fails(
        names in vec("[a-z]{1,8}", 0..4),
        ids in vec(any::<u32>(), 4),
        d in damage(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let c = catalog(&names, &ids);
        c.write(dir.path(), &suite).unwrap();
        let path = dir.path().join(CATALOG_FILE);
        let good = std::fs::read(&path).unwrap();
        let bad = apply(&d, &good);
        std::fs::write(&path, &bad).unwrap();
        let (got, largest) = largest_allocation(|| Catalog::read(dir.path(), &suite));
        prop_assert!(largest <= ALLOC_LIMIT);
        match got {
            Ok(read) => {
                prop_assert_eq!(read, Some(c));
                // Only the frame's version field is not covered by the checksum or the tag, and
                // a changed version is refused: so nothing changed.
                prop_assert_eq!(bad, good);
            }
            Err(e) => assert_corruption_naming(&e, CATALOG_FILE),
        }
    }
}
