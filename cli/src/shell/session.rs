//! The shell's session: one open account, the current database and container, and the loop that
//! reads statements (rustyline on a terminal, plain lines from a pipe), runs them through the
//! engine API and prints each result with its RU charge in the `--output` format.

use std::io::{self, BufRead, IsTerminal};

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;
use serde_json::Value;
use strata_engine::{
    parse_patch_operations, Account, Container, ItemOptions, PartitionKey, PartitionKeyKind, PatchOptions,
    QueryOptions,
};

use super::complete::Completion;
use super::statement::{parse, Statement, HELP};
use crate::args::{parse_item_json, pk_from_flag, pk_from_json_flag, Globals};
use crate::commands::{account, stats};
use crate::error::{CliError, CliResult, EXIT_OK, EXIT_REQUEST};
use crate::output::{self, ErrorContext, Format, Report};

/// Most query results one statement shows.
const MAX_QUERY_ITEMS: usize = 1000;

struct Session {
    account: Account,
    format: Format,
    /// What `-v` adds to a printed error.
    verbose: Option<ErrorContext>,
    db: Option<String>,
    container: Option<String>,
    /// A statement failed (a piped session then exits with 1).
    failed: bool,
}

/// Runs the shell until `exit` or end of input. Exit code: 0, or 1 when reading from a pipe and
/// any statement failed.
pub fn run(g: &Globals) -> CliResult<u8> {
    let mut s = Session {
        account: account::open(g)?,
        format: g.format(),
        verbose: g.error_context(),
        db: None,
        container: None,
        failed: false,
    };
    if io::stdin().is_terminal() {
        interactive(&mut s, g)?;
        return Ok(EXIT_OK);
    }
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| CliError::bad_input(format!("cannot read standard input ({e})")))?;
        if !s.execute(&line) {
            break;
        }
    }
    Ok(if s.failed { EXIT_REQUEST } else { EXIT_OK })
}

/// Line editing, history (in --home) and completion of keywords and names.
fn interactive(s: &mut Session, g: &Globals) -> CliResult<()> {
    let editor_error = |e: ReadlineError| CliError::internal(format!("line editor failed: {e}"));
    let mut editor: Editor<Completion, DefaultHistory> = Editor::new().map_err(editor_error)?;
    editor.set_helper(Some(Completion {
        names: s.names().unwrap_or_default(),
    }));
    let history = g.account_options().home.join("shell_history");
    // A first session has no history yet.
    let _ = editor.load_history(&history);
    println!("strata shell on account {}; type help", s.account.name());
    loop {
        let prompt = match (&s.db, &s.container) {
            (Some(d), Some(c)) => format!("{d}/{c}> "),
            (Some(d), None) => format!("{d}> "),
            _ => "strata> ".to_string(),
        };
        match editor.readline(&prompt) {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if !s.execute(&line) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(editor_error(e)),
        }
    }
    // Losing the history is not worth failing the session for.
    let _ = editor.save_history(&history);
    Ok(())
}

impl Session {
    /// Runs one line and prints its result; false once the session should end.
    fn execute(&mut self, line: &str) -> bool {
        let st = match parse(line) {
            Ok(st) => st,
            Err(why) => {
                self.fail(&CliError::new(400, 0, why));
                return true;
            }
        };
        match st {
            Statement::Exit => return false,
            Statement::Empty => {}
            Statement::Help => println!("{HELP}"),
            other => match self.run(other) {
                Ok(report) => output::print(self.format, &report),
                Err(e) => self.fail(&e),
            },
        }
        true
    }

    fn fail(&mut self, e: &CliError) {
        self.failed = true;
        output::print_error(self.format, e, self.verbose.as_ref());
    }

    fn run(&mut self, st: Statement) -> CliResult<Report> {
        match st {
            Statement::Use { db, container } => {
                let containers = self.account.database(&db).list_containers()?;
                if let Some(c) = &container {
                    if !containers.iter().any(|i| &i.name == c) {
                        return Err(CliError::new(
                            404,
                            0,
                            format!("container '{db}/{c}' does not exist; type containers to list them"),
                        ));
                    }
                }
                self.db = Some(db.clone());
                self.container = container.clone();
                Ok(Report::new(200)
                    .field("database", db)
                    .field("container", container.map_or(Value::Null, Value::from)))
            }
            Statement::Databases => {
                let rows = self
                    .account
                    .list_databases()?
                    .into_iter()
                    .map(|n| vec![Value::from(n)])
                    .collect();
                Ok(Report::new(200).list("databases", vec!["database"], rows))
            }
            Statement::Containers => {
                let db = self.db.clone().ok_or_else(no_database)?;
                let rows = self
                    .account
                    .database(&db)
                    .list_containers()?
                    .into_iter()
                    .map(|c| vec![Value::from(c.name), Value::from(c.partition_key_path)])
                    .collect();
                Ok(Report::new(200).list("containers", vec!["name", "partitionKeyPath"], rows))
            }
            Statement::Stats => {
                let rows = self
                    .account
                    .metrics()?
                    .iter()
                    .map(|(db, c, m)| stats::row(db, c, m))
                    .collect();
                Ok(Report::new(200).list("containers", stats::COLUMNS.to_vec(), rows))
            }
            Statement::Query(sql) => self.query(&sql),
            Statement::Get { id, pk } => {
                let c = self.container()?;
                let resp = c.read_item::<Value>(item_pk(&c, &pk)?, &id)?;
                let item = resp.item.clone();
                Ok(
                    item_report(resp.status_code, resp.request_charge, resp.etag, resp.item)
                        .records("item", item.into_iter().collect()),
                )
            }
            Statement::Delete { id, pk } => {
                let c = self.container()?;
                let resp = c.delete_item_with(item_pk(&c, &pk)?, &id, &ItemOptions::default())?;
                Ok(item_report(
                    resp.status_code,
                    resp.request_charge,
                    resp.etag,
                    None,
                ))
            }
            Statement::Patch { id, pk, ops } => {
                let ops = parse_item_json(&ops)
                    .map_err(|why| CliError::new(400, 0, format!("the patch operations {why}")))?;
                let c = self.container()?;
                let resp = c.patch_item(
                    item_pk(&c, &pk)?,
                    &id,
                    &parse_patch_operations(&ops)?,
                    &PatchOptions::default(),
                )?;
                Ok(item_report(
                    resp.status_code,
                    resp.request_charge,
                    resp.etag,
                    resp.item,
                ))
            }
            Statement::Create(json) => self.write(&json, false),
            Statement::Upsert(json) => self.write(&json, true),
            Statement::Empty | Statement::Help | Statement::Exit => Ok(Report::new(200)),
        }
    }

    fn write(&self, json: &str, upsert: bool) -> CliResult<Report> {
        let item: Value =
            parse_item_json(json).map_err(|why| CliError::new(400, 0, format!("the item {why}")))?;
        if !item.is_object() {
            return Err(CliError::new(
                400,
                0,
                "the item must be a JSON object with an \"id\"",
            ));
        }
        let c = self.container()?;
        let pk = c.partition_key_of(&item)?;
        let resp = if upsert {
            c.upsert_item(pk, &item)?
        } else {
            c.create_item(pk, &item)?
        };
        Ok(item_report(
            resp.status_code,
            resp.request_charge,
            resp.etag,
            resp.item,
        ))
    }

    /// Every page of the query, up to `MAX_QUERY_ITEMS` items, with the summed charge.
    fn query(&self, sql: &str) -> CliResult<Report> {
        let c = self.container()?;
        let mut opts = QueryOptions::default();
        let mut items = Vec::new();
        let mut charge = 0.0;
        let truncated = loop {
            let page = c.query_items(sql, &[], &opts)?;
            charge += page.request_charge;
            items.extend(page.items);
            match page.continuation {
                Some(_) if items.len() >= MAX_QUERY_ITEMS => break true,
                Some(token) => opts.continuation = Some(token),
                None => break false,
            }
        };
        Ok(Report::new(200)
            .field("requestCharge", (charge * 100.0).round() / 100.0)
            .field("items", Value::Array(items.clone()))
            .opt_field("truncated", truncated.then_some(true))
            .records("items", items)
            .leading_columns(strata_engine::projection_names(sql).unwrap_or_default()))
    }

    fn container(&self) -> CliResult<Container> {
        match (&self.db, &self.container) {
            (Some(d), Some(c)) => Ok(self.account.database(d).container(c)),
            _ => Err(CliError::new(
                400,
                0,
                "no container picked; type use DB/CONT first (dbs and containers list them)",
            )),
        }
    }

    /// Database names and `db/container` pairs, for completion.
    fn names(&self) -> CliResult<Vec<String>> {
        let mut names = Vec::new();
        for db in self.account.list_databases()? {
            for c in self.account.database(&db).list_containers()? {
                names.push(format!("{db}/{}", c.name));
            }
            names.push(db);
        }
        Ok(names)
    }
}

fn no_database() -> CliError {
    CliError::new(400, 0, "no database picked; type use DB first")
}

fn item_report(status: u16, charge: f64, etag: Option<String>, item: Option<Value>) -> Report {
    Report::new(status)
        .field("requestCharge", charge)
        .opt_field("etag", etag)
        .opt_field("item", item)
}

/// A statement's `PK`: read as `--pk` reads it, or for a container with a hierarchical key as
/// `--pk-json` does (a JSON array of every level, written without spaces: `["t1","u1"]`).
fn item_pk(c: &Container, raw: &str) -> CliResult<PartitionKey> {
    if c.partition_key_definition()?.kind() == PartitionKeyKind::MultiHash {
        pk_from_json_flag(raw)
    } else {
        pk_from_flag(raw)
    }
}
