//! Fuzz target: WAL replay as recovery runs it (`strata_lsm::fuzzing::replay_wal`, fixed keys,
//! one or two seal layers) on an arbitrary file, or on records of arbitrary plaintext sealed behind
//! a valid header. Each replay, as the newest WAL and as an older one, returns records or a
//! corruption error; never a panic, a hang or a huge allocation. Input format: fuzz/src/lib.rs.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strata_fuzz::wal::{decode, Input};
use strata_lsm::fuzzing::{replay_wal, suite, wal_path, write_sealed_wal, WalReplay};
use strata_lsm::{CipherSuite, Error};

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fn check(r: &Result<WalReplay, Error>) {
    if let Err(e) = r {
        // The file is there and readable: only corruption may fail a replay.
        assert!(e.is_corruption(), "not a corruption error: {e}");
    }
}

/// Replays `path` as an older WAL and as the newest one.
fn replay_both(path: &Path, suite: &CipherSuite) -> (Result<WalReplay, Error>, Result<WalReplay, Error>) {
    let older = replay_wal(path, suite, false);
    let newest = replay_wal(path, suite, true);
    check(&older);
    check(&newest);
    // The newest WAL is read more leniently (a torn tail), never less.
    if let Ok(o) = &older {
        let n = newest
            .as_ref()
            .expect("a WAL that replays as an older one replays as the newest");
        assert_eq!(o.records, n.records);
        assert_eq!(o.frames, n.frames);
        assert_eq!(n.torn_tail, None);
    }
    (older, newest)
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = decode(data) else { return };
    let dir = dir().path();
    match input {
        Input::File {
            customer_layer,
            bytes,
        } => {
            let path = wal_path(dir);
            std::fs::write(&path, bytes).expect("writing the WAL");
            let _ = replay_both(&path, &suite(customer_layer));
        }
        Input::Sealed {
            customer_layer,
            records,
        } => {
            let suite = suite(customer_layer);
            let records: Vec<Vec<u8>> = records.iter().map(|r| r.to_vec()).collect();
            let path = write_sealed_wal(dir, &suite, &records).expect("writing a sealed WAL");
            let (older, newest) = replay_both(&path, &suite);
            // Every frame authenticates, so nothing is torn: each record parses (and all are
            // replayed) or the replay fails, whichever WAL it is.
            assert_eq!(older.is_ok(), newest.is_ok());
            if let Ok(o) = older {
                assert_eq!(o.frames, records.len() as u64);
            }
        }
    }
});
