//! Queries (POST `application/query+json` with parameters), the read feed (GET of a
//! collection's `docs`), both paged by `x-ms-max-item-count` and `x-ms-continuation`, and the
//! partition-key-range feed. Every query runs whole in the engine (one range holds every
//! partition); a query-plan request goes to `query_plan` (docs/gateway.md). A query the SDK
//! scopes to an effective-partition-key range (a prefix of a hierarchical key) keeps the items
//! whose key hashes into that range (`epk.rs`).

use serde_json::{json, Value};
use strata_engine::{Account, Container, PartitionFilter, PartitionKey, PartitionKeyKind, QueryOptions};

use super::query_body::query_spec;
use super::{engine, header, Request};
use crate::epk::{multi_hash_epk, EPK_LEVEL_DIGITS};
use crate::resources;
use crate::wire::Reply;

/// Page size and continuation from the headers; `-1` (the SDKs' "server decides") and absent
/// mean the engine's default page.
fn paging(req: &Request<'_>) -> Result<QueryOptions, Reply> {
    let max_item_count = match req.header(header::MAX_ITEM_COUNT)? {
        None | Some("-1") => None,
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            Reply::error(
                400,
                format!(
                    "header {} must be -1 or a positive whole number, not {v:?}",
                    header::MAX_ITEM_COUNT
                ),
            )
        })?),
    };
    Ok(QueryOptions {
        partition_key: req.partition_key()?,
        max_item_count,
        continuation: req.header(header::CONTINUATION)?.map(str::to_string),
        force_full_scan: false,
        partition_filter: None,
    })
}

fn run(
    account: &Account,
    db: &str,
    coll: &str,
    sql: &str,
    params: &[(String, Value)],
    req: &Request<'_>,
) -> Result<Reply, Reply> {
    let mut opts = paging(req)?;
    let c = account.database(db).container(coll);
    opts.partition_filter = epk_scope(req, &c)?;
    let page = engine(c.query_items(sql, params, &opts))?;
    let count = page.items.len();
    let body = json!({
        "_rid": resources::collection_rid(db, coll),
        "Documents": page.items,
        "_count": count,
    });
    let mut reply = Reply::json(200, &body)
        .with_charge(page.request_charge)
        .with_header("x-ms-item-count", count.to_string());
    if let Some(token) = page.continuation {
        reply = reply.with_header("x-ms-continuation", token);
    }
    Ok(reply)
}

/// The effective-partition-key range of `x-ms-start-epk`/`x-ms-end-epk`, as a filter on the
/// items' keys: how the SDKs scope a query to a prefix of a hierarchical key (they send the
/// range `[epk(prefix), epk(prefix) + "FF")`, not the key). The whole range (`""` to `"FF"`)
/// is no filter. A narrower range over a single-path key is refused (400): its hash (the SDKs'
/// Hash v2 over the whole key) is not computed here.
fn epk_scope(req: &Request<'_>, c: &Container) -> Result<Option<PartitionFilter>, Reply> {
    let start = req.header(header::START_EPK)?.unwrap_or("").to_ascii_uppercase();
    let end = req.header(header::END_EPK)?.unwrap_or("FF").to_ascii_uppercase();
    if start.is_empty() && end == "FF" {
        return Ok(None);
    }
    if engine(c.partition_key_definition())?.kind() != PartitionKeyKind::MultiHash {
        return Err(Reply::error(
            400,
            format!(
                "a query scoped to an effective-partition-key range ({} {start:?} to {} {end:?}) is \
                 served for hierarchical (MultiHash) keys only; give the partition key instead",
                header::START_EPK,
                header::END_EPK
            ),
        ));
    }
    let label = format!("epk:{start}-{end}");
    // The range of a prefix of k levels, `[epk(prefix), epk(prefix) + "FF")`, holds exactly the
    // keys whose first k levels hash to epk(prefix) (a level's hash never starts with "FF": its
    // top two bits are clear), so it depends on those levels alone and the engine can read the
    // prefix's key range instead of the container.
    let depth = (end.strip_prefix(start.as_str()) == Some("FF")
        && !start.is_empty()
        && start.len().is_multiple_of(EPK_LEVEL_DIGITS))
    .then_some(start.len() / EPK_LEVEL_DIGITS);
    let keep = move |pk: &PartitionKey| {
        let epk = multi_hash_epk(pk.levels());
        start <= epk && epk < end
    };
    Ok(Some(match depth {
        Some(depth) => PartitionFilter::of_leading_levels(label, depth, keep),
        None => PartitionFilter::new(label, keep),
    }))
}

pub fn query(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    if req.flag(header::QUERY_PLAN)? {
        return super::query_plan::plan(account, db, coll, req);
    }
    let (sql, params) = query_spec(req)?;
    run(account, db, coll, &sql, &params, req)
}

/// GET of a collection's documents: every item, paged; with `A-IM`, the change feed.
pub fn read_feed(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    if req.header(header::A_IM)?.is_some() {
        return super::feed::read(account, db, coll, req);
    }
    run(account, db, coll, "SELECT * FROM c", &[], req)
}

pub fn partition_key_ranges(
    account: &Account,
    db: &str,
    coll: &str,
    req: &Request<'_>,
) -> Result<Reply, Reply> {
    // 404 for a collection that does not exist.
    engine(account.database(db).container(coll).partition_key_path())?;
    let etag = resources::partition_key_ranges_etag(db, coll);
    if req.header("if-none-match")? == Some(etag.as_str()) {
        return Ok(Reply::empty(304).with_header("etag", etag));
    }
    Ok(Reply::json(200, &resources::partition_key_ranges(db, coll))
        .with_header("etag", etag)
        .with_header("x-ms-item-count", "1"))
}
