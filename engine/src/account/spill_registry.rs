//! The account's query spills and sort runs and their lifecycle: the directory `tmp/query/`
//! under the data directory, one sealed file per spill or run (`query_spill.rs`), and an
//! in-memory registry of them. A sort run lives only while its query runs (`sort_runs.rs`
//! deletes it when the merge is done or the query fails); runs have their own byte cap.
//! A spill is deleted when its last page is served, when idle past `idle_secs` (checked on each
//! query of the account, by the account's wall clock), when the caps on count and bytes need
//! room (oldest first), and all of them when the account closes (and at open, after a session
//! that ended without closing). Owns the files' names and lifetimes;
//! must not evaluate queries nor mint tokens (that is `query.rs`). Thread-safe: one mutex over
//! the registry, never held while a file is written or read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use super::query_spill::{read_spill, SpillLayout, SpillReader, SpillWriter, SORT_RUN, SPILL};
use crate::error::{Error, Result};
use crate::options::DEFAULT_SORT_MEMORY_BYTES;
use strata_lsm::CipherSuite;

/// The spill directory, under the data directory. Backups copy named files only, never it.
pub(crate) const SPILL_DIR: &str = "tmp/query";

/// When spills go.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpillLimits {
    /// Most spills at once; the oldest goes to make room.
    pub(crate) max_spills: usize,
    /// Most bytes of spills at once; the oldest go to make room. A result larger than this alone
    /// is not spilled.
    pub(crate) max_bytes: u64,
    /// A spill no page has read for this long is deleted.
    pub(crate) idle_secs: u64,
    /// Bytes of results an ORDER BY sorted outside memory holds before it writes a sorted run.
    pub(crate) sort_memory_bytes: usize,
    /// Most bytes of sort runs at once, over every query of the account: a sort that would
    /// pass it fails with 400.
    pub(crate) max_run_bytes: u64,
}

impl SpillLimits {
    /// No spill is written (`AccountOptions::query_spills` off); sorts still write runs, which
    /// live only while their query runs.
    pub(crate) fn no_spills(self) -> SpillLimits {
        SpillLimits {
            max_spills: 0,
            max_bytes: 0,
            idle_secs: 0,
            ..self
        }
    }
}

impl Default for SpillLimits {
    fn default() -> Self {
        SpillLimits {
            max_spills: 64,
            max_bytes: 256 * 1024 * 1024,
            idle_secs: 600,
            sort_memory_bytes: DEFAULT_SORT_MEMORY_BYTES,
            max_run_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// What a spill belongs to: the container id and the query's fingerprint (docs/query.md).
pub(crate) type SpillOwner<'a> = (u32, &'a str);

struct Spill {
    container: u32,
    fingerprint: String,
    /// The index, in the whole result, of the spill's first result.
    base: u64,
    layout: SpillLayout,
    /// Wall-clock second of its last page.
    last_used: u64,
    /// Order of creation, for eviction.
    born: u64,
}

/// One page read from a spill.
pub(crate) struct SpillPage {
    pub(crate) items: Vec<Value>,
    /// Compact-JSON bytes of `items`.
    pub(crate) bytes: usize,
    /// Where the next page starts in the whole result; `None` after the last (the spill is then
    /// deleted).
    pub(crate) next: Option<u64>,
}

/// The limits of one page: most results, and most bytes (a page holds at least one result).
pub(crate) type PageLimits = (usize, usize);

/// The registry: spills by id, the count of spills created (their birth order), and the bytes
/// of each sort run by id.
#[derive(Default)]
struct State {
    spills: HashMap<u64, Spill>,
    born: u64,
    runs: HashMap<u64, u64>,
}

pub(crate) struct Spills {
    dir: PathBuf,
    limits: SpillLimits,
    state: Mutex<State>,
}

impl Spills {
    /// The spills of the account in `data_dir`: removes every spill an earlier session left.
    pub(crate) fn open(data_dir: &Path, limits: SpillLimits) -> Result<Spills> {
        let dir = data_dir.join(SPILL_DIR);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io_path("removing the query spills in", &dir, e)),
        }
        Ok(Spills {
            dir,
            limits,
            state: Mutex::new(State::default()),
        })
    }

    /// Deletes every spill and the directory: the account is closing, and no token of this
    /// session can be served after it (where the chunks start is known only in memory). A
    /// directory that cannot be removed now is removed at the next open.
    pub(crate) fn clear(&self) -> Result<()> {
        let mut state = self.state()?;
        state.spills.clear();
        state.runs.clear();
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io_path("removing the query spills in", &self.dir, e)),
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while tracking query spills".into()))
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:016x}.spill"))
    }

    fn run_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:016x}.run"))
    }

    /// A fresh random id, of no spill or run held or on disk (the directory is created).
    fn fresh_id(&self) -> Result<u64> {
        strata_base::fs::create_dir(&self.dir, true)?;
        loop {
            let id: u64 = rand::random();
            let state = self.state()?;
            if !state.spills.contains_key(&id)
                && !state.runs.contains_key(&id)
                && !self.path(id).exists()
                && !self.run_path(id).exists()
            {
                return Ok(id);
            }
        }
    }

    /// Deletes a spill's file; one that cannot be deleted now is removed at the next open.
    fn delete(&self, id: u64) {
        let _ = std::fs::remove_file(self.path(id));
    }

    /// Deletes the spills idle for longer than the limit at `now`.
    pub(crate) fn sweep(&self, now: u64) -> Result<()> {
        let idle = self.limits.idle_secs;
        let mut state = self.state()?;
        let stale: Vec<u64> = state
            .spills
            .iter()
            .filter(|(_, s)| now.saturating_sub(s.last_used) > idle)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            state.spills.remove(&id);
            self.delete(id);
        }
        Ok(())
    }

    /// Spills `results`, the whole result's from index `base` on, for `owner`; returns its id,
    /// or `None` when it is larger than the byte cap alone (`results` is then left where the
    /// writing stopped). Evicts the oldest spills over the caps.
    pub(crate) fn create(
        &self,
        suite: &CipherSuite,
        owner: SpillOwner<'_>,
        results: &mut dyn Iterator<Item = Value>,
        base: u64,
        now: u64,
    ) -> Result<Option<u64>> {
        if self.limits.max_spills == 0 {
            return Ok(None);
        }
        let id = self.fresh_id()?;
        let path = self.path(id);
        let max_bytes = self.limits.max_bytes;
        let written = SpillWriter::create(&path, suite, SPILL, id).and_then(|mut w| {
            for value in results {
                w.push(&value)?;
                if w.bytes() > max_bytes {
                    return Ok(None);
                }
            }
            w.finish().map(Some)
        });
        let layout = match written {
            Ok(Some(layout)) if layout.bytes <= max_bytes => layout,
            Ok(_) => {
                self.delete(id);
                return Ok(None);
            }
            Err(e) => {
                self.delete(id);
                return Err(e);
            }
        };
        let mut guard = self.state()?;
        let state = &mut *guard;
        state.born += 1;
        state.spills.insert(
            id,
            Spill {
                container: owner.0,
                fingerprint: owner.1.to_string(),
                base,
                layout,
                last_used: now,
                born: state.born,
            },
        );
        let spills = &mut state.spills;
        loop {
            let bytes: u64 = spills.values().map(|s| s.layout.bytes).sum();
            if spills.len() <= self.limits.max_spills && bytes <= self.limits.max_bytes {
                break;
            }
            let Some(oldest) = spills.iter().min_by_key(|(_, s)| s.born).map(|(id, _)| *id) else {
                break;
            };
            spills.remove(&oldest);
            self.delete(oldest);
        }
        Ok(Some(id))
    }

    /// Bytes of results a sort holds in memory before it writes a run.
    pub(crate) fn sort_memory_bytes(&self) -> usize {
        self.limits.sort_memory_bytes
    }

    /// Writes `records` (sorted) as a new sort run; returns its id and layout. 400 when the
    /// account's runs would pass their byte cap (the run is not kept).
    pub(crate) fn write_run(
        &self,
        suite: &CipherSuite,
        records: &mut dyn Iterator<Item = Value>,
    ) -> Result<(u64, SpillLayout)> {
        let id = self.fresh_id()?;
        self.state()?.runs.insert(id, 0);
        let path = self.run_path(id);
        let written = SpillWriter::create(&path, suite, SORT_RUN, id).and_then(|mut w| {
            for record in records {
                w.push(&record)?;
            }
            w.finish()
        });
        let fits = written.and_then(|layout| {
            let mut state = self.state()?;
            state.runs.insert(id, layout.bytes);
            let total: u64 = state.runs.values().sum();
            if total > self.limits.max_run_bytes {
                return Err(Error::BadRequest(format!(
                    "the account's ORDER BY sorts need more than {} bytes of temporary files at \
                     once; narrow the WHERE clause, add TOP or LIMIT, or serve the ORDER BY from \
                     an index",
                    self.limits.max_run_bytes
                )));
            }
            Ok(layout)
        });
        match fits {
            Ok(layout) => Ok((id, layout)),
            Err(e) => {
                self.drop_run(id);
                Err(e)
            }
        }
    }

    /// Opens sort run `id` from its first record. 500 if it is gone (the account closed under
    /// the query) or damaged; 403.4002 while the customer key is withheld.
    pub(crate) fn open_run(&self, suite: &CipherSuite, id: u64, layout: &SpillLayout) -> Result<SpillReader> {
        let path = self.run_path(id);
        SpillReader::open(&path, suite, SORT_RUN, id, layout, 0)?.ok_or_else(|| {
            Error::Internal(format!(
                "the sort run {} is gone, or sealed with layers the account no longer reads; run \
                 the query again",
                path.display()
            ))
        })
    }

    /// Forgets sort run `id` and deletes its file (one that cannot be deleted now is removed at
    /// the next open).
    pub(crate) fn drop_run(&self, id: u64) {
        if let Ok(mut state) = self.state() {
            state.runs.remove(&id);
        }
        let _ = std::fs::remove_file(self.run_path(id));
    }

    /// The page of spill `id` that starts at result `at` of the whole result, within `limits`.
    /// `Ok(None)` when the spill is gone (served to its end, idle, evicted, removed at open) or
    /// unreadable by the account's current layers: the caller recomputes. 400 if the spill is
    /// another container's or query's or `at` lies before it.
    pub(crate) fn page(
        &self,
        suite: &CipherSuite,
        owner: SpillOwner<'_>,
        (id, at): (u64, u64),
        limits: PageLimits,
        now: u64,
    ) -> Result<Option<SpillPage>> {
        let (base, layout) = {
            let mut state = self.state()?;
            let Some(spill) = state.spills.get_mut(&id) else {
                return Ok(None);
            };
            if (spill.container, spill.fingerprint.as_str()) != owner || at < spill.base {
                return Err(Error::BadRequest(
                    "the continuation token does not match its query's results".into(),
                ));
            }
            spill.last_used = now;
            (spill.base, spill.layout.clone())
        };
        let (max_items, max_bytes) = limits;
        let mut page = SpillPage {
            items: Vec::new(),
            bytes: 0,
            next: None,
        };
        let mut framed = 0usize;
        let read = read_spill(
            &self.path(id),
            suite,
            id,
            &layout,
            at - base,
            &mut |value, len| {
                framed = framed.saturating_add(len + 1);
                if page.items.len() == max_items || (framed > max_bytes && !page.items.is_empty()) {
                    return false;
                }
                page.bytes += len;
                page.items.push(value);
                true
            },
        );
        let next = at + page.items.len() as u64;
        match read {
            Ok(Some(())) => {}
            Ok(None) => {
                self.forget(id)?;
                return Ok(None);
            }
            Err(e) => {
                // A damaged spill is not read again: the error is returned once, then the query
                // is recomputed from its offset.
                if e.status() != 403 {
                    self.forget(id)?;
                }
                return Err(e);
            }
        }
        if next < base + layout.results {
            page.next = Some(next);
        } else {
            self.forget(id)?;
        }
        Ok(Some(page))
    }

    /// Forgets spill `id` and deletes its file.
    pub(crate) fn forget(&self, id: u64) -> Result<()> {
        self.state()?.spills.remove(&id);
        self.delete(id);
        Ok(())
    }

    /// The number of spills held.
    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.state().map_or(0, |s| s.spills.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join(SPILL_DIR)).map_or(0, |d| d.count())
    }

    fn values(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"g": i, "pad": "x".repeat(100)})).collect()
    }

    #[test]
    fn pages_follow_limits_and_the_last_one_deletes_the_spill() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let spills = Spills::open(dir.path(), SpillLimits::default()).unwrap();
        let all = values(25);
        let id = spills
            .create(&suite, (3, "f"), &mut all[5..].iter().cloned(), 5, 0)
            .unwrap()
            .unwrap();
        assert_eq!(files(dir.path()), 1);
        let mut at = 5;
        let mut got = all[..5].to_vec();
        while let Some(page) = spills
            .page(&suite, (3, "f"), (id, at), (7, usize::MAX), 1)
            .unwrap()
        {
            assert!(page.items.len() <= 7);
            assert_eq!(
                page.bytes,
                page.items.iter().map(|v| v.to_string().len()).sum::<usize>()
            );
            got.extend(page.items);
            match page.next {
                Some(n) => at = n,
                None => break,
            }
        }
        assert_eq!(got, all);
        assert_eq!(
            (spills.count(), files(dir.path())),
            (0, 0),
            "deleted after its last page"
        );
        assert!(spills
            .page(&suite, (3, "f"), (id, 5), (7, 1000), 1)
            .unwrap()
            .is_none());
        // The byte limit: one result a page, but always at least one.
        let id = spills
            .create(&suite, (3, "f"), &mut all.iter().cloned(), 0, 0)
            .unwrap()
            .unwrap();
        let page = spills
            .page(&suite, (3, "f"), (id, 0), (10, 150), 0)
            .unwrap()
            .unwrap();
        assert_eq!((page.items.len(), page.next), (1, Some(1)));
        let page = spills
            .page(&suite, (3, "f"), (id, 1), (10, 10), 0)
            .unwrap()
            .unwrap();
        assert_eq!((page.items.len(), page.next), (1, Some(2)));
        // Another owner, or a position before the spill, is refused.
        for (owner, at) in [((4, "f"), 2), ((3, "g"), 2)] {
            let e = spills.page(&suite, owner, (id, at), (10, 1000), 0).err().unwrap();
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn idle_spills_caps_and_reopen_remove_files() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let limits = SpillLimits {
            max_spills: 3,
            max_bytes: 4000,
            idle_secs: 600,
            ..SpillLimits::default()
        };
        let spills = Spills::open(dir.path(), limits).unwrap();
        let ids: Vec<u64> = (0..4)
            .map(|i| {
                spills
                    .create(&suite, (1, "f"), &mut values(3).into_iter(), 0, i)
                    .unwrap()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            (spills.count(), files(dir.path())),
            (3, 3),
            "the oldest was evicted"
        );
        assert!(spills
            .page(&suite, (1, "f"), (ids[0], 0), (1, 1000), 10)
            .unwrap()
            .is_none());
        // Bytes: a large spill pushes out older ones; one over the cap alone is not kept.
        let big = spills
            .create(&suite, (1, "f"), &mut values(30).into_iter(), 0, 5)
            .unwrap()
            .unwrap();
        assert!(spills.count() < 3);
        assert!(spills
            .create(&suite, (1, "f"), &mut values(60).into_iter(), 0, 5)
            .unwrap()
            .is_none());
        assert_eq!(files(dir.path()), spills.count());
        // Idle: read at 100, still there at 700, gone after 700 + 600.
        spills
            .page(&suite, (1, "f"), (big, 0), (1, 1000), 100)
            .unwrap()
            .unwrap();
        spills.sweep(700).unwrap();
        assert!(spills.count() >= 1);
        spills.sweep(1301).unwrap();
        assert_eq!((spills.count(), files(dir.path())), (0, 0));
        // With spilling off nothing is written.
        let off = Spills::open(&dir.path().join("off"), SpillLimits::default().no_spills()).unwrap();
        assert!(off
            .create(&suite, (1, "f"), &mut values(3).into_iter(), 0, 0)
            .unwrap()
            .is_none());
        assert!(!dir.path().join("off").exists());
        // Reopening removes whatever an earlier session left: spills, and the runs of a sort
        // that never finished (a crash).
        spills
            .create(&suite, (1, "f"), &mut values(3).into_iter(), 0, 0)
            .unwrap()
            .unwrap();
        let (run, layout) = spills.write_run(&suite, &mut values(5).into_iter()).unwrap();
        assert_eq!(layout.results, 5);
        drop(spills);
        assert_eq!(files(dir.path()), 2);
        let reopened = Spills::open(dir.path(), limits).unwrap();
        assert_eq!((reopened.count(), files(dir.path())), (0, 0));
        assert!(
            reopened.open_run(&suite, run, &layout).is_err(),
            "a run of another session is gone"
        );
    }

    #[test]
    fn runs_are_their_own_kind_and_close_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let spills = Spills::open(dir.path(), SpillLimits::default()).unwrap();
        let (run, layout) = spills.write_run(&suite, &mut values(40).into_iter()).unwrap();
        let mut reader = spills.open_run(&suite, run, &layout).unwrap();
        let mut got = Vec::new();
        while let Some((v, _)) = reader.next_result().unwrap() {
            got.push(v);
        }
        assert_eq!(got, values(40));
        // A run renamed as a spill does not open as one (other magic, other keys).
        std::fs::copy(spills.run_path(run), spills.path(run)).unwrap();
        let e = read_spill(&spills.path(run), &suite, run, &layout, 0, &mut |_, _| true).unwrap_err();
        assert_eq!(e.status(), 500, "{e}");
        spills.clear().unwrap();
        assert_eq!(files(dir.path()), 0, "close removes runs too");
        assert!(spills.open_run(&suite, run, &layout).is_err());
    }
}
