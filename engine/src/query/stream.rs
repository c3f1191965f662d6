//! Streaming execution of one page, for the queries that need no whole result: those without
//! ORDER BY, GROUP BY or DISTINCT (rows in the order of the documents fed), and aggregates
//! without GROUP BY (one row, O(1) state per aggregate). The caller pushes documents one at a
//! time in key order with their keys; the `Pager` filters, expands JOINs, projects, applies
//! OFFSET/LIMIT/TOP, says when the page is full, and hands back the position the next page
//! resumes from. Pure: it never reads storage, never decides what a document costs, and knows
//! nothing of how a position is encoded into a token (see account/query.rs).

use serde_json::Value;

use super::aggregate::{accumulators, finish, Accumulator};
use super::eval::{Env, Row};
use super::exec::Prepared;
use crate::error::{Error, Result};

/// Where a streamed query resumes: at the document `key` (inclusive), after the first `skip`
/// results that document produced, `produced` results into the query's result sequence (the
/// count OFFSET, LIMIT and TOP are applied to). If the document at `key` changed or went away
/// since, the next page simply starts with whatever is at or after `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) key: Vec<u8>,
    pub(crate) skip: u64,
    pub(crate) produced: u64,
}

/// `Position::skip` of a sorted-order position after a whole document: every result of it was
/// returned (or skipped), so the next page need not read it again.
pub(crate) const WHOLE: u64 = u64::MAX;

/// What the caller should do after a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Push the next document.
    More,
    /// The page is full or the query's results are complete: stop reading.
    Stop,
}

/// The end of one page.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) items: Vec<Value>,
    /// The compact-JSON bytes of `items`.
    pub(crate) bytes: usize,
    /// Where the next page starts; `None` when this is the last page.
    pub(crate) next: Option<Position>,
}

/// One page of a streamed query.
pub(crate) struct Pager<'p> {
    p: &'p Prepared,
    alias: String,
    /// The document the page resumes in and how many of its results came before.
    resume: Option<(Vec<u8>, u64)>,
    /// Results of the query produced before the next one (across pages).
    produced: u64,
    /// Index in the result sequence past the last result OFFSET/LIMIT/TOP let through.
    end: u64,
    max_items: usize,
    max_bytes: usize,
    items: Vec<Value>,
    bytes: usize,
    /// Set when the page is full: where the next page starts, and whether that position is
    /// "after the whole document" (so a next page exists only if more documents follow).
    full: Option<(Position, bool)>,
    /// The results are complete (LIMIT/TOP reached): no next page.
    complete: bool,
    /// Aggregate queries: one accumulator per aggregate call of SELECT.
    accs: Vec<Accumulator<'p>>,
    /// Documents come in sort order (query/ordered.rs), not key order: a position after a whole
    /// document names that document with all its results skipped.
    sorted: bool,
}

impl Prepared {
    /// True if `Pager` can run this query: no ORDER BY, GROUP BY or DISTINCT (aggregates
    /// without GROUP BY stream; DISTINCT of their one row is that row), and a FROM clause.
    pub(crate) fn streams(&self) -> bool {
        let q = &self.query;
        q.from.is_some()
            && q.group_by.is_empty()
            && q.order_by.is_empty()
            && (self.aggregated || !q.select.distinct)
    }
}

impl<'p> Pager<'p> {
    /// A page of at most `max_items` results and about `max_bytes` of compact JSON (a page
    /// holds at least one result), starting at `from` (`None`: the first page). `Prepared::streams`
    /// must hold.
    pub(crate) fn new(
        p: &'p Prepared,
        from: Option<Position>,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Pager<'p>> {
        let alias = p
            .query
            .from
            .clone()
            .ok_or_else(|| Error::Internal("a query without FROM was streamed".into()))?;
        if p.aggregated && from.is_some() {
            return Err(Error::BadRequest(
                "the continuation token is not valid (an aggregate query without GROUP BY has one \
                 page); run the query again without it"
                    .into(),
            ));
        }
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let take = p
            .limit
            .map(count)
            .unwrap_or(u64::MAX)
            .min(p.top.map(count).unwrap_or(u64::MAX));
        let accs = if p.aggregated {
            accumulators(&p.query.select.kind)
        } else {
            Vec::new()
        };
        let (resume, produced) = match from {
            Some(Position { key, skip, produced }) => (Some((key, skip)), produced),
            None => (None, 0),
        };
        Ok(Pager {
            p,
            alias,
            resume,
            produced,
            end: count(p.offset).saturating_add(take),
            max_items,
            max_bytes,
            items: Vec::new(),
            bytes: 0,
            full: None,
            complete: false,
            accs,
            sorted: false,
        })
    }

    /// For documents fed in ORDER BY order, whose position keys (query/ordered.rs cursors) are
    /// distinct but not increasing, so that no "least key after" exists: a page that ends after
    /// a whole document resumes at that document with every result skipped (`skip` = `WHOLE`).
    pub(crate) fn in_sort_order(mut self) -> Pager<'p> {
        self.sorted = true;
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

    /// Feeds the document stored at `key` (keys strictly increasing across pushes, or distinct
    /// `in_sort_order`).
    pub(crate) fn push(&mut self, key: &[u8], doc: Value) -> Result<Flow> {
        let p = self.p;
        let env = self.env();
        let rows = p.expand(&env, &self.alias, doc)?;
        let pass = |row: &Row| {
            p.query
                .filter
                .as_ref()
                .is_none_or(|f| env.eval(f, row) == Some(Value::Bool(true)))
        };
        if p.aggregated {
            for row in rows.iter().filter(|r| pass(r)) {
                for (_, arg, acc) in &mut self.accs {
                    if let Some(arg) = arg {
                        acc.add(env.eval(arg, row));
                    }
                }
            }
            return Ok(Flow::More);
        }
        let skip = match &self.resume {
            Some((k, skip)) if k.as_slice() == key => *skip,
            _ => 0,
        };
        self.resume = None;
        let mut nth: u64 = 0; // results of this document so far
        for row in &rows {
            if !pass(row) {
                continue;
            }
            let Some(v) = p.project(&env, row) else {
                continue;
            };
            nth += 1;
            if nth <= skip {
                continue; // returned (or skipped by OFFSET) on an earlier page
            }
            let i = self.produced;
            if i >= self.end {
                self.complete = true;
                self.full = None;
                return Ok(Flow::Stop);
            }
            if self.full.is_some() {
                // One more result of the full page's document: the next page resumes inside it.
                if let Some((_, after)) = &mut self.full {
                    *after = false;
                }
                return Ok(Flow::Stop);
            }
            if i < u64::try_from(self.p.offset).unwrap_or(u64::MAX) {
                self.produced += 1;
                continue;
            }
            let size = v.to_string().len() + 1;
            if !self.items.is_empty() && self.bytes.saturating_add(size) > self.max_bytes {
                let at = Position {
                    key: key.to_vec(),
                    skip: nth - 1,
                    produced: i,
                };
                self.full = Some((at, false));
                return Ok(Flow::Stop);
            }
            self.bytes = self.bytes.saturating_add(size);
            self.items.push(v);
            self.produced += 1;
            if self.items.len() >= self.max_items {
                // The page is full; the rest of this document's rows decide whether the next
                // page resumes inside it or after it.
                let at = Position {
                    key: key.to_vec(),
                    skip: nth,
                    produced: self.produced,
                };
                self.full = Some((at, true));
            }
        }
        if self.produced >= self.end {
            self.complete = true;
            self.full = None;
            return Ok(Flow::Stop);
        }
        Ok(if self.full.is_some() {
            Flow::Stop
        } else {
            Flow::More
        })
    }

    /// True if the page ended after a whole document, so whether a next page exists depends on
    /// whether another document follows (the caller looks).
    pub(crate) fn needs_lookahead(&self) -> bool {
        matches!(self.full, Some((_, true)))
    }

    /// The page. `more_documents`: a document follows the last one pushed (only consulted when
    /// `needs_lookahead`).
    pub(crate) fn finish(self, more_documents: bool) -> Page {
        if self.p.aggregated {
            let finished = finish(self.accs);
            let env = Env {
                params: &self.p.params,
                now: self.p.now,
                aggs: Some(&finished),
                udfs: self.p.udfs.as_deref(),
            };
            // One row, which OFFSET, LIMIT and TOP may remove.
            let items: Vec<Value> = self
                .p
                .project(&env, &Row::new())
                .filter(|_| self.p.offset == 0 && self.end > 0)
                .into_iter()
                .collect();
            let bytes = items.iter().map(|v| v.to_string().len()).sum();
            return Page {
                items,
                bytes,
                next: None,
            };
        }
        let bytes = self.items.iter().map(|v| v.to_string().len()).sum();
        let next = match self.full {
            _ if self.complete => None,
            Some((at, true)) if self.sorted => more_documents.then_some(Position { skip: WHOLE, ..at }),
            Some((at, true)) => more_documents.then(|| Position {
                key: successor(&at.key),
                skip: 0,
                produced: at.produced,
            }),
            Some((at, false)) => Some(at),
            None => None,
        };
        Page {
            items: self.items,
            bytes,
            next,
        }
    }
}

impl Pager<'_> {
    /// True if the page may end here, before it is full, because it read its budget of
    /// documents: a key-order page of results (not an aggregate, which has one page) that is
    /// neither full nor complete.
    pub(crate) fn may_pause(&self) -> bool {
        !self.p.aggregated && !self.sorted && self.full.is_none() && !self.complete
    }

    /// The page, ended by its read budget after the document at `last`, every result of which
    /// is in: the next page resumes at the first key after it. `may_pause` must hold.
    pub(crate) fn pause_after(self, last: &[u8]) -> Page {
        let bytes = self.items.iter().map(|v| v.to_string().len()).sum();
        Page {
            items: self.items,
            bytes,
            next: Some(Position {
                key: successor(last),
                skip: 0,
                produced: self.produced,
            }),
        }
    }
}

/// The least key greater than `key`.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    k.push(0);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs `sql` page by page over `docs` (keyed by position) and returns the pages.
    fn paged(sql: &str, docs: &[Value], max_items: usize, max_bytes: usize) -> Vec<Vec<Value>> {
        let p = Prepared::new(sql, &[]).unwrap();
        assert!(p.streams(), "{sql}");
        let keyed: Vec<(Vec<u8>, Value)> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("k{i:03}").into_bytes(), d.clone()))
            .collect();
        let mut pages = Vec::new();
        let mut from = None;
        loop {
            let mut pager = Pager::new(&p, from.clone(), max_items, max_bytes).unwrap();
            let start = from
                .as_ref()
                .map(|f: &Position| f.key.clone())
                .unwrap_or_default();
            let mut rest = keyed.iter().filter(|(k, _)| *k >= start).peekable();
            for (k, d) in rest.by_ref() {
                if pager.push(k, d.clone()).unwrap() == Flow::Stop {
                    break;
                }
            }
            let more = pager.needs_lookahead() && rest.peek().is_some();
            let page = pager.finish(more);
            assert!(page.items.len() <= max_items);
            pages.push(page.items);
            match page.next {
                Some(n) => from = Some(n),
                None => return pages,
            }
            assert!(pages.len() < 500, "{sql}: paging does not end");
        }
    }

    #[test]
    fn pages_concatenate_to_the_whole_result() {
        let docs: Vec<Value> = (0..23)
            .map(|i| json!({"n": i, "tags": (0..(i % 4)).collect::<Vec<_>>(), "odd": i % 2 == 1}))
            .collect();
        for sql in [
            "SELECT * FROM c",
            "SELECT VALUE c.n FROM c WHERE c.odd",
            "SELECT c.n, t FROM c JOIN t IN c.tags",
            "SELECT VALUE t FROM c JOIN t IN c.tags WHERE t > 0",
            "SELECT TOP 5 VALUE c.n FROM c",
            "SELECT VALUE c.n FROM c OFFSET 3 LIMIT 9",
            "SELECT VALUE t FROM c JOIN t IN c.tags OFFSET 4 LIMIT 100",
            "SELECT TOP 0 * FROM c",
            "SELECT VALUE c.missing FROM c",
            "SELECT VALUE COUNT(1) FROM c",
            "SELECT SUM(c.n) AS s, MIN(c.n) AS lo, MAX(t) AS hi, AVG(c.n) AS a, 1 AS one FROM c JOIN t IN c.tags",
            "SELECT DISTINCT VALUE COUNT(1) FROM c WHERE c.n > 100",
        ] {
            let whole = Prepared::new(sql, &[]).unwrap().run(docs.clone()).unwrap();
            for size in [1, 2, 7, 1000] {
                let pages = paged(sql, &docs, size, usize::MAX);
                assert!(pages.iter().rev().skip(1).all(|p| p.len() == size), "{sql} {size}");
                let joined: Vec<Value> = pages.into_iter().flatten().collect();
                assert_eq!(joined, whole, "{sql} at {size} a page");
            }
            // A byte budget smaller than one result: one result a page.
            let joined: Vec<Value> = paged(sql, &docs, 1000, 1).into_iter().flatten().collect();
            assert_eq!(joined, whole, "{sql} with a tiny byte budget");
        }
    }

    #[test]
    fn an_exact_last_page_has_no_token_and_aggregates_refuse_one() {
        let docs: Vec<Value> = (0..10).map(|i| json!({"n": i})).collect();
        assert_eq!(paged("SELECT * FROM c", &docs, 5, usize::MAX).len(), 2);
        assert_eq!(paged("SELECT TOP 5 * FROM c", &docs, 5, usize::MAX).len(), 1);
        let p = Prepared::new("SELECT VALUE COUNT(1) FROM c", &[]).unwrap();
        let at = Position {
            key: b"k".to_vec(),
            skip: 0,
            produced: 0,
        };
        assert_eq!(
            Pager::new(&p, Some(at), 10, 10).err().map(|e| e.status()),
            Some(400)
        );
        for sql in [
            "SELECT * FROM c ORDER BY c.n",
            "SELECT DISTINCT c.n FROM c",
            "SELECT c.n, COUNT(1) AS k FROM c GROUP BY c.n",
            "SELECT VALUE 1",
        ] {
            assert!(!Prepared::new(sql, &[]).unwrap().streams(), "{sql}");
        }
    }
}
