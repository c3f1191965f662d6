//! Keeping each container's index: the entries a write adds and removes (in the write's own
//! batch), the state of an index (ready, or being rebuilt after a policy change, with its
//! progress), the background thread that rebuilds it (owned by the account's supervisor, see
//! `lifecycle.rs`), and the lookups queries use. The index generation in every entry's key makes
//! a policy change atomic: writes and the rebuild produce entries of the new generation, queries
//! read an index only once its generation is complete, and the rebuild removes older generations
//! when it finishes. Knows index keys and the policy; the planner (query/plan.rs) and the
//! encoding (index/) are pure.
//!
//! Rebuild state, one LSM key per container (`0x08 | container_id`, sealed like everything):
//! `generation: u32 BE | complete: u8 | items_done: u64 BE | cursor` (the item key suffix of the
//! last item indexed). Absent, or of another generation: the index must be (re)built.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::Value;

use super::container::{parse_stored, Container};
use super::handle::AccountInner;
use super::lifecycle::{AccountRef, Signal};
use crate::document::container_prefix;
use crate::error::{Error, Result};
use crate::index::encode::{
    encode_value, entry_suffix, generation_prefix, generation_prefix_with_room, path_prefix, prefix_end,
    rebuild_key, spatial_prefix, string_prefix,
};
use crate::index::spatial::cover_spans;
use crate::index::{terms, CompiledPolicy, IndexingMode, IndexingPolicy};
use crate::options::Durability;
use crate::query::plan::{Lookup, LookupKind};
use strata_lsm::WriteBatch;

/// Items indexed per rebuild step (each under its own lock, in its own batch).
const REBUILD_CHUNK: usize = 256;
/// Old-generation entries removed per batch at the end of a rebuild.
const CLEANUP_CHUNK: usize = 1024;

/// The policy a container's writes index under, and its generation.
#[derive(Clone)]
pub(crate) struct IndexView {
    pub(crate) policy: Arc<CompiledPolicy>,
    pub(crate) generation: u32,
}

/// The state of a container's index, as `Container::index_status` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexStatus {
    pub mode: IndexingMode,
    /// Bumped by every policy change.
    pub generation: u32,
    /// True when queries may use the index; false while it is being rebuilt (queries then read
    /// every item, and stay correct).
    pub ready: bool,
    /// Items indexed so far by the running rebuild (when not ready).
    pub items_indexed: u64,
}

/// A rebuild's progress, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RebuildState {
    generation: u32,
    complete: bool,
    items_done: u64,
    cursor: Option<Vec<u8>>,
}

impl RebuildState {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(13 + self.cursor.as_ref().map_or(0, Vec::len));
        v.extend_from_slice(&self.generation.to_be_bytes());
        v.push(u8::from(self.complete));
        v.extend_from_slice(&self.items_done.to_be_bytes());
        if let Some(c) = &self.cursor {
            v.extend_from_slice(c);
        }
        v
    }

    fn decode(bytes: &[u8]) -> Result<RebuildState> {
        let bad = || Error::Internal("an index rebuild record is damaged".into());
        let generation = u32::from_be_bytes(bytes.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(bad)?);
        let complete = *bytes.get(4).ok_or_else(bad)? == 1;
        let items_done =
            u64::from_be_bytes(bytes.get(5..13).and_then(|b| b.try_into().ok()).ok_or_else(bad)?);
        let cursor = bytes.get(13..).filter(|c| !c.is_empty()).map(<[u8]>::to_vec);
        Ok(RebuildState {
            generation,
            complete,
            items_done,
            cursor,
        })
    }
}

/// The account's index keeper: compiled policies, and the rebuild thread.
///
/// The thread (`strata-indexer`) belongs to the account's supervisor (`lifecycle.rs`). It holds
/// the account only during a rebuild step, upgrading a weak reference, and sleeps on its signal
/// otherwise until woken by a policy change, or by `start` when an index is unfinished at open.
/// Closing the account stops it and waits for a running step to end.
pub(crate) struct Indexer {
    compiled: Mutex<HashMap<(u32, u32), Arc<CompiledPolicy>>>,
}

/// The name of the rebuild thread, its key in the supervisor.
const INDEXER: &str = "strata-indexer";

impl Indexer {
    pub(crate) fn new() -> Indexer {
        Indexer {
            compiled: Mutex::default(),
        }
    }

    /// Starts the rebuild thread of `inner`, working at once if an index is unfinished.
    pub(crate) fn start(inner: &Arc<AccountInner>) -> Result<()> {
        let pending = indexes_pending(inner)?;
        let weak = Arc::downgrade(inner);
        inner
            .supervisor
            .spawn(INDEXER, move |signal| rebuild_loop(&weak, signal, pending))?;
        Ok(())
    }
}

impl AccountInner {
    /// Asks the rebuild thread to look for work now.
    pub(crate) fn wake_indexer(&self) {
        self.supervisor.wake(INDEXER);
    }
}

fn rebuild_loop(weak: &Weak<AccountInner>, signal: &Signal, pending: bool) {
    // `None`: sleep until woken.
    let mut idle = if pending { Some(Duration::ZERO) } else { None };
    while signal.wait(idle) {
        let Some(inner) = weak.upgrade() else { return };
        idle = match rebuild_step(&inner, signal) {
            Ok(true) => Some(Duration::ZERO),
            Ok(false) => None,
            // A revoked key, a full disk: try again later.
            Err(_) => Some(Duration::from_secs(1)),
        };
    }
}

/// Whether some container's index is not ready at its generation.
fn indexes_pending(inner: &AccountInner) -> Result<bool> {
    for (_, _, id, generation) in container_generations(inner)? {
        // A container whose own key is refused waits: its check wakes the indexer when it
        // comes back.
        if inner.own_stores.unavailable(id) {
            continue;
        }
        let ready = read_state(inner, id)?.is_some_and(|s| s.complete && s.generation == generation);
        if !ready {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every container as (database, name, id, index generation).
fn container_generations(inner: &AccountInner) -> Result<Vec<(String, String, u32, u32)>> {
    let cat = inner.catalog()?;
    Ok(cat
        .databases
        .iter()
        .flat_map(|d| {
            d.containers
                .iter()
                .map(move |c| (d.name.clone(), c.name.clone(), c.id, c.index_generation))
        })
        .collect())
}

/// Does one step of the first index that needs work; false when every index is ready (or the
/// thread is told to stop).
fn rebuild_step(inner: &Arc<AccountInner>, signal: &Signal) -> Result<bool> {
    inner.require_key_access()?;
    let containers = container_generations(inner)?;
    for (db, name, id, generation) in containers {
        if inner.own_stores.unavailable(id) {
            continue;
        }
        let state = read_state(inner, id)?;
        if state
            .as_ref()
            .is_some_and(|s| s.complete && s.generation == generation)
        {
            continue;
        }
        let container = Container::new(AccountRef::Internal(inner.clone()), &db, &name);
        let stop = || signal.stopping();
        container.rebuild_chunk(
            id,
            generation,
            state.filter(|s| s.generation == generation),
            &stop,
        )?;
        return Ok(true);
    }
    Ok(false)
}

fn read_state(inner: &AccountInner, container_id: u32) -> Result<Option<RebuildState>> {
    inner
        .store_for(container_id)?
        .get(&rebuild_key(container_id))?
        .map(|b| RebuildState::decode(&b))
        .transpose()
}

/// The index entries of one item: `generation prefix | term | item key suffix`.
fn entry_key(container_id: u32, generation: u32, term: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut k = generation_prefix_with_room(container_id, generation, term.len() + suffix.len());
    k.extend_from_slice(term);
    k.extend_from_slice(suffix);
    k
}

/// The terms of one item under `view` (none for an absent item).
pub(crate) fn item_terms(view: &IndexView, item: Option<&Value>) -> BTreeSet<Vec<u8>> {
    item.map(|v| terms(&view.policy, v)).unwrap_or_default()
}

/// The index side of one write: the terms of the stored version (live or expired) and of the
/// new one (none for a delete).
pub(crate) struct IndexChange {
    view: IndexView,
    old: BTreeSet<Vec<u8>>,
    new: BTreeSet<Vec<u8>>,
}

impl IndexChange {
    /// The new version's terms.
    pub(crate) fn set_new(&mut self, item: &Value) {
        self.new = item_terms(&self.view, Some(item));
    }

    /// Indexed terms a write is charged for: the new version's, plus the old version's when it
    /// replaces or deletes a live item (see docs/ru-model.md).
    pub(crate) fn charged_terms(&self, replaces_live: bool) -> usize {
        self.new.len() + if replaces_live { self.old.len() } else { 0 }
    }

    /// Adds the entry changes to the write's batch.
    pub(crate) fn apply(&self, batch: &mut WriteBatch, container_id: u32, item_key: &[u8]) {
        add_index_changes(batch, container_id, &self.view, item_key, &self.old, &self.new);
    }
}

/// Adds to `batch` the entry changes of an item going from `old` terms to `new` terms.
pub(crate) fn add_index_changes(
    batch: &mut WriteBatch,
    container_id: u32,
    view: &IndexView,
    item_key: &[u8],
    old: &BTreeSet<Vec<u8>>,
    new: &BTreeSet<Vec<u8>>,
) {
    let suffix = item_key
        .get(container_prefix(container_id).len()..)
        .unwrap_or_default();
    for t in old.difference(new) {
        batch.delete(entry_key(container_id, view.generation, t, suffix));
    }
    for t in new.difference(old) {
        batch.put(entry_key(container_id, view.generation, t, suffix), Vec::new());
    }
}

impl Container {
    /// Starts the index side of a write to an item whose stored version is `stored`. Call it
    /// while holding the item's lock.
    pub(crate) fn index_change(&self, container_id: u32, stored: Option<&Value>) -> Result<IndexChange> {
        let view = self.index_view(container_id)?;
        Ok(IndexChange {
            old: item_terms(&view, stored),
            new: BTreeSet::new(),
            view,
        })
    }

    /// The index the container's writes maintain now. Writers call it while holding the
    /// item's lock, so a rebuild that has passed the item cannot miss their write.
    pub(crate) fn index_view(&self, container_id: u32) -> Result<IndexView> {
        let (policy, generation) = {
            let cat = self.inner.catalog()?;
            let c = cat.container(self.database_name(), self.name())?;
            if c.id != container_id {
                return Err(Error::NotFound(format!(
                    "container '{}/{}' was replaced during the operation",
                    self.database_name(),
                    self.name()
                )));
            }
            (c.indexing_policy.clone(), c.index_generation)
        };
        let mut cache = self
            .inner
            .indexer
            .compiled
            .lock()
            .map_err(|_| Error::Poisoned("the compiled-policy cache".into()))?;
        if let Some(p) = cache.get(&(container_id, generation)) {
            return Ok(IndexView {
                policy: p.clone(),
                generation,
            });
        }
        let compiled = Arc::new(policy.unwrap_or_default().compile()?);
        cache.insert((container_id, generation), compiled.clone());
        Ok(IndexView {
            policy: compiled,
            generation,
        })
    }

    /// The container's indexing policy (the default when none was set).
    pub fn indexing_policy(&self) -> Result<IndexingPolicy> {
        self.inner.require_key_access()?;
        let cat = self.inner.catalog()?;
        Ok(cat
            .container(self.database_name(), self.name())?
            .indexing_policy
            .clone()
            .unwrap_or_default())
    }

    /// Replaces the indexing policy (400 if invalid, 404 if the container does not exist).
    /// Returns at once: the index is rebuilt in the background, and queries read every item
    /// until it is ready (see `index_status`).
    pub fn set_indexing_policy(&self, policy: IndexingPolicy) -> Result<IndexStatus> {
        self.inner.require_key_access()?;
        let policy = policy.normalized()?;
        let (db, name) = (self.database_name().to_string(), self.name().to_string());
        self.inner.edit_catalog(|c| {
            let entry = c.container_mut(&db, &name)?;
            entry.index_generation = entry.index_generation.checked_add(1).ok_or_else(|| {
                Error::BadRequest("the container's indexing policy has changed too many times".into())
            })?;
            entry.indexing_policy = Some(policy);
            Ok(())
        })?;
        self.inner.wake_indexer();
        self.index_status()
    }

    /// Whether the index is ready, and the progress of its rebuild.
    pub fn index_status(&self) -> Result<IndexStatus> {
        self.inner.require_key_access()?;
        let (id, generation, mode) = {
            let cat = self.inner.catalog()?;
            let c = cat.container(self.database_name(), self.name())?;
            let mode = c
                .indexing_policy
                .as_ref()
                .map_or(IndexingMode::Consistent, |p| p.indexing_mode);
            (c.id, c.index_generation, mode)
        };
        let state = read_state(&self.inner, id)?.filter(|s| s.generation == generation);
        Ok(IndexStatus {
            mode,
            generation,
            ready: state.as_ref().is_some_and(|s| s.complete),
            items_indexed: state.map_or(0, |s| s.items_done),
        })
    }

    /// Marks the index of a new (empty) container ready.
    pub(crate) fn mark_index_ready(&self, container_id: u32) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(
            rebuild_key(container_id),
            RebuildState {
                generation: 0,
                complete: true,
                items_done: 0,
                cursor: None,
            }
            .encode(),
        );
        self.inner
            .store_for(container_id)?
            .write(batch, Durability::Buffered)?;
        Ok(())
    }

    /// Indexes the next items of a rebuild, or finishes it (removing older generations). Gives
    /// up as soon as `stop()` says the account is closing: the entries written so far are
    /// written again by the next step, which starts from the last recorded cursor.
    fn rebuild_chunk(
        &self,
        id: u32,
        generation: u32,
        state: Option<RebuildState>,
        stop: &dyn Fn() -> bool,
    ) -> Result<()> {
        let mut state = state.unwrap_or(RebuildState {
            generation,
            complete: false,
            items_done: 0,
            cursor: None,
        });
        let prefix = container_prefix(id);
        let mut start = prefix.clone();
        if let Some(c) = &state.cursor {
            start.extend_from_slice(c);
            start.push(0);
        }
        let end = prefix_end(&prefix).unwrap_or_default();
        let items = self
            .inner
            .store_for(id)?
            .scan_range(&start, &end, REBUILD_CHUNK)?;
        for (key, _) in &items {
            if stop() {
                return Ok(());
            }
            let _guard = self.inner.item_lock(key)?;
            let view = self.index_view(id)?;
            if view.generation != generation {
                return Ok(()); // the policy changed again; the next step starts over
            }
            let Some(bytes) = self.inner.store_for(id)?.get(key)? else {
                continue;
            };
            let item = parse_stored(&bytes)?;
            let mut batch = WriteBatch::new();
            add_index_changes(
                &mut batch,
                id,
                &view,
                key,
                &BTreeSet::new(),
                &item_terms(&view, Some(&item)),
            );
            if !batch.is_empty() {
                self.inner.store_for(id)?.write(batch, Durability::Buffered)?;
            }
            state.items_done += 1;
            state.cursor = key.get(prefix.len()..).map(<[u8]>::to_vec);
        }
        if items.len() == REBUILD_CHUNK {
            let mut batch = WriteBatch::new();
            batch.put(rebuild_key(id), state.encode());
            self.inner.store_for(id)?.write(batch, Durability::Buffered)?;
            return Ok(());
        }
        // Every item is indexed: remove the older generations' entries, then mark it ready.
        let old_start = generation_prefix(id, 0);
        let old_end = generation_prefix(id, generation);
        loop {
            if stop() {
                return Ok(());
            }
            let old = self
                .inner
                .store_for(id)?
                .scan_range(&old_start, &old_end, CLEANUP_CHUNK)?;
            if old.is_empty() {
                break;
            }
            let mut batch = WriteBatch::new();
            for (k, _) in old {
                batch.delete(k);
            }
            self.inner.store_for(id)?.write(batch, Durability::Buffered)?;
        }
        state.complete = true;
        state.cursor = None;
        let mut batch = WriteBatch::new();
        batch.put(rebuild_key(id), state.encode());
        self.inner.store_for(id)?.write(batch, Durability::Buffered)?;
        Ok(())
    }

    /// The keys of the items the lookups propose under `scope` (the partition or container
    /// prefix) at or after `from`, in key order: the first `limit` of them. The entries are read
    /// lazily, one block at a time, and only `limit` keys are held, whatever the number of
    /// matches (every entry of the lookups' ranges is still read: they are in value order).
    pub(crate) fn index_candidates(
        &self,
        id: u32,
        generation: u32,
        lookups: &[Lookup],
        (scope, from): (&[u8], &[u8]),
        limit: usize,
    ) -> Result<IndexCandidates> {
        let container = container_prefix(id);
        let mut c = IndexCandidates::default();
        let mut keys = BTreeSet::new();
        for l in lookups {
            let Some(path) = lookup_prefix(id, generation, l) else {
                continue;
            };
            for (start, end) in ranges(&path, &l.kind) {
                for next in self.inner.store_for(id)?.iter_prefix_from(&path, &start)? {
                    let (entry, _) = next?;
                    if !end.is_empty() && entry >= end {
                        break;
                    }
                    c.entries_read += 1;
                    let suffix = entry_suffix(&entry, path.len())
                        .ok_or_else(|| Error::Internal("an index entry is damaged".into()))?;
                    let mut key = container.clone();
                    key.extend_from_slice(suffix);
                    if key.starts_with(scope) && key.as_slice() >= from {
                        keys.insert(key);
                        if keys.len() > limit {
                            keys.pop_last();
                            c.more = true;
                        }
                    }
                }
            }
        }
        c.keys = keys.into_iter().collect();
        Ok(c)
    }
}

/// What `Container::index_candidates` found.
#[derive(Default)]
pub(crate) struct IndexCandidates {
    /// Item keys, ascending, without repeats.
    pub(crate) keys: Vec<Vec<u8>>,
    /// More keys follow the last one (the limit cut them off).
    pub(crate) more: bool,
    /// Index entries read.
    pub(crate) entries_read: usize,
}

/// The prefix of the entries a lookup reads: its path's value entries, or its spatial index's
/// cells (`None` if the path is too long to be indexed).
pub(super) fn lookup_prefix(id: u32, generation: u32, l: &Lookup) -> Option<Vec<u8>> {
    if l.kind.is_spatial() {
        spatial_prefix(id, generation, &l.path)
    } else {
        path_prefix(id, generation, &l.path)
    }
}

/// The key ranges `[start, end)` of a lookup under its prefix (`lookup_prefix`).
pub(super) fn ranges(path: &[u8], kind: &LookupKind) -> Vec<(Vec<u8>, Vec<u8>)> {
    let under = |p: Vec<u8>| {
        let end = prefix_end(&p).unwrap_or_default();
        (p, end)
    };
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut k = path.to_vec();
        f(&mut k);
        k
    };
    match kind {
        LookupKind::Values(values) => values
            .iter()
            .map(|v| under(with(&|k| encode_value(v, k))))
            .collect(),
        LookupKind::Prefix(p) => vec![under(with(&|k| string_prefix(p, k)))],
        LookupKind::Defined => vec![under(path.to_vec())],
        LookupKind::Spatial(s) => cover_spans(path, &s.cover),
        LookupKind::Range { lo, hi } => {
            // Both bounds are of one type (booleans count as one type here); inclusive, since
            // an entry may stand for a value just beyond its key (see index/encode.rs).
            let tag = |v: &Value| match v {
                Value::Bool(_) => crate::index::encode::T_FALSE,
                other => crate::index::encode::type_tag(other),
            };
            let Some(t) = lo.as_ref().or(hi.as_ref()).map(tag) else {
                return Vec::new();
            };
            let last_tag = if t == crate::index::encode::T_FALSE {
                crate::index::encode::T_TRUE
            } else {
                t
            };
            let start = match lo {
                Some(v) => with(&|k| encode_value(v, k)),
                None => with(&|k| k.push(t)),
            };
            let end = match hi {
                Some(v) => prefix_end(&with(&|k| encode_value(v, k))).unwrap_or_default(),
                None => with(&|k| k.push(last_tag + 1)),
            };
            vec![(start, end)]
        }
    }
}

/// A new service-key account in a temporary directory, with its container `d/c` partitioned
/// on `/pk` (the container handle keeps the account open), for the index tests.
#[cfg(test)]
pub(super) fn scratch_container() -> (tempfile::TempDir, Container) {
    let dir = tempfile::tempdir().unwrap();
    let opts = crate::options::AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    let account = super::Account::create(opts, "a", super::Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("d")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    (dir, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_state_round_trips() {
        for s in [
            RebuildState {
                generation: 3,
                complete: false,
                items_done: 77,
                cursor: Some(b"\x00\x02pkid".to_vec()),
            },
            RebuildState {
                generation: 0,
                complete: true,
                items_done: 0,
                cursor: None,
            },
        ] {
            assert_eq!(RebuildState::decode(&s.encode()).unwrap(), s);
        }
        assert!(RebuildState::decode(&[1, 2]).is_err());
    }

    /// A range lookup's candidates from a position on, cut to a limit: the first keys in key
    /// order, a flag that more follow, and every entry of the range counted as read.
    #[test]
    fn candidates_are_cut_to_the_limit_from_a_position() {
        use crate::index::path::Seg;
        let (_dir, c) = scratch_container();
        for i in 0..50 {
            c.create_item(
                "p",
                &serde_json::json!({"id": format!("i{i:02}"), "pk": "p", "n": 49 - i}),
            )
            .unwrap();
        }
        let r = c.resolve().unwrap();
        let view = c.index_view(r.id).unwrap();
        let range = [Lookup {
            path: vec![Seg::Name("n".into())],
            kind: LookupKind::Range {
                lo: Some(serde_json::json!(10)),
                hi: None,
            },
        }];
        let scope = container_prefix(r.id);
        let all = c
            .index_candidates(r.id, view.generation, &range, (&scope, &scope), usize::MAX)
            .unwrap();
        // n >= 10 is i00..=i39, whose entries come in value order (i39 first).
        assert_eq!((all.keys.len(), all.more, all.entries_read), (40, false, 40));
        assert!(all.keys.windows(2).all(|w| w[0] < w[1]));
        let from = all.keys[5].clone();
        let cut = c
            .index_candidates(r.id, view.generation, &range, (&scope, &from), 3)
            .unwrap();
        assert_eq!(cut.keys, all.keys[5..8].to_vec());
        assert!(cut.more);
        assert_eq!(cut.entries_read, 40);
        let tail = c
            .index_candidates(r.id, view.generation, &range, (&scope, &all.keys[37]), 3)
            .unwrap();
        assert_eq!((tail.keys, tail.more), (all.keys[37..].to_vec(), false));
    }
}
