//! Segments whose index names blocks by separators read exactly like a sorted map: point reads,
//! forward scans and reverse scans started anywhere, keys between blocks included, against a
//! `BTreeMap` model. Keys share long prefixes and part at varied depths, as the engine's do.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

use super::{segment_file_name, KeyHash, Segment, SegmentIter, SegmentRevIter, SegmentWriter};
use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::kv::Record;
use strata_base::fuzz_support::config;

const ID: u64 = 3;

/// Keys like index entries: a long shared head, a few bytes from a small alphabet (so that
/// neighbours part at every depth), then a tail.
fn key() -> impl Strategy<Value = Vec<u8>> {
    (vec(0u8..4, 0..6), vec(any::<u8>(), 0..40)).prop_map(|(mid, tail)| {
        let mut k = b"\x07\x00\x00\x00\x05\x00\x00\x00\x01\x00\x0c/name/first".to_vec();
        k.extend(mid);
        k.extend(tail);
        k
    })
}

fn near(keys: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut probes = vec![Vec::new(), vec![0xff; 60]];
    for k in keys {
        probes.push(k.clone());
        let mut after = k.clone();
        after.push(0);
        probes.push(after);
        for cut in [1, 3, k.len() / 2] {
            probes.push(k[..k.len().saturating_sub(cut)].to_vec());
        }
    }
    probes
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn reads_match_the_model_around_every_block(
        entries in btree_map(key(), vec(any::<u8>(), 0..300), 2..300),
        target in 256usize..2048,
    ) {
        let suite = CipherSuite::ephemeral(false);
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::create(dir.path(), ID, &suite).unwrap().with_block_target(target);
        for (i, (k, v)) in entries.iter().enumerate() {
            w.add(&Record { key: k.clone(), seq: i as u64, value: Some(v.clone()) }).unwrap();
        }
        w.finish().unwrap();
        let seg = Arc::new(Segment::open(&dir.path().join(segment_file_name(ID)), ID, &suite).unwrap());
        let model: BTreeMap<&[u8], &[u8]> = entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
        prop_assert_eq!(seg.largest(), *model.keys().next_back().unwrap());
        let cache = BlockCache::new(1 << 20);
        let keys: Vec<Vec<u8>> = entries.keys().cloned().collect();
        for p in near(&keys) {
            let got = seg.get(&p, Some(KeyHash::of(&p)), &cache).unwrap().map(|(_, v)| v.unwrap());
            prop_assert_eq!(got.as_deref(), model.get(p.as_slice()).copied(), "get {:?}", p);
            let fwd: Vec<Vec<u8>> = SegmentIter::new(seg.clone(), &p, Some(&cache))
                .take(3)
                .map(|r| r.unwrap().key)
                .collect();
            let want: Vec<Vec<u8>> = model.range(p.as_slice()..).take(3).map(|(k, _)| k.to_vec()).collect();
            prop_assert_eq!(fwd, want, "scan from {:?}", p);
            let rev: Vec<Vec<u8>> = SegmentRevIter::new(seg.clone(), &p, Some(&cache))
                .take(3)
                .map(|r| r.unwrap().key)
                .collect();
            let want: Vec<Vec<u8>> = model.range(..p.as_slice()).rev().take(3).map(|(k, _)| k.to_vec()).collect();
            prop_assert_eq!(rev, want, "reverse scan below {:?}", p);
        }
    }
}
