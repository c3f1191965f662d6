//! Whole-result execution for the queries that cannot stream (GROUP BY, DISTINCT, ORDER BY
//! sorted in memory, no FROM): the caller pushes documents one at a time and the `Collector`
//! keeps only what the result needs. Memory is bounded by the number of groups (one first row
//! and one accumulator per aggregate each), the distinct results, or the sorted results (only
//! OFFSET + the TOP/LIMIT count of them when the query has one), never by the documents read.
//! Given a `RunStore`, an ORDER BY without TOP, LIMIT or DISTINCT holds only a budget of bytes
//! of sorted results: past it they go to the store as a sorted run, and the result is the merge
//! of the runs (sort_merge.rs). Pure: it never reads storage itself and knows nothing of pages
//! or tokens (account/query.rs slices the result it returns).

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::aggregate::{accumulators, finish, Accumulator};
use super::eval::{Env, Row};
use super::exec::{cmp_keys, Prepared};
use super::sort_merge::{Merge, RunStore, Sorted};
use super::stream::Flow;
use super::value::{canonical, canonical_value, Val};
use crate::error::{Error, Result};

/// Most groups, distinct results or sorted results a query may hold at once.
const MAX_HELD: usize = 1_000_000;

/// One group: the first row that fell into it (GROUP BY expressions of SELECT are evaluated
/// over it; the checker allows no other plain reference) and its aggregates.
struct Group<'p> {
    first: Row,
    accs: Vec<Accumulator<'p>>,
}

enum State<'p> {
    /// Aggregate queries, in the order each group first appeared.
    Groups {
        index: HashMap<String, usize>,
        groups: Vec<Group<'p>>,
    },
    /// ORDER BY without an index. With DISTINCT, `seen` maps each value to its entry (which
    /// keeps the least sort keys of the value's rows).
    Sorted {
        rows: Vec<Sorted>,
        seen: Option<HashMap<String, usize>>,
        seq: u64,
    },
    /// Neither: results in the order they come (DISTINCT keeps the first of equal ones).
    Plain {
        rows: Vec<Value>,
        seen: Option<HashSet<String>>,
    },
}

/// A query's whole result, built as documents are pushed.
pub(crate) struct Collector<'p> {
    p: &'p Prepared,
    state: State<'p>,
    /// OFFSET plus the TOP/LIMIT count: how many leading results can reach any page (`None`:
    /// all of them).
    wanted: Option<usize>,
    /// The key of the item being pushed (kept only under ORDER BY, as its ties' order).
    item: Vec<u8>,
    /// Where sorted runs go, when the results held pass a budget (`with_runs`).
    runs: Option<Runs<'p>>,
}

/// A sort outside memory: the store of its runs, the budget of bytes held in memory, the bytes
/// held now, and whether any run was written.
struct Runs<'p> {
    store: Box<dyn RunStore + 'p>,
    budget: usize,
    held: usize,
    written: bool,
}

impl<'p> Collector<'p> {
    pub(crate) fn new(p: &'p Prepared) -> Result<Collector<'p>> {
        let q = &p.query;
        let distinct = q.select.distinct;
        let state = if p.aggregated {
            let mut groups = Vec::new();
            if q.group_by.is_empty() {
                // Without GROUP BY there is one group, even of no rows (`COUNT` of nothing is 0).
                groups.push(Group {
                    first: Row::new(),
                    accs: accumulators(&p.query.select.kind),
                });
            }
            State::Groups {
                index: HashMap::new(),
                groups,
            }
        } else if !q.order_by.is_empty() {
            State::Sorted {
                rows: Vec::new(),
                seen: distinct.then(HashMap::new),
                seq: 0,
            }
        } else {
            State::Plain {
                rows: Vec::new(),
                seen: distinct.then(HashSet::new),
            }
        };
        let take = match (p.top, p.limit) {
            (Some(t), Some(l)) => Some(t.min(l)),
            (t, l) => t.or(l),
        };
        let mut c = Collector {
            p,
            state,
            wanted: take.map(|t| p.offset.saturating_add(t)),
            item: Vec::new(),
            runs: None,
        };
        if q.from.is_none() {
            // `SELECT <expr>` without FROM: one row with nothing bound, whatever is pushed.
            c.consider(Row::new())?;
        }
        Ok(c)
    }

    /// Sorts outside memory: an ORDER BY without TOP, LIMIT or DISTINCT holds at most about
    /// `budget` bytes of results (as compact JSON) and writes each such batch, sorted, to
    /// `store`. Other queries hold what they hold without it (groups, distinct values, a
    /// bounded heap).
    pub(crate) fn with_runs(mut self, store: Box<dyn RunStore + 'p>, budget: usize) -> Self {
        if let State::Sorted { seen: None, .. } = self.state {
            if self.wanted.is_none() {
                self.runs = Some(Runs {
                    store,
                    budget,
                    held: 0,
                    written: false,
                });
            }
        }
        self
    }

    fn env(&self) -> Env<'p> {
        Env {
            params: &self.p.params,
            now: self.p.now,
            aggs: None,
            udfs: self.p.udfs.as_deref(),
        }
    }

    /// Feeds one document, stored under item key `key` (empty when it has none: ties in an
    /// ORDER BY then keep the order of arrival). `Flow::Stop` when the result can no longer
    /// change (enough results of a query without ORDER BY or GROUP BY).
    pub(crate) fn push(&mut self, key: &[u8], doc: Value) -> Result<Flow> {
        let p = self.p;
        let Some(alias) = p.query.from.as_deref() else {
            return Ok(Flow::Stop); // no FROM: the one row is made in `finish`
        };
        if let State::Sorted { .. } = self.state {
            self.item.clear();
            self.item.extend_from_slice(key);
        }
        for row in p.expand(&self.env(), alias, doc)? {
            if self.consider(row)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::More)
    }

    /// One row of FROM and JOIN: kept (in a group, or as a result) if it passes WHERE.
    fn consider(&mut self, row: Row) -> Result<Flow> {
        let p = self.p;
        let env = &self.env();
        if !p
            .query
            .filter
            .as_ref()
            .is_none_or(|f| env.eval(f, &row) == Some(Value::Bool(true)))
        {
            return Ok(Flow::More);
        }
        match &mut self.state {
            State::Groups { index, groups } => {
                let at = if p.query.group_by.is_empty() {
                    0
                } else {
                    let key: String = p
                        .query
                        .group_by
                        .iter()
                        .map(|g| canonical(&env.eval(g, &row)) + "\u{0}")
                        .collect();
                    match index.entry(key) {
                        Entry::Occupied(e) => *e.get(),
                        Entry::Vacant(e) => {
                            held(groups.len(), "groups")?;
                            groups.push(Group {
                                first: row.clone(),
                                accs: accumulators(&p.query.select.kind),
                            });
                            *e.insert(groups.len() - 1)
                        }
                    }
                };
                if let Some(g) = groups.get_mut(at) {
                    for (_, arg, acc) in &mut g.accs {
                        if let Some(arg) = arg {
                            acc.add(env.eval(arg, &row));
                        }
                    }
                }
                Ok(Flow::More)
            }
            State::Sorted { rows, seen, seq } => {
                let Some(value) = p.project(env, &row) else {
                    return Ok(Flow::More);
                };
                let keys: Vec<Val> = p.query.order_by.iter().map(|o| env.eval(&o.expr, &row)).collect();
                *seq += 1;
                let entry = Sorted {
                    keys,
                    item: self.item.clone(),
                    seq: *seq,
                    value,
                };
                match seen {
                    // DISTINCT after ORDER BY keeps the first of equal results in sort order:
                    // the one with the least keys (the earliest of equal keys).
                    Some(seen) => match seen.entry(canonical_value(&entry.value)) {
                        Entry::Occupied(e) => {
                            if let Some(old) = rows.get_mut(*e.get()) {
                                if p.sort_cmp(&entry, old) == Ordering::Less {
                                    *old = entry;
                                }
                            }
                        }
                        Entry::Vacant(e) => {
                            held(rows.len(), "distinct results")?;
                            e.insert(rows.len());
                            rows.push(entry);
                        }
                    },
                    None if self.runs.is_some() => {
                        let Some(runs) = self.runs.as_mut() else {
                            return Ok(Flow::More);
                        };
                        runs.held = runs.held.saturating_add(entry.record_bytes());
                        rows.push(entry);
                        if runs.held >= runs.budget || rows.len() >= MAX_HELD {
                            rows.sort_by(|a, b| p.sort_cmp(a, b));
                            runs.store
                                .write_run(&mut rows.drain(..).map(Sorted::into_record))?;
                            runs.held = 0;
                            runs.written = true;
                        }
                    }
                    None => {
                        rows.push(entry);
                        // Only the first `wanted` in sort order can be returned: keep twice that
                        // many at most, cutting back to the best `wanted` (O(n log k) overall).
                        if let Some(w) = self.wanted {
                            if rows.len() > w.saturating_mul(2).max(1024) {
                                rows.sort_by(|a, b| p.sort_cmp(a, b));
                                rows.truncate(w);
                            }
                        }
                        held(rows.len(), "sorted results")?;
                    }
                }
                Ok(Flow::More)
            }
            State::Plain { rows, seen } => {
                let Some(value) = p.project(env, &row) else {
                    return Ok(Flow::More);
                };
                if let Some(seen) = seen {
                    if !seen.insert(canonical_value(&value)) {
                        return Ok(Flow::More);
                    }
                }
                if self.wanted.is_some_and(|w| rows.len() >= w) {
                    return Ok(Flow::Stop);
                }
                held(rows.len(), "results")?;
                rows.push(value);
                // Without ORDER BY the first results are final: once OFFSET + TOP/LIMIT of them
                // are here, no later document changes the result.
                Ok(match self.wanted {
                    Some(w) if rows.len() >= w => Flow::Stop,
                    _ => Flow::More,
                })
            }
        }
    }

    /// The whole result, in order, after OFFSET, LIMIT and TOP, as it is read: merged from the
    /// sorted runs when any was written (errors are the store's), else from memory.
    pub(crate) fn finish_stream(mut self) -> Result<Box<dyn Iterator<Item = Result<Value>> + 'p>> {
        let p = self.p;
        match (self.runs.take(), self.state) {
            (Some(runs), State::Sorted { mut rows, .. }) if runs.written => {
                rows.sort_by(|a, b| p.sort_cmp(a, b));
                let merge = Merge::new(p, runs.store, rows)?;
                // `with_runs` leaves out TOP and LIMIT: only OFFSET applies.
                Ok(Box::new(merge.skip(p.offset)))
            }
            (_, state) => {
                self.state = state;
                Ok(Box::new(self.finish().into_iter().map(Ok)))
            }
        }
    }

    /// The whole result, in order, after OFFSET, LIMIT and TOP.
    pub(crate) fn finish(self) -> Vec<Value> {
        let p = self.p;
        let mut out: Vec<Value> = match self.state {
            State::Groups { groups, .. } => {
                let mut out = Vec::with_capacity(groups.len());
                for g in groups {
                    let aggs = finish(g.accs);
                    let env = Env {
                        params: &p.params,
                        now: p.now,
                        aggs: Some(&aggs),
                        udfs: p.udfs.as_deref(),
                    };
                    out.extend(p.project(&env, &g.first));
                }
                out
            }
            State::Sorted { mut rows, .. } => {
                rows.sort_by(|a, b| p.sort_cmp(a, b));
                rows.into_iter().map(|r| r.value).collect()
            }
            State::Plain { rows, .. } => rows,
        };
        if p.aggregated && p.query.select.distinct {
            let mut seen = HashSet::new();
            out.retain(|v| seen.insert(canonical_value(v)));
        }
        let mut out: Vec<Value> = out.into_iter().skip(p.offset).collect();
        if let Some(limit) = p.limit {
            out.truncate(limit);
        }
        if let Some(top) = p.top {
            out.truncate(top);
        }
        out
    }
}

impl Prepared {
    /// Runs the query over `docs` and returns every result, in order: a patch's filter
    /// predicate over its one item, the reference the streamed pages are tested against, and
    /// the fuzz targets' entry point.
    pub(crate) fn run(&self, docs: impl IntoIterator<Item = Value>) -> Result<Vec<Value>> {
        let mut c = Collector::new(self)?;
        for doc in docs {
            if c.push(&[], doc)? == Flow::Stop {
                break;
            }
        }
        Ok(c.finish())
    }

    /// ORDER BY's order of two sorted results, ties by item key, then in arrival order.
    pub(super) fn sort_cmp(&self, a: &Sorted, b: &Sorted) -> Ordering {
        cmp_keys(&self.query.order_by, &a.keys, &b.keys)
            .then_with(|| a.item.cmp(&b.item))
            .then_with(|| a.seq.cmp(&b.seq))
    }
}

/// 400 when a query would hold more than `MAX_HELD` of `what`.
fn held(now: usize, what: &str) -> Result<()> {
    if now >= MAX_HELD {
        return Err(Error::BadRequest(format!(
            "the query holds more than {MAX_HELD} {what} at once; narrow the WHERE clause, add \
             TOP or LIMIT, or serve the ORDER BY from an index"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Pushes `docs` one at a time; returns the result, the most entries the collector held at
    /// once, and how many documents it took before saying stop.
    fn collect(sql: &str, docs: impl IntoIterator<Item = Value>) -> (Vec<Value>, usize, usize) {
        let p = Prepared::new(sql, &[]).unwrap();
        let mut c = Collector::new(&p).unwrap();
        let (mut most, mut pushed) = (0, 0);
        for doc in docs {
            pushed += 1;
            let flow = c.push(&[], doc).unwrap();
            let held = match &c.state {
                State::Groups { groups, .. } => groups.len(),
                State::Sorted { rows, .. } => rows.len(),
                State::Plain { rows, .. } => rows.len(),
            };
            most = most.max(held);
            if flow == Flow::Stop {
                break;
            }
        }
        (c.finish(), most, pushed)
    }

    /// 20,000 documents whose `n` is a permutation of 0..20,000 and `k` one of three values.
    fn docs() -> impl Iterator<Item = Value> {
        (0..20_000u64).map(|i| json!({"id": i.to_string(), "n": (i * 7919) % 20_000, "k": i % 3}))
    }

    #[test]
    fn sorted_top_holds_a_bounded_number_of_results() {
        let (out, most, _) = collect("SELECT TOP 3 VALUE c.n FROM c ORDER BY c.n DESC", docs());
        assert_eq!(out, vec![json!(19_999), json!(19_998), json!(19_997)]);
        assert!(most <= 1025, "held {most} results for a TOP 3");
        let (out, most, _) = collect("SELECT VALUE c.n FROM c ORDER BY c.n OFFSET 5000 LIMIT 3", docs());
        assert_eq!(out, vec![json!(5000), json!(5001), json!(5002)]);
        assert!(most <= 10_007, "held {most} results for OFFSET 5000 LIMIT 3");
        // Without TOP or LIMIT every result is held (the result is what the query asked for).
        let (out, most, _) = collect("SELECT VALUE c.n FROM c ORDER BY c.n", docs());
        assert_eq!(out.len(), 20_000);
        assert_eq!(most, 20_000);
    }

    #[test]
    fn ties_keep_arrival_order_when_cut_back() {
        // Every document has the same sort key: the cut-backs must keep the earliest.
        let docs = (0..5000u64).map(|i| json!({"i": i, "n": 1}));
        let (out, _, _) = collect("SELECT TOP 4 VALUE c.i FROM c ORDER BY c.n", docs);
        assert_eq!(out, vec![json!(0), json!(1), json!(2), json!(3)]);
    }

    #[test]
    fn ties_go_by_item_key_whatever_the_arrival_order() {
        // Items arrive in descending key order (as a lookup read in index order may bring
        // them); equal sort keys come out in ascending key order, through the cut-backs too,
        // and the rows of one item (a JOIN) in the order the item gives them.
        let p = Prepared::new(
            "SELECT TOP 6 VALUE [c.i, t] FROM c JOIN t IN c.t ORDER BY c.n",
            &[],
        )
        .unwrap();
        let mut c = Collector::new(&p).unwrap();
        for i in (0..3000u32).rev() {
            let doc = json!({"i": i, "n": i % 2, "t": ["b", "a"]});
            assert_eq!(c.push(&i.to_be_bytes(), doc).unwrap(), Flow::More);
        }
        assert_eq!(
            c.finish(),
            vec![
                json!([0, "b"]),
                json!([0, "a"]),
                json!([2, "b"]),
                json!([2, "a"]),
                json!([4, "b"]),
                json!([4, "a"]),
            ]
        );
    }

    #[test]
    fn groups_hold_one_entry_per_group() {
        let (out, most, pushed) = collect(
            "SELECT c.k, COUNT(1) AS n, SUM(c.n) AS s FROM c GROUP BY c.k",
            docs(),
        );
        assert_eq!(most, 3);
        assert_eq!(pushed, 20_000);
        // k = i % 3 over 0..20,000: 6,667 of k = 0 and 1, 6,666 of k = 2; n is a permutation
        // of 0..20,000 whose sum per k is computed here from the same formula.
        let sum = |k: u64| {
            (0..20_000u64)
                .filter(|i| i % 3 == k)
                .map(|i| (i * 7919) % 20_000)
                .sum::<u64>()
        };
        assert_eq!(
            out,
            vec![
                json!({"k": 0, "n": 6667, "s": sum(0)}),
                json!({"k": 1, "n": 6667, "s": sum(1)}),
                json!({"k": 2, "n": 6666, "s": sum(2)}),
            ]
        );
    }

    #[test]
    fn distinct_in_sort_order_keeps_the_least_key() {
        let docs = [
            json!({"v": "a", "n": 3}),
            json!({"v": "b", "n": 1}),
            json!({"v": "a", "n": 0}),
            json!({"v": "c", "n": 2}),
        ];
        let (out, most, _) = collect("SELECT DISTINCT VALUE c.v FROM c ORDER BY c.n", docs.clone());
        assert_eq!(out, vec![json!("a"), json!("b"), json!("c")]);
        assert_eq!(most, 3);
        let (out, _, _) = collect("SELECT DISTINCT VALUE c.v FROM c ORDER BY c.n DESC", docs);
        assert_eq!(out, vec![json!("a"), json!("c"), json!("b")]);
    }

    #[test]
    fn distinct_without_order_stops_when_the_result_is_complete() {
        let (out, most, pushed) = collect("SELECT DISTINCT TOP 2 VALUE c.k FROM c", docs());
        assert_eq!(out, vec![json!(0), json!(1)]);
        assert_eq!((most, pushed), (2, 2));
        let (out, _, pushed) = collect("SELECT DISTINCT VALUE c.k FROM c", docs());
        assert_eq!(out, vec![json!(0), json!(1), json!(2)]);
        assert_eq!(pushed, 20_000);
    }

    #[test]
    fn no_from_is_one_row_whatever_is_pushed() {
        let (out, _, pushed) = collect("SELECT VALUE 1 + 1", docs());
        assert_eq!((out, pushed), (vec![json!(2)], 1));
        let (out, _, _) = collect("SELECT COUNT(1) AS n", std::iter::empty());
        assert_eq!(out, vec![json!({"n": 1})]);
    }
}
