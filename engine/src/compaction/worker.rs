//! Carries out a compaction task: merges the input segments (newest version of each key wins),
//! drops tombstones when the task allows, and writes the output segments, cut at the target file
//! size. Does not touch the manifest. Runs on the caller's thread.

use std::path::Path;
use std::sync::Arc;

use crate::crypto::CipherSuite;
use crate::error::Result;
use crate::sst::{newest_per_key, MergeIter, Segment, SegmentIter, SegmentMeta, SegmentWriter};
use crate::util::fs::sync_dir;

pub(crate) fn merge_into_segments(
    inputs: &[Arc<Segment>],
    drop_tombstones: bool,
    seg_dir: &Path,
    suite: &CipherSuite,
    target_file_size: u64,
    alloc_id: &mut dyn FnMut() -> u64,
) -> Result<Vec<SegmentMeta>> {
    let streams = inputs
        .iter()
        .map(|s| Box::new(SegmentIter::new(s.clone(), &[], None)) as crate::sst::RecordStream<'_>)
        .collect();
    let mut outputs = Vec::new();
    let mut writer: Option<SegmentWriter> = None;
    let result = (|| -> Result<()> {
        for rec in newest_per_key(MergeIter::new(streams)) {
            let rec = rec?;
            if rec.value.is_none() && drop_tombstones {
                continue;
            }
            let w = match writer.as_mut() {
                Some(w) => w,
                None => writer.insert(SegmentWriter::create(seg_dir, alloc_id(), suite)?),
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
        sync_dir(seg_dir)
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
