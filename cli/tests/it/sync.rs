//! `strata sync` and `strata conflicts` through the real binary: an edge and a central account
//! under one home, a custom-policy container created with `--conflict-policy custom`, a
//! conflicting edit on both sides, both-ways sync, the conflict listed on each side and deleted.

use crate::common;

use std::process::Command;

use common::{finish, Env, Run};
use serde_json::Value;

/// `strata --data <env>/<data> --home <env>/home --output json ARGS`.
fn run(env: &Env, data: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--data")
        .arg(env.path(data))
        .arg("--home")
        .arg(env.path("home"))
        .args(["--output", "json"])
        .args(args)
        .env_remove("STRATA_HOME")
        .output()
        .expect("run strata");
    finish(out)
}

fn ok(env: &Env, data: &str, args: &[&str]) -> Value {
    run(env, data, args).code(0).json()
}

#[test]
fn both_ways_sync_with_a_custom_policy_records_one_conflict_per_side() {
    let env = Env::new();
    for (data, name) in [("edge", "edge"), ("central", "central")] {
        ok(&env, data, &["init", "--account", name]);
    }
    ok(&env, "edge", &["db", "create", "shop"]);
    let created = ok(
        &env,
        "edge",
        &[
            "container",
            "create",
            "shop",
            "orders",
            "--pk",
            "/t",
            "--conflict-policy",
            "custom",
        ],
    );
    assert_eq!(created["conflictResolutionPolicy"]["mode"], "custom", "{created}");
    ok(
        &env,
        "edge",
        &[
            "item",
            "create",
            "shop",
            "orders",
            "--json",
            r#"{"id":"o1","t":"a","v":0}"#,
        ],
    );
    let (from, to) = (env.path("edge"), env.path("central"));
    let (from, to) = (from.to_str().unwrap(), to.to_str().unwrap());
    let first = ok(&env, "edge", &["sync", "--from", from, "--to", to, "--both-ways"]);
    assert_eq!(first["forward"]["applied"], 1, "{first}");
    assert_eq!(first["forward"]["containersCreated"], 1);

    ok(
        &env,
        "edge",
        &[
            "item",
            "upsert",
            "shop",
            "orders",
            "--json",
            r#"{"id":"o1","t":"a","v":"edge"}"#,
        ],
    );
    ok(
        &env,
        "central",
        &[
            "item",
            "upsert",
            "shop",
            "orders",
            "--json",
            r#"{"id":"o1","t":"a","v":"central"}"#,
        ],
    );
    let second = ok(&env, "edge", &["sync", "--from", from, "--to", to, "--both-ways"]);
    assert_eq!(second["forward"]["conflictsRecorded"], 1, "{second}");
    assert_eq!(second["back"]["conflictsRecorded"], 1);

    let listed = ok(&env, "central", &["conflicts", "shop", "orders"]);
    let conflicts = listed["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{listed}");
    assert_eq!(conflicts[0]["content"]["v"], "edge");
    assert_eq!(conflicts[0]["sourceAccount"], "edge");
    let id = conflicts[0]["id"].as_str().unwrap().to_string();
    ok(&env, "central", &["conflicts", "shop", "orders", "--delete", &id]);
    let listed = ok(&env, "central", &["conflicts", "shop", "orders"]);
    assert!(listed["conflicts"].as_array().unwrap().is_empty());
    run(&env, "central", &["conflicts", "shop", "orders", "--delete", &id]).code(1);
    // Each side kept its own version.
    let got = ok(
        &env,
        "central",
        &["item", "get", "shop", "orders", "o1", "--pk", "a"],
    );
    assert_eq!(got["item"]["v"], "central");

    run(
        &env,
        "edge",
        &[
            "container",
            "create",
            "shop",
            "x",
            "--pk",
            "/t",
            "--conflict-policy",
            "maybe",
        ],
    )
    .code(2);
    run(
        &env,
        "edge",
        &[
            "sync",
            "--from",
            from,
            "--to",
            env.path("nowhere").to_str().unwrap(),
        ],
    )
    .code(1);
}
