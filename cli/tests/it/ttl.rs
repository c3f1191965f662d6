//! `strata container create --ttl` and `strata container set-ttl`: the settings printed,
//! 400 for invalid values (exit 1 from the store, exit 2 for an unparseable argument), and the
//! setting surviving between runs. Expiry itself is tested with a manual clock in tests/it/ttl.rs.

use crate::common;

use common::Env;
use serde_json::json;

#[test]
fn container_ttl_flags() {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    env.ok(&["db", "create", "d"]);
    let c = env.ok(&["container", "create", "d", "c", "--pk", "/k", "--ttl", "-1"]);
    assert_eq!(c["defaultTtl"], json!(-1));
    let plain = env.ok(&["container", "create", "d", "p", "--pk", "/k"]);
    assert!(plain.get("defaultTtl").is_none(), "{plain}");
    for bad in ["0", "-2"] {
        let r = env.run(&["container", "create", "d", "x", "--pk", "/k", "--ttl", bad]);
        r.code(1);
        assert_eq!(r.json()["statusCode"], json!(400), "{r:?}");
    }
    env.run(&["container", "create", "d", "x", "--pk", "/k", "--ttl", "soon"])
        .code(2);

    let set = env.ok(&["container", "set-ttl", "d", "c", "3600"]);
    assert_eq!(set["defaultTtl"], json!(3600));
    let set = env.ok(&["container", "set-ttl", "d", "p", "-1"]);
    assert_eq!(set["defaultTtl"], json!(-1));
    let off = env.ok(&["container", "set-ttl", "d", "p", "off"]);
    assert_eq!(off["defaultTtl"], json!("off"));
    let r = env.run(&["container", "set-ttl", "d", "c", "0"]);
    r.code(1);
    assert_eq!(r.json()["statusCode"], json!(400), "{r:?}");
    env.run(&["container", "set-ttl", "d", "c", "never"]).code(2);
    let r = env.run(&["container", "set-ttl", "d", "missing", "5"]);
    r.code(1);
    assert_eq!(r.json()["statusCode"], json!(404), "{r:?}");
    // Items with a ttl are accepted and, within their lifetime, readable.
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"1","k":"v","ttl":600}"#,
    ]);
    let got = env.ok(&["item", "get", "d", "c", "1", "--pk", "v"]);
    assert_eq!(got["item"]["ttl"], json!(600), "{got}");
}
