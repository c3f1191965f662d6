//! End-to-end tests of `strata backup policy|now|list|verify` and `strata restore`: each runs the
//! built executable with `--output json` against a fresh --data and --home.

use crate::common;

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
    assert_eq!(ids_at(&env, &to), json!([{"id": "one"}]));

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

/// `strata query d c` against another data directory (a restored account) under this home.
fn ids_at(env: &common::Env, data: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--data")
        .arg(data)
        .arg("--home")
        .arg(env.path("home"))
        .env_remove("STRATA_HOME")
        .args(["--output", "json", "query", "d", "c", "SELECT c.id FROM c"])
        .output()
        .unwrap();
    common::finish(out).json()["items"].clone()
}

#[test]
fn continuous_policy_status_and_restore_at_a_moment() {
    let env = Env::with_container("/pk");
    let item = |id: &str| {
        let body = format!(r#"{{"id":"{id}","pk":"a"}}"#);
        env.ok(&["item", "create", "d", "c", "--json", &body]);
    };
    item("one");
    let dir = env.path("backups");
    let dir_arg = env.arg(&dir);

    let on = env.ok(&["backup", "policy", "--continuous", "30", "--backup-dir", dir_arg]);
    assert_eq!(
        (on["tierDays"].clone(), on["mode"].clone()),
        (json!(30), json!("continuous")),
        "{on}"
    );
    assert!(
        on["latestRestorableTimestamp"].as_u64().unwrap()
            >= on["earliestRestorableTimestamp"].as_u64().unwrap()
    );
    assert!(on.get("warning").is_none(), "{on}");
    let lowered = env.ok(&["backup", "policy", "--continuous", "7", "--backup-dir", dir_arg]);
    assert_eq!(lowered["tierDays"], json!(7));
    assert!(
        lowered["warning"]
            .as_str()
            .unwrap()
            .contains("older than 7 days will be lost"),
        "{lowered}"
    );
    env.err_status(&["backup", "policy", "--continuous", "9"], 400, 0);
    // Periodic and continuous flags do not mix.
    assert_ne!(
        env.run(&["backup", "policy", "--continuous", "7", "--interval-hours", "4"])
            .code,
        0
    );

    item("two");
    let status = env.ok(&["backup", "status"]);
    assert_eq!(status["continuous"], json!("on"), "{status}");
    let at = status["latestRestorableTimestamp"].as_u64().unwrap();
    item("three");
    env.ok(&["backup", "status"]);

    let listed = env.ok(&["backup", "list", "--backup-dir", dir_arg]);
    assert!(
        listed["latestRestorableTimestamp"].as_u64().unwrap() > at,
        "{listed}"
    );
    assert!(!listed["backups"].as_array().unwrap().is_empty());

    let at_arg = at.to_string();
    let restore = |to: &str, at: &str, only: &[&str]| {
        let mut args = vec!["restore", "--from", dir_arg, "--to", to, "--at", at];
        args.extend_from_slice(only);
        env.run(&args)
    };
    let to = env.path("restored");
    let restored = restore(env.arg(&to), &at_arg, &[]).json();
    assert_eq!(
        (restored["statusCode"].clone(), restored["restoredAt"].clone()),
        (json!(201), json!(at))
    );
    assert_eq!(ids_at(&env, &to), json!([{"id": "one"}, {"id": "two"}]));

    // Only chosen containers; a moment before the backup began; a malformed moment.
    let only = env.path("only");
    restore(env.arg(&only), &at_arg, &["--only", "d/c"]).code(0);
    assert_eq!(ids_at(&env, &only), json!([{"id": "one"}, {"id": "two"}]));
    let early = env.path("early");
    let e = restore(env.arg(&early), "2000-01-01T00:00:00Z", &[])
        .code(1)
        .json();
    assert_eq!(e["statusCode"], json!(400), "{e}");
    assert!(e.to_string().contains("before continuous backup"), "{e}");
    assert_ne!(restore(env.arg(&early), "noon", &[]).code, 0);
    assert!(!early.exists());
}

#[test]
fn a_deleted_container_and_database_come_back_with_restore_deleted() {
    let env = Env::with_container("/pk");
    for id in ["one", "two"] {
        let body = format!(r#"{{"id":"{id}","pk":"a"}}"#);
        env.ok(&["item", "create", "d", "c", "--json", &body]);
    }
    let dir = env.path("backups");
    env.ok(&[
        "backup",
        "policy",
        "--continuous",
        "7",
        "--backup-dir",
        env.arg(&dir),
    ]);
    let at = env.ok(&["backup", "status"])["latestRestorableTimestamp"]
        .as_u64()
        .unwrap()
        .to_string();
    env.ok_status(&["container", "delete", "d", "c"], 204);
    env.err_status(&["container", "delete", "d", "c"], 404, 0);
    env.err_status(&["item", "get", "d", "c", "one", "--pk", "a"], 404, 0);
    env.ok(&["backup", "status"]);
    // The policy names the backup directory: no --backup-dir needed.
    let back = env.ok_status(&["backup", "restore-deleted", "d/c", "--at", &at], 201);
    assert_eq!(
        (back["containers"].clone(), back["items"].clone()),
        (json!(["d/c"]), json!(2)),
        "{back}"
    );
    env.ok(&["item", "get", "d", "c", "two", "--pk", "a"]);
    env.err_status(&["backup", "restore-deleted", "d/c", "--at", &at], 409, 0);
    // The database too.
    env.ok_status(&["db", "delete", "d"], 204);
    env.err_status(&["db", "delete", "d"], 404, 0);
    env.ok(&["backup", "status"]);
    let back = env.ok_status(&["backup", "restore-deleted", "d", "--at", &at], 201);
    assert_eq!(back["containers"], json!(["d/c"]), "{back}");
    let dbs = env.ok(&["db", "list"]);
    assert_eq!(dbs["databases"], json!(["d"]), "{dbs}");
}

#[test]
fn a_schedule_takes_periodic_backups_while_the_account_is_open() {
    let env = Env::with_container("/pk");
    env.ok(&["item", "create", "d", "c", "--json", r#"{"id":"one","pk":"a"}"#]);
    let dir = env.path("scheduled");
    let set = env.ok(&[
        "backup",
        "policy",
        "--interval-hours",
        "4",
        "--retention-hours",
        "8",
        "--schedule",
        env.arg(&dir),
    ]);
    assert_eq!(set["scheduleDir"], json!(env.arg(&dir)), "{set}");
    // The background thread took the first backup (none existed) before the command returned.
    let listed = env.ok(&["backup", "list", "--backup-dir", env.arg(&dir)]);
    assert_eq!(listed["backups"].as_array().map(Vec::len), Some(1), "{listed}");
    // Not due again within the interval: other commands take none.
    env.ok(&["item", "get", "d", "c", "one", "--pk", "a"]);
    let listed = env.ok(&["backup", "list", "--backup-dir", env.arg(&dir)]);
    assert_eq!(listed["backups"].as_array().map(Vec::len), Some(1), "{listed}");
    let status = env.ok(&["backup", "status"]);
    assert_eq!(status["scheduleDir"], json!(env.arg(&dir)), "{status}");
    let off = env.ok(&[
        "backup",
        "policy",
        "--interval-hours",
        "4",
        "--retention-hours",
        "8",
        "--no-schedule",
    ]);
    assert!(off.get("scheduleDir").is_none(), "{off}");
}
