//! Picks the next compaction from the levels' metadata. Leveled: L0 is compacted into L1 once it
//! holds `l0_trigger` files; level n >= 1 into n + 1 once it holds more than
//! `base_level_bytes * 10^(n-1)`. Tombstones are dropped when no deeper level holds data (they
//! would shadow nothing). Pure functions; thread-safe.

use crate::sst::SegmentMeta;

#[derive(Clone, Debug)]
pub(crate) struct StrategyConfig {
    pub(crate) l0_trigger: usize,
    pub(crate) base_level_bytes: u64,
    pub(crate) multiplier: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Task {
    /// Segment ids to merge (from the input level and the overlapping part of the output level).
    pub(crate) inputs: Vec<u64>,
    pub(crate) output_level: usize,
    pub(crate) drop_tombstones: bool,
}

fn overlaps(s: &SegmentMeta, lo: &[u8], hi: &[u8]) -> bool {
    s.smallest.as_slice() <= hi && s.largest.as_slice() >= lo
}

fn deeper_levels_empty(levels: &[Vec<SegmentMeta>], level: usize) -> bool {
    levels.iter().skip(level + 1).all(Vec::is_empty)
}

/// The files of `inputs` plus every file of `output_level` overlapping their key range.
fn with_overlaps(levels: &[Vec<SegmentMeta>], inputs: &[&SegmentMeta], output_level: usize) -> Task {
    let lo = inputs
        .iter()
        .map(|s| s.smallest.as_slice())
        .min()
        .unwrap_or_default();
    let hi = inputs
        .iter()
        .map(|s| s.largest.as_slice())
        .max()
        .unwrap_or_default();
    let mut ids: Vec<u64> = inputs.iter().map(|s| s.id).collect();
    if let Some(out) = levels.get(output_level) {
        ids.extend(out.iter().filter(|s| overlaps(s, lo, hi)).map(|s| s.id));
    }
    Task {
        inputs: ids,
        output_level,
        drop_tombstones: deeper_levels_empty(levels, output_level),
    }
}

/// The compaction that is due, if any.
pub(crate) fn pick(levels: &[Vec<SegmentMeta>], cfg: &StrategyConfig) -> Option<Task> {
    let l0 = levels.first()?;
    if l0.len() >= cfg.l0_trigger && levels.len() > 1 {
        let inputs: Vec<&SegmentMeta> = l0.iter().collect();
        return Some(with_overlaps(levels, &inputs, 1));
    }
    let mut target = cfg.base_level_bytes;
    for level in 1..levels.len().saturating_sub(1) {
        let files = &levels[level];
        let bytes: u64 = files.iter().map(|s| s.size).sum();
        if bytes > target {
            // The largest file moves down: it frees the most space for the least overlap on average.
            let victim = files.iter().max_by_key(|s| (s.size, std::cmp::Reverse(s.id)))?;
            return Some(with_overlaps(levels, &[victim], level + 1));
        }
        target = target.saturating_mul(cfg.multiplier);
    }
    None
}

/// A full compaction: everything into the deepest non-empty level (at least L1), tombstones
/// dropped. `None` if there is nothing to compact.
pub(crate) fn full(levels: &[Vec<SegmentMeta>]) -> Option<Task> {
    let inputs: Vec<u64> = levels.iter().flatten().map(|s| s.id).collect();
    if inputs.is_empty() {
        return None;
    }
    let deepest = levels.iter().rposition(|l| !l.is_empty()).unwrap_or(1).max(1);
    Some(Task {
        inputs,
        output_level: deepest,
        drop_tombstones: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(id: u64, lo: &str, hi: &str, size: u64) -> SegmentMeta {
        SegmentMeta {
            id,
            size,
            smallest: lo.as_bytes().to_vec(),
            largest: hi.as_bytes().to_vec(),
            entries: 1,
            max_seq: id,
        }
    }

    fn cfg() -> StrategyConfig {
        StrategyConfig {
            l0_trigger: 2,
            base_level_bytes: 100,
            multiplier: 10,
        }
    }

    #[test]
    fn table() {
        let empty = || vec![Vec::new(); 4];
        // (levels, expected task)
        let mut cases: Vec<(Vec<Vec<SegmentMeta>>, Option<Task>)> = Vec::new();

        cases.push((empty(), None));

        let mut one_l0 = empty();
        one_l0[0] = vec![seg(1, "a", "c", 10)];
        cases.push((one_l0, None));

        let mut l0_due = empty();
        l0_due[0] = vec![seg(3, "d", "f", 10), seg(2, "a", "c", 10)];
        l0_due[1] = vec![seg(1, "a", "b", 10), seg(4, "g", "h", 10)];
        cases.push((
            l0_due,
            Some(Task {
                inputs: vec![3, 2, 1],
                output_level: 1,
                drop_tombstones: true,
            }),
        ));

        let mut l0_due_deeper = empty();
        l0_due_deeper[0] = vec![seg(3, "d", "f", 10), seg(2, "a", "c", 10)];
        l0_due_deeper[2] = vec![seg(1, "a", "z", 10)];
        cases.push((
            l0_due_deeper,
            Some(Task {
                inputs: vec![3, 2],
                output_level: 1,
                drop_tombstones: false,
            }),
        ));

        let mut l1_big = empty();
        l1_big[1] = vec![seg(5, "a", "c", 60), seg(6, "d", "f", 70)];
        l1_big[2] = vec![seg(7, "e", "g", 10), seg(8, "x", "z", 10)];
        cases.push((
            l1_big,
            Some(Task {
                inputs: vec![6, 7],
                output_level: 2,
                drop_tombstones: true,
            }),
        ));

        let mut l1_ok = empty();
        l1_ok[1] = vec![seg(5, "a", "c", 60)];
        cases.push((l1_ok, None));

        for (i, (levels, want)) in cases.into_iter().enumerate() {
            assert_eq!(pick(&levels, &cfg()), want, "case {i}");
        }
    }

    #[test]
    fn full_compaction() {
        let mut levels = vec![Vec::new(); 4];
        assert_eq!(full(&levels), None);
        levels[0] = vec![seg(2, "a", "b", 1)];
        assert_eq!(
            full(&levels),
            Some(Task {
                inputs: vec![2],
                output_level: 1,
                drop_tombstones: true
            })
        );
        levels[3] = vec![seg(1, "a", "b", 1)];
        assert_eq!(full(&levels).map(|t| t.output_level), Some(3));
    }
}
