//! The README's "five-minute tour of the CLI" stays true: its ```sh blocks are run, as written,
//! by `sh` with the built `strata` first on PATH, in a scratch directory (the tour's
//! `/tmp/strata-home` and `/tmp/strata-data` are moved under it). Every command must exit 0,
//! unless its comment says `# exit N`.

use std::path::Path;
use std::process::{Command, Stdio};

const README: &str = include_str!("../../../README.md");
const TOUR: &str = "## A five-minute tour of the CLI";

/// One command of the tour: the shell text (continuation lines joined) and the exit code it
/// should end with.
#[derive(Debug)]
struct Step {
    line: String,
    code: i32,
}

/// The commands of the tour's ```sh blocks, in order.
fn tour_steps(readme: &str) -> Vec<Step> {
    let start = readme.find(TOUR).expect("the README has the tour section");
    let section = &readme[start + TOUR.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut steps = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for raw in section.lines() {
        let trimmed = raw.trim();
        if !in_sh {
            in_sh = trimmed == "```sh";
            continue;
        }
        if trimmed.starts_with("```") {
            in_sh = false;
            continue;
        }
        if pending.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = raw.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let code = expected_code(&line);
        steps.push(Step { line, code });
    }
    assert!(
        pending.is_empty(),
        "a tour command ends in a continuation: {pending}"
    );
    steps
}

/// `# exit N` in the command's comment, else 0.
fn expected_code(line: &str) -> i32 {
    line.rfind("# exit ")
        .and_then(|at| {
            let rest = &line[at + "# exit ".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

#[test]
fn tour_commands_are_found() {
    let steps = tour_steps(README);
    assert!(steps.len() >= 20, "{steps:#?}");
    let text: Vec<&str> = steps.iter().map(|s| s.line.as_str()).collect();
    for cmd in [
        "strata $D ls",
        "strata $D feed",
        "strata $D analytics enable",
        "strata $D analytics query",
        "strata $D conflicts",
        "strata $D import",
    ] {
        assert!(
            text.iter().any(|l| l.contains(cmd)),
            "no `{cmd}` in the tour: {text:#?}"
        );
    }
    assert_eq!(expected_code("strata x   # exit 3: revoked"), 3);
    assert_eq!(expected_code("strata x   # prints the key URI"), 0);
}

#[test]
fn readme_tour_runs_as_written() {
    // The tour uses jq (README lists it); scripts/test.sh installs it where it is missing.
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "the README tour uses jq, which is not on PATH: run scripts/test.sh, or install jq"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let scratch = dir.path().display().to_string();
    let steps = tour_steps(README);
    // One script, so that `export` and variables carry over: after each command, its exit code.
    let mut script = String::from("exec 3>\"$TOUR_RC\"\n");
    for (i, s) in steps.iter().enumerate() {
        let line = s.line.replace("/tmp/strata-", &format!("{scratch}/strata-"));
        script.push_str(&format!("{line}\necho \"{i} $?\" >&3\n"));
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_strata"));
    let bin_dir = bin.parent().expect("the binary's directory");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    let rc_file = dir.path().join("rc");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("PATH", std::env::join_paths(dirs).expect("PATH"))
        .env("TOUR_RC", &rc_file)
        .env_remove("STRATA_HOME")
        .env_remove("NO_COLOR")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rcs = std::fs::read_to_string(&rc_file).expect("exit codes");
    let codes: Vec<i32> = rcs
        .lines()
        .filter_map(|l| l.split(' ').nth(1)?.parse().ok())
        .collect();
    assert_eq!(
        codes.len(),
        steps.len(),
        "not every command ran\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let wrong: Vec<String> = steps
        .iter()
        .zip(&codes)
        .filter(|(s, code)| s.code != **code)
        .map(|(s, code)| format!("exit {code}, want {}: {}", s.code, s.line))
        .collect();
    assert!(
        wrong.is_empty(),
        "{wrong:#?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        dir.path().join("orders.jsonl").is_file(),
        "the export wrote its file"
    );
}
