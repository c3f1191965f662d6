//! Conformance of the query dialect: 400+ hand-checked queries over a fixed data set of eight
//! items, run through `Container::query_items` (full scan), covering every clause and function,
//! undefined vs null, same-type comparisons and the cross-type ORDER BY order. Results of queries
//! without ORDER BY are compared as multisets (scan order is not part of the contract).

use serde_json::{json, Value};
use strata::{Account, AccountOptions, Container, Encryption, QueryOptions};

fn data() -> Vec<Value> {
    vec![
        json!({"id": "a1", "kind": "fruit", "name": "apple", "price": 1.5, "qty": 10,
               "tags": ["red", "sweet"], "origin": {"country": "NZ", "city": "Nelson"}, "ratings": [4, 5]}),
        json!({"id": "a2", "kind": "fruit", "name": "Banana", "price": 0.25, "qty": 100,
               "tags": ["yellow", "sweet"], "origin": {"country": "EC"}, "ratings": [3]}),
        json!({"id": "a3", "kind": "fruit", "name": "cherry", "price": 3, "qty": 0, "tags": [],
               "origin": null, "organic": true}),
        json!({"id": "n1", "kind": 7, "name": "numeric kind", "price": 4, "qty": 1}),
        json!({"id": "v1", "kind": "veg", "name": "carrot", "price": 0.5, "qty": 40, "tags": ["orange"],
               "origin": {"country": "NZ", "city": "Ohakune"}, "organic": false}),
        json!({"id": "v2", "kind": "veg", "name": "daikon", "price": 2, "qty": 5,
               "tags": ["white", "long"], "ratings": []}),
        json!({"id": "x1", "kind": "misc", "name": null, "price": "free", "qty": -3, "tags": "none",
               "note": "odd one"}),
        json!({"id": "x2", "name": "unknown-kind", "price": 10, "qty": 7.5,
               "nested": {"a": {"b": [1, 2, {"c": "deep"}]}}}),
    ]
}

fn doc(id: &str) -> Value {
    data()
        .into_iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no test item {id}"))
}

fn setup() -> (tempfile::TempDir, Container) {
    setup_with(|opts| opts)
}

/// `setup` with account options changed by `change`.
fn setup_with(change: impl FnOnce(AccountOptions) -> AccountOptions) -> (tempfile::TempDir, Container) {
    let dir = tempfile::tempdir().unwrap();
    let opts = change(AccountOptions::new(
        dir.path().join("data"),
        dir.path().join("home"),
    ));
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    // Every path indexed, with the composite indexes the multi-key ORDER BY cases need.
    let c = crate::common::container_with_policy(
        &account,
        "items",
        "/kind",
        r#"{"includedPaths": [{"path": "/*"}], "compositeIndexes": [
            [{"path": "/kind"}, {"path": "/id"}],
            [{"path": "/organic"}, {"path": "/id"}],
            [{"path": "/origin/country"}, {"path": "/id"}],
            [{"path": "/origin"}, {"path": "/id"}]]}"#,
    );
    for d in data() {
        let pk = strata::PartitionKey::from_json(d.get("kind").unwrap_or(&Value::Null)).unwrap();
        let pk = if d.get("kind").is_none() {
            strata::PartitionKey::None
        } else {
            pk
        };
        c.create_item(pk, &d).unwrap();
    }
    (dir, c)
}

/// Removes the system properties the engine stamps, at any depth.
fn strip(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| !["_rid", "_self", "_etag", "_attachments", "_ts"].contains(&k.as_str()))
                .map(|(k, v)| (k, strip(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip).collect()),
        other => other,
    }
}

/// Runs the query through the index when it can use one, and again as a full scan: both must
/// return the same items, in the same order when the query has ORDER BY.
fn query(c: &Container, sql: &str, params: &Value) -> strata::Result<Vec<Value>> {
    let params: Vec<(String, Value)> = params
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let run = |force_full_scan| -> strata::Result<Vec<Value>> {
        let opts = QueryOptions {
            max_item_count: Some(10_000),
            force_full_scan,
            ..QueryOptions::default()
        };
        let r = c.query_items(sql, &params, &opts)?;
        assert_eq!(r.status_code, 200);
        assert!(r.continuation.is_none(), "{sql}: one page expected");
        Ok(r.items.into_iter().map(strip).collect())
    };
    let indexed = run(false)?;
    let scanned = run(true)?;
    // Without ORDER BY the order is not defined (a range lookup returns its items in index
    // order, a full scan in key order): the two are compared as multisets.
    if sql.to_ascii_uppercase().contains("ORDER BY") {
        assert_eq!(indexed, scanned, "{sql}: the index and a full scan disagree");
    } else {
        assert_eq!(
            sorted(indexed.clone()),
            sorted(scanned),
            "{sql}: the index and a full scan disagree"
        );
    }
    Ok(indexed)
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

/// (query, parameters as {"@name": value}, expected results).
fn cases() -> Vec<(&'static str, Value, Value)> {
    let none = || json!({});
    vec![
        // SELECT, projections, aliases, FROM aliases.
        ("SELECT VALUE c.id FROM c", none(), json!(["a1", "a2", "a3", "n1", "v1", "v2", "x1", "x2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id", none(), json!(["a1", "a2", "a3", "n1", "v1", "v2", "x1", "x2"])),
        ("SELECT c.id, c.qty FROM c WHERE c.kind = 'veg' ORDER BY c.id", none(), json!([{"id": "v1", "qty": 40}, {"id": "v2", "qty": 5}])),
        ("SELECT c.id AS i, c.name AS n FROM c WHERE c.id = 'a1'", none(), json!([{"i": "a1", "n": "apple"}])),
        ("SELECT c.id i FROM c WHERE c.id = 'a2'", none(), json!([{"i": "a2"}])),
        ("SELECT c.name FROM c WHERE c.id IN ('x1', 'x2') ORDER BY c.id", none(), json!([{"name": null}, {"name": "unknown-kind"}])),
        ("SELECT c.id, c.organic FROM c WHERE c.kind = 'fruit' ORDER BY c.id", none(), json!([{"id": "a1"}, {"id": "a2"}, {"id": "a3", "organic": true}])),
        ("SELECT VALUE c.organic FROM c ORDER BY c.id", none(), json!([true, false])),
        ("SELECT c.origin.country FROM c WHERE c.id = 'a1'", none(), json!([{"country": "NZ"}])),
        ("SELECT c[\"origin\"][\"city\"] FROM c WHERE c.id = 'a1'", none(), json!([{"city": "Nelson"}])),
        ("SELECT VALUE c.tags[0] FROM c ORDER BY c.id", none(), json!(["red", "yellow", "orange", "white"])),
        ("SELECT VALUE c.nested.a.b[2].c FROM c WHERE c.id = 'x2'", none(), json!(["deep"])),
        ("SELECT VALUE c.tags[5] FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.origin FROM c WHERE c.id = 'a3'", none(), json!([null])),
        ("SELECT VALUE c.missing FROM c", none(), json!([])),
        ("SELECT c.missing FROM c WHERE c.id = 'a1'", none(), json!([{}])),
        ("SELECT 1 AS one, 'x' AS s FROM c WHERE c.id = 'a1'", none(), json!([{"one": 1, "s": "x"}])),
        ("SELECT VALUE 1 + 2", none(), json!([3])),
        ("SELECT 1 + 2", none(), json!([{"$1": 3}])),
        ("SELECT 1 + 2, 'a' || 'b'", none(), json!([{"$1": 3, "$2": "ab"}])),
        ("SELECT VALUE {\"id\": c.id, \"p\": c.price} FROM c WHERE c.id = 'v1'", none(), json!([{"id": "v1", "p": 0.5}])),
        ("SELECT VALUE {\"id\": c.id, \"o\": c.organic} FROM c WHERE c.id = 'v2'", none(), json!([{"id": "v2"}])),
        ("SELECT VALUE [c.id, c.organic, c.qty] FROM c WHERE c.id = 'v2'", none(), json!([["v2", 5]])),
        ("SELECT * FROM c WHERE c.id = 'n1'", none(), json!([doc("n1")])),
        ("SELECT * FROM c WHERE c.kind = 'veg' ORDER BY c.id", none(), json!([doc("v1"), doc("v2")])),
        ("SELECT c FROM c WHERE c.id = 'n1'", none(), json!([{"c": doc("n1")}])),
        ("SELECT VALUE c FROM c WHERE c.id = 'n1'", none(), json!([doc("n1")])),
        ("SELECT f.id FROM Food f WHERE f.id = 'a1'", none(), json!([{"id": "a1"}])),
        ("SELECT x.id FROM c AS x WHERE x.id = 'a1'", none(), json!([{"id": "a1"}])),
        ("SELECT VALUE root.id FROM root WHERE root.qty > 50", none(), json!(["a2"])),
        // FROM x IN c.path (one row per element) and FROM c.path x (one row per document having it).
        ("SELECT VALUE t FROM t IN c.tags WHERE t > 'r'", none(), json!(["red", "sweet", "yellow", "sweet", "white"])),
        ("SELECT * FROM r IN c.ratings", none(), json!([4, 5, 3])),
        ("SELECT COUNT(1) AS n FROM t IN c.tags", none(), json!([{"n": 7}])),
        ("SELECT VALUE t FROM t IN c[\"tags\"] ORDER BY t", none(), json!(["long", "orange", "red", "sweet", "sweet", "white", "yellow"])),
        ("SELECT DISTINCT VALUE t FROM t IN c.tags ORDER BY t DESC", none(), json!(["yellow", "white", "sweet", "red", "orange", "long"])),
        ("SELECT VALUE x FROM x IN c.nested.a.b", none(), json!([1, 2, {"c": "deep"}])),
        ("SELECT t AS tag, COUNT(1) AS n FROM t IN c.tags WHERE t IN ('sweet', 'red') GROUP BY t", none(), json!([{"tag": "red", "n": 1}, {"tag": "sweet", "n": 2}])),
        ("SELECT VALUE o.country FROM c.origin o", none(), json!(["NZ", "EC", "NZ"])),
        ("SELECT * FROM c.origin o WHERE o.country = 'NZ'", none(), json!([{"country": "NZ", "city": "Nelson"}, {"country": "NZ", "city": "Ohakune"}])),
        ("SELECT VALUE b FROM c.nested.a.b AS b", none(), json!([[1, 2, {"c": "deep"}]])),
        ("SELECT VALUE origin FROM c.origin WHERE IS_NULL(origin)", none(), json!([null])),
        ("SELECT VALUE [o.country, t] FROM c.origin o JOIN t IN ['a', 'b'] WHERE o.country = 'EC'", none(), json!([["EC", "a"], ["EC", "b"]])),
        // DISTINCT, TOP, OFFSET/LIMIT.
        ("SELECT DISTINCT VALUE c.kind FROM c ORDER BY c.kind", none(), json!([7, "fruit", "misc", "veg"])),
        ("SELECT DISTINCT c.kind FROM c ORDER BY c.kind", none(), json!([{}, {"kind": 7}, {"kind": "fruit"}, {"kind": "misc"}, {"kind": "veg"}])),
        ("SELECT DISTINCT VALUE t FROM c JOIN t IN c.tags ORDER BY t", none(), json!(["long", "orange", "red", "sweet", "white", "yellow"])),
        ("SELECT TOP 3 VALUE c.id FROM c ORDER BY c.id", none(), json!(["a1", "a2", "a3"])),
        ("SELECT TOP 0 VALUE c.id FROM c", none(), json!([])),
        ("SELECT TOP @n VALUE c.id FROM c ORDER BY c.id DESC", json!({"@n": 2}), json!(["x2", "x1"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id OFFSET 2 LIMIT 3", none(), json!(["a3", "n1", "v1"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id OFFSET 7 LIMIT 10", none(), json!(["x2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id OFFSET 10 LIMIT 1", none(), json!([])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id OFFSET @o LIMIT @l", json!({"@o": 1, "@l": 2}), json!(["a2", "a3"])),
        ("SELECT DISTINCT TOP 2 VALUE c.kind FROM c WHERE IS_STRING(c.kind) ORDER BY c.kind DESC", none(), json!(["veg", "misc"])),
        ("SELECT DISTINCT VALUE ARRAY_LENGTH(c.ratings) FROM c", none(), json!([2, 1, 0])),
        // WHERE: comparisons of one type only.
        ("SELECT VALUE c.id FROM c WHERE c.price > 1", none(), json!(["a1", "a3", "n1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price >= 2", none(), json!(["a3", "n1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price < 1", none(), json!(["a2", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.price <= 0.5", none(), json!(["a2", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.price = 3", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE c.price = 3.0", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE c.price != 3", none(), json!(["a1", "a2", "n1", "v1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price <> 3", none(), json!(["a1", "a2", "n1", "v1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price = 'free'", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.price > 'a'", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name > 'b'", none(), json!(["a3", "n1", "v1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name = null", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name != null", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.organic = true", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE c.organic = false", none(), json!(["v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.organic != true", none(), json!(["v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.organic", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE NOT c.organic", none(), json!(["v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind = 7", none(), json!(["n1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind = '7'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.qty > 0 AND c.price < 1", none(), json!(["a2", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty < 0 OR c.price > 5", none(), json!(["x1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE NOT (c.price > 1)", none(), json!(["a2", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE NOT IS_DEFINED(c.kind)", none(), json!(["x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.missing = 1 OR c.id = 'a1'", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE c.missing = 1 AND c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE NOT (c.missing = 1)", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.missing != 1", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.origin.country = 'NZ'", none(), json!(["a1", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.origin = null", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE c.origin.city = 'Nelson' OR c.origin.city = 'Ohakune'", none(), json!(["a1", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.tags = ['red', 'sweet']", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE c.origin = {\"country\": \"EC\"}", none(), json!(["a2"])),
        ("SELECT VALUE c.id FROM c WHERE c.tags = 'none'", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty = 7.5", none(), json!(["x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty % 2 = 0", none(), json!(["a1", "a2", "a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty * c.price > 20", none(), json!(["a2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price BETWEEN 1 AND 3", none(), json!(["a1", "a3", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price NOT BETWEEN 1 AND 3", none(), json!(["a2", "n1", "v1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name BETWEEN 'a' AND 'd'", none(), json!(["a1", "a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind IN ('veg', 'misc')", none(), json!(["v1", "v2", "x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind NOT IN ('veg', 'misc')", none(), json!(["a1", "a2", "a3", "n1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind IN (7, 'fruit')", none(), json!(["a1", "a2", "a3", "n1"])),
        ("SELECT VALUE c.id FROM c WHERE c.id IN (@a, @b)", json!({"@a": "a1", "@b": "v2"}), json!(["a1", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty IN (10, 7.5)", none(), json!(["a1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.price > @p", json!({"@p": 3}), json!(["n1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name = @n", json!({"@n": null}), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.tags = @t", json!({"@t": ["orange"]}), json!(["v1"])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@ids, c.id)", json!({"@ids": ["a2", "x1"]}), json!(["a2", "x1"])),
        // Arithmetic, ||, ?:, ??, literals, three-valued logic.
        ("SELECT VALUE c.qty + 1 FROM c WHERE c.id = 'a1'", none(), json!([11])),
        ("SELECT VALUE c.qty - 20 FROM c WHERE c.id = 'a1'", none(), json!([-10])),
        ("SELECT VALUE c.qty * c.price FROM c WHERE c.id = 'a1'", none(), json!([15])),
        ("SELECT VALUE c.qty / 4 FROM c WHERE c.id = 'a1'", none(), json!([2.5])),
        ("SELECT VALUE c.qty / 5 FROM c WHERE c.id = 'a1'", none(), json!([2])),
        ("SELECT VALUE c.qty / 0 FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.qty % 3 FROM c WHERE c.id = 'a1'", none(), json!([1])),
        ("SELECT VALUE -c.qty FROM c WHERE c.id = 'a1'", none(), json!([-10])),
        ("SELECT VALUE c.price + 'x' FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE 2 + 3 * 4 - 1", none(), json!([13])),
        ("SELECT VALUE (2 + 3) * 4", none(), json!([20])),
        ("SELECT VALUE 7 / 2", none(), json!([3.5])),
        ("SELECT VALUE 1.5 + 1.5", none(), json!([3])),
        ("SELECT VALUE c.name || '!' FROM c WHERE c.id = 'a1'", none(), json!(["apple!"])),
        ("SELECT VALUE c.name || c.kind FROM c WHERE c.id = 'v1'", none(), json!(["carrotveg"])),
        ("SELECT VALUE c.name || 1 FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.qty > 5 ? 'many' : 'few' FROM c ORDER BY c.id", none(), json!(["many", "many", "few", "few", "many", "few", "few", "many"])),
        ("SELECT VALUE c.organic ? 'yes' : 'no' FROM c WHERE c.kind = 'fruit' ORDER BY c.id", none(), json!(["no", "no", "yes"])),
        ("SELECT VALUE c.organic ?? 'unknown' FROM c ORDER BY c.id", none(), json!(["unknown", "unknown", true, "unknown", false, "unknown", "unknown", "unknown"])),
        ("SELECT VALUE c.name ?? 'none' FROM c WHERE c.id = 'x1'", none(), json!([null])),
        ("SELECT VALUE c.origin.city ?? c.origin.country ?? '-' FROM c ORDER BY c.id", none(), json!(["Nelson", "EC", "-", "-", "Ohakune", "-", "-", "-"])),
        ("SELECT VALUE true AND NOT false", none(), json!([true])),
        ("SELECT VALUE 1 = 1.0", none(), json!([true])),
        ("SELECT VALUE 1 = '1'", none(), json!([])),
        ("SELECT VALUE null = null", none(), json!([true])),
        ("SELECT VALUE undefined", none(), json!([])),
        ("SELECT VALUE [1, undefined, 2]", none(), json!([[1, 2]])),
        ("SELECT VALUE 'a' < 'b'", none(), json!([true])),
        ("SELECT VALUE false < true", none(), json!([true])),
        ("SELECT VALUE 'it\\'s'", none(), json!(["it's"])),
        ("SELECT VALUE \"dq\"", none(), json!(["dq"])),
        ("SELECT VALUE 1e3", none(), json!([1000])),
        ("SELECT VALUE -0.5 * 2", none(), json!([-1])),
        ("SELECT VALUE 5 BETWEEN 1 AND 10", none(), json!([true])),
        ("SELECT VALUE 'b' IN ('a', 'b')", none(), json!([true])),
        ("SELECT VALUE 3 NOT IN (1, 2)", none(), json!([true])),
        ("SELECT VALUE true OR undefined", none(), json!([true])),
        ("SELECT VALUE false AND undefined", none(), json!([false])),
        ("SELECT VALUE true AND undefined", none(), json!([])),
        ("SELECT VALUE NOT 1", none(), json!([])),
        ("SELECT VALUE 1 < 'a'", none(), json!([])),
        ("SELECT VALUE [1, 2] < [1, 3]", none(), json!([])),
        ("SELECT VALUE 9007199254740993 > 9007199254740992", none(), json!([true])),
        // Functions.
        ("SELECT VALUE IS_DEFINED(c.organic) FROM c ORDER BY c.id", none(), json!([false, false, true, false, true, false, false, false])),
        ("SELECT VALUE c.id FROM c WHERE IS_NULL(c.name)", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE IS_STRING(c.price)", none(), json!(["x1"])),
        ("SELECT VALUE c.id FROM c WHERE IS_NUMBER(c.kind)", none(), json!(["n1"])),
        ("SELECT VALUE c.id FROM c WHERE IS_BOOL(c.organic)", none(), json!(["a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE IS_ARRAY(c.ratings)", none(), json!(["a1", "a2", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE IS_OBJECT(c.origin)", none(), json!(["a1", "a2", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE NOT IS_ARRAY(c.tags)", none(), json!(["n1", "x1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 'sweet')", none(), json!(["a1", "a2"])),
        ("SELECT VALUE ARRAY_CONTAINS(c.ratings, 5) FROM c ORDER BY c.id", none(), json!([true, false, false])),
        ("SELECT VALUE ARRAY_CONTAINS([{\"a\": 1, \"b\": 2}], {\"a\": 1}, true)", none(), json!([true])),
        ("SELECT VALUE ARRAY_CONTAINS([{\"a\": 1, \"b\": 2}], {\"a\": 1})", none(), json!([false])),
        ("SELECT VALUE ARRAY_LENGTH(c.tags) FROM c ORDER BY c.id", none(), json!([2, 2, 0, 1, 2])),
        ("SELECT VALUE c.id FROM c WHERE STARTSWITH(c.name, 'c')", none(), json!(["a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE STARTSWITH(c.name, 'b')", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE STARTSWITH(c.name, 'b', true)", none(), json!(["a2"])),
        ("SELECT VALUE c.id FROM c WHERE ENDSWITH(c.name, 'kind')", none(), json!(["n1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE CONTAINS(c.name, 'an')", none(), json!(["a2"])),
        ("SELECT VALUE c.id FROM c WHERE CONTAINS(c.name, 'AN', true)", none(), json!(["a2"])),
        ("SELECT VALUE LOWER(c.name) FROM c WHERE c.id = 'a2'", none(), json!(["banana"])),
        ("SELECT VALUE UPPER(c.name) FROM c WHERE c.id = 'a2'", none(), json!(["BANANA"])),
        ("SELECT VALUE LENGTH(c.name) FROM c WHERE c.id = 'n1'", none(), json!([12])),
        ("SELECT VALUE SUBSTRING(c.name, 1, 3) FROM c WHERE c.id = 'a1'", none(), json!(["ppl"])),
        ("SELECT VALUE SUBSTRING('hello', 3, 10)", none(), json!(["lo"])),
        ("SELECT VALUE CONCAT(c.id, '-', c.kind) FROM c WHERE c.id = 'v1'", none(), json!(["v1-veg"])),
        ("SELECT VALUE CONCAT(c.id, c.kind) FROM c WHERE c.id = 'n1'", none(), json!([])),
        ("SELECT VALUE ABS(c.qty) FROM c WHERE c.id = 'x1'", none(), json!([3])),
        ("SELECT VALUE ABS(-2.5)", none(), json!([2.5])),
        ("SELECT VALUE FLOOR(c.qty) FROM c WHERE c.id = 'x2'", none(), json!([7])),
        ("SELECT VALUE CEILING(c.qty) FROM c WHERE c.id = 'x2'", none(), json!([8])),
        ("SELECT VALUE ROUND(c.qty) FROM c WHERE c.id = 'x2'", none(), json!([8])),
        ("SELECT VALUE ROUND(-7.5)", none(), json!([-8])),
        ("SELECT VALUE FLOOR(-1.5)", none(), json!([-2])),
        ("SELECT VALUE ROUND(c.price) FROM c WHERE c.id = 'x1'", none(), json!([])),
        ("SELECT VALUE lower('MiXed')", none(), json!(["mixed"])),
        ("SELECT VALUE IS_DEFINED(c.nested.a.b) FROM c WHERE c.id = 'x2'", none(), json!([true])),
        ("SELECT VALUE IS_NULL(c.missing) FROM c WHERE c.id = 'a1'", none(), json!([false])),
        // JOIN.
        ("SELECT c.id, t AS tag FROM c JOIN t IN c.tags WHERE c.kind = 'veg' ORDER BY c.id, t", none(), json!([{"id": "v1", "tag": "orange"}, {"id": "v2", "tag": "long"}, {"id": "v2", "tag": "white"}])),
        ("SELECT VALUE c.id FROM c JOIN t IN c.tags WHERE t = 'sweet'", none(), json!(["a1", "a2"])),
        ("SELECT VALUE COUNT(1) FROM c JOIN t IN c.tags", none(), json!([7])),
        ("SELECT c.id, r FROM c JOIN r IN c.ratings ORDER BY r DESC", none(), json!([{"id": "a1", "r": 5}, {"id": "a1", "r": 4}, {"id": "a2", "r": 3}])),
        ("SELECT VALUE [t, r] FROM c JOIN t IN c.tags JOIN r IN c.ratings WHERE c.id = 'a1' ORDER BY t, r", none(), json!([["red", 4], ["red", 5], ["sweet", 4], ["sweet", 5]])),
        ("SELECT VALUE x FROM c JOIN x IN c.nested.a.b", none(), json!([1, 2, {"c": "deep"}])),
        ("SELECT VALUE c.id FROM c JOIN t IN c.tags WHERE ARRAY_LENGTH(c.tags) = 1", none(), json!(["v1"])),
        ("SELECT DISTINCT VALUE c.id FROM c JOIN t IN c.tags WHERE t IN ('red', 'yellow', 'white')", none(), json!(["a1", "a2", "v2"])),
        // ORDER BY and the cross-type order.
        ("SELECT VALUE c.id FROM c ORDER BY c.price", none(), json!(["a2", "v1", "a1", "v2", "a3", "n1", "x2", "x1"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.price DESC", none(), json!(["x1", "x2", "n1", "a3", "v2", "a1", "v1", "a2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.kind, c.id", none(), json!(["x2", "n1", "a1", "a2", "a3", "x1", "v1", "v2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.kind DESC, c.id DESC", none(), json!(["v2", "v1", "x1", "a3", "a2", "a1", "n1", "x2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.organic, c.id", none(), json!(["a1", "a2", "n1", "v2", "x1", "x2", "v1", "a3"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.name", none(), json!(["x1", "a2", "a1", "v1", "a3", "v2", "n1", "x2"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.qty", none(), json!(["x1", "a3", "n1", "v2", "x2", "a1", "v1", "a2"])),
        ("SELECT c.id, c.price FROM c WHERE IS_NUMBER(c.price) ORDER BY c.price DESC OFFSET 0 LIMIT 2", none(), json!([{"id": "x2", "price": 10}, {"id": "n1", "price": 4}])),
        ("SELECT VALUE c.id FROM c ORDER BY c.origin.country, c.id", none(), json!(["a3", "n1", "v2", "x1", "x2", "a2", "a1", "v1"])),
        ("SELECT VALUE c.id FROM c ORDER BY c.id ASC", none(), json!(["a1", "a2", "a3", "n1", "v1", "v2", "x1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind = 'fruit' ORDER BY c.origin, c.id", none(), json!(["a3", "a1", "a2"])),
        // Aggregates and GROUP BY.
        ("SELECT VALUE COUNT(1) FROM c", none(), json!([8])),
        ("SELECT COUNT(1) FROM c", none(), json!([{"$1": 8}])),
        ("SELECT COUNT(1) AS n FROM c WHERE c.kind = 'fruit'", none(), json!([{"n": 3}])),
        ("SELECT VALUE COUNT(c.organic) FROM c", none(), json!([2])),
        ("SELECT VALUE SUM(c.qty) FROM c WHERE c.kind = 'fruit'", none(), json!([110])),
        ("SELECT VALUE SUM(c.price) FROM c WHERE c.kind = 'fruit'", none(), json!([4.75])),
        ("SELECT VALUE SUM(c.price) FROM c", none(), json!([])),
        ("SELECT VALUE AVG(c.qty) FROM c WHERE c.kind = 'veg'", none(), json!([22.5])),
        ("SELECT VALUE AVG(c.price) FROM c WHERE IS_NUMBER(c.price)", none(), json!([21.25 / 7.0])),
        ("SELECT VALUE MIN(c.qty) FROM c", none(), json!([-3])),
        ("SELECT VALUE MAX(c.qty) FROM c", none(), json!([100])),
        ("SELECT VALUE MIN(c.price) FROM c", none(), json!([0.25])),
        ("SELECT VALUE MAX(c.price) FROM c", none(), json!(["free"])),
        ("SELECT VALUE MAX(c.name) FROM c", none(), json!(["unknown-kind"])),
        ("SELECT VALUE MIN(c.name) FROM c", none(), json!([null])),
        ("SELECT VALUE COUNT(1) FROM c WHERE c.qty > 1000", none(), json!([0])),
        ("SELECT VALUE MAX(c.qty) FROM c WHERE c.qty > 1000", none(), json!([])),
        ("SELECT VALUE SUM(c.qty) FROM c WHERE c.qty > 1000", none(), json!([0])),
        ("SELECT COUNT(1) AS n, MIN(c.price) AS lo, MAX(c.price) AS hi FROM c WHERE c.kind = 'veg'", none(), json!([{"n": 2, "lo": 0.5, "hi": 2}])),
        ("SELECT c.kind, COUNT(1) AS n FROM c GROUP BY c.kind", none(), json!([{"kind": "fruit", "n": 3}, {"kind": "veg", "n": 2}, {"kind": "misc", "n": 1}, {"kind": 7, "n": 1}, {"n": 1}])),
        ("SELECT VALUE COUNT(1) FROM c GROUP BY c.kind", none(), json!([3, 2, 1, 1, 1])),
        ("SELECT c.kind, SUM(c.qty) AS total FROM c WHERE IS_STRING(c.kind) GROUP BY c.kind", none(), json!([{"kind": "fruit", "total": 110}, {"kind": "veg", "total": 45}, {"kind": "misc", "total": -3}])),
        ("SELECT c.kind AS k, AVG(c.price) AS p FROM c WHERE c.kind IN ('fruit', 'veg') GROUP BY c.kind", none(), json!([{"k": "fruit", "p": 4.75 / 3.0}, {"k": "veg", "p": 1.25}])),
        ("SELECT c.origin.country, COUNT(1) AS n FROM c WHERE IS_DEFINED(c.origin.country) GROUP BY c.origin.country", none(), json!([{"country": "NZ", "n": 2}, {"country": "EC", "n": 1}])),
        ("SELECT VALUE {\"k\": c.kind, \"n\": COUNT(1)} FROM c WHERE c.kind = 'veg' GROUP BY c.kind", none(), json!([{"k": "veg", "n": 2}])),
        ("SELECT t AS tag, COUNT(1) AS n FROM c JOIN t IN c.tags GROUP BY t", none(), json!([{"tag": "red", "n": 1}, {"tag": "sweet", "n": 2}, {"tag": "yellow", "n": 1}, {"tag": "orange", "n": 1}, {"tag": "white", "n": 1}, {"tag": "long", "n": 1}])),
        ("SELECT COUNT(1) + 1 AS n FROM c", none(), json!([{"n": 9}])),
        ("SELECT c.kind, MAX(c.qty) AS m FROM c WHERE c.kind = 'fruit' GROUP BY c.kind, c.organic", none(), json!([{"kind": "fruit", "m": 100}, {"kind": "fruit", "m": 0}])),
        ("SELECT VALUE COUNT(1) FROM c WHERE c.kind = @k", json!({"@k": "fruit"}), json!([3])),
        ("select value count(1) from c where c.kind = 'veg'", none(), json!([2])),
        ("SELECT VALUE UPPER(c.kind) FROM c WHERE IS_STRING(c.kind) GROUP BY c.kind", none(), json!(["FRUIT", "VEG", "MISC"])),
        // LIKE: % any run, _ one character, [set], [^set], ESCAPE; case-sensitive; strings only.
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'c%'", none(), json!(["a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'C%'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '%an%'", none(), json!(["a2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '_a%'", none(), json!(["a2", "v1", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name NOT LIKE '%e%'", none(), json!(["a2", "v1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '%-%'", none(), json!(["x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'unknown[-_]kind'", none(), json!(["x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '[a-c]%'", none(), json!(["a1", "a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '[^a-c]%'", none(), json!(["a2", "n1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'apple'", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'appl'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'c%' ORDER BY c.name", none(), json!(["v1", "a3"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'c%' ORDER BY c.name DESC", none(), json!(["a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE 'c%' OR c.name LIKE 'd%'", none(), json!(["a3", "v1", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE @p", json!({"@p": "%o_"}), json!(["v1", "v2"])),
        ("SELECT VALUE c.note LIKE '%one' FROM c WHERE c.id = 'x1'", none(), json!([true])),
        ("SELECT VALUE 'a%b' LIKE 'a!%b' ESCAPE '!'", none(), json!([true])),
        ("SELECT VALUE 'axb' LIKE 'a!%b' ESCAPE '!'", none(), json!([false])),
        ("SELECT VALUE 'a%b' LIKE 'a[%]b'", none(), json!([true])),
        ("SELECT VALUE 'a_b' LIKE 'a[_]b'", none(), json!([true])),
        ("SELECT VALUE 'x' NOT LIKE 'x'", none(), json!([false])),
        ("SELECT VALUE 'ab' LIKE 'a' || '%'", none(), json!([true])),
        ("SELECT VALUE 'abc' LIKE 'abc!' ESCAPE '!'", none(), json!([])),
        ("SELECT VALUE c.price LIKE '1%' FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.name LIKE c.missing FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.name NOT LIKE 'x' FROM c WHERE c.id = 'x1'", none(), json!([])),
        // Bitwise operators: 32-bit integers as in JavaScript; & ^ | bind more loosely than =.
        ("SELECT VALUE [100 >> 2, 100 << 2, 100 >>> 0, 100 & 1000, 100 | 1000, 100 ^ 1000]", none(), json!([[25, 400, 100, 96, 1004, 908]])),
        ("SELECT VALUE [~5, ~-1, -1 >>> 28, -16 >> 2, 1 << 31, 1 << 32]", none(), json!([[-6, 0, 15, -4, -2147483648i64, 1]])),
        ("SELECT VALUE [4294967297 | 0, 7.9 | 0, -7.9 | 0]", none(), json!([[1, 7, -7]])),
        ("SELECT VALUE c.qty & 1 FROM c ORDER BY c.id", none(), json!([0, 0, 0, 1, 0, 1, 1, 1])),
        ("SELECT VALUE c.id FROM c WHERE (c.qty & 1) = 1", none(), json!(["n1", "v2", "x1", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.qty & 1 = 1", none(), json!([])),
        ("SELECT VALUE 1 | 2 ^ 3 & 4", none(), json!([3])),
        ("SELECT VALUE 1 + 2 << 1", none(), json!([6])),
        ("SELECT VALUE 2 * 3 | 1", none(), json!([7])),
        ("SELECT VALUE (5 & 3) = 1", none(), json!([true])),
        ("SELECT VALUE 3 IN (1 | 2)", none(), json!([true])),
        ("SELECT VALUE 'a' | 1", none(), json!([])),
        ("SELECT VALUE true & 1", none(), json!([])),
        ("SELECT VALUE ~c.name FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.missing >> 1 FROM c WHERE c.id = 'a1'", none(), json!([])),
        // Int* functions: 64-bit integers, wrap-around, undefined for non-integers and / 0.
        ("SELECT VALUE IntAdd(9223372036854775807, 1)", none(), json!([i64::MIN])),
        ("SELECT VALUE [IntSub(1, 3), IntMul(4, 5), IntDiv(-7, 2), IntMod(-12, -5), IntMod(12, -5)]", none(), json!([[-2, 20, -3, -2, 2]])),
        ("SELECT VALUE [IntBitAnd(12, 10), IntBitOr(12, 10), IntBitXor(12, 10), IntBitNot(0)]", none(), json!([[8, 14, 6, -1]])),
        ("SELECT VALUE [IntBitLeftShift(1, 40), IntBitRightShift(-8, 1)]", none(), json!([[1_099_511_627_776i64, -4]])),
        ("SELECT VALUE IntDiv(10, 0)", none(), json!([])),
        ("SELECT VALUE IntMod(10, 0)", none(), json!([])),
        ("SELECT VALUE IntDiv(10, 0.1)", none(), json!([])),
        ("SELECT VALUE IntMul(c.qty, 2) FROM c WHERE c.id = 'x2'", none(), json!([])),
        ("SELECT VALUE IntAdd(c.qty, 1) FROM c WHERE c.id = 'x1'", none(), json!([-2])),
        ("SELECT VALUE IntSub('1', 1)", none(), json!([])),
        ("SELECT VALUE IntBitNot(c.missing) FROM c WHERE c.id = 'a1'", none(), json!([])),
        // String functions (positions in characters; undefined for wrong types).
        ("SELECT VALUE INDEX_OF(c.name, 'an') FROM c WHERE c.id = 'a2'", none(), json!([1])),
        ("SELECT VALUE [INDEX_OF('abcabc', 'c', 3), INDEX_OF('abc', 'x'), INDEX_OF('abc', 'a', 10), INDEX_OF('héllo', 'l')]", none(), json!([[5, -1, -1, 2]])),
        ("SELECT VALUE INDEX_OF(c.name, 'a') FROM c WHERE c.id = 'x1'", none(), json!([])),
        ("SELECT VALUE [LEFT('héllo', 2), RIGHT('héllo', 3), LEFT('ab', 5), RIGHT('ab', -1)]", none(), json!([["hé", "llo", "ab", ""]])),
        ("SELECT VALUE LEFT(c.name, 1.5) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE [LTRIM('  a b  '), RTRIM('  a b  '), TRIM('  a b  ')]", none(), json!([["a b  ", "  a b", "a b"]])),
        ("SELECT VALUE TRIM(c.qty) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE REPLACE(c.name, 'a', 'A') FROM c WHERE c.id = 'a2'", none(), json!(["BAnAnA"])),
        ("SELECT VALUE REPLACE('abc', '', 'x')", none(), json!(["abc"])),
        ("SELECT VALUE REPLACE('abc', 'b', 1)", none(), json!([])),
        ("SELECT VALUE [REPLICATE('ab', 3), REPLICATE('x', 0), LENGTH(REPLICATE('ab', 5000))]", none(), json!([["ababab", "", 10000]])),
        ("SELECT VALUE REPLICATE('ab', 5001)", none(), json!([])),
        ("SELECT VALUE REPLICATE('x', -1)", none(), json!([])),
        ("SELECT VALUE REVERSE(c.name) FROM c WHERE c.id = 'v2'", none(), json!(["nokiad"])),
        ("SELECT VALUE [STRINGEQUALS('abc', 'ABC'), STRINGEQUALS('abc', 'ABC', true), STRINGEQUALS('abc', 'abc')]", none(), json!([[false, true, true]])),
        ("SELECT VALUE STRINGEQUALS(c.name, 1) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE [TOSTRING(1.5), TOSTRING('s'), TOSTRING(null), TOSTRING(true), TOSTRING([1, {\"b\": 2, \"a\": 1}])]", none(), json!([["1.5", "s", "null", "true", "[1,{\"b\":2,\"a\":1}]"]])),
        ("SELECT VALUE TOSTRING(c.qty) FROM c WHERE c.id = 'x2'", none(), json!(["7.5"])),
        ("SELECT VALUE TOSTRING(c.missing) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE RegexMatch(c.name, '^[a-c]')", none(), json!(["a1", "a3", "v1"])),
        ("SELECT VALUE c.id FROM c WHERE RegexMatch(c.name, '^b', 'i')", none(), json!(["a2"])),
        ("SELECT VALUE [RegexMatch('a\\nb', '^b$', 'm'), RegexMatch('a\\nb', '^b$'), RegexMatch('A1', '\\\\w\\\\d')]", none(), json!([[true, false, true]])),
        ("SELECT VALUE RegexMatch('abc', '(')", none(), json!([])),
        ("SELECT VALUE RegexMatch('abc', 'b', 'q')", none(), json!([])),
        ("SELECT VALUE RegexMatch(c.qty, '1') FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE [StringToArray('[1, \"a\"]'), StringToBoolean(' true '), StringToNull('null'), StringToNumber('-1.5e2'), StringToObject('{\"b\": 1, \"a\": [2]}')]", none(), json!([[[1, "a"], true, null, -150, {"b": 1, "a": [2]}]])),
        ("SELECT VALUE [StringToNumber('\"1\"'), StringToBoolean('1'), StringToArray('{}'), StringToObject('[]'), StringToNull(''), StringToNumber('2.5')]", none(), json!([[2.5]])),
        ("SELECT VALUE StringToObject(\"{'a': 1}\")", none(), json!([])),
        ("SELECT VALUE StringToNumber(c.qty) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE StringJoin(c.tags, ', ') FROM c WHERE c.id = 'a1'", none(), json!(["red, sweet"])),
        ("SELECT VALUE StringJoin([1, 'a'], ',')", none(), json!([])),
        ("SELECT VALUE StringJoin(c.tags, '-') FROM c WHERE c.id = 'x1'", none(), json!([])),
        ("SELECT VALUE [StringSplit('a,b,,c', ','), StringSplit('abc', '')]", none(), json!([[["a", "b", "", "c"], ["a", "b", "c"]]])),
        ("SELECT VALUE StringSplit(c.name, '-') FROM c WHERE c.id = 'x2'", none(), json!([["unknown", "kind"]])),
        ("SELECT VALUE StringSplit(c.name, 1) FROM c WHERE c.id = 'x2'", none(), json!([])),
        ("SELECT VALUE CONCAT('a', c.missing) FROM c WHERE c.id = 'a1'", none(), json!([])),
        // Math functions (integers stay integers where exact; non-finite results are undefined).
        ("SELECT VALUE [TRUNC(2.7), TRUNC(-2.7), TRUNC(5), SIGN(-3), SIGN(0), SIGN(2.5)]", none(), json!([[2, -2, 5, -1, 0, 1]])),
        ("SELECT VALUE [SQUARE(3), SQUARE(1.5), POWER(2, 10), POWER(2, -1), POWER(4, 0.5)]", none(), json!([[9, 2.25, 1024, 0.5, 2]])),
        ("SELECT VALUE POWER(2, 63)", none(), json!([9.223372036854776e18])),
        ("SELECT VALUE [SQRT(16), SQRT(2.25), EXP(0), LOG(1), ROUND(LOG(8, 2) * 1000), ROUND(LOG10(1000) * 1000), ROUND(EXP(1) * 1000)]", none(), json!([[4, 1.5, 1, 0, 3000, 3000, 2718]])),
        ("SELECT VALUE [SQRT(-1), LOG(0), LOG(-1), COT(0), ACOS(2), LOG(8, 1)]", none(), json!([[]])),
        ("SELECT VALUE [SIN(0), COS(0), TAN(0), ASIN(1) * 2 = PI(), ATAN(1) * 4 = PI(), ATN2(1, 0) * 2 = PI(), ROUND(DEGREES(PI())), ROUND(RADIANS(180) * 1000)]", none(), json!([[0, 1, 0, true, true, true, 180, 3142]])),
        ("SELECT VALUE ROUND(ATN2(35.175643, 129.44) * 1000000)", none(), json!([265345])),
        ("SELECT VALUE PI()", none(), json!([std::f64::consts::PI])),
        ("SELECT VALUE [ABS(-3), ABS('x'), SIN(c.missing)] FROM c WHERE c.id = 'a1'", none(), json!([[3]])),
        ("SELECT VALUE [NumberBin(37.752, -100), NumberBin(37.752, 10), NumberBin(37.752, 1), NumberBin(37.752, 0.1), NumberBin(37.752, 0.01), NumberBin(37.752), NumberBin(-7, 2), NumberBin(37, 10)]", none(), json!([[100, 30, 37, 37.7, 37.75, 37, -8, 30]])),
        ("SELECT VALUE NumberBin(c.qty, 0) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE NumberBin('1')", none(), json!([])),
        ("SELECT VALUE [RAND() >= 0 AND RAND() < 1, IS_NUMBER(RAND())]", none(), json!([[true, true]])),
        ("SELECT VALUE SQUARE(c.qty) FROM c WHERE c.id = 'x2'", none(), json!([56.25])),
        ("SELECT VALUE FLOOR(c.price) FROM c WHERE c.id = 'x1'", none(), json!([])),
        // Array functions.
        ("SELECT VALUE ARRAY_CONCAT(c.tags, ['x'], []) FROM c WHERE c.id = 'a1'", none(), json!([["red", "sweet", "x"]])),
        ("SELECT VALUE ARRAY_CONCAT(c.tags, 'x') FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS_ANY(c.tags, 'red', 'white')", none(), json!(["a1", "v2"])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS_ALL(c.tags, 'sweet', 'yellow')", none(), json!(["a2"])),
        ("SELECT VALUE ARRAY_CONTAINS_ALL(c.tags, 'red', c.missing) FROM c WHERE c.id = 'a1'", none(), json!([false])),
        ("SELECT VALUE ARRAY_CONTAINS_ANY(c.tags, 'red') FROM c WHERE c.id = 'x1'", none(), json!([])),
        ("SELECT VALUE ARRAY_CONTAINS_ANY([1, 2.0], 2)", none(), json!([true])),
        ("SELECT VALUE [ARRAY_SLICE(@a, -1), ARRAY_SLICE(@a, -2, 1), ARRAY_SLICE(@a, 3, 5), ARRAY_SLICE(@a, 0, 3), ARRAY_SLICE(@a, 10), ARRAY_SLICE(@a, -10, 2), ARRAY_SLICE(@a, 1, -1)]", json!({"@a": ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"]}), json!([[["Golf"], ["Foxtrot"], ["Delta", "Echo", "Foxtrot", "Golf"], ["Alpha", "Bravo", "Charlie"], [], ["Alpha", "Bravo"], []]])),
        ("SELECT VALUE ARRAY_SLICE(c.tags, 1.5) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE SetIntersect([1, 2, 2, {\"a\": 1, \"b\": 2}], [2, 3, {\"b\": 2, \"a\": 1}, 1.0])", none(), json!([[1, 2, {"a": 1, "b": 2}]])),
        ("SELECT VALUE SetUnion(['a', 'b', 'a'], ['c', 'b'])", none(), json!([["a", "b", "c"]])),
        ("SELECT VALUE SetUnion(c.tags, 1) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE SetIntersect(c.tags, ['sweet', 'x']) FROM c WHERE c.kind = 'fruit'", none(), json!([["sweet"], ["sweet"], []])),
        // Type checks, IIF, ObjectToArray.
        ("SELECT VALUE c.id FROM c WHERE IS_PRIMITIVE(c.origin)", none(), json!(["a3"])),
        ("SELECT VALUE c.id FROM c WHERE IS_PRIMITIVE(c.tags)", none(), json!(["x1"])),
        ("SELECT VALUE [IS_PRIMITIVE(undefined), IS_PRIMITIVE(null), IS_PRIMITIVE([])]", none(), json!([[false, true, false]])),
        ("SELECT VALUE [IS_FINITE_NUMBER(1.5), IS_FINITE_NUMBER('1'), IS_FINITE_NUMBER(c.missing)] FROM c WHERE c.id = 'a1'", none(), json!([[true, false, false]])),
        ("SELECT VALUE c.id FROM c WHERE IS_INTEGER(c.qty)", none(), json!(["a1", "a2", "a3", "n1", "v1", "v2", "x1"])),
        ("SELECT VALUE [IS_INTEGER(2.0), IS_INTEGER(2.5), IS_INTEGER('2'), IS_INTEGER(9223372036854775807), IS_INTEGER(18446744073709551615)]", none(), json!([[true, false, false, true, false]])),
        ("SELECT VALUE IIF(c.organic, 'yes', 'no') FROM c ORDER BY c.id", none(), json!(["no", "no", "yes", "no", "no", "no", "no", "no"])),
        ("SELECT VALUE IIF(1, 'a', 'b')", none(), json!(["b"])),
        ("SELECT VALUE IIF(true, c.missing, 'b') FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE ObjectToArray(c.origin) FROM c WHERE c.id = 'a1'", none(), json!([[{"k": "country", "v": "NZ"}, {"k": "city", "v": "Nelson"}]])),
        ("SELECT VALUE ObjectToArray({\"b\": 1, \"a\": [2]}, 'name', 'value')", none(), json!([[{"name": "b", "value": 1}, {"name": "a", "value": [2]}]])),
        ("SELECT VALUE ObjectToArray(c.tags) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE ObjectToArray({\"a\": 1}, 1)", none(), json!([])),
        ("SELECT VALUE p.k FROM c JOIN p IN ObjectToArray(c.origin) WHERE c.id = 'v1'", none(), json!(["country", "city"])),
        // Date and time functions (ISO 8601 UTC strings with seven fraction digits, ticks of 100 ns).
        ("SELECT VALUE [DateTimeAdd('mm', 1, '2020-07-09T23:20:13.4575530Z'), DateTimeAdd('month', 1, '2020-01-31T00:00:00Z'), DateTimeAdd('yy', -1, '2020-02-29T12:00:00Z'), DateTimeAdd('hh', 25, '2020-12-31T00:00:00Z'), DateTimeAdd('ms', 1500, '2020-01-01T00:00:00Z'), DateTimeAdd('ns', 250, '2020-01-01T00:00:00Z')]", none(), json!([["2020-08-09T23:20:13.4575530Z", "2020-02-29T00:00:00.0000000Z", "2019-02-28T12:00:00.0000000Z", "2021-01-01T01:00:00.0000000Z", "2020-01-01T00:00:01.5000000Z", "2020-01-01T00:00:00.0000002Z"]])),
        ("SELECT VALUE [DateTimeAdd('dd', 1, '2020-01-01'), DateTimeAdd('week', 1, '2020-01-01T00:00:00Z'), DateTimeAdd('dd', 1.5, '2020-01-01T00:00:00Z'), DateTimeAdd('yyyy', 1, '9999-06-01T00:00:00Z')]", none(), json!([[]])),
        ("SELECT VALUE [DateTimeDiff('yyyy', '2019-12-31T23:59:59Z', '2020-01-01T00:00:00Z'), DateTimeDiff('month', '2020-01-31T00:00:00Z', '2020-03-01T00:00:00Z'), DateTimeDiff('day', '2020-03-01T23:00:00Z', '2020-03-03T01:00:00Z'), DateTimeDiff('hh', '2020-03-01T23:59:59Z', '2020-03-02T00:00:00Z'), DateTimeDiff('second', '2020-03-02T00:00:00Z', '2020-03-01T23:59:58.5Z'), DateTimeDiff('ms', '2020-01-01T00:00:00Z', '2020-01-01T00:00:01.2345Z'), DateTimeDiff('ns', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00.0000001Z')]", none(), json!([[1, 2, 2, 1, -2, 1234, 100]])),
        ("SELECT VALUE DateTimeDiff('dd', 'x', '2020-01-01T00:00:00Z')", none(), json!([])),
        ("SELECT VALUE [DateTimePart('yyyy', @t), DateTimePart('m', @t), DateTimePart('d', @t), DateTimePart('hh', @t), DateTimePart('mi', @t), DateTimePart('ss', @t), DateTimePart('ms', @t), DateTimePart('mcs', @t), DateTimePart('ns', @t), DateTimePart('week', @t)]", json!({"@t": "2016-05-29T08:30:00.1301617Z"}), json!([[2016, 5, 29, 8, 30, 0, 130, 130161, 130161700]])),
        ("SELECT VALUE [DateTimeFromParts(2017, 4, 20, 13, 15, 20, 3456789), DateTimeFromParts(2017, 4, 20), DateTimeFromParts(2017, 2, 30), DateTimeFromParts(2017, 4, 20, 24), DateTimeFromParts(2017, 4, 20, 0, 0, 0, 10000000), DateTimeFromParts('2017', 4, 20)]", none(), json!([["2017-04-20T13:15:20.3456789Z", "2017-04-20T00:00:00.0000000Z"]])),
        ("SELECT VALUE [DateTimeBin(@t, 'hh'), DateTimeBin(@t, 'hh', 3), DateTimeBin(@t, 'dd'), DateTimeBin(@t, 'dd', 7), DateTimeBin(@t, 'mi', 15), DateTimeBin(@t, 'ms'), DateTimeBin(@t, 'dd', 1, '2021-06-28T05:00:00Z'), DateTimeBin(@t, 'yyyy'), DateTimeBin(@t, 'hh', 0)]", json!({"@t": "2021-06-28T17:24:29.2991234Z"}), json!([["2021-06-28T17:00:00.0000000Z", "2021-06-28T15:00:00.0000000Z", "2021-06-28T00:00:00.0000000Z", "2021-06-24T00:00:00.0000000Z", "2021-06-28T17:15:00.0000000Z", "2021-06-28T17:24:29.2990000Z", "2021-06-28T05:00:00.0000000Z"]])),
        ("SELECT VALUE [DateTimeToTicks('2020-05-29T08:30:00.1234567Z'), DateTimeToTimestamp('2020-07-09T23:20:13.4575530Z'), TicksToDateTime(15943368134575530), TimestampToDateTime(1594227912345)]", none(), json!([[15907410001234567i64, 1594336813457i64, "2020-07-09T23:20:13.4575530Z", "2020-07-08T17:05:12.3450000Z"]])),
        ("SELECT VALUE [DateTimeToTimestamp('1970-01-01T01:00:00+01:00'), DateTimeToTimestamp('1969-12-31T23:59:59.9995Z'), TimestampToDateTime(253402300799000)]", none(), json!([[0, -1, "9999-12-31T23:59:59.0000000Z"]])),
        ("SELECT VALUE [TicksToDateTime(1.5), TicksToDateTime('1'), TimestampToDateTime(253402300800000)]", none(), json!([[]])),
        ("SELECT VALUE [DateTimePart('yyyy', c.missing), DateTimeToTicks(c.qty), DateTimeAdd('dd', c.qty, c.name)] FROM c WHERE c.id = 'a1'", none(), json!([[]])),
        // The new forms together, over the data set.
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '%e'", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE c.name LIKE '%'", none(), json!(["a1", "a2", "a3", "n1", "v1", "v2", "x2"])),
        ("SELECT VALUE c.id FROM c WHERE c.id LIKE '_1'", none(), json!(["a1", "n1", "v1", "x1"])),
        ("SELECT VALUE c.id FROM c WHERE c.id LIKE 'a_' AND c.qty > 5", none(), json!(["a1", "a2"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind LIKE 'f%' OR c.kind = 7", none(), json!(["a1", "a2", "a3", "n1"])),
        ("SELECT VALUE UPPER(c.name) FROM c WHERE c.name LIKE '%rr%'", none(), json!(["CHERRY", "CARROT"])),
        ("SELECT VALUE c.id FROM c WHERE c.nested.a.b[2].c LIKE 'd__p'", none(), json!(["x2"])),
        ("SELECT VALUE t FROM t IN c.tags WHERE t LIKE '%w%'", none(), json!(["sweet", "yellow", "sweet", "white"])),
        ("SELECT VALUE @f & 6", json!({"@f": 13}), json!([4])),
        ("SELECT VALUE c.id FROM c WHERE (c.qty & 4) != 0", none(), json!(["a2", "v2", "x1", "x2"])),
        ("SELECT VALUE c.qty >> 1 FROM c WHERE c.id IN ('a2', 'x1')", none(), json!([50, -2])),
        ("SELECT VALUE c.qty >>> 30 FROM c WHERE c.id = 'x1'", none(), json!([3])),
        ("SELECT VALUE ~~c.qty FROM c WHERE c.id = 'x2'", none(), json!([7])),
        ("SELECT VALUE LENGTH(TRIM(CONCAT('  ', c.name, '  '))) FROM c WHERE c.id = 'a1'", none(), json!([5])),
        ("SELECT VALUE UPPER(LEFT(c.name, 1)) || SUBSTRING(c.name, 1, 100) FROM c WHERE c.id = 'v2'", none(), json!(["Daikon"])),
        ("SELECT VALUE INDEX_OF(c.note, 'one', 5) FROM c WHERE c.id = 'x1'", none(), json!([-1])),
        ("SELECT VALUE STARTSWITH(TOSTRING(c.qty), '1') FROM c WHERE c.id IN ('a1', 'a2', 'n1', 'v1')", none(), json!([true, true, true, false])),
        ("SELECT VALUE c.id FROM c WHERE RegexMatch(c.id, '^[av][0-9]$') AND IS_INTEGER(c.qty) AND c.qty >= 5", none(), json!(["a1", "a2", "v1", "v2"])),
        ("SELECT VALUE StringToNumber(TOSTRING(c.price)) = c.price FROM c WHERE c.id = 'a1'", none(), json!([true])),
        ("SELECT VALUE ROUND(AVG(c.price) * 100) FROM c WHERE IS_NUMBER(c.price)", none(), json!([304])),
        ("SELECT VALUE SUM(ABS(c.qty)) FROM c WHERE IS_INTEGER(c.qty)", none(), json!([159])),
        ("SELECT VALUE NumberBin(c.qty, 10) FROM c ORDER BY c.id", none(), json!([10, 100, 0, 0, 40, 0, -10, 0])),
        ("SELECT c.kind, MAX(SQUARE(c.qty)) AS m FROM c WHERE c.kind IN ('fruit', 'veg') GROUP BY c.kind", none(), json!([{"kind": "fruit", "m": 10000}, {"kind": "veg", "m": 1600}])),
        ("SELECT VALUE ARRAY_LENGTH(SetUnion(c.tags, ['sweet', 'new'])) FROM c WHERE c.kind = 'fruit'", none(), json!([3, 3, 2])),
        ("SELECT VALUE ARRAY_SLICE(c.tags, -1) FROM c WHERE c.kind = 'veg'", none(), json!([["orange"], ["long"]])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS_ALL(c.ratings, 4, 5)", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE ARRAY_LENGTH(ARRAY_CONCAT(c.tags, c.ratings)) >= 3", none(), json!(["a1", "a2"])),
        ("SELECT VALUE IIF(IS_PRIMITIVE(c.tags), 'scalar', IIF(IS_ARRAY(c.tags), 'array', 'none')) FROM c ORDER BY c.id", none(), json!(["array", "array", "array", "none", "array", "array", "scalar", "none"])),
        ("SELECT VALUE COUNT(1) FROM c WHERE IS_PRIMITIVE(c.organic)", none(), json!([2])),
        ("SELECT VALUE COUNT(1) FROM c JOIN p IN ObjectToArray(c.origin) WHERE p.v = 'NZ'", none(), json!([2])),
        ("SELECT VALUE IS_STRING(TimestampToDateTime(c._ts * 1000)) FROM c WHERE c.id = 'a1'", none(), json!([true])),
        ("SELECT VALUE DateTimePart('yyyy', TicksToDateTime(0))", none(), json!([1970])),
        ("SELECT VALUE DateTimeDiff('dd', '2020-02-28T00:00:00Z', DateTimeAdd('dd', 2, '2020-02-28T00:00:00Z'))", none(), json!([2])),
        ("SELECT VALUE DateTimeFromParts(2020, 2, 29) = '2020-02-29T00:00:00.0000000Z'", none(), json!([true])),
        // Subqueries: EXISTS, ARRAY and scalar, correlated over the item and JOIN aliases.
        ("SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = 'sweet')", none(), json!(["a1", "a2"])),
        ("SELECT VALUE c.id FROM c WHERE NOT EXISTS(SELECT VALUE t FROM t IN c.tags)", none(), json!(["a3", "n1", "x1", "x2"])),
        ("SELECT c.id, ARRAY(SELECT VALUE UPPER(t) FROM t IN c.tags) AS up FROM c WHERE c.kind = 'veg'", none(), json!([{"id": "v1", "up": ["ORANGE"]}, {"id": "v2", "up": ["WHITE", "LONG"]}])),
        ("SELECT VALUE (SELECT VALUE COUNT(1) FROM t IN c.tags) FROM c WHERE c.kind = 'fruit'", none(), json!([2, 2, 0])),
        ("SELECT VALUE c.id FROM c WHERE (SELECT VALUE MAX(r) FROM r IN c.ratings) >= 4", none(), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE r FROM r IN c.ratings WHERE r > c.qty / 3)", none(), json!(["a1"])),
        ("SELECT VALUE t FROM c JOIN t IN c.tags WHERE (SELECT VALUE LENGTH(t)) > 5", none(), json!(["yellow", "orange"])),
        ("SELECT VALUE ARRAY(SELECT TOP 1 VALUE t FROM t IN c.tags ORDER BY t DESC) FROM c WHERE c.id = 'a1'", none(), json!([["sweet"]])),
        ("SELECT VALUE ARRAY(SELECT DISTINCT VALUE LENGTH(t) FROM t IN c.tags) FROM c WHERE c.id = 'v2'", none(), json!([[5, 4]])),
        ("SELECT VALUE (SELECT VALUE t FROM t IN c.tags) FROM c WHERE c.id = 'a1'", none(), json!([])),
        ("SELECT VALUE (SELECT VALUE t FROM t IN c.tags) FROM c WHERE c.id = 'a3'", none(), json!([])),
        ("SELECT VALUE (SELECT VALUE t FROM t IN c.tags) FROM c WHERE c.id = 'v1'", none(), json!(["orange"])),
        ("SELECT VALUE ARRAY(SELECT VALUE p.k FROM c JOIN p IN ObjectToArray(c.origin) WHERE EXISTS(SELECT VALUE 1 FROM c JOIN x IN ['NZ'] WHERE x = p.v)) FROM c WHERE c.id = 'v1'", none(), json!([["country"]])),
        ("SELECT VALUE ARRAY(SELECT t AS tag, LENGTH(t) AS len FROM t IN c.tags) FROM c WHERE c.id = 'v2'", none(), json!([[{"tag": "white", "len": 5}, {"tag": "long", "len": 4}]])),
        ("SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = @t)", json!({"@t": "orange"}), json!(["v1"])),
        ("SELECT VALUE ARRAY(SELECT VALUE r FROM r IN c.ratings ORDER BY r OFFSET 1 LIMIT 5) FROM c WHERE c.id = 'a1'", none(), json!([[5]])),
        ("SELECT VALUE (SELECT VALUE o.city FROM c.origin o) FROM c WHERE c.id = 'a1'", none(), json!(["Nelson"])),
        ("SELECT VALUE (SELECT VALUE 1)", none(), json!([1])),
        ("SELECT VALUE EXISTS(SELECT VALUE c.missing) FROM c WHERE c.id = 'a1'", none(), json!([false])),
        ("SELECT VALUE [GetCurrentDateTime() = TicksToDateTime(GetCurrentTicks()), GetCurrentTimestamp() = DateTimeToTimestamp(GetCurrentDateTime()), GetCurrentTicks() % 10000000]", none(), json!([[true, true, 0]])),
        // Spatial functions over GeoJSON ([longitude, latitude] on WGS-84).
        ("SELECT VALUE [ROUND(ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [0, 0]}, {\"type\": \"Point\", \"coordinates\": [0, 1]})), ROUND(ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [0, 0]}, {\"type\": \"Point\", \"coordinates\": [1, 0]})), ST_DISTANCE(@p, @p)]", json!({"@p": {"type": "Point", "coordinates": [174.78, -41.29]}}), json!([[110574, 111319, 0]])),
        ("SELECT VALUE [ST_WITHIN({\"type\": \"Point\", \"coordinates\": [0.5, 0.5]}, @sq), ST_WITHIN({\"type\": \"Point\", \"coordinates\": [2, 2]}, @sq), ST_INTERSECTS({\"type\": \"LineString\", \"coordinates\": [[-1, 0.5], [2, 0.5]]}, @sq), ST_INTERSECTS({\"type\": \"LineString\", \"coordinates\": [[5, 5], [6, 6]]}, @sq), ST_WITHIN(@sq, {\"type\": \"MultiPolygon\", \"coordinates\": [[[[-1, -1], [2, -1], [2, 2], [-1, 2], [-1, -1]]]]})]", json!({"@sq": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}), json!([[true, false, true, false, true]])),
        ("SELECT VALUE [ST_ISVALID({\"type\": \"Point\", \"coordinates\": [200, 0]}), ST_ISVALID({\"type\": \"Point\", \"coordinates\": [10, 20]}), ST_ISVALID({\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}), ST_ISVALID({\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}), ST_ISVALID({\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), ST_ISVALID({\"type\": \"LineString\", \"coordinates\": [[0, 0]]}), ST_ISVALID({\"type\": \"Circle\", \"coordinates\": [0, 0]})]", none(), json!([[false, true, true, false, false, false, false]])),
        ("SELECT VALUE [ST_ISVALIDDETAILED({\"type\": \"Point\", \"coordinates\": [10, 20]}), ST_ISVALIDDETAILED({\"type\": \"Point\", \"coordinates\": [10, 95]}).valid, IS_STRING(ST_ISVALIDDETAILED({\"type\": \"Point\", \"coordinates\": [10, 95]}).reason)]", none(), json!([[{"valid": true}, false, true]])),
        ("SELECT VALUE [ST_DISTANCE(c.missing, {\"type\": \"Point\", \"coordinates\": [0, 0]}), ST_WITHIN('x', {\"type\": \"Point\", \"coordinates\": [0, 0]}), ST_ISVALID(c.name), ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [0, 0]}, {\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), ST_DISTANCE({\"type\": \"LineString\", \"coordinates\": [[0, 0]]}, {\"type\": \"Point\", \"coordinates\": [0, 0]}), ST_DISTANCE({\"type\": \"MultiPolygon\", \"coordinates\": []}, {\"type\": \"LineString\", \"coordinates\": [[0, 0], [1, 1]]})] FROM c WHERE c.id = 'a1'", none(), json!([[]])),
        // ST_DISTANCE beyond Point–Point: 0 on contact or containment; else the nearest point is
        // found on the sphere and measured on the ellipsoid. An endpoint one degree of latitude
        // away is exactly the Point–Point geodesic (110,574 m); one degree of longitude at
        // latitude 0.5 is 111,319 m x cos(0.5 deg) = 111,315 m, 111 km; the meridian from
        // latitude 1 to 2 is 110,575 m, 1106 hundreds.
        ("SELECT VALUE [ROUND(ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [0, 0]}, {\"type\": \"LineString\", \"coordinates\": [[0, 1], [0, 2]]})), ROUND(ST_DISTANCE({\"type\": \"LineString\", \"coordinates\": [[0, 0], [0, 1]]}, {\"type\": \"Point\", \"coordinates\": [1, 0.5]}) / 1000), ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [0.5, 0.5]}, @sq), ST_DISTANCE({\"type\": \"Point\", \"coordinates\": [1, 0.5]}, @sq), ROUND(ST_DISTANCE({\"type\": \"MultiPoint\", \"coordinates\": [[0, 3], [0, 1]]}, {\"type\": \"Point\", \"coordinates\": [0, 0]}))]", json!({"@sq": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}), json!([[110574, 111, 0, 0, 110574]])),
        ("SELECT VALUE [ROUND(ST_DISTANCE({\"type\": \"LineString\", \"coordinates\": [[0.5, 2], [0.5, 3]]}, @sq) / 100), ROUND(ST_DISTANCE(@sq, {\"type\": \"Polygon\", \"coordinates\": [[[0, 2], [1, 2], [1, 3], [0, 3], [0, 2]]]}) / 100), ST_DISTANCE(@sq, {\"type\": \"Polygon\", \"coordinates\": [[[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]]}), ST_DISTANCE({\"type\": \"LineString\", \"coordinates\": [[-1, 0.5], [2, 0.5]]}, @sq), ST_DISTANCE({\"type\": \"MultiPolygon\", \"coordinates\": [[[[5, 5], [6, 5], [6, 6], [5, 5]]], [[[-1, -1], [2, -1], [2, 2], [-1, -1]]]]}, @sq), ROUND(ST_DISTANCE({\"type\": \"MultiLineString\", \"coordinates\": [[[3, 0], [3, 1]], [[0.5, 2], [0.5, 3]]]}, @sq) / 100)]", json!({"@sq": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}), json!([[1106, 1106, 0, 0, 0, 1106]])),
        // GROUP BY inside subqueries: groups in the order their first row comes; with GROUP BY
        // and no rows there is no group (undefined scalar, empty ARRAY, false EXISTS), without it
        // one group of nothing (COUNT 0).
        ("SELECT VALUE ARRAY(SELECT t AS tag, COUNT(1) AS n FROM t IN c.tags GROUP BY t) FROM c WHERE c.id = 'a1'", none(), json!([[{"tag": "red", "n": 1}, {"tag": "sweet", "n": 1}]])),
        ("SELECT VALUE ARRAY(SELECT VALUE {\"parity\": r % 2, \"n\": COUNT(1), \"s\": SUM(r)} FROM r IN c.ratings JOIN t IN c.tags GROUP BY r % 2) FROM c WHERE c.id = 'a1'", none(), json!([[{"parity": 0, "n": 2, "s": 8}, {"parity": 1, "n": 2, "s": 10}]])),
        ("SELECT c.id, (SELECT VALUE COUNT(1) FROM t IN c.tags GROUP BY c.kind) AS n FROM c WHERE c.kind = 'veg'", none(), json!([{"id": "v1", "n": 1}, {"id": "v2", "n": 2}])),
        ("SELECT c.id, (SELECT VALUE COUNT(1) FROM t IN c.tags GROUP BY t) AS g, (SELECT VALUE COUNT(1) FROM t IN c.tags) AS n FROM c WHERE c.id IN ('a3', 'v1')", none(), json!([{"id": "a3", "n": 0}, {"id": "v1", "g": 1, "n": 1}])),
        ("SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags GROUP BY t)", none(), json!(["a1", "a2", "v1", "v2"])),
        ("SELECT VALUE ARRAY(SELECT VALUE t FROM t IN c.tags WHERE t != 'red' GROUP BY t) FROM c WHERE c.id IN ('a1', 'a3')", none(), json!([["sweet"], []])),
        ("SELECT VALUE [ARRAY(SELECT TOP 1 VALUE COUNT(1) FROM r IN c.ratings JOIN t IN c.tags GROUP BY r), ARRAY(SELECT DISTINCT VALUE COUNT(1) FROM r IN c.ratings JOIN t IN c.tags GROUP BY r), ARRAY(SELECT VALUE MAX(t) FROM r IN c.ratings JOIN t IN c.tags GROUP BY r OFFSET 1 LIMIT 5)] FROM c WHERE c.id = 'a1'", none(), json!([[[2], [2], ["sweet"]]])),
        ("SELECT VALUE ARRAY(SELECT t.x AS k, COUNT(1) AS n FROM t IN c.tags GROUP BY t.x) FROM c WHERE c.id = 'a1'", none(), json!([[{"n": 2}]])),
        // Two aggregates side by side are not nested.
        ("SELECT VALUE [COUNT(1), SUM(c.qty)] FROM c WHERE c.kind = 'veg'", none(), json!([[2, 45]])),
        ("SELECT VALUE (SELECT VALUE COUNT(1) FROM t IN c.tags GROUP BY t.missing) FROM c WHERE c.id = 'a1'", none(), json!([2])),
        // Parameters.
        ("SELECT VALUE @x", json!({"@x": {"a": [1]}}), json!([{"a": [1]}])),
        ("SELECT VALUE @x.a[0]", json!({"@x": {"a": [1]}}), json!([1])),
        ("SELECT VALUE c.id FROM c WHERE c[@f] = 'apple'", json!({"@f": "name"}), json!(["a1"])),
        ("SELECT VALUE c.id FROM c WHERE c.kind = @k", json!({"k": "misc"}), json!(["x1"])),
        // Comments and layout.
        ("SELECT VALUE c.id -- the id\nFROM c\nWHERE c.qty = 100", none(), json!(["a2"])),
    ]
}

#[test]
fn conformance_suite() {
    let (_dir, c) = setup();
    let cases = cases();
    assert!(cases.len() >= 400, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (sql, params, want) in &cases {
        let want: Vec<Value> = want.as_array().cloned().unwrap_or_default();
        let got = match query(&c, sql, params) {
            Ok(got) => got,
            Err(e) => {
                failures.push(format!("{sql}\n    error: {e}"));
                continue;
            }
        };
        let ordered = sql.to_ascii_uppercase().contains("ORDER BY");
        let (got_cmp, want_cmp) = if ordered {
            (got.clone(), want.clone())
        } else {
            (sorted(got.clone()), sorted(want.clone()))
        };
        if got_cmp != want_cmp {
            failures.push(format!(
                "{sql}\n    want {}\n    got  {}",
                Value::Array(want),
                Value::Array(got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// GetCurrentDateTime, GetCurrentTimestamp and GetCurrentTicks read the account's wall clock,
/// one value for the whole query (every row sees the same).
#[test]
fn get_current_functions_read_the_account_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = strata::ManualWallClock::at(1_800_000_000);
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .wall_clock(std::sync::Arc::new(clock.clone()));
    let (_account, c) = crate::common::account_with_container(opts);
    for id in ["1", "2", "3"] {
        c.create_item("p", &json!({"id": id, "pk": "p"})).unwrap();
    }
    let sql = "SELECT VALUE [GetCurrentDateTime(), GetCurrentTimestamp(), GetCurrentTicks()] FROM c";
    let want = json!([
        "2027-01-15T08:00:00.0000000Z",
        1_800_000_000_000i64,
        18_000_000_000_000_000i64
    ]);
    let got = query(&c, sql, &json!({})).unwrap();
    assert_eq!(got, vec![want.clone(), want.clone(), want]);
    clock.advance(60);
    let got = query(&c, "SELECT VALUE GetCurrentDateTime()", &json!({})).unwrap();
    assert_eq!(got, vec![json!("2027-01-15T08:01:00.0000000Z")]);
}

/// Every page of `sql` at `max` results a page, following continuations, concatenated.
fn paged(
    c: &Container,
    sql: &str,
    params: &[(String, Value)],
    max: usize,
    force_full_scan: bool,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let opts = QueryOptions {
            max_item_count: Some(max),
            continuation: token,
            force_full_scan,
            ..QueryOptions::default()
        };
        let r = c.query_items(sql, params, &opts).unwrap();
        assert!(
            r.items.len() <= max,
            "{sql}: a page of {} at {max}",
            r.items.len()
        );
        out.extend(r.items.into_iter().map(strip));
        match r.continuation {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
    panic!("{sql}: paging at {max} does not end");
}

/// Paging (streamed or computed whole) returns exactly the unpaged result, in the same order,
/// for every query of the suite that runs, at 1, 7 and 1,000 results a page, through the index
/// and as a full scan.
#[test]
fn paging_equals_the_unpaged_result() {
    let (dir, c) = setup();
    let mut checked = 0;
    for (sql, params, _) in cases() {
        let params: Vec<(String, Value)> = params
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for force_full_scan in [false, true] {
            let opts = QueryOptions {
                max_item_count: Some(10_000),
                force_full_scan,
                ..QueryOptions::default()
            };
            let Ok(whole) = c.query_items(sql, &params, &opts) else {
                continue; // the error cases of the suite
            };
            let whole: Vec<Value> = whole.items.into_iter().map(strip).collect();
            for max in [1, 7, 1000] {
                assert_eq!(
                    paged(&c, sql, &params, max, force_full_scan),
                    whole,
                    "{sql} at {max} a page"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 300, "only {checked} runs checked");
    // GROUP BY, DISTINCT and in-memory ORDER BY pages were read from spills, each deleted
    // after its last page.
    let spills = dir.path().join("data/tmp/query");
    assert!(spills.is_dir(), "some result was spilled");
    assert_eq!(
        std::fs::read_dir(&spills).unwrap().count(),
        0,
        "a spill outlived its last page"
    );
}

/// ORDER BY sorted outside memory, with a budget of one byte (every result a sorted run of its
/// own, merged at the end), returns exactly what the suite expects for every ORDER BY query:
/// cross-type order, undefined, several keys, ASC and DESC, ties; unpaged, and paged at 1, 7
/// and 1,000. Full scans, so that no ORDER BY is read from the index. No run outlives its query.
#[test]
fn sorting_in_runs_equals_the_suite() {
    let (dir, c) = setup_with(|opts| opts.sort_memory_bytes(1));
    let mut checked = 0;
    for (sql, params, want) in cases() {
        if !sql.to_ascii_uppercase().contains("ORDER BY") {
            continue;
        }
        let params: Vec<(String, Value)> = params
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let opts = QueryOptions {
            max_item_count: Some(10_000),
            force_full_scan: true,
            ..QueryOptions::default()
        };
        let Ok(whole) = c.query_items(sql, &params, &opts) else {
            continue; // the error cases of the suite
        };
        let whole: Vec<Value> = whole.items.into_iter().map(strip).collect();
        assert_eq!(Value::Array(whole.clone()), want, "{sql}");
        for max in [1, 7, 1000] {
            assert_eq!(paged(&c, sql, &params, max, true), whole, "{sql} at {max} a page");
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} ORDER BY queries checked");
    let spills = dir.path().join("data/tmp/query");
    let left = std::fs::read_dir(&spills).map_or(0, |d| d.count());
    assert_eq!(left, 0, "a run or spill outlived its query");
}
