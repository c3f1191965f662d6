//! `Version`: the opened segments of each level, immutable once built; readers hold an `Arc` to
//! the version they started with, so compaction can swap in a new one without blocking them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::manifest::Manifest;
use crate::cache::BlockCache;
use crate::cipher::CipherSuite;
use crate::error::Result;
use crate::kv::Found;
use crate::sst::{segment_file_name, KeyHash, Segment};

#[derive(Debug, Default)]
pub(crate) struct Version {
    pub(crate) levels: Vec<Vec<Arc<Segment>>>,
}

impl Version {
    /// Builds the version the manifest describes, reusing already-opened segments by id.
    pub(crate) fn build(
        manifest: &Manifest,
        seg_dir: &Path,
        suite: &CipherSuite,
        reuse: &HashMap<u64, Arc<Segment>>,
    ) -> Result<Version> {
        let mut levels = Vec::with_capacity(manifest.levels.len());
        for level in &manifest.levels {
            let mut v = Vec::with_capacity(level.len());
            for meta in level {
                let seg = match reuse.get(&meta.id) {
                    Some(s) => s.clone(),
                    None => Arc::new(Segment::open(
                        &seg_dir.join(segment_file_name(meta.id)),
                        meta.id,
                        suite,
                    )?),
                };
                v.push(seg);
            }
            levels.push(v);
        }
        Ok(Version { levels })
    }

    pub(crate) fn by_id(&self) -> HashMap<u64, Arc<Segment>> {
        self.levels
            .iter()
            .flatten()
            .map(|s| (s.id(), s.clone()))
            .collect()
    }

    /// The newest version of `key` in the segments: L0 newest first, then one candidate per level.
    /// `hash` as `Segment::get` takes it.
    pub(crate) fn get(&self, key: &[u8], hash: Option<KeyHash>, cache: &BlockCache) -> Result<Found> {
        for (l, level) in self.levels.iter().enumerate() {
            if l == 0 {
                for seg in level {
                    if key < seg.smallest() || key > seg.largest() {
                        continue;
                    }
                    if let Some(hit) = seg.get(key, hash, cache)? {
                        return Ok(Some(hit));
                    }
                }
            } else {
                let i = level.partition_point(|s| s.largest() < key);
                if let Some(seg) = level.get(i) {
                    if key >= seg.smallest() {
                        if let Some(hit) = seg.get(key, hash, cache)? {
                            return Ok(Some(hit));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    pub(crate) fn segments(&self) -> impl Iterator<Item = &Arc<Segment>> {
        self.levels.iter().flatten()
    }
}
