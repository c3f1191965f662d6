//! End-to-end tests of `strata backup policy|now|list|verify` and `strata restore`: each runs the
//! built executable with `--output json` against a fresh --data and --home.

mod common;

use common::Env;
use serde_json::json;

#[test]
fn backup_now_list_verify_and_restore() {
    let env = Env::with_container("/pk");
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"one","pk":"a","n":1}"#,
    ]);
    let dir = env.path("backups");
    let dir_arg = env.arg(&dir);

    let policy = env.ok(&[
        "backup",
        "policy",
        "--interval-hours",
        "2",
        "--retention-hours",
        "24",
    ]);
    assert_eq!(
        (policy["intervalHours"].clone(), policy["statusCode"].clone()),
        (json!(2), json!(200))
    );
    let bad = env.run(&[
        "backup",
        "policy",
        "--interval-hours",
        "6",
        "--retention-hours",
        "6",
    ]);
    bad.code(1);
    assert_eq!(bad.json()["statusCode"], json!(400));

    let taken = env.ok(&["backup", "now", "--backup-dir", dir_arg]);
    assert_eq!(taken["statusCode"], json!(201));
    let path = taken["path"].as_str().unwrap().to_string();
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"two","pk":"a","n":2}"#,
    ]);

    let listed = env.ok(&["backup", "list", "--backup-dir", dir_arg]);
    let rows = listed["backups"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["id"], taken["id"]);

    let verified = env.ok(&["backup", "verify", &path]);
    assert_eq!(verified["state"], json!("intact"));

    let to = env.path("restored");
    let restored = env.ok(&["restore", "--from", &path, "--to", env.arg(&to)]);
    assert_eq!(
        (restored["statusCode"].clone(), restored["account"].clone()),
        (json!(201), json!("acct"))
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--data")
        .arg(&to)
        .arg("--home")
        .arg(env.path("home"))
        .env_remove("STRATA_HOME")
        .args(["--output", "json", "query", "d", "c", "SELECT c.id FROM c"])
        .output()
        .unwrap();
    let page = common::finish(out).json();
    assert_eq!(page["items"], json!([{"id": "one"}]), "{page}");

    // A second restore into the now non-empty directory is refused.
    let again = env.run(&["restore", "--from", &path, "--to", env.arg(&to)]);
    again.code(1);
    assert_eq!(again.json()["statusCode"], json!(409));

    // A flipped byte is reported with the file.
    let catalog = std::path::Path::new(&path).join("CATALOG");
    let mut bytes = std::fs::read(&catalog).unwrap();
    bytes[30] ^= 1;
    std::fs::write(&catalog, bytes).unwrap();
    let damaged = env.run(&["backup", "verify", &path]);
    assert_ne!(damaged.code, 0);
    let err = damaged.json();
    assert_eq!(err["statusCode"], json!(500), "{err}");
    assert!(err.to_string().contains("CATALOG"), "{err}");
}
