//! The query-plan request (`x-ms-cosmos-is-query-plan-request: True`, a POST of the query to a
//! collection's `docs`) answered with the `PartitionedQueryExecutionInfo` the SDKs parse. The
//! engine runs every query whole over the collection's one partition-key range, so the plan asks
//! the SDK for no client-side work: one range, the query as written (docs/gateway.md, "Query
//! plans"). Checks the query with the engine (its 400s stay); must not run it or charge for it.

use serde_json::{json, Value};
use strata_engine::{Account, QueryOptions};

use super::query_body::query_spec;
use super::{engine, Request};
use crate::wire::Reply;

/// `partitionedQueryExecutionInfoVersion`: the version of the plan's shape the service sends.
const PLAN_VERSION: u64 = 2;

/// The plan of every query the engine accepts: no ORDER BY merge, no aggregation, no DISTINCT,
/// no TOP or OFFSET/LIMIT and no rewritten query for the client to apply (the engine's results
/// are already final), over the single range `["", "FF")` that the partition-key-range feed
/// serves (resources::partition_key_ranges).
pub(crate) fn pass_through_plan() -> Value {
    json!({
        "partitionedQueryExecutionInfoVersion": PLAN_VERSION,
        "queryInfo": {
            "distinctType": "None",
            "top": null,
            "offset": null,
            "limit": null,
            "orderBy": [],
            "orderByExpressions": [],
            "groupByExpressions": [],
            "groupByAliases": [],
            "aggregates": [],
            "groupByAliasToAggregateType": {},
            "rewrittenQuery": "",
            "hasSelectValue": false,
            "dCountInfo": null,
            "hasNonStreamingOrderBy": false,
        },
        "queryRanges": [
            {"min": "", "max": "FF", "isMinInclusive": true, "isMaxInclusive": false}
        ],
    })
}

/// Answers a plan request: 404 for an unknown collection, the engine's 400 for a query it would
/// refuse (syntax, a missing parameter), otherwise the pass-through plan.
pub fn plan(account: &Account, db: &str, coll: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let (sql, params) = query_spec(req)?;
    let container = account.database(db).container(coll);
    engine(container.explain_query(&sql, &params, &QueryOptions::default()))?;
    Ok(Reply::json(200, &pass_through_plan()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::header;
    use crate::route::Route;
    use hyper::header::HeaderValue;
    use hyper::{HeaderMap, Method};
    use strata_engine::{AccountOptions, Encryption};

    /// A plan request as the JavaScript SDK sends it (`content_type` set) or with the plan
    /// header alone, through the gateway's dispatch.
    fn plan_for(account: &Account, coll: &str, body: &Value, content_type: Option<&'static str>) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(header::QUERY_PLAN, HeaderValue::from_static("True"));
        if let Some(t) = content_type {
            headers.insert("content-type", HeaderValue::from_static(t));
        }
        let body = serde_json::to_vec(body).unwrap();
        let req = Request {
            method: &Method::POST,
            route: Route::Documents {
                db: "db".into(),
                coll: coll.into(),
            },
            headers: &headers,
            body: &body,
            endpoint: String::new(),
        };
        crate::handlers::dispatch(account, &req)
    }

    fn message(reply: &Reply) -> String {
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        v["message"].as_str().unwrap().to_string()
    }

    #[test]
    fn the_plan_has_every_field_the_sdks_read_and_asks_for_no_client_work() {
        let p = pass_through_plan();
        let q = &p["queryInfo"];
        // The JS SDK's pipeline adds a stage for each of these when set.
        assert_eq!(q["distinctType"], "None");
        for absent in ["top", "offset", "limit", "dCountInfo"] {
            assert!(q[absent].is_null(), "{absent}: {q}");
        }
        for list in [
            "orderBy",
            "orderByExpressions",
            "groupByExpressions",
            "groupByAliases",
            "aggregates",
        ] {
            assert_eq!(q[list], json!([]), "{list}");
        }
        assert_eq!(q["groupByAliasToAggregateType"], json!({}));
        assert_eq!(q["hasNonStreamingOrderBy"], false);
        assert_eq!(q["hasSelectValue"], false);
        // Empty: the SDK sends the query as the caller wrote it.
        assert_eq!(q["rewrittenQuery"], "");
        assert_eq!(
            p["queryRanges"],
            json!([{"min": "", "max": "FF", "isMinInclusive": true, "isMaxInclusive": false}])
        );
    }

    #[test]
    fn the_plan_covers_exactly_the_one_served_partition_key_range() {
        let ranges = crate::resources::partition_key_ranges("db", "c");
        let served = &ranges["PartitionKeyRanges"];
        assert_eq!(served.as_array().unwrap().len(), 1, "{ranges}");
        let plan = pass_through_plan();
        assert_eq!(plan["queryRanges"][0]["min"], served[0]["minInclusive"]);
        assert_eq!(plan["queryRanges"][0]["max"], served[0]["maxExclusive"]);
    }

    #[test]
    fn plan_requests_are_checked_by_the_engine_and_cost_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
        let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
        account.create_database("db").unwrap();
        account.database("db").create_container("c", "/pk").unwrap();

        let query = json!({"query": "SELECT c.pk, COUNT(1) AS n FROM c WHERE c.x > @min GROUP BY c.pk",
                           "parameters": [{"name": "@min", "value": 3}]});
        let ok = plan_for(&account, "c", &query, Some("application/query+json"));
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        assert_eq!(ok.charge, 0.0);
        let body: Value = serde_json::from_slice(&ok.body).unwrap();
        assert_eq!(body, pass_through_plan());

        // The plan header alone still makes the body a query, never an item to create.
        let with_id = json!({"id": "x", "pk": "p", "query": "SELECT * FROM c"});
        let alone = plan_for(&account, "c", &with_id, None);
        assert_eq!(alone.status, 200, "{}", String::from_utf8_lossy(&alone.body));
        let c = account.database("db").container("c");
        let all = c
            .query_items("SELECT * FROM c", &[], &QueryOptions::default())
            .unwrap();
        assert!(all.items.is_empty(), "{:?}", all.items);

        let qj = Some("application/query+json");
        let bad = plan_for(&account, "c", &json!({"query": "SELECT FROM c ORDER"}), qj);
        assert_eq!(bad.status, 400, "{}", message(&bad));
        let missing = plan_for(
            &account,
            "c",
            &json!({"query": "SELECT * FROM c WHERE c.x = @nope"}),
            qj,
        );
        assert_eq!(missing.status, 400);
        assert!(message(&missing).contains("@nope"), "{}", message(&missing));
        let no_query = plan_for(&account, "c", &json!({"parameters": []}), qj);
        assert_eq!(no_query.status, 400);
        let unknown = plan_for(&account, "nowhere", &json!({"query": "SELECT * FROM c"}), qj);
        assert_eq!(unknown.status, 404);
    }
}
