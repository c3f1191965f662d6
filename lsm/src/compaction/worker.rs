//! Carries out a compaction task: merges the input segments (newest version of each key wins),
//! drops tombstones when the task allows, asks the compaction filter (if any) about each put
//! (a dropped put becomes a tombstone unless tombstones are dropped too), and writes the output segments, cut at the target file
//! size. Does not touch the manifest. Runs on the caller's thread.

use std::path::Path;
use std::sync::Arc;

use super::CompactionFilter;
use crate::cipher::CipherSuite;
use crate::db::{zstd_level_for, FilterKeys};
use crate::error::Result;
use crate::sst::{newest_per_key, MergeIter, Segment, SegmentIter, SegmentMeta, SegmentWriter};
use strata_base::fs::sync_dir;

/// Where and how a compaction writes its output segments.
pub(crate) struct Outputs<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) suite: &'a CipherSuite,
    /// Output files are cut at this size.
    pub(crate) target_file_size: u64,
    /// Which keys go into the outputs' bloom filters.
    pub(crate) filter_keys: FilterKeys,
    /// zstd level by LSM level (`DbOptions::zstd_levels`).
    pub(crate) zstd_levels: &'a [i32],
    /// zstd level of the bottom level (`DbOptions::bottom_zstd_level`).
    pub(crate) bottom_zstd_level: Option<i32>,
}

impl Outputs<'_> {
    /// The zstd level of segments written to LSM level `level`; `bottom`: no deeper level holds
    /// data, so they settle there.
    pub(crate) fn zstd_level(&self, level: usize, bottom: bool) -> i32 {
        match self.bottom_zstd_level {
            Some(z) if bottom => z,
            _ => zstd_level_for(self.zstd_levels, level),
        }
    }

    /// A writer of segment `id` with the filter policy, compressing at `zstd_level`.
    pub(crate) fn writer(&self, id: u64, zstd_level: i32) -> Result<SegmentWriter> {
        Ok(SegmentWriter::create(self.dir, id, self.suite)?
            .with_filter_keys(self.filter_keys)
            .with_zstd_level(zstd_level))
    }
}

/// Merges `inputs` into new segments compressed at `zstd_level` (`Outputs::zstd_level`).
pub(crate) fn merge_into_segments(
    inputs: &[Arc<Segment>],
    zstd_level: i32,
    drop_tombstones: bool,
    filter: Option<&dyn CompactionFilter>,
    out: &Outputs<'_>,
    alloc_id: &mut dyn FnMut() -> u64,
) -> Result<Vec<SegmentMeta>> {
    let (seg_dir, target_file_size) = (out.dir, out.target_file_size);
    let streams = inputs
        .iter()
        .map(|s| Box::new(SegmentIter::new(s.clone(), &[], None)) as crate::sst::RecordStream<'_>)
        .collect();
    let mut outputs = Vec::new();
    let mut writer: Option<SegmentWriter> = None;
    let result = (|| -> Result<()> {
        for rec in newest_per_key(MergeIter::new(streams)) {
            let mut rec = rec?;
            if let (Some(f), Some(v)) = (filter, rec.value.as_deref()) {
                if !f.keep(&rec.key, v) {
                    // Deeper levels may hold an older version the put was hiding: shadow it.
                    rec.value = None;
                }
            }
            if rec.value.is_none() && drop_tombstones {
                continue;
            }
            let w = match writer.as_mut() {
                Some(w) => w,
                None => writer.insert(out.writer(alloc_id(), zstd_level)?),
            };
            w.add(&rec)?;
            if w.size() >= target_file_size {
                if let Some(w) = writer.take() {
                    outputs.push(w.finish()?);
                }
            }
        }
        if let Some(w) = writer.take() {
            if !w.is_empty() {
                outputs.push(w.finish()?);
            }
        }
        Ok(sync_dir(seg_dir)?)
    })();
    if let Err(e) = result {
        // Outputs are not in the manifest yet: remove them so a failed compaction leaves nothing.
        for m in &outputs {
            let _ = std::fs::remove_file(seg_dir.join(crate::sst::segment_file_name(m.id)));
        }
        if let Some(w) = writer {
            let _ = std::fs::remove_file(w.path());
        }
        return Err(e);
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::Record;

    /// Drops values that read "expired".
    #[derive(Debug)]
    struct DropExpired;

    impl CompactionFilter for DropExpired {
        fn keep(&self, _key: &[u8], value: &[u8]) -> bool {
            value != b"expired"
        }
    }

    fn rec(key: &str, seq: u64, value: Option<&str>) -> Record {
        Record {
            key: key.as_bytes().to_vec(),
            seq,
            value: value.map(|v| v.as_bytes().to_vec()),
        }
    }

    fn records(dir: &Path, metas: &[SegmentMeta], suite: &CipherSuite) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for m in metas {
            let seg =
                Arc::new(Segment::open(&dir.join(crate::sst::segment_file_name(m.id)), m.id, suite).unwrap());
            for r in SegmentIter::new(seg, &[], None) {
                let r = r.unwrap();
                out.push((
                    String::from_utf8(r.key).unwrap(),
                    r.value.map(|v| String::from_utf8(v).unwrap()),
                ));
            }
        }
        out
    }

    #[test]
    fn filtered_puts_become_tombstones_or_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let mut w = SegmentWriter::create(dir.path(), 1, &suite).unwrap();
        for r in [
            rec("a", 3, Some("expired")),
            rec("b", 4, Some("live")),
            rec("c", 5, None),
        ] {
            w.add(&r).unwrap();
        }
        let meta = w.finish().unwrap();
        let input =
            Arc::new(Segment::open(&dir.path().join(crate::sst::segment_file_name(1)), 1, &suite).unwrap());
        let mut next = 10;
        let mut alloc = || {
            next += 1;
            next
        };
        let f = DropExpired;
        // Deeper levels may hold older versions: the dropped put leaves a tombstone.
        let out = Outputs {
            dir: dir.path(),
            suite: &suite,
            target_file_size: 1 << 20,
            filter_keys: crate::db::every_key,
            zstd_levels: &[1],
            bottom_zstd_level: None,
        };
        let kept =
            merge_into_segments(std::slice::from_ref(&input), 1, false, Some(&f), &out, &mut alloc).unwrap();
        let want = vec![
            ("a".to_string(), None),
            ("b".to_string(), Some("live".to_string())),
            ("c".to_string(), None),
        ];
        assert_eq!(records(dir.path(), &kept, &suite), want);
        // At the bottom, it vanishes with the tombstones.
        let bottom =
            merge_into_segments(std::slice::from_ref(&input), 1, true, Some(&f), &out, &mut alloc).unwrap();
        assert_eq!(
            records(dir.path(), &bottom, &suite),
            vec![("b".to_string(), Some("live".to_string()))]
        );
        // Without a filter, everything is carried over.
        let all = merge_into_segments(&[input], 1, false, None, &out, &mut alloc).unwrap();
        assert_eq!(records(dir.path(), &all, &suite).len(), 3);
        assert_eq!(meta.entries, 3);
    }
}
