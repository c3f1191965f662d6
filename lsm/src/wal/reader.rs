//! Replays one WAL file at recovery. Stops cleanly at a torn tail of the newest file (a record
//! cut short, or never completed by a crash and left as zeros to the end of the file:
//! unacknowledged by construction) and reports it; anything else that fails its checksum or tag
//! is corruption, reported with file and offset, never skipped. Single-threaded; called only by
//! db recovery.

use std::path::Path;

use super::format::{decode_record, FRAME_HEADER_LEN};
use crate::cipher::{BlockKind, CipherSuite, FileKind};
use crate::error::{Error, Result};
use crate::file_header::{FileHeader, HEADER_LEN};
use crate::format_version::{WAL_MAGIC, WAL_VERSION, WAL_VERSION_V1};
use crate::kv::Record;
use strata_base::coding::u32_at;

/// What a replay found, for the recovery report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReplayReport {
    pub(crate) records: u64,
    pub(crate) max_seq: u64,
    /// `(offset, bytes dropped)` when the file ended in a torn record.
    pub(crate) torn_tail: Option<(u64, u64)>,
    /// Replay stopped at a record committed after the `until_ms` it was given.
    pub(crate) stopped_at_time: bool,
}

/// Replays `path` (WAL file `id`), calling `apply` for each record in order. `is_last` is true for
/// the newest WAL file, the only one that may end in a torn record.
#[cfg(test)]
pub(crate) fn replay(
    path: &Path,
    id: u64,
    suite: &CipherSuite,
    is_last: bool,
    apply: impl FnMut(Record),
) -> Result<ReplayReport> {
    replay_until(path, id, suite, is_last, None, apply)
}

/// As `replay`, but stops before the first record committed after `until_ms` (Unix ms), if
/// given (point-in-time restore); `stopped_at_time` then says so. Commit times never decrease
/// along a log, so nothing after that record is wanted either.
pub(crate) fn replay_until(
    path: &Path,
    id: u64,
    suite: &CipherSuite,
    is_last: bool,
    until_ms: Option<u64>,
    mut apply: impl FnMut(Record),
) -> Result<ReplayReport> {
    let bytes = strata_base::faults::read(path).map_err(|e| Error::io_path("reading WAL", path, e))?;
    let mut report = ReplayReport::default();
    if is_last && (bytes.len() < HEADER_LEN || bytes.iter().all(|b| *b == 0)) {
        // Created but its header never fully reached the disk (a short file, or one the file
        // system extended with zeros): nothing in it was acknowledged, since records are appended
        // only after the header is fsynced.
        report.torn_tail = Some((0, bytes.len() as u64));
        return Ok(report);
    }
    // Version 1 files (no commit times) are still read; anything else is refused by `decode`.
    let header = match FileHeader::decode(
        path,
        WAL_MAGIC,
        &[WAL_VERSION, WAL_VERSION_V1],
        Some(id),
        suite.readable_layers(),
        &bytes,
    ) {
        Ok(h) => h,
        // The start of a header, then zeros the file system allocated but never wrote: as above.
        Err(_) if is_last && zero_tail_start(&bytes) < HEADER_LEN => {
            report.torn_tail = Some((0, bytes.len() as u64));
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let cipher = suite.file(FileKind::Wal, id, &header.salt, header.layers)?;
    let mut pos = HEADER_LEN;
    let mut record_no = 0u64;
    let torn = |pos: usize, report: &mut ReplayReport, why: &str| -> Result<()> {
        if is_last {
            report.torn_tail = Some((pos as u64, (bytes.len() - pos) as u64));
            Ok(())
        } else {
            Err(Error::corruption(
                path,
                pos as u64,
                format!("{why} in a WAL file that is not the newest"),
            ))
        }
    };
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < FRAME_HEADER_LEN {
            torn(pos, &mut report, "truncated record header")?;
            break;
        }
        let (Some(len), Some(len_crc), Some(crc)) = (u32_at(rest, 0), u32_at(rest, 4), u32_at(rest, 8))
        else {
            return Err(Error::corruption(path, pos as u64, "unreadable record header"));
        };
        if crc32fast::hash(&len.to_le_bytes()) != len_crc {
            // A header that never got (fully) written: its length fields cut short, then zeros up
            // to the end of the file.
            if zero_tail_start(rest) < 8 {
                torn(pos, &mut report, "zeroed record")?;
                break;
            }
            return Err(Error::corruption(
                path,
                pos as u64,
                "record length checksum mismatch",
            ));
        }
        let end = FRAME_HEADER_LEN + len as usize;
        let Some(sealed) = rest.get(FRAME_HEADER_LEN..end) else {
            torn(pos, &mut report, "record cut short")?;
            break;
        };
        if crc32fast::hash(sealed) != crc {
            if zero_tail_start(rest) <= end {
                // The last record of the file, or followed only by zeros (space allocated for
                // writes that never reached the disk): a write cut short by a crash looks exactly
                // like this.
                torn(pos, &mut report, "record checksum mismatch")?;
                break;
            }
            return Err(Error::corruption(
                path,
                pos as u64,
                "record checksum mismatch in the middle of the log",
            ));
        }
        let plain = cipher
            .open(record_no, BlockKind::WalRecord, sealed)?
            .ok_or_else(|| {
                Error::corruption(
                    path,
                    pos as u64,
                    "record fails authentication (altered, moved or sealed under another key)",
                )
            })?;
        let (commit_ms, records) = decode_record(&plain, header.version)
            .ok_or_else(|| Error::corruption(path, pos as u64, "authenticated record does not parse"))?;
        if until_ms.is_some_and(|until| commit_ms > until) {
            report.stopped_at_time = true;
            break;
        }
        for r in records {
            report.max_seq = report.max_seq.max(r.seq);
            apply(r);
        }
        report.records += 1;
        record_no += 1;
        pos += end;
    }
    Ok(report)
}

/// Where the run of zeros that ends `bytes` starts (`bytes.len()` if the last byte is not zero).
fn zero_tail_start(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::super::WalWriter;
    use super::*;

    fn write_wal(dir: &Path, suite: &CipherSuite, n: u64) -> std::path::PathBuf {
        let mut w = WalWriter::create(dir, 1, suite).unwrap();
        for i in 0..n {
            let k = format!("key{i}");
            w.append(100 + i, i + 1, &[(k.as_bytes(), Some(&b"value"[..]))])
                .unwrap();
        }
        w.sync().unwrap();
        dir.join(super::super::writer::wal_file_name(1))
    }

    fn collect(path: &Path, suite: &CipherSuite, last: bool) -> Result<(Vec<Record>, ReplayReport)> {
        let mut v = Vec::new();
        let rep = replay(path, 1, suite, last, |r| v.push(r))?;
        Ok((v, rep))
    }

    #[test]
    fn replays_all_and_stops_at_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let path = write_wal(dir.path(), &suite, 5);
        let (recs, rep) = collect(&path, &suite, true).unwrap();
        assert_eq!(
            (recs.len(), rep.records, rep.max_seq, rep.torn_tail),
            (5, 5, 5, None)
        );

        let full = std::fs::read(&path).unwrap();
        for cut in (HEADER_LEN + 1)..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let (recs, rep) = collect(&path, &suite, true).unwrap();
            assert!(recs.len() < 5);
            if rep.torn_tail.is_none() {
                // A cut exactly between two records leaves a shorter, valid log.
                continue;
            }
            // Every record returned is one that was written, in order.
            for (i, r) in recs.iter().enumerate() {
                assert_eq!(r.key, format!("key{i}").into_bytes());
            }
            // Not the newest file: the same cut is corruption.
            assert!(collect(&path, &suite, false).unwrap_err().is_corruption());
        }
    }

    /// Fixture of the old format: a version-1 WAL (records without a commit time) still
    /// replays, and counts as committed before any moment.
    #[test]
    fn a_version_1_wal_without_commit_times_still_replays() {
        use super::super::format::{encode_batch, encode_frame};
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let (cipher, salt) = suite.new_file(FileKind::Wal, 1);
        let header = FileHeader {
            version: WAL_VERSION_V1,
            file_id: 1,
            layers: suite.layers(),
            salt,
        };
        let mut bytes = header.encode(WAL_MAGIC);
        for i in 0..3u64 {
            let key = format!("k{i}");
            let plain = encode_batch(i + 1, &[(key.as_bytes(), Some(&b"v"[..]))]);
            bytes.extend(encode_frame(
                &cipher.seal(i, BlockKind::WalRecord, plain).unwrap(),
            ));
        }
        let path = dir.path().join(super::super::writer::wal_file_name(1));
        std::fs::write(&path, &bytes).unwrap();
        let (recs, rep) = collect(&path, &suite, false).unwrap();
        assert_eq!((recs.len(), rep.max_seq), (3, 3));
        let mut n = 0;
        replay_until(&path, 1, &suite, false, Some(0), |_| n += 1).unwrap();
        assert_eq!(n, 3);
        // Any other version is refused.
        bytes[8] = 9;
        let crc = crc32fast::hash(&bytes[..HEADER_LEN - 4]).to_le_bytes();
        bytes[HEADER_LEN - 4..HEADER_LEN].copy_from_slice(&crc);
        std::fs::write(&path, &bytes).unwrap();
        assert!(collect(&path, &suite, false).unwrap_err().is_corruption());
    }

    #[test]
    fn replay_until_stops_at_the_first_later_commit() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let path = write_wal(dir.path(), &suite, 5);
        for (until, want) in [(99, 0), (100, 1), (102, 3), (104, 5), (1000, 5)] {
            let mut v = Vec::new();
            let rep = replay_until(&path, 1, &suite, false, Some(until), |r| v.push(r)).unwrap();
            assert_eq!(v.len(), want, "until {until}");
            assert_eq!(rep.stopped_at_time, want < 5, "until {until}");
        }
    }

    #[test]
    fn flipped_byte_before_the_last_record_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let path = write_wal(dir.path(), &suite, 4);
        let full = std::fs::read(&path).unwrap();
        let (_, last) = {
            // Offset of the last frame: walk the frames.
            let mut pos = HEADER_LEN;
            let mut last = pos;
            while pos < full.len() {
                last = pos;
                pos += FRAME_HEADER_LEN + u32_at(&full, pos).unwrap() as usize;
            }
            (pos, last)
        };
        for i in 0..last {
            let mut bad = full.clone();
            bad[i] ^= 0x04;
            std::fs::write(&path, &bad).unwrap();
            let err = collect(&path, &suite, true).unwrap_err();
            assert!(err.is_corruption(), "flip at {i}: {err}");
        }
        // A flip inside the last record drops it as a torn tail; it is never returned altered.
        for i in last..full.len() {
            let mut bad = full.clone();
            bad[i] ^= 0x04;
            std::fs::write(&path, &bad).unwrap();
            match collect(&path, &suite, true) {
                Ok((recs, rep)) => {
                    assert_eq!(recs.len(), 3);
                    assert_eq!(rep.torn_tail.map(|t| t.0), Some(last as u64));
                }
                Err(e) => assert!(e.is_corruption()),
            }
        }
    }

    /// Regression (found by `wal::fuzz_tests`): a crash can leave the newest WAL with its size
    /// but not all its data — the start of a write, then zeros to the end. Zeros starting inside
    /// the file header, inside a record's length fields, or inside a record followed by more
    /// (zeroed) records were reported as corruption and failed the open; they are a torn tail.
    #[test]
    fn zero_filled_from_any_byte_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let path = write_wal(dir.path(), &suite, 4);
        let full = std::fs::read(&path).unwrap();
        let mut frames = Vec::new();
        let mut pos = HEADER_LEN;
        while pos < full.len() {
            let end = pos + FRAME_HEADER_LEN + u32_at(&full, pos).unwrap() as usize;
            frames.push((pos, end));
            pos = end;
        }
        for from in 1..full.len() {
            if full[from..].iter().all(|b| *b == 0) {
                continue;
            }
            let mut bad = full.clone();
            bad[from..].fill(0);
            std::fs::write(&path, &bad).unwrap();
            let (recs, rep) =
                collect(&path, &suite, true).unwrap_or_else(|e| panic!("zeros from {from}: {e}"));
            // A frame (or the header) whose bytes from `from` on were zeros already is unchanged:
            // the keys are random, so a tag may end in zero bytes.
            let unchanged = |a: usize, b: usize| bad[a..b] == full[a..b];
            let (kept, torn_at) = if unchanged(0, HEADER_LEN) {
                let kept = frames.iter().take_while(|f| unchanged(f.0, f.1)).count();
                (kept, frames.get(kept).map_or(full.len(), |f| f.0))
            } else {
                (0, 0)
            };
            assert_eq!(recs.len(), kept, "zeros from {from}");
            assert_eq!(rep.records, kept as u64, "zeros from {from}");
            assert_eq!(
                rep.torn_tail,
                Some((torn_at as u64, (full.len() - torn_at) as u64)),
                "zeros from {from}"
            );
            // In a WAL that is not the newest, the same damage is corruption.
            assert!(collect(&path, &suite, false).unwrap_err().is_corruption());
        }
    }
}
