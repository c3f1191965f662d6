//! Decoder fuzzing of the WAL (proptest, stable Rust, part of every `cargo test`): the batch
//! decoder on arbitrary bytes and huge length prefixes, and `replay` of real WAL files after
//! random damage. A replay returns a prefix of the written records or a corruption error naming
//! the file — never a record that was not written. See docs/reliability.md ("Decoder fuzzing").

use std::path::{Path, PathBuf};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::format::{decode_batch, encode_batch, FRAME_HEADER_LEN};
use super::{replay, wal_file_name, WalWriter};
use crate::cipher::CipherSuite;
use crate::error::Result;
use crate::file_header::HEADER_LEN;
use crate::kv::Record;
use strata_base::coding::{put_u32, put_u64, put_u8};
use strata_base::fuzz_support::{config, largest_allocation};

type Op = (Vec<u8>, Option<Vec<u8>>);

/// Largest single allocation any decode here may make: far below what the length fields in the
/// inputs claim (up to 4 GiB), far above what a small input legitimately needs.
const ALLOC_LIMIT: usize = 8 << 20;

fn batches() -> impl Strategy<Value = Vec<Vec<Op>>> {
    let op = (
        vec(any::<u8>(), 0..12),
        proptest::option::of(vec(any::<u8>(), 0..48)),
    );
    vec(vec(op, 1..4), 1..8)
}

fn borrowed(ops: &[Op]) -> Vec<(&[u8], Option<&[u8]>)> {
    ops.iter().map(|(k, v)| (k.as_slice(), v.as_deref())).collect()
}

/// The records each batch becomes, sequence numbers from 1.
fn expected(batches: &[Vec<Op>]) -> Vec<Vec<Record>> {
    let mut seq = 0;
    batches
        .iter()
        .map(|ops| {
            ops.iter()
                .map(|(k, v)| {
                    seq += 1;
                    Record {
                        key: k.clone(),
                        seq,
                        value: v.clone(),
                    }
                })
                .collect()
        })
        .collect()
}

/// Writes `batches` as WAL file 1 in `dir` and returns its path and bytes.
fn write_wal(dir: &Path, suite: &CipherSuite, batches: &[Vec<Op>]) -> (PathBuf, Vec<u8>) {
    let mut w = WalWriter::create(dir, 1, suite).unwrap();
    let mut seq = 1;
    for ops in batches {
        w.append(seq, seq, &borrowed(ops)).unwrap();
        seq += ops.len() as u64;
    }
    w.sync().unwrap();
    let path = dir.join(wal_file_name(1));
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// `(start, end)` of every frame of an undamaged WAL.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        out.push((pos, pos + FRAME_HEADER_LEN + len));
        pos += FRAME_HEADER_LEN + len;
    }
    out
}

/// What one replay returned: the records, the number of frames and the torn tail.
type Replayed = (Vec<Record>, u64, Option<(u64, u64)>);

fn replay_bytes(path: &Path, suite: &CipherSuite, bytes: &[u8], is_last: bool) -> Result<Replayed> {
    std::fs::write(path, bytes).unwrap();
    let mut recs = Vec::new();
    let (report, largest) = largest_allocation(|| replay(path, 1, suite, is_last, |r| recs.push(r)));
    assert!(largest <= ALLOC_LIMIT, "replay allocated {largest} bytes at once");
    let report = report?;
    Ok((recs, report.records, report.torn_tail))
}

#[derive(Clone, Debug)]
enum Damage {
    Flip {
        at: Index,
        bit: u8,
    },
    Truncate(Index),
    /// Everything from an offset on replaced by zeros (space allocated but never written).
    ZeroFrom(Index),
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    /// Two 16-byte ranges exchanged.
    Swap(Index, Index),
    /// The start of this WAL (at least its header), then the end of another one (same key, other
    /// salt).
    Splice(Index, Index),
    /// A frame's length field set to a huge value, its length checksum fixed up to match.
    HugeLength {
        frame: Index,
        len: u32,
    },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        any::<Index>().prop_map(Damage::Truncate),
        any::<Index>().prop_map(Damage::ZeroFrom),
        (any::<Index>(), vec(any::<u8>(), 1..24)).prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Swap(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Splice(a, b)),
        (any::<Index>(), (1u32 << 24)..=u32::MAX).prop_map(|(frame, len)| Damage::HugeLength { frame, len }),
    ]
}

fn apply(d: &Damage, good: &[u8], other: &[u8], frames: &[(usize, usize)]) -> Vec<u8> {
    let mut b = good.to_vec();
    match d {
        Damage::Flip { at, bit } => b[at.index(good.len())] ^= 1 << bit,
        Damage::Truncate(at) => b.truncate(at.index(good.len())),
        Damage::ZeroFrom(at) => b[at.index(good.len())..].fill(0),
        Damage::Insert { at, bytes } => {
            let at = at.index(b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Damage::Swap(x, y) => {
            let n = b.len() - 16;
            let (x, y) = (x.index(n), y.index(n));
            let (xs, ys) = (good[x..x + 16].to_vec(), good[y..y + 16].to_vec());
            b[y..y + 16].copy_from_slice(&xs);
            b[x..x + 16].copy_from_slice(&ys);
        }
        Damage::Splice(x, y) => {
            b.truncate(HEADER_LEN + x.index(good.len() + 1 - HEADER_LEN));
            b.extend_from_slice(&other[y.index(other.len() + 1)..]);
        }
        Damage::HugeLength { frame, len } => {
            let (start, _) = frames[frame.index(frames.len())];
            b[start..start + 4].copy_from_slice(&len.to_le_bytes());
            b[start + 4..start + 8].copy_from_slice(&crc32fast::hash(&len.to_le_bytes()).to_le_bytes());
        }
    }
    b
}

/// A promised replay: `Ok((frames kept, torn tail))`, or `Err(())` for a corruption error.
type Promise = std::result::Result<(u64, Option<(u64, u64)>), ()>;

/// What the recovery rules promise for `d`, when it can be said exactly.
fn promised(d: &Damage, good: &[u8], frames: &[(usize, usize)], is_last: bool) -> Option<Promise> {
    let kept_before = |at: usize| frames.iter().filter(|f| f.1 <= at).count() as u64;
    let frame_at = |at: usize| frames.iter().find(|f| f.0 <= at && at < f.1).copied();
    let boundary = |at: usize| at == HEADER_LEN || frames.iter().any(|f| f.1 == at);
    match d {
        Damage::Flip { at, .. } => {
            let at = at.index(good.len());
            let last = frames.last()?;
            // A flip inside the last record of the newest WAL passes for a torn write of it (a
            // flip in its length fields is corruption); anywhere else it is corruption.
            if is_last && at >= last.0 {
                None
            } else {
                Some(Err(()))
            }
        }
        Damage::HugeLength { frame, .. } => {
            // The record claims to run past the end of the file: cut short, so a torn tail in
            // the newest WAL, the records before it kept.
            let (start, _) = frames[frame.index(frames.len())];
            Some(if is_last {
                Ok((
                    kept_before(start),
                    Some((start as u64, (good.len() - start) as u64)),
                ))
            } else {
                Err(())
            })
        }
        Damage::Truncate(at) => {
            let at = at.index(good.len());
            Some(match (is_last, at < HEADER_LEN, boundary(at)) {
                (true, true, _) => Ok((0, Some((0, at as u64)))),
                (_, false, true) => Ok((kept_before(at), None)),
                (true, false, false) => {
                    let (start, _) = frame_at(at)?;
                    Ok((kept_before(at), Some((start as u64, (at - start) as u64))))
                }
                (false, _, _) => Err(()),
            })
        }
        Damage::ZeroFrom(at) => {
            // The first byte the zeros changed.
            let at = at.index(good.len());
            let at = at + good[at..].iter().position(|b| *b != 0)?;
            Some(match (is_last, at < HEADER_LEN) {
                (false, _) => Err(()),
                (true, true) => Ok((0, Some((0, good.len() as u64)))),
                (true, false) => {
                    // Everything from the first damaged record on is a torn tail.
                    let start = frame_at(at)?.0;
                    Ok((kept_before(at), Some((start as u64, (good.len() - start) as u64))))
                }
            })
        }
        _ => None,
    }
}

fn check_replay(got: &Result<Replayed>, written: &[Vec<Record>], path: &Path, is_last: bool) {
    match got {
        Ok((recs, frames, torn)) => {
            let want: Vec<Record> = written.iter().take(*frames as usize).flatten().cloned().collect();
            assert!(*frames as usize <= written.len());
            assert_eq!(recs, &want, "records returned are not a prefix of those written");
            assert!(
                is_last || torn.is_none(),
                "torn tail reported in a WAL that is not the newest"
            );
        }
        Err(e) => {
            assert!(e.is_corruption(), "{e}");
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(e.to_string().contains(name), "error does not name the file: {e}");
        }
    }
}

proptest! {
    // 256 cases: each decodes at most a few KiB, so the whole property takes well under a second.
    #![proptest_config(config(256))]

    /// Arbitrary bytes: `None` or records, never a panic and never a large allocation.
    #[test]
    fn batch_decoder_takes_any_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let (out, largest) = largest_allocation(|| decode_batch(&bytes));
        prop_assert!(largest <= ALLOC_LIMIT, "{} bytes allocated", largest);
        if let Some(recs) = out {
            // Whatever decodes re-encodes to the same bytes (the format has one encoding).
            let first = u64::from_le_bytes(bytes[..8].try_into().unwrap());
            let ops: Vec<(&[u8], Option<&[u8]>)> =
                recs.iter().map(|r| (r.key.as_slice(), r.value.as_deref())).collect();
            prop_assert_eq!(encode_batch(first, &ops), bytes);
        }
    }

    /// Encoded batches decode to exactly what was encoded; a batch that lost bytes, or claims
    /// more ops or longer byte strings than it holds (up to 4 GiB), is refused before allocating.
    #[test]
    fn batch_round_trip_and_huge_lengths(
        ops in vec((vec(any::<u8>(), 0..12), proptest::option::of(vec(any::<u8>(), 0..48))), 0..6),
        first in 0u64..1 << 40,
        cut in any::<Index>(),
        huge in (1u32 << 20)..=u32::MAX,
    ) {
        let enc = encode_batch(first, &borrowed(&ops));
        let recs = decode_batch(&enc).unwrap();
        let want: Vec<Record> = ops.iter().enumerate().map(|(i, (k, v))| Record {
            key: k.clone(),
            seq: first + i as u64,
            value: v.clone(),
        }).collect();
        prop_assert_eq!(recs, want);
        let cut = cut.index(enc.len());
        prop_assert!(decode_batch(&enc[..cut]).is_none());

        // A count of `huge` ops with one op behind it.
        let mut many = Vec::new();
        put_u64(&mut many, first);
        put_u32(&mut many, huge);
        many.extend_from_slice(&enc[12.min(enc.len())..]);
        let (out, largest) = largest_allocation(|| decode_batch(&many));
        prop_assert!(out.is_none());
        prop_assert!(largest <= ALLOC_LIMIT, "{} bytes allocated", largest);
        // One op whose key claims `huge` bytes.
        let mut long = Vec::new();
        put_u64(&mut long, first);
        put_u32(&mut long, 1);
        put_u8(&mut long, 1);
        put_u32(&mut long, huge);
        long.extend_from_slice(b"short");
        let (out, largest) = largest_allocation(|| decode_batch(&long));
        prop_assert!(out.is_none());
        prop_assert!(largest <= ALLOC_LIMIT, "{} bytes allocated", largest);
    }
}

proptest! {
    // 128 cases: each writes two small WAL files and replays the damaged one twice (as the newest
    // WAL and as an older one); about 10 ms a case in a debug build.
    #![proptest_config(config(128))]

    /// A damaged WAL replays to a prefix of the records written (the undamaged records before a
    /// torn tail, in the newest file only) or to a corruption error naming the file.
    #[test]
    fn damaged_wal_replays_a_prefix_or_fails(
        written in batches(),
        other in batches(),
        customer_layer in any::<bool>(),
        d in damage(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let other_dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(customer_layer);
        let (path, good) = write_wal(dir.path(), &suite, &written);
        let (_, other_bytes) = write_wal(other_dir.path(), &suite, &other);
        let frames = frames(&good);
        let want = expected(&written);

        // Undamaged: everything, as the newest WAL or not.
        for is_last in [true, false] {
            let (recs, n, torn) = replay_bytes(&path, &suite, &good, is_last).unwrap();
            prop_assert_eq!(recs, want.concat());
            prop_assert_eq!((n, torn), (want.len() as u64, None));
        }

        let bad = apply(&d, &good, &other_bytes, &frames);
        for is_last in [true, false] {
            let got = replay_bytes(&path, &suite, &bad, is_last);
            check_replay(&got, &want, &path, is_last);
            if bad == good {
                continue;
            }
            if let Some(p) = promised(&d, &good, &frames, is_last) {
                match (&got, p) {
                    (Ok((_, n, torn)), Ok(p)) => prop_assert_eq!((*n, *torn), p, "{:?}", d),
                    (Err(_), Err(())) => {}
                    (got, p) => prop_assert!(false, "{:?} (newest: {}): got {:?}, promised {:?}",
                        d, is_last, got.as_ref().map(|g| (g.1, g.2)), p),
                }
            } else if let (Damage::Flip { .. }, Ok((_, n, torn))) = (&d, &got) {
                // Never returned altered: the flipped last record is dropped as a torn tail.
                let (last, _) = frames[frames.len() - 1];
                let torn_tail = Some((last as u64, (good.len() - last) as u64));
                prop_assert_eq!((*n, *torn), (frames.len() as u64 - 1, torn_tail), "{:?}", d);
            } else if !is_last {
                // Only a cut at a record boundary leaves an older WAL that replays; every other
                // change to it is corruption.
                let cut_at_boundary = matches!(d, Damage::Splice(..) | Damage::Truncate(_))
                    && good.starts_with(&bad);
                prop_assert!(got.is_err() || cut_at_boundary, "{:?} replayed as an older WAL", d);
            }
        }
    }

    /// Arbitrary bytes, and arbitrary bytes behind a valid header, replay to a corruption error
    /// or (as the newest WAL, when they look like a torn or zeroed tail) to nothing.
    #[test]
    fn random_bytes_are_not_a_wal(
        junk in vec(any::<u8>(), 0..2048),
        keep_header in any::<bool>(),
        is_last in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let (path, good) = write_wal(dir.path(), &suite, &[]);
        let bytes = if keep_header { [&good[..HEADER_LEN], &junk[..]].concat() } else { junk };
        let got = replay_bytes(&path, &suite, &bytes, is_last);
        check_replay(&got, &[], &path, is_last);
        if let Ok((recs, n, _)) = got {
            prop_assert!(recs.is_empty() && n == 0);
        }
    }
}
