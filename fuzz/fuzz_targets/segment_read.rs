//! Fuzz target: the segment reader as the store runs it (`strata_lsm::fuzzing::read_segment`:
//! open, a full scan, a scan from a key through the block cache, point reads; fixed keys, one or
//! two seal layers) on an arbitrary file, on forged data blocks sealed with the right key, or on
//! a forged index block. Every read gives data or a corruption (or internal) error; never a
//! panic, a hang or a huge allocation. Input format: fuzz/src/lib.rs.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strata_fuzz::segment::{decode, Block, Input};
use strata_fuzz::SEGMENT_PROBES;
use strata_lsm::fuzzing::{
    compressed_block, forged_index_segment, forged_segment, read_segment, segment_path, suite, SegmentRead,
};
use strata_lsm::Error;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

/// The file is there and readable: only corruption, or an internal error for a state a checked
/// block cannot reach, may fail a read.
fn check_error(e: &Error) {
    assert!(e.is_corruption() || e.status() == 500, "unexpected error: {e}");
    assert_ne!(e.status(), 503, "{e}");
}

/// Reads `bytes` as the segment file; returns what was read and the probes used.
fn read(bytes: &[u8], customer_layer: bool, extra: &[Vec<u8>]) -> (Option<SegmentRead>, Vec<Vec<u8>>) {
    let path = segment_path(dir().path());
    std::fs::write(&path, bytes).expect("writing the segment");
    let mut probes: Vec<Vec<u8>> = SEGMENT_PROBES.iter().map(|p| p.to_vec()).collect();
    probes.extend_from_slice(extra);
    let start = extra.first().map_or(&b"key0003"[..], Vec::as_slice);
    match read_segment(&path, &suite(customer_layer), start, &probes) {
        Ok(r) => {
            if let Some(e) = &r.scan_error {
                check_error(e);
            }
            for g in r.gets.iter().filter_map(|g| g.as_ref().err()) {
                check_error(g);
            }
            (Some(r), probes)
        }
        Err(e) => {
            check_error(&e);
            (None, probes)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = decode(data) else { return };
    match input {
        Input::File {
            customer_layer,
            bytes,
        } => {
            // Only the writer's own blocks authenticate under these keys, so whatever reads back
            // is a segment the writer made: sorted, and its point reads agree with its scan.
            let (Some(r), probes) = read(bytes, customer_layer, &[]) else {
                return;
            };
            if r.scan_error.is_some() {
                return;
            }
            assert!(r.scan.windows(2).all(|w| w[0].0 < w[1].0), "scan out of order");
            for (key, got) in probes.iter().zip(&r.gets) {
                let Ok(got) = got else { continue };
                let want = r.scan.iter().find(|s| &s.0 == key).map(|s| (s.1, s.2.clone()));
                assert_eq!(got, &want, "point read disagrees with the scan");
            }
        }
        Input::Blocks {
            customer_layer,
            blocks,
            last_keys,
            probes,
        } => {
            let plains: Vec<Vec<u8>> = blocks
                .iter()
                .map(|b| match b {
                    Block::Plain(p) => p.to_vec(),
                    Block::Compressed { raw, claimed } => {
                        compressed_block(raw, *claimed).expect("compressing a forged block")
                    }
                })
                .collect();
            let mut filter = probes.clone();
            filter.extend(SEGMENT_PROBES.iter().map(|p| p.to_vec()));
            let s = suite(customer_layer);
            let bytes = forged_segment(&s, &plains, &last_keys, &filter).expect("forging a segment");
            let _ = read(&bytes, customer_layer, &probes);
        }
        Input::Index {
            customer_layer,
            count,
            body,
        } => {
            let s = suite(customer_layer);
            let bytes = forged_index_segment(&s, count, body).expect("forging a segment");
            let _ = read(&bytes, customer_layer, &[]);
        }
    }
});
