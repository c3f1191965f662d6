//! Index lookups read as a stream, for the pages of the streaming executor: the item keys that
//! equality lookups propose (`c.p = v`, `c.p IN (…)`, and unions of them), in item-key order,
//! from a resume key on, reading only as many index entries as the page pulls. Every entry of
//! one value is stored in item-key order after that value (`path | value | pk_len | pk | id`),
//! so each value is one ordered run and the runs are merged; a range or prefix lookup spans
//! many values whose runs would all have to be open at once: those are read in index order
//! instead (`index_order.rs`) or, on several paths, whole (`Container::index_candidates`).
//! Knows index keys; must not evaluate queries.

use super::container::Container;
use crate::document::container_prefix;
use crate::error::{Error, Result};
use crate::index::encode::{encode_value, entry_suffix, path_prefix};
use crate::query::plan::{Lookup, LookupKind};
use strata_lsm::db::Db;
use strata_lsm::ScanIter;

/// Most value runs merged at once; a lookup with more (a long `IN` list) is read whole instead,
/// since every open run holds a snapshot and a block of each segment it reads.
const MAX_RUNS: usize = 64;

/// The item keys a set of equality lookups proposes, in ascending order without repeats.
/// `entries_read` counts the index entries pulled so far (the page's index charge).
pub(crate) struct Candidates<'a> {
    runs: Vec<Run<'a>>,
    container: Vec<u8>,
    last: Option<Vec<u8>>,
    pub(crate) entries_read: usize,
}

/// One value's entries: the stream and the length of `path | value` its keys start with, with
/// the next entry's item-key suffix pulled ahead (for the merge).
struct Run<'a> {
    entries: ScanIter<'a>,
    path_len: usize,
    head: Option<Vec<u8>>,
}

impl Container {
    /// The stream of item keys in `scope` (a container or partition prefix) from `start` on
    /// (`start` begins with `scope`) that `lookups` propose; `None` when a lookup is not an
    /// equality or there are too many values to merge (the caller then reads the index whole).
    pub(crate) fn stream_candidates<'a>(
        &'a self,
        store: &'a Db,
        id: u32,
        generation: u32,
        lookups: &[Lookup],
        scope: &[u8],
        start: &[u8],
    ) -> Result<Option<Candidates<'a>>> {
        let container = container_prefix(id);
        let (Some(scope_suffix), Some(start_suffix)) = (
            scope.strip_prefix(container.as_slice()),
            start.strip_prefix(container.as_slice()),
        ) else {
            return Err(Error::Internal("a query's scope is outside its container".into()));
        };
        if !merges_in_key_order(lookups) {
            return Ok(None);
        }
        let mut runs = Vec::new();
        for l in lookups {
            // A path too long to be indexed has no entries (as in `index_candidates`).
            let Some(path) = path_prefix(id, generation, &l.path) else {
                continue;
            };
            let LookupKind::Values(vs) = &l.kind else {
                continue;
            };
            for v in vs {
                let mut run_prefix = path.clone();
                encode_value(v, &mut run_prefix);
                let mut from = run_prefix.clone();
                from.extend_from_slice(start_suffix);
                // Only the scope's entries of this value: `path | value | scope suffix …`.
                run_prefix.extend_from_slice(scope_suffix);
                let entries = store.iter_prefix_from(&run_prefix, &from)?;
                runs.push(Run {
                    entries,
                    path_len: path.len(),
                    head: None,
                });
            }
        }
        let mut c = Candidates {
            runs,
            container,
            last: None,
            entries_read: 0,
        };
        for i in 0..c.runs.len() {
            c.advance(i)?;
        }
        Ok(Some(c))
    }
}

/// True if `lookups` are all equalities, of at most `MAX_RUNS` values in all: their items can
/// be streamed in key order (`Container::stream_candidates`).
pub(crate) fn merges_in_key_order(lookups: &[Lookup]) -> bool {
    let mut values = 0usize;
    for l in lookups {
        match &l.kind {
            LookupKind::Values(v) => values += v.len(),
            _ => return false,
        }
    }
    values <= MAX_RUNS
}

impl Candidates<'_> {
    /// Pulls run `i`'s next entry into its head (`None` when the run is done).
    fn advance(&mut self, i: usize) -> Result<()> {
        let run = &mut self.runs[i];
        run.head = match run.entries.next().transpose()? {
            None => None,
            Some((entry, _)) => {
                self.entries_read += 1;
                let suffix = entry_suffix(&entry, run.path_len)
                    .ok_or_else(|| Error::Internal("an index entry is damaged".into()))?;
                Some(suffix.to_vec())
            }
        };
        Ok(())
    }

    /// The next item key, or `None` when every run is done.
    fn next_key(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            // Few runs (at most `MAX_RUNS`, usually one): a linear pick of the least head.
            let least = (0..self.runs.len())
                .filter(|&i| self.runs[i].head.is_some())
                .min_by(|&a, &b| self.runs[a].head.cmp(&self.runs[b].head));
            let Some(i) = least else { return Ok(None) };
            let suffix = self.runs[i].head.take().unwrap_or_default();
            self.advance(i)?;
            let mut key = self.container.clone();
            key.extend_from_slice(&suffix);
            // An item whose array holds two of the values, or that two lookups propose, has
            // one entry in each run: it is proposed once.
            if self.last.as_ref() == Some(&key) {
                continue;
            }
            self.last = Some(key.clone());
            return Ok(Some(key));
        }
    }
}

impl Iterator for Candidates<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_key().transpose()
    }
}
