//! Rendering of command results and errors in the `--output` format: one JSON object per call
//! (json), rows as JSON Lines (jsonl) or CSV (csv), or terminal-sized tables (table). Owns
//! stdout/stderr formatting only; it must not call the engine or decide statuses.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::color;
use crate::error::CliError;
use crate::rows::{cell, new_table, Rows};

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per result on stdout (errors too); the default when stdout is not a terminal.
    Json,
    /// The rows of a result (items, databases, keys, ...) as one JSON value per line; other fields
    /// (request charge, continuation) go to stderr. Errors as one JSON object on stdout.
    Jsonl,
    /// The rows of a result as CSV with a header line (RFC 4180); other fields go to stderr.
    /// Errors go to stderr.
    Csv,
    /// Human-readable tables sized to the terminal; errors go to stderr. The default on a terminal.
    Table,
}

impl Format {
    /// The explicit `--output` choice, else table on a terminal and JSON otherwise.
    pub fn resolve(flag: Option<Format>) -> Format {
        flag.unwrap_or_else(|| {
            if io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            }
        })
    }

    /// Whether errors and events are printed as JSON objects on stdout.
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::Jsonl)
    }
}

/// A list carried by a report: rendered as a table with these columns, or in JSON as an array
/// of objects (or of plain values when there is one column).
#[derive(Debug, Clone)]
struct List {
    key: &'static str,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Value>>,
}

/// The answer of one command: `statusCode` plus named fields, in the order they were added,
/// optionally one list, and optionally secondary lists (printed as their own tables after it).
#[derive(Debug, Clone)]
pub struct Report {
    fields: Vec<(&'static str, Value)>,
    list: Option<List>,
    /// Further lists: JSON arrays beside the fields; in a table, their own tables after the list.
    sublists: Vec<List>,
    /// The field whose value is the result's rows as whole JSON values (query items, an item).
    records: Option<(&'static str, Vec<Value>)>,
    /// The columns the rows start with, in this order (a query's SELECT list).
    leading_columns: Vec<String>,
    /// The process exit code (0 unless set, e.g. 1 for an import with failed items).
    exit_code: u8,
}

impl Report {
    pub fn new(status: u16) -> Report {
        Report {
            fields: vec![("statusCode", Value::from(status))],
            list: None,
            sublists: Vec::new(),
            records: None,
            leading_columns: Vec::new(),
            exit_code: crate::error::EXIT_OK,
        }
    }

    pub fn field(mut self, key: &'static str, value: impl Into<Value>) -> Report {
        self.fields.push((key, value.into()));
        self
    }

    /// Adds the field only when there is a value.
    pub fn opt_field<V: Into<Value>>(self, key: &'static str, value: Option<V>) -> Report {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    pub fn list(mut self, key: &'static str, columns: Vec<&'static str>, rows: Vec<Vec<Value>>) -> Report {
        self.list = Some(List { key, columns, rows });
        self
    }

    /// Adds a secondary list (`strata bench --peers`): an array of objects under `key` in JSON,
    /// its own table after the main rows in a table, a `key: [...]` line on stderr in jsonl/csv.
    pub fn sublist(mut self, key: &'static str, columns: Vec<&'static str>, rows: Vec<Vec<Value>>) -> Report {
        self.sublists.push(List { key, columns, rows });
        self
    }

    /// Sets the process exit code of a result that is printed as a success.
    pub fn with_exit_code(mut self, code: u8) -> Report {
        self.exit_code = code;
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    /// Marks the already added field `key` as the result's rows (`values`): jsonl, csv and table
    /// print these values as rows, and the other fields beside them.
    pub fn records(mut self, key: &'static str, values: Vec<Value>) -> Report {
        self.records = Some((key, values));
        self
    }

    /// Lays the record rows out with these columns first, in this order (a query's SELECT list),
    /// whether or not the results have them.
    pub fn leading_columns(mut self, columns: Vec<String>) -> Report {
        self.leading_columns = columns;
        self
    }

    /// The rows jsonl, csv and table print, with the name of what they are.
    fn rows(&self) -> Option<(&'static str, Rows)> {
        if let Some(list) = &self.list {
            return Some((list.key, Rows::table(&list.columns, &list.rows)));
        }
        self.records
            .as_ref()
            .map(|(key, values)| (*key, Rows::records(values, &self.leading_columns)))
    }

    /// Fields printed beside the rows: all but statusCode, the rows themselves and nulls.
    fn footer(&self) -> Vec<(&'static str, &Value)> {
        let rows_key = self.records.as_ref().map(|(k, _)| *k);
        self.fields
            .iter()
            .filter(|(k, v)| *k != "statusCode" && Some(*k) != rows_key && !v.is_null())
            .map(|(k, v)| (*k, v))
            .collect()
    }

    /// The JSON object printed with `--output json`.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        for (k, v) in &self.fields {
            obj.insert((*k).to_string(), v.clone());
        }
        for list in self.list.iter().chain(&self.sublists) {
            obj.insert(list.key.to_string(), list.to_json());
        }
        Value::Object(obj)
    }

    /// The fields as one row (for csv of a result without rows).
    fn fields_as_row(&self) -> Rows {
        let columns: Vec<&str> = self.fields.iter().map(|(k, _)| *k).collect();
        let values: Vec<Value> = self.fields.iter().map(|(_, v)| v.clone()).collect();
        Rows::table(&columns, &[values])
    }
}

impl List {
    /// An array of objects, or of plain values when there is one column.
    fn to_json(&self) -> Value {
        let rows = self
            .rows
            .iter()
            .map(|row| match row.as_slice() {
                [only] if self.columns.len() == 1 => only.clone(),
                _ => Value::Object(
                    self.columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| ((*c).to_string(), v.clone()))
                        .collect(),
                ),
            })
            .collect();
        Value::Array(rows)
    }
}

/// Prints a command's result in the chosen format.
pub fn print(format: Format, report: &Report) {
    // A closed pipe (e.g. `| head`) is not worth a panic: write errors are ignored.
    let mut stdout = io::stdout().lock();
    match (format, report.rows()) {
        (Format::Json, _) | (Format::Jsonl, None) => print_json_line(&report.to_json()),
        (Format::Jsonl, Some((_, rows))) => {
            let _ = rows.write_jsonl(&mut stdout);
            footer_to_stderr(report);
        }
        (Format::Csv, Some((_, rows))) => {
            let _ = rows.write_csv(&mut stdout);
            footer_to_stderr(report);
        }
        (Format::Csv, None) => {
            let _ = report.fields_as_row().write_csv(&mut stdout);
        }
        (Format::Table, Some((key, rows))) => {
            if rows.is_empty() {
                let _ = writeln!(stdout, "(no {key})");
            } else {
                let _ = writeln!(stdout, "{}", rows.to_table(color::stdout()));
            }
            for list in &report.sublists {
                let table = Rows::table(&list.columns, &list.rows).to_table(color::stdout());
                let _ = writeln!(stdout, "{}:\n{table}", list.key);
            }
            for (k, v) in report.footer() {
                let _ = writeln!(stdout, "{k}: {}", cell(v));
            }
        }
        (Format::Table, None) => {
            let mut t = new_table(["field", "value"]);
            for (k, v) in &report.fields {
                t.add_row([(*k).to_string(), cell(v)]);
            }
            let _ = writeln!(stdout, "{t}");
        }
    }
}

/// The fields beside the rows, as `key: value` lines on stderr (jsonl and csv keep stdout for rows).
fn footer_to_stderr(report: &Report) {
    let mut stderr = io::stderr().lock();
    for (k, v) in report.footer() {
        let _ = writeln!(stderr, "{k}: {}", cell(v));
    }
    for list in &report.sublists {
        let _ = writeln!(stderr, "{}: {}", list.key, list.to_json());
    }
}

/// Where a failed command ran, printed with `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorContext {
    pub data_dir: String,
    pub home: String,
}

/// Prints a failure: JSON to stdout as one object (json, jsonl), else on stderr the line
/// `error: STATUS[.SUBSTATUS] message` and a `hint:` line. With `verbose` (`-v`) also the
/// details: the error's debug form and causes, the request charge, the data directory and home
/// (in JSON, a `details` object).
pub fn print_error(format: Format, err: &CliError, verbose: Option<&ErrorContext>) {
    if format.is_json() {
        let mut v = error_json(err);
        if let (Some(ctx), Value::Object(obj)) = (verbose, &mut v) {
            obj.insert("details".into(), details_json(err, ctx));
        }
        print_json_line(&v);
        return;
    }
    let mut stderr = io::stderr().lock();
    // Nothing sensible remains to be done if stderr itself is gone.
    let _ = writeln!(stderr, "{} {err}", color::red("error:", color::stderr()));
    let _ = writeln!(stderr, "hint: {}", err.hint());
    if let Some(ctx) = verbose {
        let charge = err.request_charge.unwrap_or(0.0);
        let _ = writeln!(stderr, "  requestCharge: {charge}");
        if let Some(ms) = err.retry_after_ms {
            let _ = writeln!(stderr, "  retryAfterMs: {ms}");
        }
        let _ = writeln!(stderr, "  dataDir: {}", ctx.data_dir);
        let _ = writeln!(stderr, "  home: {}", ctx.home);
        for line in &err.details {
            let _ = writeln!(stderr, "  {line}");
        }
    }
}

/// The `details` object `-v` adds to a JSON error.
fn details_json(err: &CliError, ctx: &ErrorContext) -> Value {
    let mut obj = Map::new();
    obj.insert("hint".into(), Value::from(err.hint()));
    obj.insert(
        "requestCharge".into(),
        Value::from(err.request_charge.unwrap_or(0.0)),
    );
    obj.insert("dataDir".into(), Value::from(ctx.data_dir.clone()));
    obj.insert("home".into(), Value::from(ctx.home.clone()));
    obj.insert("chain".into(), Value::from(err.details.clone()));
    Value::Object(obj)
}

/// The JSON object of a failure: `statusCode`, `subStatus`, `message`, and where they apply
/// `requestCharge` and `retryAfterMs` (429).
pub fn error_json(err: &CliError) -> Value {
    let mut obj = Map::new();
    obj.insert("statusCode".into(), Value::from(err.status));
    obj.insert("subStatus".into(), Value::from(err.substatus));
    obj.insert("message".into(), Value::from(err.message.clone()));
    if let Some(charge) = err.request_charge {
        obj.insert("requestCharge".into(), Value::from(charge));
    }
    if let Some(ms) = err.retry_after_ms {
        obj.insert("retryAfterMs".into(), Value::from(ms));
    }
    Value::Object(obj)
}

/// One compact JSON value on its own line of stdout.
pub fn print_json_line(value: &Value) {
    let mut stdout = io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not worth a panic.
    let _ = writeln!(stdout, "{value}");
}

/// Text beside the report (a stored procedure's script log) on stderr, as it is, ending with a
/// newline; stdout keeps the report whatever the format.
pub fn print_to_stderr(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_json_has_status_fields_and_list() {
        let r = Report::new(200).field("a", 1).list(
            "things",
            vec!["name", "n"],
            vec![vec![json!("x"), json!(2)]],
        );
        assert_eq!(
            r.to_json(),
            json!({"statusCode": 200, "a": 1, "things": [{"name": "x", "n": 2}]})
        );
    }

    #[test]
    fn one_column_list_is_plain_array() {
        let r = Report::new(200).list("databases", vec!["name"], vec![vec![json!("d")]]);
        assert_eq!(r.to_json(), json!({"statusCode": 200, "databases": ["d"]}));
    }

    #[test]
    fn records_are_rows_and_other_fields_the_footer() {
        let r = Report::new(200)
            .field("requestCharge", 2.5)
            .field("items", json!([{"id": "1"}]))
            .field("continuation", Value::Null)
            .records("items", vec![json!({"id": "1"})]);
        let (key, rows) = r.rows().unwrap();
        assert_eq!(key, "items");
        assert_eq!(rows.columns, ["id"]);
        assert_eq!(r.footer(), vec![("requestCharge", &json!(2.5))]);
        assert_eq!(r.to_json()["items"], json!([{"id": "1"}]));
        assert_eq!(r.fields_as_row().columns.len(), 4);
    }

    #[test]
    fn error_json_shape() {
        let e = CliError::new(412, 0, "etag mismatch");
        assert_eq!(
            error_json(&e),
            json!({"statusCode": 412, "subStatus": 0, "message": "etag mismatch"})
        );
        let throttled = CliError::from(strata_engine::Error::TooManyRequests {
            retry_after_ms: 13,
            message: "busy".into(),
        });
        assert_eq!(
            error_json(&throttled),
            json!({"statusCode": 429, "subStatus": 3200, "message": "request rate too large: busy",
                   "retryAfterMs": 13})
        );
    }
}
