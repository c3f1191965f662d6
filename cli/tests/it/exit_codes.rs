//! Exit codes of the real binary (docs/cli.md): 0 ok, 1 request error, 2 usage error, 3 store
//! unavailable (403 key vault, key material not private, 423 data directory in use); and
//! `strata completions`.

use crate::common;

use std::io::Write;
use std::process::Stdio;

use common::Env;

#[test]
fn ok_request_and_usage_errors() {
    let env = Env::with_container("/t");
    env.run(&["db", "list"]).code(0);
    // Request errors: the store said no.
    assert_eq!(env.run(&["db", "create", "d"]).code(1).json()["statusCode"], 409);
    assert_eq!(
        env.run(&["item", "get", "d", "c", "nope", "--pk", "a"])
            .code(1)
            .json()["statusCode"],
        404
    );
    assert_eq!(
        env.run(&["query", "d", "c", "SELEKT"]).code(1).json()["statusCode"],
        400
    );
    // Usage errors: clap's, and flag values the CLI rejects before calling the store.
    for args in [
        &["db", "frobnicate"][..],
        &["item", "get", "d", "c", "x"],
        &["--output", "xml", "db", "list"],
        &["completions", "tcsh"],
        &["item", "create", "d", "c", "--json", "{oops"],
        &["query", "d", "c", "SELECT * FROM c", "--param", "nope"],
        &["--key-check-interval", "0", "db", "list"],
        &["--key-check-interval", "soon", "db", "list"],
    ] {
        let v = env.run(args).code(2).json();
        assert_eq!(v["statusCode"], 400, "{args:?}: {v}");
    }
    // In table mode a usage error is clap's text on stderr, still exit 2.
    let run = env.run(&["--output", "table", "db", "frobnicate"]);
    assert!(run.code(2).stdout.is_empty(), "{run:?}");
    // Help is not an error.
    let help = env.run(&["import", "--help"]);
    assert!(help.code(0).stdout.contains("Example"), "{help:?}");
}

#[test]
fn revoked_key_is_exit_3() {
    let env = Env::new();
    let uri = env.ok(&["vault", "key", "create", "k", "--size", "2048"])["keyUri"]
        .as_str()
        .expect("keyUri")
        .to_string();
    env.ok(&["init", "--account", "acct", "--cmk", &uri]);
    env.ok(&["vault", "key", "disable", "k"]);
    let v = env.run(&["db", "list"]).code(3).json();
    assert_eq!(
        (v["statusCode"].as_u64(), v["subStatus"].as_u64()),
        (Some(403), Some(4002))
    );
    env.ok(&["vault", "key", "enable", "k"]);
    env.run(&["db", "list"]).code(0);
    env.run(&["--key-check-interval", "30", "db", "list"]).code(0);
}

/// Key material that group or others can read is refused like a revoked key (403.4002, exit 3),
/// as ssh refuses such a private key; `chmod` makes the account usable again.
#[cfg(unix)]
#[test]
fn key_material_open_to_others_is_exit_3() {
    use std::os::unix::fs::PermissionsExt;
    let chmod = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    let env = Env::with_container("/t");
    let smk = env.path("home").join("service").join("smk");
    chmod(&smk, 0o644);
    let v = env.run(&["db", "list"]).code(3).json();
    assert_eq!(
        (v["statusCode"].as_u64(), v["subStatus"].as_u64()),
        (Some(403), Some(4002)),
        "{v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("chmod 600")),
        "{v}"
    );
    chmod(&smk, 0o600);
    env.run(&["db", "list"]).code(0);
}

#[test]
fn data_dir_in_use_is_exit_3() {
    let env = Env::with_container("/t");
    // An import reading a stdin that stays open holds the account open. A probe that takes the
    // lock at the very moment the holder opens makes the holder fail instead: then start again.
    for _attempt in 0..5 {
        let mut holder = env
            .bare()
            .args(["--output", "json", "import", "d", "c", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn import");
        let mut stdin = holder.stdin.take().expect("stdin");
        stdin
            .write_all(b"{\"id\":\"1\",\"t\":\"a\"}\n")
            .expect("write stdin");
        stdin.flush().expect("flush stdin");
        let mut saw_in_use = false;
        for _ in 0..200 {
            if holder.try_wait().expect("poll import").is_some() {
                break;
            }
            let run = env.run(&["db", "list"]);
            if run.code == 3 {
                assert_eq!(run.json()["statusCode"], 423, "{run:?}");
                saw_in_use = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        drop(stdin);
        let done = common::finish(holder.wait_with_output().expect("wait import"));
        if saw_in_use {
            assert_eq!(done.code(0).json()["itemsOk"], 1);
            env.run(&["db", "list"]).code(0);
            return;
        }
        assert_eq!(done.code, 3, "the holder failed otherwise: {done:?}");
    }
    panic!("never saw the data directory in use");
}

#[test]
fn completions_for_each_shell() {
    let env = Env::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef strata"),
        ("fish", "complete -c strata"),
    ] {
        let run = env.run(&["completions", shell]);
        run.code(0);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(300)]
        );
        assert!(
            run.stdout.contains("import") && run.stdout.contains("export"),
            "{shell}"
        );
    }
}
