//! Hostile input through the public API is refused with the documented status and substatus, and
//! a refused request writes nothing: every row runs against a populated account (service-managed
//! or customer-managed) and the data directory and the vault (but for its audit log, which records
//! refusals by design) are byte-for-byte unchanged after it, the seeded item keeps its etag, and
//! the item a refused write named still reads 404. Also: the nesting limit and edited continuation
//! tokens, and two regressions (non-finite partition keys, items nested exactly 128 levels).
//!
//! Rows: malformed / oversized / deeply nested items, bad ids, reserved `__sys_` fields,
//! CMK-reserved system properties, bad partition-key values and mismatches, bad queries, bad
//! continuation tokens, unknown database / container, invalid throughput, bad names, bad key URIs,
//! bad vault policies, principals, permissions and key sizes, bad indexing policies, queries the
//! indexing policy refuses, deletes of what does not exist.
//!
//! The same inputs through the CLI are not run here: the `strata` binary is only guaranteed to be
//! built (and current) for the cli crate's own tests (`CARGO_BIN_EXE_strata`); cli/tests/it/cli.rs
//! and cli/tests/it/exit_codes.rs cover the CLI's mapping of these errors to exit codes and JSON.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use strata::{
    substatus, Account, AccountOptions, Container, ContainerOptions, DatabaseOptions, Encryption, Error,
    Identities, IndexingPolicy, ItemOptions, KeyUri, LocalVault, PartitionKey, Permission, Principal,
    QueryOptions,
};

const PK: &str = "tenant";

struct Fx {
    _tmp: tempfile::TempDir,
    opts: AccountOptions,
    account: Account,
    c: Container,
    vault: LocalVault,
    /// The etag of the seeded item ("seed", partition "tenant").
    seed_etag: String,
}

fn fixture(cmk: bool) -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let enc = common::encryption(&opts, cmk, "hostile");
    let account = Account::create(opts.clone(), "acct", enc).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    let seed_etag = c
        .create_item(PK, &json!({"id": "seed", "pk": PK, "n": 1}))
        .unwrap()
        .etag
        .unwrap();
    account.flush().unwrap();
    c.create_item(PK, &json!({"id": "seed2", "pk": PK, "n": 2}))
        .unwrap();
    let vault = LocalVault::open(&opts.vault_dir()).unwrap();
    Fx {
        _tmp: tmp,
        opts,
        account,
        c,
        vault,
        seed_etag,
    }
}

type Op = Box<dyn Fn(&Fx) -> Result<(), Error>>;

/// One hostile request: what it is, the expected (status, substatus), and the call.
struct Row {
    what: String,
    status: u16,
    sub: u32,
    op: Op,
    /// An item `(pk, id)` the request tried to write, which must still not exist afterwards.
    absent: Option<(PartitionKey, String)>,
}

fn row(what: &str, status: u16, sub: u32, op: impl Fn(&Fx) -> Result<(), Error> + 'static) -> Row {
    Row {
        what: what.to_string(),
        status,
        sub,
        op: Box::new(op),
        absent: None,
    }
}

/// A create, upsert and replace of `item` under partition key `pk`, each expected to fail with
/// `status`; afterwards `(pk, absent_id)` must still read 404.
fn item_rows(what: &str, status: u16, pk: PartitionKey, item: Value, absent_id: Option<&str>) -> Vec<Row> {
    item_rows_of(
        &["create", "upsert", "replace"],
        what,
        status,
        pk,
        item,
        absent_id,
    )
}

/// As `item_rows`, for the write kinds listed.
fn item_rows_of(
    kinds: &[&'static str],
    what: &str,
    status: u16,
    pk: PartitionKey,
    item: Value,
    absent_id: Option<&str>,
) -> Vec<Row> {
    let mut out = Vec::new();
    for &kind in kinds {
        let (pk2, item2) = (pk.clone(), item.clone());
        let op = move |f: &Fx| -> Result<(), Error> {
            match kind {
                "create" => f.c.create_item(pk2.clone(), &item2).map(drop),
                "upsert" => f.c.upsert_item(pk2.clone(), &item2).map(drop),
                _ => f.c.replace_item(pk2.clone(), &item2).map(drop),
            }
        };
        let mut r = row(&format!("{kind}: {what}"), status, 0, op);
        r.absent = absent_id.map(|id| (pk.clone(), id.to_string()));
        out.push(r);
    }
    out
}

fn nested(depth: usize) -> Value {
    let mut v = json!("leaf");
    for _ in 0..depth {
        v = json!({ "d": v });
    }
    v
}

fn q(sql: &str, params: Vec<(&str, Value)>, opts: QueryOptions) -> impl Fn(&Fx) -> Result<(), Error> {
    let sql = sql.to_string();
    let params: Vec<(String, Value)> = params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    move |f: &Fx| f.c.query_items(&sql, &params, &opts).map(drop)
}

fn continuation(token: &str) -> QueryOptions {
    QueryOptions {
        continuation: Some(token.to_string()),
        ..QueryOptions::default()
    }
}

/// The rows valid in any account.
fn common_rows(other_query_token: String) -> Vec<Row> {
    let mut rows = Vec::new();
    let s = |v: &str| PartitionKey::from(v);

    // Malformed items.
    rows.extend(item_rows("item is an array", 400, s(PK), json!([1, 2]), None));
    rows.extend(item_rows("item is a string", 400, s(PK), json!("x"), None));
    rows.extend(item_rows("item is null", 400, s(PK), Value::Null, None));
    for kind in ["create", "upsert"] {
        // A map with non-string keys cannot become a JSON object.
        rows.push(row(
            &format!("{kind}: item does not serialize"),
            400,
            0,
            move |f| {
                let m: BTreeMap<(i32, i32), i32> = [((1, 2), 3)].into_iter().collect();
                match kind {
                    "create" => f.c.create_item(PK, &m).map(drop),
                    _ => f.c.upsert_item(PK, &m).map(drop),
                }
            },
        ));
    }
    // A replace of a missing item answers 404 before it looks at the size, so the 413 rows are
    // creates and upserts, plus a replace of the seeded item.
    let big = "x".repeat(2 * 1024 * 1024);
    let big2 = big.clone();
    rows.push(row(
        "replace: seeded item with an over-2 MB body",
        413,
        0,
        move |f| {
            f.c.replace_item(PK, &json!({"id": "seed", "pk": PK, "b": big2}))
                .map(drop)
        },
    ));
    rows.extend(item_rows_of(
        &["create", "upsert"],
        "item over 2 MB",
        413,
        s(PK),
        json!({"id": "big", "pk": PK, "b": big}),
        Some("big"),
    ));
    // Just under the raw limit, but over it once system properties are added.
    let edge = "y".repeat(2 * 1024 * 1024 - 40);
    rows.extend(item_rows_of(
        &["create", "upsert"],
        "item at the limit before system properties",
        413,
        s(PK),
        json!({"id": "edge", "pk": PK, "b": edge}),
        Some("edge"),
    ));
    for depth in [129, 200, 1000] {
        rows.extend(item_rows(
            &format!("item nested {depth} deep"),
            400,
            s(PK),
            json!({"id": format!("deep{depth}"), "pk": PK, "n": nested(depth)}),
            Some(&format!("deep{depth}")),
        ));
    }
    rows.extend(item_rows(
        "array nesting 200 deep",
        400,
        s(PK),
        json!({"id": "deeparr", "pk": PK, "n": (0..200).fold(json!(1), |v, _| json!([v]))}),
        Some("deeparr"),
    ));

    // Bad ids.
    rows.extend(item_rows("missing id", 400, s(PK), json!({"pk": PK}), None));
    rows.extend(item_rows(
        "numeric id",
        400,
        s(PK),
        json!({"id": 7, "pk": PK}),
        None,
    ));
    rows.extend(item_rows(
        "null id",
        400,
        s(PK),
        json!({"id": null, "pk": PK}),
        None,
    ));
    rows.extend(item_rows(
        "object id",
        400,
        s(PK),
        json!({"id": {"a": 1}, "pk": PK}),
        None,
    ));
    rows.extend(item_rows(
        "empty id",
        400,
        s(PK),
        json!({"id": "", "pk": PK}),
        None,
    ));
    let long = "i".repeat(1024);
    rows.extend(item_rows(
        "id of 1024 bytes",
        400,
        s(PK),
        json!({"id": long, "pk": PK}),
        None,
    ));
    let long_multibyte = "é".repeat(512); // 512 characters, 1024 bytes
    rows.extend(item_rows(
        "id of 512 two-byte characters",
        400,
        s(PK),
        json!({"id": long_multibyte, "pk": PK}),
        None,
    ));
    rows.extend(item_rows(
        "id with /",
        400,
        s(PK),
        json!({"id": "a/b", "pk": PK}),
        None,
    ));
    rows.extend(item_rows(
        "id with \\",
        400,
        s(PK),
        json!({"id": "a\\b", "pk": PK}),
        None,
    ));

    // Reserved fields.
    rows.extend(item_rows(
        "__sys_ field",
        400,
        s(PK),
        json!({"id": "sys", "pk": PK, "__sys_x": 1}),
        Some("sys"),
    ));
    rows.extend(item_rows(
        "ttl as a string",
        400,
        s(PK),
        json!({"id": "ttl", "pk": PK, "ttl": "10"}),
        Some("ttl"),
    ));
    rows.extend(item_rows(
        "ttl zero",
        400,
        s(PK),
        json!({"id": "ttl0", "pk": PK, "ttl": 0}),
        Some("ttl0"),
    ));

    // Bad partition-key values and mismatches.
    rows.extend(item_rows(
        "partition key is an object",
        400,
        s(PK),
        json!({"id": "pko", "pk": {"a": 1}}),
        None,
    ));
    rows.extend(item_rows(
        "partition key is an array",
        400,
        s(PK),
        json!({"id": "pka", "pk": [1]}),
        None,
    ));
    rows.extend(item_rows(
        "partition key mismatch",
        400,
        s("other"),
        json!({"id": "mm", "pk": PK}),
        Some("mm"),
    ));
    rows.extend(item_rows(
        "partition key given, item has none",
        400,
        s(PK),
        json!({"id": "nopk"}),
        Some("nopk"),
    ));
    rows.extend(item_rows(
        "NaN partition key given",
        400,
        PartitionKey::from(f64::NAN),
        json!({"id": "nan", "pk": 1.5}),
        None,
    ));
    rows.extend(item_rows(
        "number vs string partition key",
        400,
        PartitionKey::from(1),
        json!({"id": "num", "pk": "1"}),
        Some("num"),
    ));
    let huge_pk = "p".repeat(70_000);
    rows.extend(item_rows(
        "partition key over 65,535 bytes",
        400,
        s(&huge_pk),
        json!({"id": "hpk", "pk": huge_pk}),
        None,
    ));
    // Reads and deletes with a non-finite partition key: see non_finite_partition_key_is_400.

    // Existing items: a stale If-Match, and writes through the wrong partition.
    for kind in ["replace", "upsert", "delete"] {
        rows.push(row(&format!("{kind} with a stale If-Match"), 412, 0, move |f| {
            let o = ItemOptions {
                if_match: Some("\"00000000-0000-0000-0000-000000000000\"".into()),
                ..ItemOptions::default()
            };
            let item = json!({"id": "seed", "pk": PK, "n": 99});
            match kind {
                "replace" => f.c.replace_item_with(PK, &item, &o).map(drop),
                "upsert" => f.c.upsert_item_with(PK, &item, &o).map(drop),
                _ => f.c.delete_item_with(PK, "seed", &o).map(drop),
            }
        }));
    }
    rows.push(row("create of an existing id", 409, 0, |f| {
        f.c.create_item(PK, &json!({"id": "seed", "pk": PK, "n": 99}))
            .map(drop)
    }));
    rows.push(row("replace of a missing item", 404, 0, |f| {
        f.c.replace_item(PK, &json!({"id": "ghost", "pk": PK})).map(drop)
    }));
    rows.push(row("delete of a missing item", 404, 0, |f| {
        f.c.delete_item(PK, "ghost").map(drop)
    }));
    rows.push(row("delete through another partition", 404, 0, |f| {
        f.c.delete_item("other", "seed").map(drop)
    }));
    rows.push(row("read with an empty id", 404, 0, |f| {
        f.c.read_item::<Value>(PK, "").map(drop)
    }));
    rows.push(row("read into the wrong type", 400, 0, |f| {
        f.c.read_item::<Vec<u8>>(PK, "seed").map(drop)
    }));

    // Bad queries.
    let none = QueryOptions::default;
    rows.push(row(
        "query: syntax error",
        400,
        0,
        q("SELECT * FROM c WHERE", vec![], none()),
    ));
    rows.push(row(
        "query: unknown function",
        400,
        0,
        q("SELECT VALUE NOPE(1) FROM c", vec![], none()),
    ));
    rows.push(row(
        "query: missing parameter",
        400,
        0,
        q("SELECT * FROM c WHERE c.id = @id", vec![], none()),
    ));
    rows.push(row("query: empty", 400, 0, q("", vec![], none())));
    rows.push(row(
        "query: NUL byte",
        400,
        0,
        q("SELECT \0 FROM c", vec![], none()),
    ));
    let deep_parens = format!("SELECT VALUE {}1{} FROM c", "(".repeat(200), ")".repeat(200));
    rows.push(row(
        "query: parentheses 200 deep",
        400,
        0,
        q(&deep_parens, vec![], none()),
    ));
    let deep_not = format!("SELECT * FROM c WHERE {} true", "NOT ".repeat(5000));
    rows.push(row("query: NOT 5000 deep", 400, 0, q(&deep_not, vec![], none())));
    let deep_arr = format!("SELECT VALUE {}1{}", "[".repeat(300), "]".repeat(300));
    rows.push(row(
        "query: array literal 300 deep",
        400,
        0,
        q(&deep_arr, vec![], none()),
    ));
    let unclosed = format!("SELECT VALUE {}", "(".repeat(10_000));
    rows.push(row(
        "query: 10,000 open parentheses",
        400,
        0,
        q(&unclosed, vec![], none()),
    ));
    let long_chain = format!("SELECT VALUE 1{} FROM c", " + 1".repeat(20_000));
    rows.push(row(
        "query: 20,000 chained additions",
        400,
        0,
        q(&long_chain, vec![], none()),
    ));
    let long_and = format!("SELECT * FROM c WHERE true{}", " AND true".repeat(20_000));
    rows.push(row(
        "query: 20,000 chained ANDs",
        400,
        0,
        q(&long_and, vec![], none()),
    ));
    let long_path = format!("SELECT VALUE c{} FROM c", ".a".repeat(20_000));
    rows.push(row(
        "query: property chain 20,000 long",
        400,
        0,
        q(&long_path, vec![], none()),
    ));
    let long_index = format!("SELECT VALUE c{} FROM c", "[0]".repeat(20_000));
    rows.push(row(
        "query: index chain 20,000 long",
        400,
        0,
        q(&long_index, vec![], none()),
    ));
    let calls = format!(
        "SELECT VALUE {}'a'{} FROM c",
        "LOWER(".repeat(500),
        ")".repeat(500)
    );
    rows.push(row(
        "query: function calls 500 deep",
        400,
        0,
        q(&calls, vec![], none()),
    ));
    let objs = format!("SELECT VALUE {}1{}", "{\"a\": ".repeat(300), "}".repeat(300));
    rows.push(row(
        "query: object literal 300 deep",
        400,
        0,
        q(&objs, vec![], none()),
    ));
    let minus = format!("SELECT VALUE {}1", "-".repeat(5000));
    rows.push(row("query: 5,000 unary minus", 400, 0, q(&minus, vec![], none())));
    rows.push(row(
        "query: parameter not supplied, another one is",
        400,
        0,
        q("SELECT * FROM c WHERE c.id = @a", vec![("@b", json!(1))], none()),
    ));
    rows.push(row(
        "query: parameter supplied twice",
        400,
        0,
        q(
            "SELECT * FROM c WHERE c.id = @a",
            vec![("@a", json!(1)), ("a", json!(2))],
            none(),
        ),
    ));
    rows.push(row(
        "query: max_item_count 0",
        400,
        0,
        q(
            "SELECT * FROM c",
            vec![],
            QueryOptions {
                max_item_count: Some(0),
                ..QueryOptions::default()
            },
        ),
    ));
    for (what, token) in [
        ("garbage", "not a token".to_string()),
        ("empty", String::new()),
        ("huge", "A".repeat(100_000)),
        ("base64 of JSON", "eyJ2IjoxfQ==".to_string()),
        ("from another query", other_query_token),
    ] {
        rows.push(row(
            &format!("query: {what} continuation token"),
            400,
            0,
            q("SELECT * FROM c", vec![], continuation(&token)),
        ));
    }

    // Unknown database / container.
    rows.push(row("read in an unknown database", 404, 0, |f| {
        f.account
            .database("nodb")
            .container("c")
            .read_item::<Value>(PK, "seed")
            .map(drop)
    }));
    rows.push(row("create in an unknown container", 404, 0, |f| {
        f.account
            .database("db")
            .container("nope")
            .create_item(PK, &json!({"id": "x", "pk": PK}))
            .map(drop)
    }));
    rows.push(row("query an unknown container", 404, 0, |f| {
        f.account
            .database("db")
            .container("nope")
            .query_items("SELECT * FROM c", &[], &QueryOptions::default())
            .map(drop)
    }));
    rows.push(row("create a container in an unknown database", 404, 0, |f| {
        f.account.database("nodb").create_container("c", "/pk").map(drop)
    }));
    rows.push(row("list containers of an unknown database", 404, 0, |f| {
        f.account.database("nodb").list_containers().map(drop)
    }));
    rows.push(row("set throughput of an unknown container", 404, 0, |f| {
        f.account
            .database("db")
            .container("nope")
            .set_throughput(Some(400))
            .map(drop)
    }));
    rows.push(row("create an existing database", 409, 0, |f| {
        f.account.create_database("db").map(drop)
    }));
    rows.push(row("create an existing container", 409, 0, |f| {
        f.account.database("db").create_container("c", "/pk").map(drop)
    }));

    // Invalid throughput.
    for ru in [0u32, 100, 399, 450, 1001] {
        rows.push(row(&format!("database throughput {ru}"), 400, 0, move |f| {
            f.account
                .create_database_with(&format!("tp{ru}"), DatabaseOptions { throughput: Some(ru) })
                .map(drop)
        }));
        rows.push(row(&format!("container throughput {ru}"), 400, 0, move |f| {
            f.account
                .database("db")
                .create_container_with(
                    &format!("tp{ru}"),
                    "/pk",
                    ContainerOptions {
                        throughput: Some(ru),
                        ..Default::default()
                    },
                )
                .map(drop)
        }));
        rows.push(row(&format!("set container throughput {ru}"), 400, 0, move |f| {
            f.c.set_throughput(Some(ru))
        }));
        rows.push(row(&format!("set database throughput {ru}"), 400, 0, move |f| {
            f.account.database("db").set_throughput(Some(ru))
        }));
    }

    // Bad names and partition-key paths.
    let long_name = "n".repeat(256);
    for name in [
        "",
        "a/b",
        "a\\b",
        "a?b",
        "a#b",
        "tab\there",
        "trailing ",
        &long_name,
    ] {
        let name = name.to_string();
        let n2 = name.clone();
        rows.push(row(&format!("database name {name:.20?}"), 400, 0, move |f| {
            f.account.create_database(&name).map(drop)
        }));
        rows.push(row(&format!("container name {n2:.20?}"), 400, 0, move |f| {
            f.account.database("db").create_container(&n2, "/pk").map(drop)
        }));
    }
    for path in ["", "pk", "/", "//a", "/a/", "/a b", "/\"a\""] {
        rows.push(row(&format!("partition-key path {path:?}"), 400, 0, move |f| {
            f.account.database("db").create_container("newc", path).map(drop)
        }));
    }

    // Bad key URIs, policies, principals, permissions, key sizes.
    for uri in [
        "",
        "hostile",
        "http://local.vault.local/keys/k",
        "https://local.vault.local/keys/",
        "https://local.vault.local/keys/a_b",
        "https://local.vault.local/keys/k/NOTHEX",
        "https://local.vault.local/keys/k/0123",
        "https://local.vault.local/secrets/k",
        "https://local.vault.local/keys/k/0123456789abcdef0123456789abcdef/extra",
    ] {
        rows.push(row(&format!("key URI {uri:?}"), 400, 0, move |_| {
            KeyUri::parse(uri).map(drop).map_err(strata::Error::from)
        }));
        rows.push(row(&format!("rotate to key URI {uri:?}"), 400, 0, move |f| {
            f.account.rotate_customer_key(Some(uri)).map(drop)
        }));
    }
    for p in [
        "",
        "admin",
        "system",
        "user:",
        "user:a b",
        "user:a/b",
        "system:a/b",
        "FIRST-PARTY",
    ] {
        rows.push(row(&format!("principal {p:?}"), 400, 0, move |_| {
            Principal::parse(p, None).map(drop).map_err(strata::Error::from)
        }));
    }
    rows.push(row(
        &format!("principal user: with {} characters", 65),
        400,
        0,
        |_| {
            Principal::parse(&format!("user:{}", "u".repeat(65)), None)
                .map(drop)
                .map_err(strata::Error::from)
        },
    ));
    // Names are matched case-insensitively and empty list elements are skipped, by design.
    for perms in ["", ",", " , ", "get,delete", "all", "get;list", "wrap"] {
        rows.push(row(&format!("permissions {perms:?}"), 400, 0, move |_| {
            Permission::parse_list(perms)
                .map(drop)
                .map_err(strata::Error::from)
        }));
    }
    rows.push(row("empty policy", 400, 0, |f| {
        f.vault
            .set_policy(&Principal::User("alice".into()), &[])
            .map_err(strata::Error::from)
    }));
    for bad in [
        r#"{"includedPaths":[{"path":"/a/?"}]}"#,
        r#"{"indexingMode":"lazy"}"#,
        r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"}]]}"#,
        r#"{"includedPaths":[{"path":"/*"},{"path":"/x[0]/?"}]}"#,
        r#"{"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/*"}]}"#,
        r#"{"indexingMode":"none","includedPaths":[{"path":"/*"}]}"#,
        r#"{"includedPaths":[{"path":"/*"}],"spatialIndexes":[{"path":"/loc/?","types":["Circle"]}]}"#,
        r#"{"includedPaths":[{"path":"/*"}],"spatialIndexes":[{"path":"/loc/?","types":[]}]}"#,
        r#"{"includedPaths":[{"path":"/*"}],"spatialIndexes":[{"path":"/*","types":["Point"]}]}"#,
        "not json",
    ] {
        rows.push(row(&format!("indexing policy {bad}"), 400, 0, move |_| {
            IndexingPolicy::from_json(bad).map(drop)
        }));
    }
    // A policy built in code skips `from_json`: the container still refuses it, and neither the
    // policy nor the index generation changes.
    rows.push(row(
        "indexing policy without /*, set on a container",
        400,
        0,
        |f| {
            let p = IndexingPolicy {
                included_paths: Vec::new(),
                excluded_paths: Vec::new(),
                ..IndexingPolicy::default()
            };
            f.c.set_indexing_policy(p).map(drop)
        },
    ));
    rows.push(row(
        "container created with an invalid indexing policy",
        400,
        0,
        |f| {
            let opts = ContainerOptions {
                indexing_policy: Some(IndexingPolicy {
                    included_paths: Vec::new(),
                    ..IndexingPolicy::default()
                }),
                ..ContainerOptions::default()
            };
            f.account
                .database("db")
                .create_container_with("never", "/pk", opts)
                .map(drop)
        },
    ));
    rows.push(row("ORDER BY two paths without a composite index", 400, 0, |f| {
        f.c.query_items("SELECT * FROM c ORDER BY c.a, c.b", &[], &QueryOptions::default())
            .map(drop)
    }));
    rows.push(row("delete a container that does not exist", 404, 0, |f| {
        f.account.database("db").delete_container("never")
    }));
    rows.push(row("delete a database that does not exist", 404, 0, |f| {
        f.account.delete_database("never")
    }));
    // The vault does not know the identities; the CLI asks `Identities::require` before it
    // sets a policy for a user-assigned identity.
    rows.push(row("policy for a user never created", 404, 0, |f| {
        Identities::new(&f.opts.home)
            .require(&Principal::User("nobody".into()))
            .map_err(strata::Error::from)
    }));
    rows.push(row("remove a policy that does not exist", 404, 0, |f| {
        f.vault
            .remove_policy(&Principal::User("nobody2".into()))
            .map_err(strata::Error::from)
    }));
    for bits in [0usize, 1024, 2047, 8192] {
        rows.push(row(&format!("RSA key of {bits} bits"), 400, 0, move |f| {
            f.vault
                .create_key(&format!("k{bits}"), bits)
                .map(drop)
                .map_err(strata::Error::from)
        }));
    }
    for name in ["", "a/b", "a_b", "a.b"] {
        rows.push(row(&format!("vault key name {name:?}"), 400, 0, move |f| {
            f.vault
                .create_key(name, 2048)
                .map(drop)
                .map_err(strata::Error::from)
        }));
    }
    rows.push(row("disable a missing key", 404, 0, |f| {
        f.vault
            .set_enabled("ghost", None, false)
            .map_err(strata::Error::from)
    }));
    rows.push(row("delete a missing key", 404, 0, |f| {
        f.vault.delete_key("ghost").map_err(strata::Error::from)
    }));
    rows
}

/// A continuation token of a different query over the same container.
fn token_of_another_query(f: &Fx) -> String {
    let r =
        f.c.query_items(
            "SELECT * FROM c WHERE c.n > 0",
            &[],
            &QueryOptions {
                max_item_count: Some(1),
                ..QueryOptions::default()
            },
        )
        .unwrap();
    r.continuation.expect("two items, one per page: a token")
}

fn vault_snapshot(f: &Fx) -> BTreeMap<PathBuf, Vec<u8>> {
    // The audit log records refused calls by design; everything else must stay put.
    common::snapshot(&f.opts.vault_dir())
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().contains("audit"))
        .collect()
}

fn run_rows(f: &Fx, rows: Vec<Row>) -> usize {
    let n = rows.len();
    let mut failures = Vec::new();
    for r in rows {
        let data_before = common::snapshot(&f.opts.data_dir);
        let vault_before = vault_snapshot(f);
        match (r.op)(f) {
            Ok(()) => failures.push(format!("{}: succeeded", r.what)),
            Err(e) => {
                if (e.status(), e.substatus()) != (r.status, r.sub) {
                    failures.push(format!(
                        "{}: expected {}.{}, got {}.{}: {e}",
                        r.what,
                        r.status,
                        r.sub,
                        e.status(),
                        e.substatus()
                    ));
                }
                let msg = e.to_string();
                if msg.len() > 4096 {
                    failures.push(format!("{}: message of {} bytes", r.what, msg.len()));
                }
            }
        }
        if common::snapshot(&f.opts.data_dir) != data_before {
            failures.push(format!("{}: the data directory changed", r.what));
        }
        if vault_snapshot(f) != vault_before {
            failures.push(format!("{}: the vault changed", r.what));
        }
        if let Some((pk, id)) = &r.absent {
            match f.c.read_item::<Value>(pk.clone(), id) {
                Err(e) if e.status() == 404 => {}
                other => failures.push(format!(
                    "{}: {id} after the refusal: {:?}",
                    r.what,
                    other.map(|r| r.item)
                )),
            }
        }
        let seed = f.c.read_item::<Value>(PK, "seed").unwrap();
        if seed.etag.as_deref() != Some(f.seed_etag.as_str()) || seed.item.as_ref().unwrap()["n"] != 1 {
            failures.push(format!("{}: the seeded item changed", r.what));
        }
    }
    // The catalog is unchanged too.
    assert_eq!(f.account.list_databases().unwrap(), vec!["db".to_string()]);
    let cs: Vec<String> = f
        .account
        .database("db")
        .list_containers()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cs, vec!["c".to_string()]);
    let count =
        f.c.query_items("SELECT VALUE COUNT(1) FROM c", &[], &QueryOptions::default())
            .unwrap();
    assert_eq!(count.items, vec![json!(2)]);
    assert!(
        failures.is_empty(),
        "{} of {n} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    n
}

#[test]
fn hostile_requests_in_a_service_managed_account_are_refused_and_write_nothing() {
    let f = fixture(false);
    let token = token_of_another_query(&f);
    let mut rows = common_rows(token);
    // A service-managed account may carry the CMK-reserved names as ordinary properties (they
    // are overwritten by the stamping), so no row for them here; rotation is a 400 of its own.
    rows.push(row("rotate a service-managed account's key", 400, 0, |f| {
        f.account.rotate_customer_key(None).map(drop)
    }));
    let n = run_rows(&f, rows);
    eprintln!("{n} hostile requests refused (service-managed)");
    // Every handle (the container holds the account open) is closed before the reopen.
    let Fx {
        _tmp,
        opts,
        account,
        c,
        vault,
        seed_etag,
    } = f;
    drop((account, c, vault));
    let account = Account::open(opts).unwrap();
    let seed = account
        .database("db")
        .container("c")
        .read_item::<Value>(PK, "seed")
        .unwrap();
    assert_eq!(seed.etag.as_deref(), Some(seed_etag.as_str()));
}

#[test]
fn hostile_requests_in_a_customer_managed_account_are_refused_and_write_nothing() {
    let f = fixture(true);
    let token = token_of_another_query(&f);
    let mut rows = common_rows(token);
    for prop in ["_ts", "_etag", "_rid", "_self", "_attachments", "_epk"] {
        rows.extend(item_rows(
            &format!("CMK-reserved {prop}"),
            400,
            PartitionKey::from(PK),
            json!({"id": "reserved", "pk": PK, prop: "x"}),
            Some("reserved"),
        ));
    }
    rows.push(row(
        "rotate to a key that does not exist",
        403,
        substatus::KEY_NOT_FOUND,
        |f| {
            f.account
                .rotate_customer_key(Some("https://local.vault.local/keys/ghost"))
                .map(drop)
        },
    ));
    let n = run_rows(&f, rows);
    eprintln!("{n} hostile requests refused (customer-managed)");
}

#[test]
fn account_create_with_a_bad_key_uri_leaves_no_account_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    LocalVault::open(&opts.vault_dir())
        .unwrap()
        .create_key("real", 2048)
        .unwrap();
    let cases: &[(&str, u16, u32)] = &[
        ("", 400, 0),
        ("not a uri", 400, 0),
        ("https://local.vault.local/keys/", 400, 0),
        ("https://local.vault.local/keys/bad_name", 400, 0),
        ("https://local.vault.local/keys/real/zz", 400, 0),
        (
            "https://local.vault.local/keys/ghost",
            403,
            substatus::KEY_NOT_FOUND,
        ),
        (
            "https://othervault.vault.local/keys/real",
            403,
            substatus::KEY_NOT_FOUND,
        ),
        (
            "https://local.vault.local/keys/real/0123456789abcdef0123456789abcdef",
            403,
            substatus::KEY_NOT_FOUND,
        ),
    ];
    for (uri, status, sub) in cases {
        let enc = Encryption::CustomerManaged {
            key_uri: uri.to_string(),
        };
        let e = Account::create(opts.clone(), "acct", enc).expect_err(uri);
        assert_eq!((e.status(), e.substatus()), (*status, *sub), "{uri:?}: {e}");
        let e = Account::open(opts.clone()).expect_err("no account must exist");
        assert_eq!(e.status(), 404, "{uri:?}: after the refusal, open says: {e}");
        assert!(!opts.data_dir.join("CATALOG").exists(), "{uri:?}");
    }
    // Bad account names are refused the same way.
    for name in ["", "a/b", "x ", &"a".repeat(256)] {
        let e = Account::create(opts.clone(), name, Encryption::ServiceManaged).expect_err(name);
        assert_eq!(e.status(), 400, "{name:?}: {e}");
        assert!(!opts.data_dir.join("CATALOG").exists(), "{name:?}");
    }
    // And a good one still works afterwards.
    Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
}

/// Documented (docs/errors.md, 400): "partition-key value ... a non-finite number". Writes are
/// refused, but a read, delete or single-partition query given a NaN or infinite partition key is
/// not: `partition_prefix` (engine/src/document/key.rs) encodes any f64 without checking it is
/// finite, so the call answers 404 / an empty page, and the 404 message prints the key as
/// "(none)" (`PartitionKey::to_json` maps NaN to `None`), which misleads the caller.
#[test]
fn non_finite_partition_key_is_400() {
    let f = fixture(false);
    for pk in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = f.c.read_item::<Value>(pk, "seed").expect_err("read");
        assert_eq!(e.status(), 400, "read with {pk}: {e}");
        let e = f.c.delete_item(pk, "seed").expect_err("delete");
        assert_eq!(e.status(), 400, "delete with {pk}: {e}");
        let opts = QueryOptions {
            partition_key: Some(PartitionKey::from(pk)),
            ..QueryOptions::default()
        };
        let r = f.c.query_items("SELECT * FROM c", &[], &opts);
        assert_eq!(r.map_err(|e| e.status()).err(), Some(400), "query with {pk}");
    }
}

/// An item the validator accepts stays usable: every depth from well under the limit up to the
/// first refused one either is refused with a 400 (and so is everything deeper), or is stored,
/// read back intact, found by a query over the container, and deletable — from the memtable and
/// from a segment. Nesting deeper than 128 levels is always refused.
///
/// Fails today: `check_depth` (engine/src/document/item.rs, `depth > MAX_DEPTH` with the item
/// itself at depth 1) accepts 128 nested levels of objects/arrays, but every read path parses the
/// stored item with `serde_json::from_slice` (`parse_stored`, engine/src/account/container.rs),
/// whose default recursion limit refuses the 128th level. So an item with exactly 128 levels is
/// acknowledged (201) and then can never be read (500 "a stored item does not parse as JSON:
/// recursion limit exceeded"), replaced, upserted or deleted (those parse the current version
/// too), and every query that scans its container answers 500 from then on.
#[test]
fn every_accepted_nesting_depth_reads_back_queries_and_deletes() {
    let f = fixture(false);
    let mut refused_from = None;
    for depth in 120..=130 {
        let id = format!("deep{depth}");
        let item = json!({"id": id, "pk": PK, "n": nested(depth)});
        match f.c.create_item(PK, &item) {
            Err(e) => {
                assert_eq!(e.status(), 400, "depth {depth}: {e}");
                refused_from.get_or_insert(depth);
                continue;
            }
            Ok(_) => assert!(refused_from.is_none(), "depth {depth} accepted after a refusal"),
        }
        for round in ["memtable", "segment"] {
            let back = f.c.read_item::<Value>(PK, &id);
            let back = back.unwrap_or_else(|e| panic!("depth {depth} ({round}): read: {e}"));
            assert_eq!(back.item.unwrap()["n"], item["n"], "depth {depth} ({round})");
            let q =
                f.c.query_items("SELECT VALUE c.id FROM c", &[], &QueryOptions::default());
            let q = q.unwrap_or_else(|e| panic!("depth {depth} ({round}): query: {e}"));
            assert!(q.items.contains(&json!(id)), "depth {depth} ({round})");
            f.account.flush().unwrap();
        }
        f.c.delete_item(PK, &id)
            .unwrap_or_else(|e| panic!("depth {depth}: delete: {e}"));
    }
    // 128 levels below the item itself is 129 in all: always over the limit.
    assert!(
        refused_from.is_some_and(|d| d <= 128),
        "refused from {refused_from:?}"
    );
}

/// Continuation tokens that were edited (any byte changed, cut short, lengthened, the JSON of an
/// older unsealed format, another query's token) are a 400, never another query's rows or a
/// panic; the untouched token still works afterwards. Tokens are sealed (docs/query.md), so an
/// edit of any field shows as a token that does not open.
#[test]
fn edited_continuation_tokens_are_400() {
    let f = fixture(false);
    let opts = |t: Option<String>| QueryOptions {
        max_item_count: Some(1),
        continuation: t,
        ..QueryOptions::default()
    };
    let sql = "SELECT * FROM c";
    let token =
        f.c.query_items(sql, &[], &opts(None))
            .unwrap()
            .continuation
            .unwrap();
    let other =
        f.c.query_items("SELECT * FROM c WHERE c.n >= 0", &[], &opts(None))
            .unwrap()
            .continuation
            .unwrap();
    let hex_encode = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let flip = |at: usize| -> String {
        let mut b = token.clone().into_bytes();
        b[at] = if b[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap()
    };
    let mut edited = vec![
        ("first byte".to_string(), flip(0)),
        ("a salt byte".to_string(), flip(10)),
        ("a body byte".to_string(), flip(token.len() / 2 + 4)),
        ("a tag byte".to_string(), flip(token.len() - 1)),
        ("cut short".to_string(), token[..token.len() - 2].to_string()),
        ("lengthened".to_string(), format!("{token}00")),
        ("another query's token".to_string(), other),
    ];
    for body in [
        json!({"v": 2, "h": "0000000000000000", "o": 1000}),
        json!({"v": 1, "h": "", "o": 1}),
    ] {
        edited.push((
            format!("unsealed {body}"),
            hex_encode(&serde_json::to_vec(&body).unwrap()),
        ));
    }
    edited.push(("odd length".into(), token[1..].to_string()));
    for (what, t) in edited {
        match f.c.query_items(sql, &[], &opts(Some(t))) {
            Err(e) => assert_eq!(e.status(), 400, "{what}: {e}"),
            Ok(r) => panic!("{what}: accepted, returned {:?}", r.items),
        }
    }
    let next = f.c.query_items(sql, &[], &opts(Some(token))).unwrap();
    assert_eq!(next.items.len(), 1);
}
