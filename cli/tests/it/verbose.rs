//! Errors as printed by the real binary: one line `error: STATUS[.SUBSTATUS] message` and a
//! `hint:` line by default; `-v` / `--verbose` adds the details (request charge, data directory,
//! home, the engine error's debug form), in text and as a `details` object in JSON.

use crate::common;

use common::Env;

const GET_MISSING: [&str; 7] = ["item", "get", "d", "c", "nope", "--pk", "a"];

#[test]
fn default_error_is_one_line_and_a_hint() {
    let env = Env::with_container("/t");
    let mut args = vec!["--output", "table"];
    args.extend(GET_MISSING);
    let run = env.run(&args);
    let lines: Vec<&str> = run.code(1).stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    assert!(
        lines[0].starts_with("error: 404 ") && lines[0].contains("item 'nope'"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains("strata ls"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("dataDir"), "{run:?}");

    let revoked = Env::new();
    let uri = revoked.ok(&["vault", "key", "create", "k", "--size", "2048"])["keyUri"]
        .as_str()
        .expect("keyUri")
        .to_string();
    revoked.ok(&["init", "--account", "acct", "--cmk", &uri]);
    revoked.ok(&["vault", "key", "disable", "k"]);
    let run = revoked.run(&["--output", "table", "db", "list"]);
    assert!(run.code(3).stderr.starts_with("error: 403.4002 "), "{run:?}");
    assert!(
        run.stderr.contains("hint: the customer key is not available"),
        "{run:?}"
    );
}

#[test]
fn verbose_adds_details() {
    let env = Env::with_container("/t");
    let mut args = vec!["--output", "table"];
    args.extend(GET_MISSING);
    args.push("-v");
    let run = env.run(&args);
    let text = &run.code(1).stderr;
    assert!(text.starts_with("error: 404 "), "{run:?}");
    let data = env.path("data").display().to_string();
    let home = env.path("home").display().to_string();
    for want in [
        "hint: ".to_string(),
        "  requestCharge: ".to_string(),
        format!("  dataDir: {data}"),
        format!("  home: {home}"),
        "NotFound(\"item 'nope'".to_string(),
    ] {
        assert!(text.contains(&want), "no {want:?} in {run:?}");
    }

    let mut args = vec!["--verbose"];
    args.extend(GET_MISSING);
    let v = env.run(&args).code(1).json();
    assert_eq!(v["statusCode"], 404);
    let d = &v["details"];
    assert_eq!(
        (d["dataDir"].as_str(), d["home"].as_str()),
        (Some(data.as_str()), Some(home.as_str())),
        "{v}"
    );
    assert!(d["hint"].is_string() && d["requestCharge"].is_number(), "{v}");
    assert!(
        d["chain"][0].as_str().is_some_and(|s| s.contains("NotFound(")),
        "{v}"
    );
    // Without -v the JSON shape is unchanged.
    assert!(env.run(&GET_MISSING).code(1).json().get("details").is_none());
}
