//! Encryption properties: wrong key, tampering and leak scans over every file the tier writes.

use crate::common;

use common::{all_files, key, read_external, up};
use serde_json::json;
use strata_analytical::{AnalyticalError, AnalyticalStore, AnalyticalTtl, SchemaMode};

fn small_store(dir: &std::path::Path) -> AnalyticalStore {
    let mut s = AnalyticalStore::create(dir, key(7), SchemaMode::WellDefined, AnalyticalTtl::Forever)
        .expect("create");
    s.apply(&[
        up("a", "p", 1, 1, json!({"v": 1, "s": "x"})),
        up("b", "p", 2, 1, json!({"v": 2})),
    ])
    .expect("apply");
    s
}

#[test]
fn wrong_key_fails_to_open_and_to_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = small_store(dir.path());
    let file = s.files()[0].clone();
    drop(s);
    let err = AnalyticalStore::open(dir.path(), key(8)).expect_err("wrong key");
    assert!(matches!(err, AnalyticalError::Decrypt { .. }), "{err}");
    assert_eq!(err.status(), 500);
    assert!(read_external(&file, &key(8)).is_err());
    assert!(read_external(&file, &key(7)).is_ok());
    // A reader without any key cannot even parse the footer.
    let plain = std::fs::File::open(&file).expect("open");
    assert!(parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(plain).is_err());
}

#[test]
fn every_flipped_byte_of_a_data_file_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = small_store(dir.path());
    let expected = s.scan(10).expect("scan");
    let file = s.files()[0].clone();
    let original = std::fs::read(&file).expect("read");
    for pos in 0..original.len() {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x01;
        std::fs::write(&file, &bytes).expect("write");
        match s.scan(10) {
            Err(e) => assert_eq!(e.status(), 500, "byte {pos}: {e}"),
            Ok(rows) => panic!(
                "byte {pos} flipped but scan returned data (equal to original: {})",
                rows == expected
            ),
        }
    }
    // Without the digest check, Parquet's AEAD alone rejects flips inside sealed modules
    // (here: the first page header, after "PARE", its 4-byte length and 12-byte nonce, and the
    // encrypted footer near the end).
    for pos in [20, 30, original.len() - 20] {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x01;
        std::fs::write(&file, &bytes).expect("write");
        assert!(read_external(&file, &key(7)).is_err(), "byte {pos}");
    }
    std::fs::write(&file, &original).expect("restore");
    assert_eq!(s.scan(10).expect("scan"), expected);
}

#[test]
fn every_flipped_byte_of_the_state_file_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(small_store(dir.path()));
    let state = dir.path().join("STATE");
    let original = std::fs::read(&state).expect("read");
    for pos in 0..original.len() {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x80;
        std::fs::write(&state, &bytes).expect("write");
        let err = AnalyticalStore::open(dir.path(), key(7)).expect_err("tampered state must not open");
        assert_eq!(err.status(), 500, "byte {pos}");
    }
    std::fs::write(&state, &original).expect("restore");
    assert!(AnalyticalStore::open(dir.path(), key(7)).is_ok());
}

#[test]
fn no_file_contains_canary_bytes() {
    const BODY: &str = "CANARY-body-3f9a1c";
    const PROP: &str = "CanaryPropertyName7e2d";
    const ID: &str = "CANARY-id-5b7e";
    const NESTED: &str = "CANARY-nested-value-88aa";
    let dir = tempfile::tempdir().expect("tempdir");
    let export = tempfile::tempdir().expect("tempdir");
    for mode in [SchemaMode::WellDefined, SchemaMode::FullFidelity] {
        let store_dir = dir.path().join(format!("{mode:?}"));
        let mut s =
            AnalyticalStore::create(&store_dir, key(9), mode, AnalyticalTtl::Forever).expect("create");
        let mut changes = Vec::new();
        for i in 0..50u64 {
            changes.push(up(
                &format!("{ID}-{i}"),
                "pk",
                i + 1,
                100,
                json!({
                    "title": format!("{BODY} number {i}"),
                    PROP: i,
                    "nested": {"deep": NESTED, "list": [BODY, NESTED]},
                }),
            ));
        }
        s.apply(&changes).expect("apply");
        s.apply(&[common::del(&format!("{ID}-1"), "pk", 100, 101)])
            .expect("apply");
        s.compact(200).expect("compact");
        s.apply(&[up(&format!("{ID}-x"), "pk", 101, 102, json!({"title": BODY}))])
            .expect("apply");
        let out = s
            .export(export.path().join(format!("{mode:?}")), 200)
            .expect("export");
        // The data is really there for a reader with the key.
        let rows: usize = read_external(&out, &key(9))
            .expect("read")
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(rows, 50);
    }
    let needles: Vec<Vec<u8>> = [
        BODY,
        PROP,
        &PROP.to_lowercase(),
        ID,
        NESTED,
        "nested.deep",
        "title",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut checked = 0;
    for root in [dir.path(), export.path()] {
        for f in all_files(root) {
            let bytes = std::fs::read(&f).expect("read");
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                    "{} contains {:?}",
                    f.display(),
                    String::from_utf8_lossy(n)
                );
            }
            if f.extension().is_some_and(|e| e == "parquet") {
                // Encrypted-footer Parquet starts and ends with "PARE".
                assert_eq!(&bytes[..4], b"PARE", "{}", f.display());
                assert_eq!(&bytes[bytes.len() - 4..], b"PARE", "{}", f.display());
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 6,
        "expected state, data and export files, checked {checked}"
    );
}
