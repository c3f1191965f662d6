//! Rendering of command results and errors: one JSON object per call (`--output json`) or
//! comfy-table tables (`--output table`). Owns stdout/stderr formatting only; it must not call
//! the engine or decide statuses.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{presets, ContentArrangement, Table};
use serde_json::{Map, Value};

use crate::error::CliError;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per result on stdout (errors too); the default when stdout is not a terminal.
    Json,
    /// Human-readable tables; errors go to stderr. The default on a terminal.
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
/// and optionally one list.
#[derive(Debug, Clone)]
pub struct Report {
    fields: Vec<(&'static str, Value)>,
    list: Option<List>,
}

impl Report {
    pub fn new(status: u16) -> Report {
        Report {
            fields: vec![("statusCode", Value::from(status))],
            list: None,
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

    /// The JSON object printed with `--output json`.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        for (k, v) in &self.fields {
            obj.insert((*k).to_string(), v.clone());
        }
        if let Some(list) = &self.list {
            let rows = list
                .rows
                .iter()
                .map(|row| match row.as_slice() {
                    [only] if list.columns.len() == 1 => only.clone(),
                    _ => Value::Object(
                        list.columns
                            .iter()
                            .zip(row)
                            .map(|(c, v)| ((*c).to_string(), v.clone()))
                            .collect(),
                    ),
                })
                .collect();
            obj.insert(list.key.to_string(), Value::Array(rows));
        }
        Value::Object(obj)
    }

    fn to_table(&self) -> Table {
        match &self.list {
            Some(list) => {
                let mut t = new_table(list.columns.iter().copied());
                for row in &list.rows {
                    t.add_row(row.iter().map(cell));
                }
                t
            }
            None => {
                let mut t = new_table(["field", "value"]);
                for (k, v) in &self.fields {
                    t.add_row([(*k).to_string(), cell(v)]);
                }
                t
            }
        }
    }
}

/// Prints a command's result in the chosen format.
pub fn print(format: Format, report: &Report) {
    match format {
        Format::Json => print_json_line(&report.to_json()),
        Format::Table => {
            if let Some(list) = &report.list {
                if list.rows.is_empty() {
                    println!("(no {})", list.key);
                    return;
                }
            }
            println!("{}", report.to_table());
        }
    }
}

/// Prints a failure: JSON to stdout as one object, tables to stderr as a line.
pub fn print_error(format: Format, err: &CliError) {
    match format {
        Format::Json => print_json_line(&error_json(err)),
        Format::Table => {
            let mut stderr = io::stderr().lock();
            // Nothing sensible remains to be done if stderr itself is gone.
            let _ = writeln!(stderr, "error: {err}");
        }
    }
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

/// A table with this header in the CLI's house style.
pub fn new_table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

/// A JSON value as table-cell text: strings bare, null as "-", objects pretty-printed.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => {
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        }
        other => other.to_string(),
    }
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
