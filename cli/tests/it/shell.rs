//! `strata shell` with a script piped to it: `use`, item statements, queries over all pages with
//! their RU charge, errors that do not end the session, and the exit code of a piped session.

use crate::common;

use common::Env;
use serde_json::json;

#[test]
fn scripted_session_in_json() {
    let env = Env::with_container("/t");
    let script = "\
containers
use d/c
create {\"id\":\"1\",\"t\":\"a\",\"q\":5}
upsert {\"id\":\"2\",\"t\":\"b\",\"q\":7}
-- a comment, then a blank line

SELECT c.id FROM c WHERE c.q > 6
get 1 a
delete 1 a
get 1 a
bogus
use d/nope
SELECT VALUE c.id FROM c
stats
exit
dbs
";
    let run = env.run_with_stdin(&["shell"], script);
    let lines = run.code(1).lines();
    let status: Vec<u64> = lines
        .iter()
        .map(|l| l["statusCode"].as_u64().unwrap_or(0))
        .collect();
    // exit ends the session: `dbs` after it never runs.
    assert_eq!(
        status,
        vec![400, 200, 201, 201, 200, 200, 204, 404, 400, 404, 200, 200],
        "{run:?}"
    );
    assert_eq!(
        lines[1],
        json!({"statusCode": 200, "database": "d", "container": "c"})
    );
    assert_eq!(lines[4]["items"], json!([{"id": "2"}]));
    for i in [2, 3, 4, 5, 6, 7] {
        assert!(
            lines[i]["requestCharge"].as_f64().is_some_and(|c| c > 0.0),
            "{}",
            lines[i]
        );
    }
    assert_eq!(lines[5]["item"]["q"], 5);
    // A failed `use` keeps the container picked before it.
    assert_eq!(lines[10]["items"], json!(["2"]));
    // `stats` sums what the session was charged in d/c (the 404 read included).
    let charged: f64 = [2, 3, 4, 5, 6, 7, 10]
        .iter()
        .map(|i| lines[*i]["requestCharge"].as_f64().unwrap_or(0.0))
        .sum();
    let row = &lines[11]["containers"][0];
    assert_eq!(row["container"], "d/c", "{}", lines[11]);
    assert!(
        (row["totalRu"].as_f64().unwrap() - charged).abs() < 0.02,
        "{row} vs {charged}"
    );
    assert_eq!(row["operations"], 7);
    assert_eq!(row["throttled"], 0);
}

#[test]
fn scripted_session_in_tables_and_clean_exit() {
    let env = Env::with_container("/t");
    env.ok(&[
        "item",
        "create",
        "d",
        "c",
        "--json",
        r#"{"id":"x1","t":"a","q":1}"#,
    ]);
    let run = env.run_with_stdin(
        &["--output", "table", "shell"],
        "use d/c\nSELECT c.id, c.q FROM c\n",
    );
    run.code(0);
    assert!(
        run.stdout.contains("x1") && run.stdout.contains("requestCharge: "),
        "{run:?}"
    );
    // Statements before `use` fail with a hint, in table mode on stderr.
    let run = env.run_with_stdin(&["--output", "table", "shell"], "get x1 a\n");
    assert!(run.code(1).stderr.contains("use DB/CONT"), "{run:?}");
}

#[test]
fn a_hierarchical_key_is_given_as_a_json_array() {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    env.ok(&["db", "create", "d"]);
    env.ok(&["container", "create", "d", "h", "--pk", "/t", "--pk", "/u"]);
    let script = "\
use d/h
create {\"id\":\"1\",\"t\":\"a\",\"u\":\"x\",\"q\":1}
get 1 [\"a\",\"x\"]
get 1 a
patch 1 [\"a\",\"x\"] [{\"op\":\"incr\",\"path\":\"/q\",\"value\":2}]
delete 1 [\"a\",\"x\"]
get 1 [\"a\",\"x\"]
";
    let lines = env.run_with_stdin(&["shell"], script).code(1).lines();
    let status: Vec<u64> = lines
        .iter()
        .map(|l| l["statusCode"].as_u64().unwrap_or(0))
        .collect();
    // A single value is not a full key of a hierarchical container: 400.
    assert_eq!(status, vec![200, 201, 200, 400, 200, 204, 404], "{lines:?}");
    assert_eq!(lines[4]["item"]["q"], 3);
}
