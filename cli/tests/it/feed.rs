//! `strata feed` through the real binary: both modes, paging with the printed continuation, a
//! 304 page that exits 0 with the same token, a partition-key feed range, and bad flags.

use crate::common;

use common::Env;
use serde_json::Value;

fn put(env: &Env, verb: &str, json: &str) {
    env.run(&["item", verb, "d", "c", "--json", json]).code(0);
}

#[test]
fn feed_pages_modes_ranges_and_304() {
    let env = Env::with_container("/t");
    put(&env, "create", r#"{"id":"1","t":"a","v":1}"#);
    put(&env, "create", r#"{"id":"2","t":"b","v":1}"#);
    put(&env, "upsert", r#"{"id":"1","t":"a","v":2}"#);
    env.run(&["item", "delete", "d", "c", "2", "--pk", "b"]).code(0);

    let latest = env.ok(&["feed", "d", "c"]);
    assert_eq!(latest["statusCode"], 200);
    let items = latest["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{latest}");
    assert_eq!(items[0]["v"], 2);

    // All versions, two per page, following the printed token to the end.
    let mut token: Option<String> = None;
    let mut ops = Vec::new();
    loop {
        let mut args = vec!["feed", "d", "c", "--mode", "all", "--max-items", "2"];
        if let Some(t) = &token {
            args.extend(["--continuation", t.as_str()]);
        }
        let page = env.ok(&args);
        let next = page["continuation"].as_str().unwrap().to_string();
        if page["statusCode"] == 304 {
            assert_eq!(Some(next), token, "a 304 returns the token it was given");
            break;
        }
        for r in page["items"].as_array().unwrap() {
            ops.push(r["metadata"]["operationType"].as_str().unwrap().to_string());
        }
        token = Some(next);
    }
    assert_eq!(ops, ["create", "create", "replace", "delete"]);

    let range = env.ok(&["feed", "d", "c", "--mode", "all", "--pk", "b"]);
    let ids: Vec<&Value> = range["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["metadata"]["id"])
        .collect();
    assert_eq!(ids, ["2", "2"]);

    let now = env.ok(&["feed", "d", "c", "--from-now"]);
    assert_eq!(now["statusCode"], 304);

    env.run(&["feed", "d", "c", "--mode", "sometimes"]).code(2);
    env.run(&["feed", "d", "c", "--continuation", "nonsense"]).code(1);
    env.run(&["feed", "d", "c", "--from-now", "--from-time", "5"])
        .code(2);
}
