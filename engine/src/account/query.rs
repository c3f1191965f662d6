//! `Container::query_items`: runs a query over the container (or one partition, when a
//! partition key is given or the WHERE clause pins it), through an index lookup or a key-order
//! scan, pages the results behind an opaque continuation token, and charges RUs (see
//! docs/query.md, docs/ru-model.md). Queries the streaming executor can run (query/stream.rs)
//! read documents one at a time and stop when the page is full, and their token is a position
//! in key order; the others compute the whole result on their first page (an ORDER BY without
//! TOP or LIMIT in sorted runs merged as it is read, sort_runs.rs), spill the rest to a sealed
//! file (spill_registry.rs) that later pages read, and their token names the spill and an
//! offset (the result is computed again from that offset once the spill is gone).
//! Owns the token format and the per-page charge; must not evaluate queries itself (that is
//! `query/`). Thread-safe: a page reads one consistent snapshot.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::container::{public_size, without_lsn, Container, Resolved};
use super::filter_scope::{empty_scope, FilterScope};
use super::index_order::{item_at, position_in_scope, InValueOrder, ValueOrder};
use super::index_stream::merges_in_key_order;
use super::query_overlay::{merged, Overlay};
use super::scan_parse::ScanFields;
use super::sort_runs::SortRuns;
use super::PartitionFilter;
use crate::document::{container_prefix, partition_prefix, PartitionKey};
use crate::error::{Error, Result};
use crate::metering::{index_read_charge, query_charge, query_load_charge, script_charge, summed_charge};
use crate::query::{Collector, Cursor, Flow, Page, Pager, Position, Prepared};
use strata_base::seal::hex;
use strata_lsm::CipherSuite;

/// Items per page when `max_item_count` is not given.
pub const DEFAULT_MAX_ITEM_COUNT: usize = 100;
/// Most bytes of results (compact JSON) in one page, as the managed service's 4 MB response
/// limit; a larger result is returned alone in its page.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Version of the continuation token's format.
const TOKEN_VERSION: u64 = 2;

/// Stored `(key, bytes)` pairs as a page reads them.
type Items<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a>;

/// Options of one query call (one page).
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// Query only this partition (the WHERE clause still applies).
    pub partition_key: Option<PartitionKey>,
    /// Most items in the page (default 100; must be at least 1).
    pub max_item_count: Option<usize>,
    /// The token a previous page returned, to get the next page.
    pub continuation: Option<String>,
    /// Read every item (of the partition) even when an index could answer: the reference the
    /// index is tested against, and a way around a suspect index. Results are the same.
    pub force_full_scan: bool,
    /// Keep only the items of the partitions this predicate accepts (within `partition_key`'s
    /// scope, or the container's): for scopes that are no key range, such as the gateway's
    /// effective-partition-key ranges. Every item of the scope is still read and charged.
    pub partition_filter: Option<PartitionFilter>,
}

/// One page of query results.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResponse {
    pub items: Vec<Value>,
    /// Request units charged for this page (see docs/ru-model.md).
    pub request_charge: f64,
    /// Present when more results follow: pass it back in `QueryOptions::continuation`.
    pub continuation: Option<String>,
    /// 200.
    pub status_code: u16,
}

impl Container {
    /// Runs `sql` with `params` (names with or without `@`) and returns one page of results.
    /// 400 for a malformed query (with the position), a missing parameter, or a continuation
    /// token that is damaged or belongs to another query.
    pub fn query_items(
        &self,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
    ) -> Result<QueryResponse> {
        self.retrying(|| self.query_page(sql, params, opts))
    }

    /// The plan `query_items` would follow, without running it (no charge): whether an index
    /// is used and which lookups, the scope (one partition or the container), how ORDER BY is
    /// served, and the index's state. 400 for the same reasons as `query_items`.
    ///
    /// ```text
    /// {"indexUsed": true, "strategy": "index", "lookups": ["/\"kind\" = \"fruit\""],
    ///  "scope": "container", "orderBy": null, "index": {"mode": "consistent", "generation": 0, "ready": true}}
    /// ```
    pub fn explain_query(&self, sql: &str, params: &[(String, Value)], opts: &QueryOptions) -> Result<Value> {
        let prepared = Prepared::new(sql, params)?.at(self.inner.opts.wall_clock.now_secs());
        let r = self.resolve()?;
        let mut r = r;
        r.scope_filter = opts.partition_filter.clone();
        let (scope, _) = self.query_scope(&r, &prepared, opts)?;
        let view = self.index_view(r.id)?;
        let plan = prepared.plan(&view.policy)?;
        let status = self.index_status()?;
        let (used, reason) = match &plan.lookups {
            None => (false, "no condition of the WHERE clause can use the index"),
            Some(_) if opts.force_full_scan => (false, "a full scan was asked for"),
            Some(_) if !status.ready => (false, "the index is being rebuilt after a policy change"),
            Some(_) => (true, "the WHERE clause requires an indexed condition"),
        };
        Ok(json!({
            "indexUsed": used,
            "strategy": if used { "index" } else { "fullScan" },
            "reason": reason,
            "lookups": plan.lookups.as_ref().map(|l| l.iter().map(|x| x.describe()).collect::<Vec<_>>()),
            "scope": match &scope {
                FilterScope::Partition(pk) => format!("partition {pk}"),
                FilterScope::Container => "container".to_string(),
                FilterScope::Empty => "none: no partition passes the filter".to_string(),
            },
            "orderBy": plan.order_by,
            // ORDER BY read in index order, a page at a time (query/ordered.rs), rather than
            // sorted in memory.
            "orderStreamed": plan.order_scan.is_some() && !opts.force_full_scan && status.ready,
            // A lookup read in index order (index_order.rs): a query without ORDER BY, or one
            // computed whole (GROUP BY, DISTINCT, ORDER BY sorted in memory).
            "indexOrder": used && plan.order_scan.is_none() && plan.lookups.as_deref().is_some_and(|l| {
                !merges_in_key_order(l) && ValueOrder::of(r.id, view.generation, l).is_some()
            }),
            "index": {
                "mode": status.mode,
                "generation": status.generation,
                "ready": status.ready,
                "itemsIndexed": status.items_indexed,
            },
        }))
    }

    /// What a query reads: the partition key it was given (or a prefix of its levels), the
    /// key or prefix its WHERE clause pins, the one prefix its partition filter keeps
    /// (filter_scope.rs), or the container. With the number of seeks the last took.
    fn query_scope(
        &self,
        r: &Resolved,
        prepared: &Prepared,
        opts: &QueryOptions,
    ) -> Result<(FilterScope, usize)> {
        let pk = match &opts.partition_key {
            Some(pk) => Some(r.pk.scope(pk)?),
            None => r.pk.pinned(|path| prepared.pinned_value(path)),
        };
        match pk {
            Some(pk) => Ok((FilterScope::Partition(pk), 0)),
            None => self.filter_scope(r),
        }
    }

    /// `query_items` over the partition as `overlay` leaves it: a stored procedure's query,
    /// which sees the execution's own writes (query_overlay.rs). Read as a full scan of the
    /// partition: the overlay's writes have no index entries yet.
    pub(crate) fn query_items_over(
        &self,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
        overlay: &Overlay,
    ) -> Result<QueryResponse> {
        let opts = QueryOptions {
            force_full_scan: true,
            ..opts.clone()
        };
        self.retrying(|| self.query_page_over(sql, params, &opts, Some(overlay)))
    }

    fn query_page(
        &self,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
    ) -> Result<QueryResponse> {
        self.query_page_over(sql, params, opts, None)
    }

    /// One attempt at one page. Its charge is known only after the scan, so the provisioned
    /// throughput admits it while its bucket is above zero (429 otherwise) and is debited after.
    fn query_page_over(
        &self,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
        overlay: Option<&Overlay>,
    ) -> Result<QueryResponse> {
        let prepared = Prepared::new(sql, params)?.at(self.inner.opts.wall_clock.now_secs());
        let Some(udfs) = self.page_udfs(&prepared)? else {
            return self.run_page(prepared, sql, params, opts, overlay);
        };
        // A UDF that failed fails the page: its results are not returned.
        let page = self.run_page(prepared.with_udfs(udfs.clone()), sql, params, opts, overlay);
        if let Some(e) = udfs.failure() {
            return Err(e);
        }
        let mut page = page?;
        // The functions' running time, charged as a procedure's (docs/scripts.md, "Charges").
        let cpu = script_charge(udfs.busy());
        if cpu > 0.0 {
            self.charge(&self.resolve()?, cpu)?;
            page.request_charge = summed_charge([page.request_charge, cpu]);
        }
        Ok(page)
    }

    /// One page of `prepared` (`sql` with `params`, for the continuation token), over the
    /// store or, given an overlay, over the store as the overlay leaves it (then `opts` asks
    /// for a full scan: every read below goes through `scan`).
    fn run_page(
        &self,
        prepared: Prepared,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
        overlay: Option<&Overlay>,
    ) -> Result<QueryResponse> {
        let page = match opts.max_item_count {
            Some(0) => return Err(Error::BadRequest("max item count must be at least 1".into())),
            Some(n) => n,
            None => DEFAULT_MAX_ITEM_COUNT,
        };
        let mut r = self.resolve()?;
        r.scope_filter = opts.partition_filter.clone();
        self.admit(&r)?;
        // The container's store, held for the page: its iterators borrow it.
        let store = self.inner.store_for(r.id)?;
        // `once`: the scan reads its whole scope in this call (an aggregate, a result computed
        // whole), so the blocks it reads are not kept in the block cache (`Db::iter_prefix_once`).
        let scan = |prefix: &[u8], start: &[u8], once: bool| -> Result<Items<'_>> {
            let stored = match once {
                true => store.iter_prefix_once(prefix, start)?,
                false => store.iter_prefix_from(prefix, start)?,
            }
            .map(|next| next.map_err(Into::into));
            Ok(match overlay {
                Some(o) => Box::new(merged(stored, o, prefix.to_vec(), start)),
                None => Box::new(stored),
            })
        };
        let now = self.inner.opts.wall_clock.now_secs();
        self.inner.spills.sweep(now)?;
        let fingerprint = fingerprint(
            sql,
            params,
            opts.partition_key.as_ref(),
            opts.partition_filter.as_ref(),
        );
        let token = opts
            .continuation
            .as_deref()
            .map(|t| decode_token(t, &fingerprint, &self.inner.suite, r.id))
            .transpose()?;
        // Seeking the prefix a partition filter keeps is charged as reading index entries.
        let (scope, seeks) = self.query_scope(&r, &prepared, opts)?;
        let prefix = match &scope {
            FilterScope::Partition(pk) => partition_prefix(r.id, pk)?,
            FilterScope::Container => container_prefix(r.id),
            FilterScope::Empty => empty_scope(r.id),
        };
        let view = self.index_view(r.id)?;
        let plan = prepared.plan(&view.policy)?;
        // Only the properties the query reads are parsed out of each stored item.
        let fields = ScanFields::new(&r, prepared.fields_read());
        let use_index = !opts.force_full_scan && self.index_status()?.ready;
        let lookups = plan.lookups.as_ref().filter(|_| use_index);
        if let Some(scan) = plan.order_scan.as_ref().filter(|_| use_index) {
            let from = match token {
                None => None,
                Some(Token::Sorted(p)) => match Cursor::decode(&p.key) {
                    Some(c) if c.key.starts_with(&prefix) => Some((c, p)),
                    Some(_) => return Err(bad_token("it does not belong to this query's scope")),
                    None => return Err(bad_token("no position")),
                },
                Some(_) => return Err(bad_token(PLAN_CHANGED)),
            };
            let resume = from.as_ref().map(|(c, p)| (c, p.skip));
            let position = from.as_ref().map(|(_, p)| p.clone());
            let mut pager = Pager::new(&prepared, position, page, MAX_PAGE_BYTES)?.in_sort_order();
            let walked =
                self.ordered_walk(&r, view.generation, &prepared, scan, &prefix, resume, &mut pager)?;
            let done = pager.finish(walked.more);
            return self.streamed_page(
                &r,
                done,
                walked.load,
                walked.entries + seeks,
                &fingerprint,
                Token::Sorted,
            );
        }
        if prepared.streams() {
            // Without ORDER BY the result order is not defined: a lookup that cannot be merged in
            // key order (range, prefix, IS_DEFINED, a long IN list), all on one path, is read in
            // index order and its position is an entry's (index_order.rs).
            let by_value = lookups
                .filter(|l| !merges_in_key_order(l))
                .and_then(|l| ValueOrder::of(r.id, view.generation, l));
            let from = match (token, by_value.is_some()) {
                (None, _) => None,
                (Some(Token::At(p)), false) if p.key.starts_with(&prefix) => Some(p),
                (Some(Token::InIndex(p)), true) if position_in_scope(r.id, &p.key, &prefix) => Some(p),
                (Some(Token::At(_)), false) | (Some(Token::InIndex(_)), true) => {
                    return Err(bad_token("it does not belong to this query's scope"))
                }
                (Some(_), _) => return Err(bad_token(PLAN_CHANGED)),
            };
            let kind = if by_value.is_some() {
                Token::InIndex
            } else {
                Token::At
            };
            let start = match (&from, &by_value) {
                (Some(p), None) => p.key.clone(),
                _ => prefix.clone(),
            };
            let position = from.as_ref().map(|p| p.key.clone());
            let mut pager = Pager::new(&prepared, from, page, MAX_PAGE_BYTES)?;
            // Each page pays for the documents it evaluates (a document read only to learn
            // that another follows is not charged: the next page evaluates and pays for it).
            let mut load = 0.0;
            let mut feed = |key: &[u8], bytes: &[u8], pager: &mut Pager<'_>| -> Result<Flow> {
                let doc = fields.parse(bytes)?;
                load += query_load_charge(public_size(bytes.len(), &doc));
                // Expired items (TTL), and those a partition filter drops, are skipped before
                // evaluation; reading them is still charged.
                if !self.in_query_scope(&r, &doc)? {
                    return Ok(Flow::More);
                }
                pager.push(key, without_lsn(doc))
            };
            let mut entries_read = seeks;
            let mut load_passed = 0.0;
            let streamed = match lookups {
                Some(lookups) if by_value.is_none() => {
                    self.stream_candidates(&store, r.id, view.generation, lookups, &prefix, &start)?
                }
                _ => None,
            };
            // A page ends when it is full, or (in key or index order, not for an aggregate) once
            // it has read its budget of documents, so a filter that matches little answers in pages of bounded work, each
            // with a token to go on from, as the managed service does.
            let budget = page_read_budget(page);
            // A page that may end short of full needs at most `budget` candidate keys of a whole
            // index read (range, prefix, many values): it holds those, not every match.
            let candidate_limit = if pager.may_pause() { budget } else { usize::MAX };
            // A page that cannot end early (an aggregate) reads the whole scope once.
            let once = !pager.may_pause();
            let mut read = 0usize;
            let mut run = |docs: &mut dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>| -> Result<End> {
                while let Some(next) = docs.next() {
                    let (key, bytes) = next?;
                    read += 1;
                    match feed(&key, &bytes, &mut pager)? {
                        Flow::More if read >= budget && pager.may_pause() => return Ok(End::Paused(key)),
                        Flow::More => {}
                        Flow::Stop => {
                            let more = pager.needs_lookahead() && docs.next().transpose()?.is_some();
                            return Ok(End::Done(more));
                        }
                    }
                }
                Ok(End::Exhausted)
            };
            // The stored item of a proposed key; an entry whose item is gone (removed by
            // compaction after its TTL) proposes nothing.
            let stored = |key: Result<Vec<u8>>| -> Option<Result<(Vec<u8>, Vec<u8>)>> {
                let key = match key {
                    Ok(key) => key,
                    Err(e) => return Some(Err(e)),
                };
                store
                    .get(&key)
                    .map_err(Into::into)
                    .transpose()
                    .map(|b| b.map(|b| (key, b)))
            };
            let end = match (lookups, streamed, by_value) {
                // In index order: a page (or a TOP) reads the entries up to its last item, and
                // pauses after its read budget of entries as of documents.
                (_, _, Some(order)) => {
                    let limit = candidate_limit.saturating_mul(10);
                    let mut items =
                        InValueOrder::new(&store, r.id, &view, order, &prefix, position.as_deref(), limit)?;
                    let end = run(&mut items)?;
                    entries_read += items.entries_read;
                    load_passed = items.load;
                    match (end, items.cut) {
                        (End::Exhausted, Some(last)) => End::Paused(last),
                        (End::Done(more), cut) => End::Done(more || cut.is_some()),
                        (end, _) => end,
                    }
                }
                // Equality lookups: the index is read as the page pulls, so a page (or a TOP)
                // reads and pays for the entries before its last item, not every match.
                (_, Some(mut keys), None) => {
                    let end = run(&mut (&mut keys).filter_map(stored))?;
                    entries_read += keys.entries_read;
                    end
                }
                (Some(lookups), None, None) => {
                    let found = self.index_candidates(
                        r.id,
                        view.generation,
                        lookups,
                        (&prefix, &start),
                        candidate_limit,
                    )?;
                    entries_read += found.entries_read;
                    let last = found.keys.last().cloned();
                    match (run(&mut found.keys.into_iter().map(Ok).filter_map(stored))?, last) {
                        // The limit cut candidates off: the page ends after the last one held
                        // (the pager may pause: the limit is only set when it may).
                        (End::Exhausted, Some(last)) if found.more => End::Paused(last),
                        (End::Done(more), _) => End::Done(more || found.more),
                        (end, _) => end,
                    }
                }
                (None, None, None) => run(&mut scan(&prefix, &start, once)?)?,
            };
            let done = match end {
                End::Done(more) => pager.finish(more),
                End::Exhausted => pager.finish(false),
                End::Paused(last) => pager.pause_after(&last),
            };
            let load = load + load_passed;
            return self.streamed_page(&r, done, load, entries_read, &fingerprint, kind);
        }
        let offset = match token {
            None => 0,
            Some(Token::Offset(o)) => o,
            // A spilled result is read from its file; once the spill is gone the query is
            // computed again and cut at the same offset, as before spills, and not spilled
            // again (query_spill.rs, spill_registry.rs).
            Some(Token::Spill(id, at)) => match self.spilled_page(&r, &fingerprint, (id, at), page, now)? {
                Some(served) => return Ok(served),
                None => at,
            },
            Some(_) => return Err(bad_token(PLAN_CHANGED)),
        };
        let mut load = 0.0;
        // The whole result, built as documents are read: memory holds the groups, the distinct
        // results or the sorted ones (query/collect.rs), never the documents; an ORDER BY
        // without TOP or LIMIT holds a budget of them and writes the rest in sorted runs that
        // are merged at the end (sort_runs.rs, query/sort_merge.rs).
        // Sealed under the container's keys: its own, if it has one.
        let suite = self.inner.suite_for(r.id)?;
        let runs = SortRuns::new(&self.inner.spills, &suite);
        let mut collector =
            Collector::new(&prepared)?.with_runs(Box::new(runs), self.inner.spills.sort_memory_bytes());
        let mut keep = |key: &[u8], bytes: &[u8]| -> Result<Flow> {
            let doc = fields.parse(bytes)?;
            load += query_load_charge(public_size(bytes.len(), &doc));
            // Expired items (TTL), and those a partition filter drops, are skipped before
            // evaluation; reading them is still charged.
            if !self.in_query_scope(&r, &doc)? {
                return Ok(Flow::More);
            }
            collector.push(key, without_lsn(doc))
        };
        let mut entries_read = seeks;
        let mut load_passed = 0.0;
        // A lookup is pulled as the collector reads, never held whole: in index order for a
        // range, prefix or `IS_DEFINED` lookup (an ORDER BY sorted in memory breaks its ties by
        // item key, so the order read does not show), in key order for equalities.
        let by_value = lookups
            .filter(|l| !merges_in_key_order(l))
            .and_then(|l| ValueOrder::of(r.id, view.generation, l));
        let by_key = match lookups {
            Some(l) if by_value.is_none() => {
                self.stream_candidates(&store, r.id, view.generation, l, &prefix, &prefix)?
            }
            _ => None,
        };
        match (lookups, by_value, by_key) {
            (_, Some(order), _) => {
                let mut items = InValueOrder::new(&store, r.id, &view, order, &prefix, None, usize::MAX)?;
                for next in &mut items {
                    let (position, bytes) = next?;
                    let key = item_at(r.id, &position)
                        .ok_or_else(|| Error::Internal("an index entry is damaged".into()))?;
                    if keep(&key, &bytes)? == Flow::Stop {
                        break;
                    }
                }
                entries_read += items.entries_read;
                load_passed = items.load;
            }
            (_, None, Some(mut keys)) => {
                for key in &mut keys {
                    // An entry whose item is gone (removed by compaction after its TTL) proposes
                    // nothing.
                    let key = key?;
                    if let Some(bytes) = store.get(&key)? {
                        if keep(&key, &bytes)? == Flow::Stop {
                            break;
                        }
                    }
                }
                entries_read += keys.entries_read;
            }
            (Some(lookups), None, None) => {
                let found =
                    self.index_candidates(r.id, view.generation, lookups, (&prefix, &prefix), usize::MAX)?;
                entries_read += found.entries_read;
                for key in found.keys {
                    if let Some(bytes) = store.get(&key)? {
                        if keep(&key, &bytes)? == Flow::Stop {
                            break;
                        }
                    }
                }
            }
            (None, None, None) => {
                for next in scan(&prefix, &prefix, true)? {
                    let (key, bytes) = next?;
                    if keep(&key, &bytes)? == Flow::Stop {
                        break;
                    }
                }
            }
        }
        load += load_passed + index_read_charge(entries_read);
        let mut results = collector.finish_stream()?;
        for skipped in 0..offset {
            if results.next().transpose()?.is_none() {
                return Err(Error::BadRequest(format!(
                    "the continuation token points past the end of the results ({skipped} items); \
                     the data changed since it was issued: run the query again from the start"
                )));
            }
        }
        let (items, after) = fill_page(&mut results, page)?;
        let end = offset + items.len();
        // On the first page, the rest of the result goes to a sealed spill that the next pages
        // read, so they neither compute it again nor see writes made since. A spill that cannot
        // be written (a full disk, or past the byte cap) leaves the query on its offset, as
        // before spills; the rest is then only counted.
        let mut rest = after.map(Ok).into_iter().chain(results);
        let mut failed = None;
        let mut counted = 0usize;
        let spill = match offset == 0 {
            true => {
                let mut source = std::iter::from_fn(|| match rest.next()? {
                    Ok(v) => {
                        counted += 1;
                        Some(v)
                    }
                    Err(e) => {
                        failed = Some(e);
                        None
                    }
                })
                .peekable();
                let owner = (r.id, fingerprint.as_str());
                match source.peek() {
                    Some(_) => self
                        .inner
                        .spills
                        .create(&*self.inner.suite_for(r.id)?, owner, &mut source, end as u64, now)
                        .unwrap_or(None),
                    None => None,
                }
            }
            false => None,
        };
        if let Some(e) = failed {
            // The merge failed (a damaged run, a withheld key): the spill written so far holds
            // only part of the rest, and goes.
            if let Some(id) = spill {
                self.inner.spills.forget(id)?;
            }
            return Err(e);
        }
        if spill.is_none() {
            for next in rest {
                next?;
                counted += 1;
            }
        }
        let total = end + counted;
        let next = match spill {
            Some(id) => Token::Spill(id, end),
            None => Token::Offset(end),
        };
        let continuation = (end < total).then(|| encode_token(&next, &fingerprint, &self.inner.suite, r.id));
        // The scan's load charge is shared among the pages in proportion to the items each
        // returns (all of it on the first page when there are no results, or when the rest is
        // spilled: later pages then read only the spill).
        let share = if total == 0 || spill.is_some() {
            load
        } else {
            load * items.len() as f64 / total as f64
        };
        let result_bytes: usize = items.iter().map(|v| v.to_string().len()).sum();
        let charge = query_charge(share, result_bytes, self.inner.container_cmk(r.id));
        self.debit(&r, charge)?;
        Ok(QueryResponse {
            items,
            request_charge: charge,
            continuation,
            status_code: 200,
        })
    }
}

impl Container {
    /// The response of a streamed page (in key order or in sort order): charged for what it
    /// read and returned, with its position sealed into the token as `kind`.
    fn streamed_page(
        &self,
        r: &Resolved,
        done: Page,
        load: f64,
        entries_read: usize,
        fingerprint: &str,
        kind: fn(Position) -> Token,
    ) -> Result<QueryResponse> {
        let load = load + index_read_charge(entries_read);
        let charge = query_charge(load, done.bytes, self.inner.container_cmk(r.id));
        self.debit(r, charge)?;
        Ok(QueryResponse {
            items: done.items,
            request_charge: charge,
            continuation: done
                .next
                .map(|p| encode_token(&kind(p), fingerprint, &self.inner.suite, r.id)),
            status_code: 200,
        })
    }
}

impl Container {
    /// The page of a spilled result at `at`, charged for what it read and returned (the
    /// spill's results, like index entries, and their bytes; no document); `None` when the
    /// spill is gone.
    fn spilled_page(
        &self,
        r: &Resolved,
        fingerprint: &str,
        (id, at): (u64, usize),
        max_items: usize,
        now: u64,
    ) -> Result<Option<QueryResponse>> {
        let owner = (r.id, fingerprint);
        let limits = (max_items, MAX_PAGE_BYTES);
        let Some(page) =
            self.inner
                .spills
                .page(&*self.inner.suite_for(r.id)?, owner, (id, at as u64), limits, now)?
        else {
            return Ok(None);
        };
        let charge = query_charge(
            index_read_charge(page.items.len()),
            page.bytes,
            self.inner.container_cmk(r.id),
        );
        self.debit(r, charge)?;
        let next = page.next.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        Ok(Some(QueryResponse {
            items: page.items,
            request_charge: charge,
            continuation: next
                .map(|n| encode_token(&Token::Spill(id, n), fingerprint, &self.inner.suite, r.id)),
            status_code: 200,
        }))
    }
}

/// Most documents a key-order page reads before it ends short of full: ten times the page,
/// and at least 10,000 (about 0.2 s of reading on this machine's class of hardware).
fn page_read_budget(max_items: usize) -> usize {
    max_items.saturating_mul(10).max(10_000)
}

/// How a key-order page ended: `Done(more)` full or complete (`more`: a document follows, for
/// `Pager::finish`), `Exhausted` at the end of the candidates, or `Paused` by its read budget
/// after this key.
enum End {
    Done(bool),
    Exhausted,
    Paused(Vec<u8>),
}

/// Why a token of one kind is refused by a query executed another way (the query's plan
/// changed since the token was issued, e.g. its index became ready or was being rebuilt).
const PLAN_CHANGED: &str = "it was issued for another way of running this query (the index \
                            changed since); run the query again from the start";

/// The next page of `results`: at most `max_items` results, ending before the result that would
/// take the page's JSON past `MAX_PAGE_BYTES` (a page holds at least one result); and the
/// result read after the page, if any.
fn fill_page(
    results: &mut dyn Iterator<Item = Result<Value>>,
    max_items: usize,
) -> Result<(Vec<Value>, Option<Value>)> {
    let mut page = Vec::new();
    let mut bytes = 0usize;
    for next in results {
        let value = next?;
        let len = value.to_string().len() + 1;
        if page.len() == max_items || (bytes.saturating_add(len) > MAX_PAGE_BYTES && !page.is_empty()) {
            return Ok((page, Some(value)));
        }
        bytes = bytes.saturating_add(len);
        page.push(value);
    }
    Ok((page, None))
}

/// Identifies the query a token belongs to: SHA-256 of the text, parameters and partition key,
/// first 8 bytes in hex.
fn fingerprint(
    sql: &str,
    params: &[(String, Value)],
    pk: Option<&PartitionKey>,
    filter: Option<&PartitionFilter>,
) -> String {
    let mut h = Sha256::new();
    h.update(sql.as_bytes());
    for (name, value) in params {
        h.update([0]);
        h.update(name.trim_start_matches('@').as_bytes());
        h.update([0]);
        h.update(value.to_string().as_bytes());
    }
    h.update([1]);
    if let Some(pk) = pk {
        // A key that does not encode (not finite) is refused when the scan is set up.
        h.update(pk.encode().unwrap_or_default());
    }
    if let Some(f) = filter {
        h.update([2]);
        h.update(f.label().as_bytes());
    }
    let digest = h.finalize();
    hex::encode(digest.get(..8).unwrap_or_default())
}

/// Where the next page starts: a result offset (queries computed whole per page), a position
/// in key order (streamed queries), a position in sort order (ORDER BY from the index; the
/// position's key is a `query::Cursor`), or a position in index order (streamed queries whose
/// lookup is read in index order; the key is an entry's `value | pk_len | pk | id`).
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Offset(usize),
    /// A spilled result (its random id) and the offset of the next page in the whole result.
    Spill(u64, usize),
    At(Position),
    Sorted(Position),
    InIndex(Position),
}

/// `hex( seal_metadata("query-continuation/<container id>", body) )`: the compact JSON body
/// `{"v":2,"h":"<fingerprint>","o":<offset>}`, `{"v":2,"h":..,"p":<spill id>,"o":<offset>}` or
/// `{"v":2,"h":..,"k":"<hex key>","s":<skip>,"c":<produced>}`
/// (`"r"` instead of `"k"` for a position in sort order, `"x"` for one in index order),
/// sealed under the account's service layer (a fresh salt, AES-256-GCM; `CipherSuite::seal_metadata`).
/// The token is opaque (the item key inside is encrypted) and authenticated: a token altered,
/// forged, or issued for another container or account is refused with 400.
fn encode_token(token: &Token, fingerprint: &str, suite: &CipherSuite, container: u32) -> String {
    let (field, p) = match token {
        Token::Offset(o) => {
            return seal_token(
                json!({"v": TOKEN_VERSION, "h": fingerprint, "o": o}),
                suite,
                container,
            )
        }
        Token::Spill(id, o) => {
            return seal_token(
                json!({"v": TOKEN_VERSION, "h": fingerprint, "p": id, "o": o}),
                suite,
                container,
            )
        }
        Token::At(p) => ("k", p),
        Token::Sorted(p) => ("r", p),
        Token::InIndex(p) => ("x", p),
    };
    let mut body = json!({"v": TOKEN_VERSION, "h": fingerprint, "s": p.skip, "c": p.produced});
    body[field] = json!(hex::encode(&p.key));
    seal_token(body, suite, container)
}

fn seal_token(body: Value, suite: &CipherSuite, container: u32) -> String {
    hex::encode(&suite.seal_metadata(&token_label(container), body.to_string().as_bytes()))
}

fn token_label(container: u32) -> String {
    format!("query-continuation/{container}")
}

fn bad_token(why: &str) -> Error {
    Error::BadRequest(format!(
        "the continuation token is not valid ({why}); pass the token exactly as a previous page \
         of the same query returned it"
    ))
}

fn decode_token(token: &str, fingerprint: &str, suite: &CipherSuite, container: u32) -> Result<Token> {
    let sealed = hex::decode(token).ok_or_else(|| bad_token("not hex"))?;
    let body = suite
        .open_metadata(&token_label(container), &sealed)
        .ok_or_else(|| bad_token("damaged, or issued for another container or account"))?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| bad_token("not a token"))?;
    if v.get("v").and_then(Value::as_u64) != Some(TOKEN_VERSION) {
        return Err(bad_token("unknown version"));
    }
    if v.get("h").and_then(Value::as_str) != Some(fingerprint) {
        return Err(bad_token(
            "it was issued for a different query, parameters or partition key",
        ));
    }
    let number = |name: &str| v.get(name).and_then(Value::as_u64);
    if let Some(offset) = number("o") {
        let offset = usize::try_from(offset).map_err(|_| bad_token("offset out of range"))?;
        return match v.get("p") {
            None => Ok(Token::Offset(offset)),
            Some(id) => id
                .as_u64()
                .map(|id| Token::Spill(id, offset))
                .ok_or_else(|| bad_token("no spill id")),
        };
    }
    let hex_field = |name: &str| v.get(name).and_then(Value::as_str).and_then(hex::decode);
    let (kind, key): (fn(Position) -> Token, _) = match (hex_field("k"), hex_field("r"), hex_field("x")) {
        (Some(key), None, None) => (Token::At, key),
        (None, Some(key), None) => (Token::Sorted, key),
        (None, None, Some(key)) => (Token::InIndex, key),
        _ => return Err(bad_token("no position")),
    };
    match (number("s"), number("c")) {
        (Some(skip), Some(produced)) => Ok(kind(Position { key, skip, produced })),
        _ => Err(bad_token("no position")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The length of the page of `all` from `offset` at `max` results.
    fn page_end(all: &[Value], offset: usize, max: usize) -> usize {
        let mut rest = all.iter().skip(offset).cloned().map(Ok);
        let (page, after) = fill_page(&mut rest, max).unwrap();
        assert_eq!(
            after.as_ref(),
            all.get(offset + page.len()),
            "the result after the page"
        );
        offset + page.len()
    }

    #[test]
    fn pages_stop_before_the_byte_limit() {
        let big = json!("x".repeat(MAX_PAGE_BYTES / 3));
        let all = vec![big.clone(), big.clone(), big.clone(), big.clone(), json!(1)];
        assert_eq!(page_end(&all, 0, 100), 2, "a third result would pass 4 MiB");
        assert_eq!(page_end(&all, 2, 100), 5);
        assert_eq!(page_end(&all, 1, 100), 3);
        assert_eq!(page_end(&all, 0, 1), 1);
        let huge = vec![json!("y".repeat(MAX_PAGE_BYTES + 10)), json!(2)];
        assert_eq!(
            page_end(&huge, 0, 100),
            1,
            "one oversized result still makes a page"
        );
        assert_eq!(page_end(&[json!(1), json!(2)], 0, 100), 2);
        assert_eq!(page_end(&[json!(1)], 1, 100), 1);
        let failing = vec![Ok(json!(1)), Err(Error::Internal("a run is gone".into()))];
        assert!(
            fill_page(&mut failing.into_iter(), 5).is_err(),
            "an error is not a short page"
        );
    }

    #[test]
    fn tokens_round_trip_and_bind_to_the_query() {
        let suite = CipherSuite::ephemeral(false);
        let enc = |t: &Token, f: &str| encode_token(t, f, &suite, 7);
        let dec = |t: &str, f: &str| decode_token(t, f, &suite, 7);
        let f = fingerprint("SELECT * FROM c", &[], None, None);
        let t = enc(&Token::Offset(42), &f);
        assert_eq!(dec(&t, &f).unwrap(), Token::Offset(42));
        let spill = Token::Spill(u64::MAX - 3, 7);
        assert_eq!(dec(&enc(&spill, &f), &f).unwrap(), spill);
        let at = Token::At(Position {
            key: vec![1, 0, 0, 0, 7, 0xff],
            skip: 3,
            produced: 12,
        });
        let t2 = enc(&at, &f);
        assert_eq!(dec(&t2, &f).unwrap(), at);
        let sorted = Token::Sorted(Position {
            key: vec![1, 0, 0, 0, 1, 7, b'4'],
            skip: 0,
            produced: 3,
        });
        assert_eq!(dec(&enc(&sorted, &f), &f).unwrap(), sorted);
        let in_index = Token::InIndex(Position {
            key: vec![4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'p', b'i'],
            skip: 1,
            produced: 9,
        });
        assert_eq!(dec(&enc(&in_index, &f), &f).unwrap(), in_index);
        // The item key is not readable in the token.
        assert!(!t2.contains(&hex::encode(&[1u8, 0, 0, 0, 7, 0xff])));
        // Any one damaged character is caught by the AEAD tag (or the hex decoding).
        for i in 0..t2.len() {
            let mut b = t2.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let damaged = String::from_utf8(b).unwrap();
            assert_eq!(dec(&damaged, &f).unwrap_err().status(), 400, "at {i}");
        }
        // Version 1 (an offset in bare hex JSON) is no longer accepted.
        let v1 = hex::encode(json!({"v": 1, "o": 1, "h": f}).to_string().as_bytes());
        assert_eq!(dec(&v1, &f).unwrap_err().status(), 400);
        // A token of another container, or of another account, is refused.
        assert_eq!(decode_token(&t, &f, &suite, 8).unwrap_err().status(), 400);
        let other_account = CipherSuite::ephemeral(false);
        assert_eq!(decode_token(&t, &f, &other_account, 7).unwrap_err().status(), 400);
        let other = fingerprint("SELECT * FROM c", &[("@a".into(), json!(1))], None, None);
        assert_ne!(f, other);
        assert_ne!(f, fingerprint("SELECT * FROM c", &[], Some(&"x".into()), None));
        let filter = PartitionFilter::new("epk:A-B", |_| true);
        assert_ne!(f, fingerprint("SELECT * FROM c", &[], None, Some(&filter)));
        for bad in [dec(&t, &other), dec("zz", &f), dec("7b7d", &f)] {
            assert_eq!(bad.unwrap_err().status(), 400);
        }
    }
}
