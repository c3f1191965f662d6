//! The change feed as the SDKs read it: GET of a collection's `docs` with `A-IM: Incremental
//! feed` (latest version) or `Full-Fidelity Feed` (all versions and deletes), where to start in
//! `If-None-Match` (a previous page's etag, or `*` for now) or `If-Modified-Since`, the page size
//! in `x-ms-max-item-count`. Answers 200 with `Documents` and the continuation as `etag`, or 304
//! with the same etag when nothing changed. A feed range narrower than the collection's one
//! partition-key range (`x-ms-read-key-type: EffectivePartitionKeyRange`) is refused (400).

use serde_json::json;
use strata_engine::{Account, ChangeFeedMode, ChangeFeedOptions, ChangeFeedStart, DEFAULT_FEED_PAGE};

use super::{engine, header, Request};
use crate::resources;
use crate::wire::Reply;

fn mode(req: &Request<'_>) -> Result<ChangeFeedMode, Reply> {
    match req.header(header::A_IM)? {
        Some(v) if v.eq_ignore_ascii_case("Incremental feed") => Ok(ChangeFeedMode::LatestVersion),
        Some(v) if v.eq_ignore_ascii_case("Full-Fidelity Feed") => Ok(ChangeFeedMode::AllVersionsAndDeletes),
        other => Err(Reply::error(
            400,
            format!("A-IM {other:?} is not a change feed mode: use \"Incremental feed\" or \"Full-Fidelity Feed\""),
        )),
    }
}

fn start(req: &Request<'_>) -> Result<ChangeFeedStart, Reply> {
    if let Some(etag) = req.header("if-none-match")? {
        return Ok(if etag == "*" {
            ChangeFeedStart::Now
        } else {
            ChangeFeedStart::Continuation(etag.to_string())
        });
    }
    if let Some(since) = req.header("if-modified-since")? {
        let at = httpdate::parse_http_date(since)
            .map_err(|_| Reply::error(400, format!("If-Modified-Since {since:?} is not an HTTP date")))?;
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        return Ok(ChangeFeedStart::Time(secs));
    }
    Ok(ChangeFeedStart::Beginning)
}

pub fn read(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    if req
        .header("x-ms-read-key-type")?
        .is_some_and(|t| t.eq_ignore_ascii_case("EffectivePartitionKeyRange"))
    {
        return Err(Reply::error(
            400,
            "change feeds of a feed range narrower than the collection (e.g. one partition key through \
             its hash range) are not served yet: read the whole collection's feed",
        ));
    }
    let max_item_count = match req.header(header::MAX_ITEM_COUNT)? {
        None | Some("-1") => DEFAULT_FEED_PAGE,
        Some(v) => v.parse().map_err(|_| {
            Reply::error(
                400,
                format!(
                    "header {} must be -1 or a positive whole number, not {v:?}",
                    header::MAX_ITEM_COUNT
                ),
            )
        })?,
    };
    let opts = ChangeFeedOptions {
        mode: mode(req)?,
        start: start(req)?,
        partition_key: req.partition_key()?,
        max_item_count,
    };
    let page = engine(account.database(db).container(coll).read_change_feed(&opts))?;
    if page.status_code == 304 {
        return Ok(Reply::empty(304)
            .with_charge(page.request_charge)
            .with_header("etag", page.continuation));
    }
    let count = page.items.len();
    let body = json!({
        "_rid": resources::collection_rid(db, coll),
        "Documents": page.items,
        "_count": count,
    });
    Ok(Reply::json(200, &body)
        .with_charge(page.request_charge)
        .with_header("etag", page.continuation)
        .with_header("x-ms-item-count", count.to_string()))
}
