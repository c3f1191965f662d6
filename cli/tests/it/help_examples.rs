//! Every command's `--help` shows an example: walks the command tree as `strata --help` lists
//! it (the "Commands:" section of each level) and checks each leaf command's help.

use std::process::Command;

/// `strata ARGS --help`, which must exit 0.
fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(path)
        .arg("--help")
        .env_remove("STRATA_HOME")
        .output()
        .expect("run strata");
    assert!(out.status.success(), "strata {path:?} --help: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// The subcommand names in a help text's "Commands:" section (without clap's `help`).
fn subcommands(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in text.lines() {
        if line.trim_end() == "Commands:" {
            in_commands = true;
            continue;
        }
        if !in_commands {
            continue;
        }
        if line.trim().is_empty() || !line.starts_with(' ') {
            break;
        }
        // Wrapped descriptions are indented further than the names.
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue;
        }
        if let Some(name) = rest.split_whitespace().next() {
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_leaf_command_has_an_example() {
    let mut todo: Vec<Vec<String>> = subcommands(&help(&[])).into_iter().map(|n| vec![n]).collect();
    assert!(todo.len() > 15, "{todo:?}");
    let (mut leaves, mut missing) = (0, Vec::new());
    while let Some(path) = todo.pop() {
        let text = help(&path);
        let subs = subcommands(&text);
        if subs.is_empty() {
            leaves += 1;
            if !text.contains("Example") {
                missing.push(path.join(" "));
            }
        }
        for s in subs {
            let mut next = path.clone();
            next.push(s);
            todo.push(next);
        }
    }
    assert!(leaves > 50, "only {leaves} leaf commands found");
    assert!(missing.is_empty(), "no example in the help of: {missing:#?}");
}
