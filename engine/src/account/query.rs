//! `Container::query_items`: runs a query by scanning the container (or one partition, when a
//! partition key is given or the WHERE clause pins it), pages the results behind an opaque
//! continuation token, and charges RUs (see docs/query.md, docs/ru-model.md). Thread-safe: a
//! query reads one consistent snapshot per page.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::container::{parse_stored, public_size, without_lsn, Container};
use crate::document::{container_prefix, partition_prefix, PartitionKey};
use crate::error::{Error, Result};
use crate::metering::{index_read_charge, query_charge, query_load_charge};
use crate::query::Prepared;
use strata_base::seal::hex;

/// Items per page when `max_item_count` is not given.
pub const DEFAULT_MAX_ITEM_COUNT: usize = 100;
/// Most bytes of results (compact JSON) in one page, as the managed service's 4 MB response
/// limit; a larger result is returned alone in its page.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Version of the continuation token's format.
const TOKEN_VERSION: u64 = 1;

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
        let prepared = Prepared::new(sql, params)?;
        let r = self.resolve()?;
        let pk = match &opts.partition_key {
            Some(pk) => Some(pk.clone()),
            None => prepared
                .pinned_value(&r.pk_path)
                .and_then(|v| PartitionKey::from_json(&v).ok()),
        };
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
            "scope": match &pk {
                Some(pk) => format!("partition {pk}"),
                None => "container".to_string(),
            },
            "orderBy": plan.order_by,
            "index": {
                "mode": status.mode,
                "generation": status.generation,
                "ready": status.ready,
                "itemsIndexed": status.items_indexed,
            },
        }))
    }

    /// One attempt at one page. Its charge is known only after the scan, so the provisioned
    /// throughput admits it while its bucket is above zero (429 otherwise) and is debited after.
    fn query_page(
        &self,
        sql: &str,
        params: &[(String, Value)],
        opts: &QueryOptions,
    ) -> Result<QueryResponse> {
        let prepared = Prepared::new(sql, params)?;
        let page = match opts.max_item_count {
            Some(0) => return Err(Error::BadRequest("max item count must be at least 1".into())),
            Some(n) => n,
            None => DEFAULT_MAX_ITEM_COUNT,
        };
        let r = self.resolve()?;
        self.admit(&r)?;
        let fingerprint = fingerprint(sql, params, opts.partition_key.as_ref());
        let offset = match &opts.continuation {
            Some(token) => decode_token(token, &fingerprint)?,
            None => 0,
        };
        let pk = match &opts.partition_key {
            Some(pk) => Some(pk.clone()),
            None => prepared
                .pinned_value(&r.pk_path)
                .and_then(|v| PartitionKey::from_json(&v).ok()),
        };
        let prefix = match &pk {
            Some(pk) => partition_prefix(r.id, pk)?,
            None => container_prefix(r.id),
        };
        let view = self.index_view(r.id)?;
        let plan = prepared.plan(&view.policy)?;
        let lookups = match &plan.lookups {
            Some(l) if !opts.force_full_scan && self.index_status()?.ready => Some(l),
            _ => None,
        };
        let mut load = 0.0;
        let mut docs = Vec::new();
        let mut keep = |bytes: &[u8]| -> Result<()> {
            let doc = parse_stored(bytes)?;
            load += query_load_charge(public_size(bytes.len(), &doc));
            // Expired items (TTL) are skipped before evaluation; reading them is still charged.
            if self.is_live(&r, &doc) {
                docs.push(without_lsn(doc));
            }
            Ok(())
        };
        let mut entries_read = 0;
        match lookups {
            Some(lookups) => {
                let (keys, read) = self.index_candidates(r.id, view.generation, lookups, &prefix)?;
                entries_read = read;
                for key in keys {
                    // An entry whose item is gone (removed by compaction after its TTL) proposes
                    // nothing.
                    if let Some(bytes) = self.inner.db.get(&key)? {
                        keep(&bytes)?;
                    }
                }
            }
            None => {
                for (_, bytes) in self.inner.db.scan_prefix(&prefix)? {
                    keep(&bytes)?;
                }
            }
        }
        load += index_read_charge(entries_read);
        let all = prepared.run(docs)?;
        if offset > all.len() {
            return Err(Error::BadRequest(format!(
                "the continuation token points past the end of the results ({} items); the data \
                 changed since it was issued: run the query again from the start",
                all.len()
            )));
        }
        let end = page_end(&all, offset, page);
        let items: Vec<Value> = all.get(offset..end).map(<[Value]>::to_vec).unwrap_or_default();
        let continuation = (end < all.len()).then(|| encode_token(end, &fingerprint));
        // The scan's load charge is shared among the pages in proportion to the items each
        // returns (all of it on the first page when there are no results).
        let share = if all.is_empty() {
            load
        } else {
            load * items.len() as f64 / all.len() as f64
        };
        let result_bytes: usize = items.iter().map(|v| v.to_string().len()).sum();
        let charge = query_charge(share, result_bytes, self.inner.is_cmk());
        self.debit(&r, charge)?;
        Ok(QueryResponse {
            items,
            request_charge: charge,
            continuation,
            status_code: 200,
        })
    }
}

/// Where the page that starts at `offset` ends: after `max_items` results, or before the result
/// that would take the page's JSON past `MAX_PAGE_BYTES` (a page holds at least one result).
fn page_end(all: &[Value], offset: usize, max_items: usize) -> usize {
    let last = offset.saturating_add(max_items).min(all.len());
    let mut bytes = 0usize;
    for (i, v) in all.iter().enumerate().take(last).skip(offset) {
        bytes = bytes.saturating_add(v.to_string().len() + 1);
        if bytes > MAX_PAGE_BYTES && i > offset {
            return i;
        }
    }
    last
}

/// Identifies the query a token belongs to: SHA-256 of the text, parameters and partition key,
/// first 8 bytes in hex.
fn fingerprint(sql: &str, params: &[(String, Value)], pk: Option<&PartitionKey>) -> String {
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
        h.update(pk.encode());
    }
    let digest = h.finalize();
    hex::encode(digest.get(..8).unwrap_or_default())
}

/// `hex( {"v":1,"o":<offset>,"h":"<fingerprint>"} )`.
fn encode_token(offset: usize, fingerprint: &str) -> String {
    hex::encode(
        json!({"v": TOKEN_VERSION, "o": offset, "h": fingerprint})
            .to_string()
            .as_bytes(),
    )
}

fn decode_token(token: &str, fingerprint: &str) -> Result<usize> {
    let bad = |why: &str| {
        Error::BadRequest(format!(
            "the continuation token is not valid ({why}); pass the token exactly as a previous page \
             of the same query returned it"
        ))
    };
    let bytes = hex::decode(token).ok_or_else(|| bad("not hex"))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad("not a token"))?;
    if v.get("v").and_then(Value::as_u64) != Some(TOKEN_VERSION) {
        return Err(bad("unknown version"));
    }
    if v.get("h").and_then(Value::as_str) != Some(fingerprint) {
        return Err(bad(
            "it was issued for a different query, parameters or partition key",
        ));
    }
    let offset = v
        .get("o")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no offset"))?;
    usize::try_from(offset).map_err(|_| bad("offset out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn tokens_round_trip_and_bind_to_the_query() {
        let f = fingerprint("SELECT * FROM c", &[], None);
        let t = encode_token(42, &f);
        assert_eq!(decode_token(&t, &f).unwrap(), 42);
        let other = fingerprint("SELECT * FROM c", &[("@a".into(), json!(1))], None);
        assert_ne!(f, other);
        assert_ne!(f, fingerprint("SELECT * FROM c", &[], Some(&"x".into())));
        for bad in [
            decode_token(&t, &other),
            decode_token("zz", &f),
            decode_token("7b7d", &f),
        ] {
            assert_eq!(bad.unwrap_err().status(), 400);
        }
    }
}
