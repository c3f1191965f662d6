//! One page of a query whose ORDER BY is read in index order (query/ordered.rs decides which and
//! holds the pure parts): the sort path's index entries are read in order over one snapshot
//! (backwards for DESC), one group of entries sharing an encoded value at a time; each group's
//! items are loaded, put in their exact order and fed to the `Pager`, and reading stops when the
//! page is full. Items lacking the sort path (undefined sorts before every value) are found by a
//! key-order scan of the scope, before the index ascending and after it descending. Owns the
//! walk and the count of what the page read (for its charge); must not evaluate queries (that is
//! query/) nor know how a cursor becomes a token (account/query.rs).

use std::cmp::Ordering;
use std::rc::Rc;

use serde_json::Value;

use super::container::{parse_stored, public_size, without_lsn, Container, Resolved};
use super::index::ranges;
use crate::document::container_prefix;
use crate::error::{Error, Result};
use crate::index::encode::{encode_value, entry_suffix, path_prefix, prefix_end};
use crate::metering::query_load_charge;
use crate::query::{sorted_cmp, Cursor, Flow, OrderScan, Pager, Phase, Prepared, WHOLE};

/// What one ordered page read.
pub(super) struct Walked {
    /// The load charge of the items it read (not rounded).
    pub(super) load: f64,
    /// Index entries it read.
    pub(super) entries: usize,
    /// Something may follow the last document fed (consulted by `Pager::finish` only when the
    /// page ended after a whole document).
    pub(super) more: bool,
}

/// The state of one walk: what the page has read so far, and where it resumes.
struct Walk<'w, 'p> {
    container: &'w Container,
    r: &'w Resolved,
    prepared: &'w Prepared,
    scope: &'w [u8],
    descending: bool,
    resume: Option<&'w Cursor>,
    /// The page before ended after the whole item at `resume`: it is not read again.
    after: bool,
    pager: &'w mut Pager<'p>,
    load: f64,
    entries: usize,
}

/// A group member: sort value, item key, the item.
type Member = (Option<Value>, Vec<u8>, Value);

impl Container {
    /// Feeds `pager` the page of `prepared` that starts at `from` (`None`: the first page; with
    /// the position's `skip`), reading the index of `generation` as `scan` says, limited to item
    /// keys under `scope`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ordered_walk(
        &self,
        r: &Resolved,
        generation: u32,
        prepared: &Prepared,
        scan: &OrderScan,
        scope: &[u8],
        from: Option<(&Cursor, u64)>,
        pager: &mut Pager<'_>,
    ) -> Result<Walked> {
        let (from, after) = (from.map(|(c, _)| c), from.is_some_and(|(_, skip)| skip == WHOLE));
        let phases = scan.phases();
        let first = match from {
            None => 0,
            Some(c) => phases.iter().position(|p| *p == c.phase).ok_or_else(|| {
                Error::BadRequest(
                    "the continuation token is not valid (its position does not belong to this \
                     query's plan); run the query again from the start"
                        .into(),
                )
            })?,
        };
        let mut walk = Walk {
            container: self,
            r,
            prepared,
            scope,
            descending: scan.descending,
            resume: from,
            after,
            pager,
            load: 0.0,
            entries: 0,
        };
        for (i, phase) in phases.iter().enumerate().skip(first) {
            let stopped = match phase {
                Phase::Undefined => walk.undefined()?,
                Phase::Indexed => walk.indexed(r.id, generation, scan)?,
            };
            if let Some(more) = stopped {
                return Ok(Walked {
                    load: walk.load,
                    entries: walk.entries,
                    more: more || i + 1 < phases.len(),
                });
            }
            walk.resume = None;
        }
        Ok(Walked {
            load: walk.load,
            entries: walk.entries,
            more: false,
        })
    }
}

impl Walk<'_, '_> {
    /// Loads a stored item: `None` if it is gone or expired (its load is charged all the
    /// same), else its sort value and the item.
    fn load(&mut self, bytes: Option<Vec<u8>>) -> Result<Option<(Option<Value>, Value)>> {
        let Some(bytes) = bytes else { return Ok(None) };
        let doc = parse_stored(&bytes)?;
        self.load += query_load_charge(public_size(bytes.len(), &doc));
        if !self.container.in_query_scope(self.r, &doc)? {
            return Ok(None);
        }
        let doc = Rc::new(without_lsn(doc));
        let value = self.prepared.sort_value(&doc);
        let doc = Rc::try_unwrap(doc).unwrap_or_else(|shared| (*shared).clone());
        Ok(Some((value, doc)))
    }

    /// The items of the scope whose sort key is undefined, in key order. `Some(more)` when the
    /// page stopped.
    fn undefined(&mut self) -> Result<Option<bool>> {
        let db = self.container.inner.store_for(self.r.id)?;
        let start = match self.resume {
            None => self.scope.to_vec(),
            Some(c) if self.after => [c.key.as_slice(), &[0]].concat(),
            Some(c) => c.key.clone(),
        };
        let mut items = db.iter_prefix_from(self.scope, &start)?;
        while let Some(next) = items.next() {
            let (key, bytes) = next?;
            let Some((None, doc)) = self.load(Some(bytes))? else {
                continue; // gone, expired, or sorted by its value in the index phase
            };
            let at = Cursor {
                phase: Phase::Undefined,
                key,
                value: None,
            };
            if self.pager.push(&at.encode(), doc)? == Flow::Stop {
                return Ok(Some(
                    self.pager.needs_lookahead() && items.next().transpose()?.is_some(),
                ));
            }
        }
        Ok(None)
    }

    /// The items with a value at the sort path, in index order. `Some(more)` when the page
    /// stopped.
    fn indexed(&mut self, id: u32, generation: u32, scan: &OrderScan) -> Result<Option<bool>> {
        let Some(path) = path_prefix(id, generation, &scan.path) else {
            return Err(Error::Internal(
                "an ORDER BY path too long to be indexed was streamed".into(),
            ));
        };
        let mut spans = match &scan.within {
            None => vec![(path.clone(), prefix_end(&path).unwrap_or_default())],
            Some(lookups) => merged(lookups.iter().flat_map(|l| ranges(&path, &l.kind)).collect()),
        };
        // Resume at the group of the cursor's value (groups never straddle a span's bounds).
        if let Some(Cursor { value: Some(v), .. }) = self.resume {
            let mut group = path.clone();
            encode_value(v, &mut group);
            for (start, end) in &mut spans {
                if self.descending {
                    let bound = prefix_end(&group).unwrap_or_default();
                    *end = (*end).clone().min(bound);
                } else {
                    *start = (*start).clone().max(group.clone());
                }
            }
            spans.retain(|(start, end)| start < end);
        }
        if self.descending {
            spans.reverse();
        }
        let db = self.container.inner.store_for(self.r.id)?;
        let count = spans.len();
        for (n, (start, end)) in spans.into_iter().enumerate() {
            let entries: Box<dyn Iterator<Item = _>> = if self.descending {
                Box::new(db.iter_range_rev(&start, &end)?)
            } else {
                let end = end.clone();
                Box::new(
                    db.iter_prefix_from(&path, &start)?
                        .take_while(move |e| e.as_ref().map_or(true, |(k, _)| *k < end)),
                )
            };
            let mut entries = entries;
            let mut group: Vec<Vec<u8>> = Vec::new();
            let mut value: Vec<u8> = Vec::new();
            loop {
                let next = entries.next().transpose()?;
                let entry = match &next {
                    Some((key, _)) => {
                        self.entries += 1;
                        let suffix = entry_suffix(key, path.len())
                            .ok_or_else(|| Error::Internal("an index entry is damaged".into()))?;
                        let v = key.get(path.len()..key.len() - suffix.len()).unwrap_or_default();
                        Some((v, suffix))
                    }
                    None => None,
                };
                let same = entry.is_some_and(|(v, _)| v == value.as_slice());
                if !same && !group.is_empty() {
                    if let Some(rest) = self.group(&group, &value)? {
                        let more = rest || entry.is_some() || n + 1 < count;
                        return Ok(Some(more));
                    }
                    group.clear();
                }
                let Some((v, suffix)) = entry else { break };
                if !same {
                    value = v.to_vec();
                }
                group.push(suffix.to_vec());
            }
        }
        Ok(None)
    }

    /// Feeds one group of entries sharing the encoded `value`, in exact order. `Some(rest)` when
    /// the page stopped, `rest` telling whether members of the group were left.
    fn group(&mut self, suffixes: &[Vec<u8>], value: &[u8]) -> Result<Option<bool>> {
        let db = self.container.inner.store_for(self.r.id)?;
        let container = container_prefix(self.r.id);
        let mut members: Vec<Member> = Vec::with_capacity(suffixes.len());
        for suffix in suffixes {
            let mut key = container.clone();
            key.extend_from_slice(suffix);
            if !key.starts_with(self.scope) {
                continue;
            }
            // The item the last page ended after, still at its value's entry: not read again.
            let returned = self.resume.filter(|_| self.after).is_some_and(|c| {
                let mut at = Vec::new();
                if let Some(v) = &c.value {
                    encode_value(v, &mut at);
                }
                c.key == key && at == value
            });
            if returned {
                continue;
            }
            let stored = db.get(&key)?;
            let Some((Some(v), doc)) = self.load(stored)? else {
                continue;
            };
            // A write after this page's index snapshot moved the item to another entry: it is
            // read there (or not at all), never out of order here.
            let mut encoded = Vec::new();
            encode_value(&v, &mut encoded);
            if encoded != value {
                continue;
            }
            members.push((Some(v), key, doc));
        }
        let desc = self.descending;
        members.sort_by(|a, b| sorted_cmp((&a.0, &a.1), (&b.0, &b.1), desc));
        if let Some(c) = self.resume {
            members.retain(|m| sorted_cmp((&m.0, &m.1), (&c.value, &c.key), desc) != Ordering::Less);
        }
        let n = members.len();
        for (i, (value, key, doc)) in members.into_iter().enumerate() {
            let at = Cursor {
                phase: Phase::Indexed,
                key,
                value,
            };
            if self.pager.push(&at.encode(), doc)? == Flow::Stop {
                return Ok(Some(i + 1 < n));
            }
        }
        Ok(None)
    }
}

/// Key ranges sorted and with overlapping or touching ones joined, so no entry is read twice.
pub(super) fn merged(mut spans: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    spans.sort();
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => {
                if end > last.1 {
                    last.1 = end;
                }
            }
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_joined_when_they_overlap_or_touch() {
        let r = |a: &[u8], b: &[u8]| (a.to_vec(), b.to_vec());
        assert_eq!(
            merged(vec![r(b"d", b"f"), r(b"a", b"c"), r(b"b", b"d"), r(b"x", b"y")]),
            vec![r(b"a", b"f"), r(b"x", b"y")]
        );
        assert_eq!(merged(vec![r(b"a", b"z"), r(b"b", b"c")]), vec![r(b"a", b"z")]);
        assert!(merged(Vec::new()).is_empty());
    }
}
