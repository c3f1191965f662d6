//! The JSON shapes of the account, database, collection, offer and partition-key-range resources, as
//! the SDKs read them (`id`, `_rid`, `_self`, `_etag`, the feed links, `partitionKey`,
//! `indexingPolicy`), and the links of stored procedures, triggers and UDFs. Resource ids (`_rid`) are derived from names (they are stable across
//! restarts and say nothing the name does not). No engine calls and no I/O here.

use base64::Engine as _;
use ring::digest;
use serde_json::{json, Value};
use strata_engine::IndexingPolicy;

/// The single partition-key range every collection has.
pub const RANGE_ID: &str = "0";

fn name_hash(parts: &[&str]) -> [u8; 4] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p.as_bytes());
        ctx.update(&[0]);
    }
    let d = ctx.finish();
    [d.as_ref()[0], d.as_ref()[1], d.as_ref()[2], d.as_ref()[3]]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A database's `_rid` (4 bytes, base64, as the service's).
pub fn database_rid(db: &str) -> String {
    b64(&name_hash(&[db]))
}

/// A collection's `_rid` (its database's 4 bytes, then 4 of its own).
pub fn collection_rid(db: &str, coll: &str) -> String {
    let mut bytes = name_hash(&[db]).to_vec();
    bytes.extend_from_slice(&name_hash(&[db, coll]));
    b64(&bytes)
}

fn etag_of(rid: &str) -> String {
    format!("\"{rid}\"")
}

/// GET `/`: the account with its one region at `endpoint` and strong consistency.
pub fn account(name: &str, endpoint: &str) -> Value {
    let location = json!([{"name": "local", "databaseAccountEndpoint": endpoint}]);
    json!({
        "id": name,
        "_rid": format!("{name}.local"),
        "_self": "",
        "_dbs": "//dbs/",
        "media": "//media/",
        "addresses": "//addresses/",
        "writableLocations": location,
        "readableLocations": location,
        "enableMultipleWriteLocations": false,
        "userReplicationPolicy": {"asyncReplication": false, "minReplicaSetSize": 1, "maxReplicasetSize": 1},
        "userConsistencyPolicy": {"defaultConsistencyLevel": "Strong"},
        "systemReplicationPolicy": {"minReplicaSetSize": 1, "maxReplicasetSize": 1},
        "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
        "queryEngineConfiguration": "{}"
    })
}

pub fn database(db: &str) -> Value {
    let rid = database_rid(db);
    json!({
        "id": db,
        "_rid": rid,
        "_self": format!("dbs/{rid}/"),
        "_etag": etag_of(&rid),
        "_colls": "colls/",
        "_users": "users/",
    })
}

/// What a collection resource says of a container.
pub struct CollectionInfo<'a> {
    pub db: &'a str,
    pub coll: &'a str,
    /// One path (`Hash`), or two or three (`MultiHash`).
    pub partition_key_paths: &'a [String],
    pub indexing_policy: &'a IndexingPolicy,
    pub default_ttl: Option<i64>,
}

pub fn collection(c: &CollectionInfo<'_>) -> Value {
    let rid = collection_rid(c.db, c.coll);
    let mut v = json!({
        "id": c.coll,
        "_rid": rid,
        "_self": format!("dbs/{}/colls/{rid}/", database_rid(c.db)),
        "_etag": etag_of(&rid),
        "_docs": "docs/",
        "_sprocs": "sprocs/",
        "_triggers": "triggers/",
        "_udfs": "udfs/",
        "_conflicts": "conflicts/",
        "partitionKey": {
            "paths": c.partition_key_paths,
            "kind": if c.partition_key_paths.len() > 1 { "MultiHash" } else { "Hash" },
            "version": 2,
        },
        "indexingPolicy": c.indexing_policy,
        "geospatialConfig": {"type": "Geography"},
    });
    if let Some(ttl) = c.default_ttl {
        v["defaultTtl"] = json!(ttl);
    }
    v
}

/// A server-side script as the engine gives it (`id`, `body`, `_etag`, `_ts`, a trigger's type
/// and operation), with the `_rid` and `_self` the SDKs expect. `feed` is its path segment
/// (`sprocs`, `triggers`, `udfs`); the `_rid` is the collection's 8 bytes and 4 of its own.
pub fn script(db: &str, coll: &str, feed: &str, mut engine_view: Value) -> Value {
    let id = engine_view
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let coll_rid = collection_rid(db, coll);
    let mut bytes = name_hash(&[db]).to_vec();
    bytes.extend_from_slice(&name_hash(&[db, coll]));
    bytes.extend_from_slice(&name_hash(&[db, coll, feed, &id]));
    let rid = b64(&bytes);
    engine_view["_self"] = json!(format!("dbs/{}/colls/{coll_rid}/{feed}/{rid}/", database_rid(db)));
    engine_view["_rid"] = json!(rid);
    engine_view
}

/// The `id` (and `_rid`) of the offer of a database (`coll: None`) or of a collection: 16
/// lowercase hex digits, stable across restarts. Lowercase because an offer is addressed by
/// resource id, whose link the SDKs sign in lower case.
pub fn offer_id(db: &str, coll: Option<&str>) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in ["offers", db].into_iter().chain(coll) {
        ctx.update(p.as_bytes());
        ctx.update(&[0]);
    }
    strata_base::seal::hex::encode(ctx.finish().as_ref().get(..8).unwrap_or_default())
}

/// The offer of a database or collection that has its own provisioned RU/s, as the SDKs read
/// it (`content.offerThroughput`, `resource` the owner's `_self`, `offerResourceId` its `_rid`).
/// The etag names the throughput, so it moves when the throughput does.
pub fn offer(db: &str, coll: Option<&str>, throughput: u32) -> Value {
    let id = offer_id(db, coll);
    let (resource, rid) = match coll {
        Some(c) => {
            let rid = collection_rid(db, c);
            (format!("dbs/{}/colls/{rid}/", database_rid(db)), rid)
        }
        None => {
            let rid = database_rid(db);
            (format!("dbs/{rid}/"), rid)
        }
    };
    json!({
        "id": id,
        "_rid": id,
        "_self": format!("offers/{id}/"),
        "_etag": format!("\"{id}-{throughput}\""),
        "offerVersion": "V2",
        "offerType": "Invalid",
        "content": {"offerThroughput": throughput, "offerIsRUPerMinuteThroughputEnabled": false},
        "resource": resource,
        "offerResourceId": rid,
    })
}

/// The feed of a collection's partition-key ranges: one range over the whole hash space.
pub fn partition_key_ranges(db: &str, coll: &str) -> Value {
    let coll_rid = collection_rid(db, coll);
    json!({
        "_rid": coll_rid,
        "PartitionKeyRanges": [{
            "id": RANGE_ID,
            "_rid": format!("{coll_rid}AgAAAAAAAA=="),
            "_self": format!("dbs/{}/colls/{coll_rid}/pkranges/{RANGE_ID}/", database_rid(db)),
            "_etag": etag_of(&coll_rid),
            "minInclusive": "",
            "maxExclusive": "FF",
            "ridPrefix": 0,
            "throughputFraction": 1.0,
            "status": "online",
            "parents": [],
        }],
        "_count": 1
    })
}

/// The etag of the partition-key-range feed (it never changes: there is never a split).
pub fn partition_key_ranges_etag(db: &str, coll: &str) -> String {
    etag_of(&collection_rid(db, coll))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rids_are_stable_and_nest() {
        assert_eq!(database_rid("shop"), database_rid("shop"));
        assert_ne!(database_rid("shop"), database_rid("shop2"));
        let coll = base64::engine::general_purpose::STANDARD
            .decode(collection_rid("shop", "orders"))
            .unwrap();
        let db = base64::engine::general_purpose::STANDARD
            .decode(database_rid("shop"))
            .unwrap();
        assert_eq!(coll.len(), 8);
        assert_eq!(&coll[..4], &db[..]);
        assert_ne!(collection_rid("shop", "orders"), collection_rid("shop", "users"));
    }

    #[test]
    fn scripts_keep_the_engines_fields_and_get_links() {
        let v = script(
            "shop",
            "orders",
            "sprocs",
            json!({"id": "inc", "body": "function () {}", "_etag": "\"e\"", "_ts": 7}),
        );
        assert_eq!((v["id"].clone(), v["_ts"].clone()), (json!("inc"), json!(7)));
        let rid = v["_rid"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(rid).unwrap();
        assert_eq!(bytes.len(), 12);
        assert!(rid.starts_with(&collection_rid("shop", "orders")[..8]));
        assert!(v["_self"].as_str().unwrap().contains("/sprocs/"));
        let other = script("shop", "orders", "triggers", json!({"id": "inc"}));
        assert_ne!(other["_rid"], v["_rid"]);
    }

    #[test]
    fn offers_name_their_owner_and_throughput() {
        let coll = offer("shop", Some("orders"), 400);
        let db = offer("shop", None, 1000);
        assert_ne!(coll["id"], db["id"]);
        assert_eq!(coll["id"].as_str().unwrap().len(), 16);
        assert!(coll["id"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(
            coll["resource"],
            collection(&CollectionInfo {
                db: "shop",
                coll: "orders",
                partition_key_paths: &["/pk".to_string()],
                indexing_policy: &IndexingPolicy::default(),
                default_ttl: None,
            })["_self"]
        );
        assert_eq!(coll["offerResourceId"], json!(collection_rid("shop", "orders")));
        assert_eq!(db["resource"], database("shop")["_self"]);
        assert_eq!(coll["content"]["offerThroughput"], json!(400));
        assert_ne!(offer("shop", Some("orders"), 500)["_etag"], coll["_etag"]);
        assert_eq!(offer_id("shop", Some("orders")), offer_id("shop", Some("orders")));
    }

    #[test]
    fn collection_carries_its_partition_key_and_policy() {
        let policy = IndexingPolicy::default();
        let v = collection(&CollectionInfo {
            db: "shop",
            coll: "orders",
            partition_key_paths: &["/tenant".to_string()],
            indexing_policy: &policy,
            default_ttl: Some(-1),
        });
        assert_eq!(v["partitionKey"]["paths"], json!(["/tenant"]));
        assert_eq!(v["partitionKey"]["kind"], json!("Hash"));
        let paths = ["/tenant".to_string(), "/user".to_string()];
        let h = collection(&CollectionInfo {
            db: "shop",
            coll: "sessions",
            partition_key_paths: &paths,
            indexing_policy: &policy,
            default_ttl: None,
        });
        assert_eq!(
            h["partitionKey"],
            json!({"paths": ["/tenant", "/user"], "kind": "MultiHash", "version": 2})
        );
        assert_eq!(v["defaultTtl"], json!(-1));
        assert_eq!(v["indexingPolicy"]["indexingMode"], json!("consistent"));
    }
}
