//! Index lookups read in index order, for queries without ORDER BY (whose result order is not
//! defined): the items that a range, prefix or `IS_DEFINED` lookup proposes (or a union of
//! lookups on one path, or an `IN` list too long to merge in key order), in the order of their
//! entries (value, then item key), from a position in that order on, reading only the entries
//! the reader pulls. A position is an entry's key after its path prefix
//! (`value | pk_len | pk | id`, see index/encode.rs): it names one entry of one item, and
//! positions increase strictly along the walk, as item keys do along a key-order scan. An item
//! with several matching entries (a path under an array: `/tags/[]`) is produced at the least of
//! them only, found by recomputing the loaded item's terms with the same encoding. Knows index
//! keys and terms; must not evaluate queries nor know how a position becomes a token
//! (account/query.rs).

use super::container::{parse_stored, public_size};
use super::index::{item_terms, lookup_prefix, ranges, IndexView};
use super::ordered::merged;
use crate::document::container_prefix;
use crate::error::{Error, Result};
use crate::index::encode::{entry_suffix, generation_prefix};
use crate::index::path::Seg;
use crate::metering::query_load_charge;
use crate::query::plan::Lookup;
use strata_lsm::db::Db;
use strata_lsm::ScanIter;

/// How a set of lookups is read in index order: the entries' path prefix and the key ranges
/// `[start, end)` to walk (sorted, disjoint; an empty `end` is unbounded).
pub(crate) struct ValueOrder {
    path: Vec<u8>,
    /// The length of the generation prefix the path prefix starts with (a term follows it).
    head: usize,
    spans: Vec<(Vec<u8>, Vec<u8>)>,
    /// The path passes through an array, so one item may have several entries in the spans.
    repeats: bool,
}

impl ValueOrder {
    /// `None` unless every lookup is on one path that has entries, and reads its values or
    /// its spatial cells alike: lookups on several paths would need their orders merged and
    /// their items deduplicated across paths.
    pub(crate) fn of(id: u32, generation: u32, lookups: &[Lookup]) -> Option<ValueOrder> {
        let first = lookups.first()?;
        if lookups
            .iter()
            .any(|l| l.path != first.path || l.kind.is_spatial() != first.kind.is_spatial())
        {
            return None;
        }
        let path = lookup_prefix(id, generation, first)?;
        let spans = merged(lookups.iter().flat_map(|l| ranges(&path, &l.kind)).collect())
            .into_iter()
            .filter(|(start, end)| end.is_empty() || start < end)
            .collect();
        Some(ValueOrder {
            head: generation_prefix(id, generation).len(),
            // A geometry is entered under several cells and levels.
            repeats: first.path.contains(&Seg::Array) || first.kind.is_spatial(),
            path,
            spans,
        })
    }

    /// Whether `key` (an entry key, or an entry's path and value alone) lies in a span.
    fn covers(&self, key: &[u8]) -> bool {
        self.spans
            .iter()
            .any(|(start, end)| key >= start.as_slice() && (end.is_empty() || key < end.as_slice()))
    }
}

/// The items of a `ValueOrder` walk as `(position, stored item)`, in index order.
pub(crate) struct InValueOrder<'a> {
    /// The container's store (`AccountInner::store_for`), held by the caller for the walk.
    store: &'a Db,
    view: &'a IndexView,
    order: ValueOrder,
    /// `0x01 | container id`: an entry's item suffix after it is the item key.
    items: Vec<u8>,
    /// The scope (a partition, or the container) as an item suffix: entries of items outside
    /// it are read and passed over.
    scope: Vec<u8>,
    /// The entry key to start at (the resume position under the path prefix).
    from: Option<Vec<u8>>,
    /// The next span to open, and the one being read with its end.
    next_span: usize,
    current: Option<(ScanIter<'a>, Vec<u8>)>,
    /// Entries this walk may read before it stops (`usize::MAX`: no limit).
    entry_limit: usize,
    last: Option<Vec<u8>>,
    /// Index entries read.
    pub(crate) entries_read: usize,
    /// The load charge of the items read and passed over (repeats), not rounded.
    pub(crate) load: f64,
    /// Set when the walk stopped at its entry limit: the position of the last entry read
    /// (entries may follow it).
    pub(crate) cut: Option<Vec<u8>>,
}

impl<'a> InValueOrder<'a> {
    /// Walks `order` (lookups of `view`'s index) over the items under `scope` (a container or
    /// partition prefix) in `store` (the container's), from `position` on (inclusive; `None`:
    /// the start), reading at most `entry_limit` entries.
    pub(crate) fn new(
        store: &'a Db,
        id: u32,
        view: &'a IndexView,
        order: ValueOrder,
        scope: &[u8],
        position: Option<&[u8]>,
        entry_limit: usize,
    ) -> Result<InValueOrder<'a>> {
        let items = container_prefix(id);
        let scope = scope
            .strip_prefix(items.as_slice())
            .ok_or_else(|| Error::Internal("a query's scope is outside its container".into()))?
            .to_vec();
        let from = position.map(|p| [order.path.as_slice(), p].concat());
        Ok(InValueOrder {
            store,
            view,
            order,
            items,
            scope,
            from,
            next_span: 0,
            current: None,
            entry_limit,
            last: None,
            entries_read: 0,
            load: 0.0,
            cut: None,
        })
    }
}

/// Whether `position` (from a token) names an entry of an item under `scope` (a container or
/// partition prefix) of container `id`.
pub(crate) fn position_in_scope(id: u32, position: &[u8], scope: &[u8]) -> bool {
    item_at(id, position).is_some_and(|key| key.starts_with(scope))
}

/// The key of the item whose entry is at `position` in container `id` (`None`: no entry).
pub(crate) fn item_at(id: u32, position: &[u8]) -> Option<Vec<u8>> {
    entry_suffix(position, 0).map(|suffix| [container_prefix(id).as_slice(), suffix].concat())
}

impl InValueOrder<'_> {
    /// Opens the next span that is not wholly before the resume position; false when none is left.
    fn open(&mut self) -> Result<bool> {
        while let Some((start, end)) = self.order.spans.get(self.next_span) {
            self.next_span += 1;
            let start = match &self.from {
                Some(from) if from > start => from.clone(),
                _ => start.clone(),
            };
            if !end.is_empty() && start >= *end {
                continue;
            }
            let entries = self.store.iter_prefix_from(&self.order.path, &start)?;
            self.current = Some((entries, end.clone()));
            return Ok(true);
        }
        Ok(false)
    }

    /// True if the item is produced at the entry of `value`: it has no entry of a lesser value
    /// in the spans (else it was produced there). An item changed since the entries were read
    /// may have no entry at `value` any more: it is produced at its present least entry, if
    /// the walk reaches it.
    fn least_at(&mut self, bytes: &[u8], value: &[u8]) -> Result<bool> {
        let doc = parse_stored(bytes)?;
        let (head, term) = self.order.path.split_at(self.order.head);
        let terms = item_terms(self.view, Some(&doc));
        let least = terms
            .range(term.to_vec()..)
            .take_while(|t| t.starts_with(term))
            .find(|t| self.order.covers(&[head, t.as_slice()].concat()));
        let here = least.is_some_and(|t| t.get(term.len()..) == Some(value));
        if !here {
            self.load += query_load_charge(public_size(bytes.len(), &doc));
        }
        Ok(here)
    }

    fn next_item(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        loop {
            if self.current.is_none() && !self.open()? {
                return Ok(None);
            }
            if self.entries_read >= self.entry_limit {
                self.cut = self.last.clone();
                return Ok(None);
            }
            let Some((entries, end)) = &mut self.current else {
                continue;
            };
            let entry = match entries.next().transpose()? {
                Some((entry, _)) if end.is_empty() || entry < *end => entry,
                _ => {
                    self.current = None;
                    continue;
                }
            };
            self.entries_read += 1;
            let path = self.order.path.len();
            let suffix = entry_suffix(&entry, path)
                .ok_or_else(|| Error::Internal("an index entry is damaged".into()))?;
            let position = entry.get(path..).unwrap_or_default();
            let value = position.get(..position.len() - suffix.len()).unwrap_or_default();
            self.last = Some(position.to_vec());
            if !suffix.starts_with(&self.scope) {
                continue;
            }
            let key = [self.items.as_slice(), suffix].concat();
            // An entry whose item is gone (removed by compaction after its TTL) proposes nothing.
            let Some(bytes) = self.store.get(&key)? else {
                continue;
            };
            if self.order.repeats && !self.least_at(&bytes, value)? {
                continue;
            }
            return Ok(Some((position.to_vec(), bytes)));
        }
    }
}

impl Iterator for InValueOrder<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Container;
    use crate::document::{partition_prefix, PartitionKey};
    use crate::index::path::Seg;
    use crate::query::plan::LookupKind;
    use serde_json::{json, Value};

    /// Positions and item ids of a whole walk, resumed after every cut at the entry limit.
    fn walk(c: &Container, lookups: &[Lookup], scope: &[u8], limit: usize) -> (Vec<String>, usize) {
        let r = c.resolve().unwrap();
        let view = c.index_view(r.id).unwrap();
        let (mut ids, mut positions, mut cuts) = (Vec::new(), Vec::<Vec<u8>>::new(), 0);
        let mut from: Option<Vec<u8>> = None;
        loop {
            let order = ValueOrder::of(r.id, view.generation, lookups).unwrap();
            let store = c.inner.store_for(r.id).unwrap();
            let mut items =
                InValueOrder::new(&store, r.id, &view, order, scope, from.as_deref(), limit).unwrap();
            for next in &mut items {
                let (position, bytes) = next.unwrap();
                assert!(position_in_scope(r.id, &position, scope));
                assert!(
                    positions.last().is_none_or(|p| *p < position),
                    "positions increase"
                );
                let doc: Value = serde_json::from_slice(&bytes).unwrap();
                ids.push(doc["id"].as_str().unwrap().to_string());
                positions.push(position);
            }
            assert!(items.entries_read <= limit);
            match items.cut.take() {
                // The next walk starts after the last entry read.
                Some(mut last) => {
                    last.push(0);
                    from = Some(last);
                    cuts += 1;
                }
                None => return (ids, cuts),
            }
        }
    }

    /// A walk in index order yields each item once, at the least of its matching entries (items
    /// with several matching array elements), only the scope's items, and when cut at its entry
    /// limit resumes after the last entry it read without losing or repeating an item.
    #[test]
    fn walks_yield_each_item_once_in_scope_and_resume_after_a_cut() {
        let (_dir, c) = super::super::index::scratch_container();
        for i in 0..40 {
            let pk = format!("p{}", i % 4);
            c.create_item(
                pk.as_str(),
                &json!({"id": format!("i{i:02}"), "pk": pk, "n": 39 - i, "tags": [i % 5, (i + 1) % 5, 9]}),
            )
            .unwrap();
        }
        let r = c.resolve().unwrap();
        let range = |path: Vec<Seg>, lo: i64| Lookup {
            path,
            kind: LookupKind::Range {
                lo: Some(json!(lo)),
                hi: None,
            },
        };
        let n = vec![Seg::Name("n".into())];
        let tags = vec![Seg::Name("tags".into()), Seg::Array];
        let container = container_prefix(r.id);
        let p1 = partition_prefix(r.id, &PartitionKey::from("p1")).unwrap();

        // n >= 10: i00..=i29 by descending id (ascending n), one entry each.
        let (ids, cuts) = walk(&c, &[range(n.clone(), 10)], &container, usize::MAX);
        let want: Vec<String> = (0..30).rev().map(|i| format!("i{i:02}")).collect();
        assert_eq!((ids, cuts), (want.clone(), 0));
        // Cut every 7 entries: the same items in the same order.
        let (ids, cuts) = walk(&c, &[range(n.clone(), 10)], &container, 7);
        assert_eq!((ids, cuts), (want, 4));
        // One partition: its items only, the others' entries read and passed over.
        let (ids, _) = walk(&c, &[range(n.clone(), 10)], &p1, 5);
        let want: Vec<String> = (0..30)
            .rev()
            .filter(|i| i % 4 == 1)
            .map(|i| format!("i{i:02}"))
            .collect();
        assert_eq!(ids, want);

        // tags/[] >= 1: every item matches (9), most through two or three elements; each once.
        for limit in [usize::MAX, 3, 11] {
            let (mut ids, _) = walk(&c, &[range(tags.clone(), 1)], &container, limit);
            assert_eq!(ids.len(), 40, "limit {limit}");
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 40, "limit {limit}");
        }
        // Lookups on two paths are not walked in index order.
        let r = c.resolve().unwrap();
        let generation = c.index_view(r.id).unwrap().generation;
        assert!(ValueOrder::of(r.id, generation, &[range(n, 1), range(tags, 1)]).is_none());
    }
}
