//! `--output json|jsonl|csv|table` through the real binary for every command that returns rows
//! (query, item get, db list, container list, vault key list, ls), and no colour escapes when
//! stdout is not a terminal or NO_COLOR is set.

use crate::common;

use common::Env;
use serde_json::{json, Value};

/// An account with two items in d/c (partition key /t) and a second container.
fn env() -> Env {
    let env = Env::with_container("/t");
    env.ok(&["container", "create", "d", "other", "--pk", "/x/y"]);
    for body in [
        r#"{"id":"1","t":"a","note":"comma, and \"quote\""}"#,
        r#"{"id":"2","t":"b","n":{"k":[1,2]}}"#,
    ] {
        env.ok(&["item", "create", "d", "c", "--json", body]);
    }
    env
}

fn out(env: &Env, format: &str, args: &[&str]) -> common::Run {
    let mut all = vec!["--output", format];
    all.extend_from_slice(args);
    let run = env.run(&all);
    run.code(0);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "colour escape without a terminal: {run:?}"
    );
    run
}

const QUERY: &[&str] = &["query", "d", "c", "SELECT c.id, c.t, c.note, c.n FROM c"];

#[test]
fn query_in_every_format() {
    let env = env();
    let v = out(&env, "json", QUERY).json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(v["requestCharge"].is_number());

    let run = out(&env, "jsonl", QUERY);
    assert_eq!(
        run.lines(),
        vec![
            json!({"id": "1", "t": "a", "note": "comma, and \"quote\""}),
            json!({"id": "2", "t": "b", "n": {"k": [1, 2]}}),
        ]
    );
    assert!(run.stderr.contains("requestCharge: "), "{run:?}");

    let run = out(&env, "csv", QUERY);
    assert_eq!(
        run.stdout,
        "id,t,note,n\n1,a,\"comma, and \"\"quote\"\"\",\n2,b,,\"{\"\"k\"\":[1,2]}\"\n"
    );

    let run = out(&env, "table", QUERY);
    for text in ["id", "note", "comma, and \"quote\"", "requestCharge: "] {
        assert!(run.stdout.contains(text), "{text}: {run:?}");
    }
}

/// Columns come in the SELECT list's order, even when the first result lacks some of them;
/// without a SELECT list (`SELECT *`), in the first item's property order.
#[test]
fn columns_follow_the_select_list_then_the_item() {
    let env = env();
    let sql = ["query", "d", "c", "SELECT c.n, c.t, c.id FROM c"];
    let csv = out(&env, "csv", &sql).stdout;
    assert_eq!(csv.lines().next(), Some("n,t,id"), "{csv}");
    let table = out(&env, "table", &sql).stdout;
    let header = table
        .lines()
        .find(|l| l.contains("id"))
        .unwrap_or_default()
        .to_string();
    let at = |name: &str| {
        header
            .find(&format!(" {name} "))
            .unwrap_or_else(|| panic!("{name}: {table}"))
    };
    assert!(at("n") < at("t") && at("t") < at("id"), "{table}");

    let shaped = r#"{"zeta":1,"id":"x","t":"z","alpha":{"z":1,"a":2}}"#;
    env.ok(&["item", "create", "d", "c", "--json", shaped]);
    let csv = out(
        &env,
        "csv",
        &["query", "d", "c", "SELECT * FROM c WHERE c.t = 'z'"],
    )
    .stdout;
    assert!(csv.starts_with("zeta,id,t,alpha,_rid,"), "{csv}");
    assert!(csv.contains("\"{\"\"z\"\":1,\"\"a\"\":2}\""), "{csv}");
    // An export keeps the order too, with the system properties (which follow the item's own)
    // left out.
    let export = env.run(&["export", "d", "c"]);
    export.code(0);
    let line = r#"{"zeta":1,"id":"x","t":"z","alpha":{"z":1,"a":2}}"#;
    assert!(export.stdout.lines().any(|l| l == line), "{export:?}");
    let get = out(&env, "jsonl", &["item", "get", "d", "c", "x", "--pk", "z"]).stdout;
    assert!(
        get.starts_with(r#"{"zeta":1,"id":"x","t":"z","alpha":{"z":1,"a":2},"#),
        "{get}"
    );
}

#[test]
fn item_get_in_every_format() {
    let env = env();
    let get = ["item", "get", "d", "c", "2", "--pk", "b"];
    let v = out(&env, "json", &get).json();
    assert_eq!(v["item"]["n"], json!({"k": [1, 2]}));
    assert!(v["etag"].is_string());

    let lines = out(&env, "jsonl", &get).lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "2");
    assert!(lines[0]["_etag"].is_string());

    let csv = out(&env, "csv", &get).stdout;
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap_or_default().split(',').collect();
    assert!(header.contains(&"id") && header.contains(&"_etag"), "{csv}");
    assert_eq!(rows.count(), 1, "{csv}");

    let table = out(&env, "table", &get).stdout;
    assert!(table.contains("_etag") && table.contains("etag: "), "{table}");
}

#[test]
fn listings_in_every_format() {
    let env = env();
    assert_eq!(
        out(&env, "json", &["db", "list"]).json()["databases"],
        json!(["d"])
    );
    assert_eq!(
        out(&env, "jsonl", &["db", "list"]).lines(),
        vec![json!({"database": "d"})]
    );
    assert_eq!(out(&env, "csv", &["db", "list"]).stdout, "database\nd\n");
    assert!(out(&env, "table", &["db", "list"]).stdout.contains('d'));

    let list = ["container", "list", "d"];
    assert_eq!(
        out(&env, "jsonl", &list).lines(),
        vec![
            json!({"name": "c", "partitionKeyPath": "/t", "customerKey": "account"}),
            json!({"name": "other", "partitionKeyPath": "/x/y", "customerKey": "account"}),
        ]
    );
    assert_eq!(
        out(&env, "csv", &list).stdout,
        "name,partitionKeyPath,customerKey\nc,/t,account\nother,/x/y,account\n"
    );
    let table = out(&env, "table", &list).stdout;
    assert!(
        table.contains("/x/y") && table.contains("partitionKeyPath"),
        "{table}"
    );

    let ls = out(&env, "json", &["ls"]).json();
    assert_eq!(ls["encryption"], "service-managed");
    let row = |name: &str, count: u64| {
        json!({"database": "d", "container": name, "throughput": null, "encryption": "service-managed",
               "keyUri": null, "customerKey": "account", "analytical": "off", "defaultTtl": "off", "conflictPolicy": "lww:/_ts",
               "note": null, "itemCount": count})
    };
    let mut rows = ls["containers"].as_array().cloned().unwrap_or_default();
    for (r, pk) in rows.iter_mut().zip(["/t", "/x/y"]) {
        assert_eq!(r["partitionKeyPath"], pk, "{ls}");
        let o = r.as_object_mut().unwrap();
        o.remove("partitionKeyPath");
        assert!(o.remove("bytes").is_some_and(|b| b.is_u64()), "{ls}");
    }
    assert_eq!(rows, vec![row("c", 2), row("other", 0)], "{ls}");
    let csv = out(&env, "csv", &["ls"]).stdout;
    assert_eq!(
        csv.lines().next(),
        Some(
            "database,container,partitionKeyPath,itemCount,bytes,throughput,encryption,keyUri,customerKey,analytical,\
             defaultTtl,conflictPolicy,note"
        )
    );
    assert!(
        csv.contains("d,other,/x/y,0,0,,service-managed,,account,off,off,lww:/_ts,"),
        "{csv}"
    );
    let run = out(&env, "table", &["ls"]);
    assert!(run.stdout.contains("account: acct"), "{run:?}");
}

#[test]
fn vault_key_list_in_every_format() {
    let env = Env::new();
    env.ok(&["vault", "key", "create", "k1", "--size", "2048"]);
    let keys = out(&env, "json", &["vault", "key", "list"]).json()["keys"].clone();
    assert_eq!(keys[0]["name"], "k1");
    let lines = out(&env, "jsonl", &["vault", "key", "list"]).lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["bits"], 2048);
    let csv = out(&env, "csv", &["vault", "key", "list"]).stdout;
    assert!(
        csv.starts_with("name,version,bits,enabled,deleted,created,nbf,exp,keyUri\nk1,"),
        "{csv}"
    );
    assert!(out(&env, "table", &["vault", "key", "list"])
        .stdout
        .contains("k1"));
}

#[test]
fn no_colour_with_no_color_and_errors_stay_plain() {
    let env = env();
    let run = common::finish(
        env.bare()
            .env("NO_COLOR", "1")
            .args(["--output", "table", "item", "get", "d", "c", "9", "--pk", "a"])
            .output()
            .expect("run strata"),
    );
    run.code(1);
    assert!(run.stderr.starts_with("error: "), "{run:?}");
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stdout.contains('\u{1b}'),
        "{run:?}"
    );
    // csv errors go to stderr too; jsonl errors are a JSON object on stdout.
    let csv = env.run(&["--output", "csv", "item", "get", "d", "c", "9", "--pk", "a"]);
    assert!(
        csv.code(1).stdout.is_empty() && csv.stderr.starts_with("error: 404 "),
        "{csv:?}"
    );
    let jsonl = env.run(&["--output", "jsonl", "item", "get", "d", "c", "9", "--pk", "a"]);
    let v: Value = jsonl.code(1).json();
    assert_eq!(v["statusCode"], 404);
}
