//! `strata ls` through the real binary: item counts and sizes beside the catalog's settings
//! (TTL, analytical tier, conflict policy), and the listing that stays readable while the
//! customer key is revoked (names and paths shown, counts null with a note, exit 0).

use crate::common;

use common::Env;
use serde_json::{json, Value};

/// The `ls` row of container `name`.
fn row(ls: &Value, name: &str) -> Value {
    ls["containers"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["container"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no row for {name}: {ls}"))
}

#[test]
fn counts_sizes_and_settings() {
    let env = Env::with_container("/t");
    env.ok(&["db", "create", "empty"]);
    env.ok(&[
        "container",
        "create",
        "d",
        "ttl",
        "--pk",
        "/t",
        "--ttl",
        "3600",
        "--conflict-policy",
        "custom",
    ]);
    env.ok(&[
        "container",
        "create",
        "d",
        "lww",
        "--pk",
        "/a/b",
        "--conflict-policy",
        "lww:/v",
    ]);
    for i in 0..5 {
        let body = json!({"id": format!("i{i}"), "t": "x", "pad": "y".repeat(i * 10)}).to_string();
        env.ok(&["item", "create", "d", "c", "--json", &body]);
    }
    // Deleted items do not count.
    env.ok(&["item", "delete", "d", "c", "i4", "--pk", "x"]);
    env.ok(&["item", "create", "d", "ttl", "--json", r#"{"id":"1","t":"a"}"#]);
    env.ok(&["analytics", "enable", "d", "ttl"]);

    let ls = env.ok(&["ls"]);
    let c = row(&ls, "c");
    assert_eq!(c["itemCount"], 4, "{ls}");
    let expected: u64 = (0..4)
        .map(|i| {
            env.ok(&["item", "get", "d", "c", &format!("i{i}"), "--pk", "x"])["item"]
                .to_string()
                .len() as u64
        })
        .sum();
    assert_eq!(c["bytes"], expected, "{ls}");
    assert_eq!(
        (
            &c["analytical"],
            &c["defaultTtl"],
            &c["conflictPolicy"],
            &c["note"]
        ),
        (&json!("off"), &json!("off"), &json!("lww:/_ts"), &Value::Null)
    );
    let t = row(&ls, "ttl");
    assert_eq!(
        (
            &t["itemCount"],
            &t["analytical"],
            &t["defaultTtl"],
            &t["conflictPolicy"]
        ),
        (&json!(1), &json!("on"), &json!(3600), &json!("custom")),
        "{ls}"
    );
    let l = row(&ls, "lww");
    assert_eq!(
        (&l["partitionKeyPath"], &l["conflictPolicy"], &l["itemCount"]),
        (&json!("/a/b"), &json!("lww:/v"), &json!(0))
    );
    let empty = ls["containers"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["database"] == "empty"))
        .cloned();
    assert_eq!(empty.map(|e| e["container"].clone()), Some(Value::Null), "{ls}");
    assert!(ls.get("note").is_none(), "{ls}");

    // The table names the columns.
    let table = env.run(&["--output", "table", "ls"]);
    assert!(table.code(0).stdout.contains("itemCount"), "{table:?}");
}

#[test]
fn readable_while_the_customer_key_is_revoked() {
    let env = Env::new();
    let uri = env.ok(&["vault", "key", "create", "k", "--size", "2048"])["keyUri"]
        .as_str()
        .expect("keyUri")
        .to_string();
    env.ok(&["init", "--account", "acct", "--cmk", &uri]);
    env.ok(&["db", "create", "d"]);
    env.ok(&["container", "create", "d", "c", "--pk", "/t", "--ttl", "-1"]);
    env.ok(&["item", "create", "d", "c", "--json", r#"{"id":"1","t":"a"}"#]);
    let before = env.ok(&["ls"]);
    assert_eq!(row(&before, "c")["itemCount"], 1, "{before}");
    assert_eq!(row(&before, "c")["encryption"], "customer-managed");
    assert_eq!(row(&before, "c")["keyUri"], json!(uri));

    env.ok(&["vault", "key", "disable", "k"]);
    env.run(&["db", "list"]).code(3);
    let ls = env.ok(&["ls"]);
    let c = row(&ls, "c");
    assert_eq!(
        (
            &c["database"],
            &c["partitionKeyPath"],
            &c["defaultTtl"],
            &c["encryption"]
        ),
        (&json!("d"), &json!("/t"), &json!(-1), &json!("customer-managed")),
        "{ls}"
    );
    assert_eq!(
        (&c["itemCount"], &c["bytes"]),
        (&Value::Null, &Value::Null),
        "{ls}"
    );
    for note in [&c["note"], &ls["note"]] {
        assert!(
            note.as_str()
                .is_some_and(|n| n.contains("customer key revoked (403.4002)")),
            "{ls}"
        );
    }
    assert_eq!(ls["account"], "acct");
    let table = env.run(&["--output", "table", "ls"]);
    assert!(table.code(0).stdout.contains("customer key revoked"), "{table:?}");

    env.ok(&["vault", "key", "enable", "k"]);
    assert_eq!(row(&env.ok(&["ls"]), "c")["itemCount"], 1);
}

#[test]
fn no_account_is_404_with_the_init_hint() {
    let env = Env::new();
    let v = env.run(&["ls"]).code(1).json();
    assert_eq!(v["statusCode"], 404);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("strata init")),
        "{v}"
    );
}

#[test]
fn a_container_with_its_own_key_is_listed_with_it_and_revoked_alone() {
    let env = Env::with_container("/t");
    let uri = env.ok(&["vault", "key", "create", "own", "--size", "2048"])["keyUri"]
        .as_str()
        .expect("keyUri")
        .to_string();
    let made = env.ok(&["container", "create", "d", "mine", "--pk", "/t", "--cmk", &uri]);
    assert_eq!(made["customerKey"], json!(uri), "{made}");
    env.ok(&["item", "create", "d", "mine", "--json", r#"{"id":"1","t":"a"}"#]);
    env.ok(&["item", "create", "d", "c", "--json", r#"{"id":"1","t":"a"}"#]);
    // Export reads it from its own store.
    let file = env.path("mine.jsonl");
    assert_eq!(env.ok(&["export", "d", "mine", env.arg(&file)])["items"], 1);
    let text = std::fs::read_to_string(&file).expect("read export");
    assert!(text.contains(r#""id":"1""#), "{text}");

    let list = env.ok(&["container", "list", "d"]);
    let keys: Vec<(&Value, &Value)> = list["containers"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (&r["name"], &r["customerKey"]))
        .collect();
    assert!(keys.contains(&(&json!("mine"), &json!(uri))), "{list}");
    assert!(keys.contains(&(&json!("c"), &json!("account"))), "{list}");

    let ls = env.ok(&["ls"]);
    let (mine, c) = (row(&ls, "mine"), row(&ls, "c"));
    assert_eq!(
        (&mine["encryption"], &mine["keyUri"], &mine["customerKey"]),
        (&json!("customer-managed"), &json!(uri), &json!(uri)),
        "{ls}"
    );
    assert_eq!(
        (&c["encryption"], &c["customerKey"]),
        (&json!("service-managed"), &json!("account")),
        "{ls}"
    );

    let rotated = env.ok(&["vault", "key", "rotate", "own"]);
    // A pinned key URI (as `vault key create` prints) moves to the new version with --to.
    let to = rotated["keyUri"].as_str().expect("keyUri");
    let r = env.ok(&["key", "rotate", "--container", "d/mine", "--to", to]);
    assert_eq!(r["kid"], rotated["keyUri"], "{r} {rotated}");

    // Its key disabled: that container alone is unavailable.
    env.ok(&["vault", "key", "disable", "own"]);
    env.run(&["item", "get", "d", "mine", "1", "--pk", "a"]).code(3);
    env.ok(&["item", "get", "d", "c", "1", "--pk", "a"]);
    let ls = env.ok(&["ls"]);
    assert_eq!(row(&ls, "c")["itemCount"], 1, "{ls}");
    assert_eq!(row(&ls, "mine")["itemCount"], Value::Null, "{ls}");
    assert!(
        row(&ls, "mine")["note"]
            .as_str()
            .is_some_and(|n| n.contains("403.4002")),
        "{ls}"
    );
    assert!(
        ls.get("note").is_none(),
        "the account itself is not revoked: {ls}"
    );
    let status = env.ok(&["key", "status"]);
    assert_eq!(status["state"], "active", "{status}");
    assert_eq!(
        (
            &status["containers"][0]["container"],
            &status["containers"][0]["state"]
        ),
        (&json!("d/mine"), &json!("revoked")),
        "{status}"
    );
}
