//! The `query-paging`, `query-order-paging`, `query-range-paging` and `query-group-paging`
//! workloads: page through `SELECT * FROM c` (or, for the second, `SELECT * FROM c ORDER BY c.n`,
//! descending then ascending: read in index order; for the third, `SELECT * FROM c WHERE c.n >=
//! 0`, a range lookup every item matches, read in index order; for the fourth, a GROUP BY with one
//! group per item: computed whole on page 1, later pages read from its spill) with 1,000 items a page, from the first page, and time page 1 and page 50 (or the last
//! page, when there are fewer than 50), each into its own sample, so the report shows whether a
//! later page costs more than the first.
//! The pages in between are read untimed (and outside the CPU and crypto meters): they only carry
//! the continuation token forward. Interleaved in rounds like the other workloads. It must not
//! print.

use indicatif::ProgressBar;
use strata_engine::{Container, QueryOptions, QueryResponse};

use super::sample::Sample;
use super::side::{present, Side, Sides};
use super::{round_range, Plan};
use crate::error::{CliError, CliResult};

/// The paged query of `query-paging`: streamed in key order, so its token is a position.
pub(super) const QUERY: &str = "SELECT * FROM c";
/// The paged queries of `query-order-paging` and their row prefixes: ORDER BY on an indexed
/// path, read in index order (its token is a position in sort order). Every bench item has `n`;
/// ascending, page 1 also scans for items without it (undefined sorts first, docs/query.md).
pub(super) const ORDER_QUERIES: [(&str, &str); 2] = [
    ("query-order-desc", "SELECT * FROM c ORDER BY c.n DESC"),
    ("query-order-asc", "SELECT * FROM c ORDER BY c.n"),
];
/// The paged query of `query-range-paging`: a range lookup on an indexed path that every bench
/// item matches, without ORDER BY, so it is read in index order (its token is an entry's
/// position, docs/query.md "Index order").
pub(super) const RANGE_QUERY: &str = "SELECT * FROM c WHERE c.n >= 0";

/// The paged query of `query-group-paging`: one group per item (every bench item has its own
/// `n`), so the result is as long as the container; page 1 computes it and spills the rest.
pub(super) const GROUP_QUERY: &str = "SELECT c.n, COUNT(1) AS cnt FROM c GROUP BY c.n";
/// Items a page.
pub(super) const PAGE: usize = 1000;
/// The later page timed (the last one when the container has fewer pages).
pub(super) const LATE_PAGE: usize = 50;

/// What a run measured: the number of the later page actually timed (50, or the last page when
/// there are fewer), and per mode (SMK, CMK) the samples of page 1 and of that page (empty for a
/// store the run left out).
pub(super) struct Paging {
    pub late_page: usize,
    pub first: [Sample; 2],
    pub late: [Sample; 2],
}

/// The report row of the later page: `<prefix>-page50`, or `<prefix>-pageN` when page N was the
/// last; `<prefix>-page1-last` when there is a single page (so that the two rows differ).
pub(super) fn late_row(prefix: &str, page: usize) -> String {
    if page <= 1 {
        format!("{prefix}-page1-last")
    } else {
        format!("{prefix}-page{page}")
    }
}

/// Runs `plan.queries` walks per store present (one op = page 1 timed, the pages up to the later one read
/// untimed, the later page timed).
pub(super) fn run(plan: &Plan, sides: &Sides, bar: &ProgressBar, sql: &str) -> CliResult<Paging> {
    let mut out = Paging {
        late_page: 0,
        first: [Sample::default(), Sample::default()],
        late: [Sample::default(), Sample::default()],
    };
    for round in 0..plan.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let Some(side) = present(sides, i) else {
                continue;
            };
            for _ in round_range(plan.queries, plan.rounds, round) {
                let late = walk(&side.items, side, sql, &mut out.first[i], &mut out.late[i])?;
                if out.late_page != 0 && out.late_page != late {
                    return Err(CliError::internal(format!(
                        "bench paging reached page {late}, an earlier walk page {}",
                        out.late_page
                    )));
                }
                out.late_page = late;
                bar.inc(1);
            }
        }
    }
    Ok(out)
}

/// One walk: page 1 timed into `first`, then pages until page `LATE_PAGE` or the last page, which
/// is timed into `late`. Returns the number of the page timed into `late` (1 when there is one
/// page: it is then read and timed a second time). Every page after the first is timed into a scratch sample,
/// kept only if it turns out to be the later page, so the last page is not read twice.
fn walk(c: &Container, side: &Side, sql: &str, first: &mut Sample, late: &mut Sample) -> CliResult<usize> {
    let page = timed(c, side, sql, first, None)?;
    check(&page, 1)?;
    let mut token = page.continuation;
    let mut n = 1;
    while let Some(next) = token {
        n += 1;
        let mut scratch = Sample::default();
        let page = timed(c, side, sql, &mut scratch, Some(next))?;
        check(&page, n)?;
        token = page.continuation;
        if n == LATE_PAGE || token.is_none() {
            late.merge(scratch);
            return Ok(n);
        }
    }
    // One page only: it is the last page too; read it again for the later sample.
    timed(c, side, sql, late, None)?;
    Ok(1)
}

/// Runs one page timed into `s`, with its CPU and crypto time and its request charge.
fn timed(
    c: &Container,
    side: &Side,
    sql: &str,
    s: &mut Sample,
    token: Option<String>,
) -> CliResult<QueryResponse> {
    let page = s.with_cpu_and_crypto(&side.account, |s| s.time(|| query(c, sql, token)))?;
    s.charge += page.request_charge;
    Ok(page)
}

fn query(
    c: &Container,
    sql: &str,
    continuation: Option<String>,
) -> Result<QueryResponse, strata_engine::Error> {
    let opts = QueryOptions {
        max_item_count: Some(PAGE),
        continuation,
        ..QueryOptions::default()
    };
    c.query_items(sql, &[], &opts)
}

/// A page that is not the last must be full: anything else means the walk went wrong.
fn check(page: &QueryResponse, n: usize) -> CliResult<()> {
    if page.continuation.is_some() && page.items.len() != PAGE {
        return Err(CliError::internal(format!(
            "bench paging: page {n} returned {} items, not {PAGE}",
            page.items.len()
        )));
    }
    Ok(())
}
