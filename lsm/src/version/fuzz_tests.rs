//! Decoder fuzzing of the MANIFEST (proptest, stable Rust, part of every `cargo test`): written
//! for real, then damaged or replaced by random bytes, it reads back as exactly what was written
//! or fails with a corruption error naming the file. See docs/reliability.md ("Decoder fuzzing").

use proptest::collection::vec;
use proptest::prelude::*;
use strata_base::fuzz_support::{apply, config, damage, largest_allocation};

use super::{Manifest, MANIFEST_FILE};
use crate::cipher::CipherSuite;
use crate::error::Error;
use crate::sst::SegmentMeta;

const ALLOC_LIMIT: usize = 8 << 20;

fn assert_corruption_naming(e: &Error, name: &str) {
    assert!(e.is_corruption(), "{e}");
    assert!(e.to_string().contains(name), "error does not name the file: {e}");
}

fn segment_meta() -> impl Strategy<Value = SegmentMeta> {
    (
        any::<u64>(),
        any::<u64>(),
        vec(any::<u8>(), 0..16),
        vec(any::<u8>(), 0..16),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(id, size, smallest, largest, entries, max_seq)| SegmentMeta {
            id,
            size,
            smallest,
            largest,
            entries,
            max_seq,
        })
}

proptest! {
    // 128 cases: each writes one small manifest and reads back a damaged copy; about a
    // millisecond a case.
    #![proptest_config(config(128))]

    /// A damaged MANIFEST reads back as the manifest written or fails with a corruption error
    /// naming it; the damage is always detected.
    #[test]
    fn damaged_manifest_reads_original_or_fails(
        levels in vec(vec(segment_meta(), 0..4), 7),
        customer_layer in any::<bool>(),
        d in damage(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(customer_layer);
        let mut m = Manifest::empty();
        m.levels = levels;
        m.write(dir.path(), &suite).unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let good = std::fs::read(&path).unwrap();
        let bad = apply(&d, &good);
        std::fs::write(&path, &bad).unwrap();
        let (got, largest) = largest_allocation(|| Manifest::read(dir.path(), &suite));
        prop_assert!(largest <= ALLOC_LIMIT);
        match got {
            Ok(read) => {
                prop_assert_eq!(read, Some(m));
                prop_assert_eq!(bad, good);
            }
            Err(e) => assert_corruption_naming(&e, MANIFEST_FILE),
        }
    }
}
