//! Shared helpers of the CLI scenario tests: a scratch --data/--home, running the built `strata`
//! binary in it (optionally with stdin), and reading what it printed. Test-only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// A scratch place with its own data directory and home.
pub struct Env {
    pub dir: TempDir,
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as one JSON value per non-blank line.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The one JSON object printed.
    pub fn json(&self) -> Value {
        let lines = self.lines();
        assert_eq!(lines.len(), 1, "{self:?}");
        lines.into_iter().next().unwrap_or_default()
    }

    /// Asserts the exit code and returns self.
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "{self:?}");
        self
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// An SMK account with database `d` and container `c` partitioned on `pk_path`.
    pub fn with_container(pk_path: &str) -> Env {
        let env = Env::new();
        env.ok(&["init", "--account", "acct"]);
        env.ok(&["db", "create", "d"]);
        env.ok(&["container", "create", "d", "c", "--pk", pk_path]);
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `strata --data … --home …` without an --output flag.
    pub fn bare(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.arg("--data")
            .arg(self.path("data"))
            .arg("--home")
            .arg(self.path("home"))
            .env_remove("STRATA_HOME")
            .env_remove("NO_COLOR")
            .current_dir(self.dir.path());
        c
    }

    /// Runs with `--output json` (unless `args` give another --output).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut c = self.bare();
        if !args.contains(&"--output") {
            c.args(["--output", "json"]);
        }
        let mut child = c
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run strata");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).expect("write stdin");
        }
        finish(child.wait_with_output().expect("wait for strata"))
    }

    /// Runs and asserts exit code 0; returns the one JSON object printed.
    pub fn ok(&self, args: &[&str]) -> Value {
        self.run(args).code(0).json()
    }

    /// Runs (`--output json`) and asserts exit 0 and the printed `statusCode`; returns the JSON.
    pub fn ok_status(&self, args: &[&str], status: u64) -> Value {
        let r = self.run(args);
        let json = r.json();
        assert_eq!(
            (r.code, json["statusCode"].as_u64()),
            (0, Some(status)),
            "{args:?}: {r:?}"
        );
        json
    }

    /// Runs and asserts a failure: its `statusCode` and `subStatus`, and the exit code
    /// docs/cli.md gives it (403, 423 and 503 exit with 3, other request errors with 1).
    pub fn err_status(&self, args: &[&str], status: u64, sub: u64) -> Value {
        let r = self.run(args);
        let json = r.json();
        let code = if matches!(status, 403 | 423 | 503) { 3 } else { 1 };
        assert_eq!(r.code, code, "{args:?}: {r:?}");
        assert_eq!(
            (json["statusCode"].as_u64(), json["subStatus"].as_u64()),
            (Some(status), Some(sub)),
            "{args:?}: {json}"
        );
        json
    }

    /// `path` under the scratch directory, as a &str argument.
    pub fn arg<'a>(&self, p: &'a Path) -> &'a str {
        p.to_str().expect("utf-8 path")
    }
}

pub fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every item of container `d/c` without system properties, sorted by id.
pub fn all_items(env: &Env, container: &str) -> Vec<Value> {
    let v = env.ok(&["query", "d", container, "SELECT * FROM c", "--max-items", "10000"]);
    let mut items: Vec<Value> = v["items"].as_array().cloned().unwrap_or_default();
    for i in &mut items {
        if let Some(o) = i.as_object_mut() {
            for k in ["_rid", "_self", "_etag", "_attachments", "_ts"] {
                o.remove(k);
            }
        }
    }
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    items
}

/// Every file under `root`, recursively (for scans of a data directory).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list a directory").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
