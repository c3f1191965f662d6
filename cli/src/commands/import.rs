//! `strata import DB CONT FILE [--upsert] [--stop-on-error]`: loads JSON Lines or a JSON array
//! ("-" = stdin) item by item with buffered durability and one sync at the end; each item is one
//! atomic write, so a bad line never leaves a partial item. Per-line errors are reported with the
//! line number (stderr in table mode, the report's `errors` otherwise). Engine calls only.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde_json::Value;
use strata_engine::{Container, Durability, ItemOptions, PartitionKeyDefinition};

use crate::args::{parse_item_json, Globals};
use crate::commands::account;
use crate::error::{CliError, CliResult, EXIT_REQUEST};
use crate::output::{Format, Report};
use crate::progress::{Counts, Progress};
use crate::records::{self, Record};

/// Most per-line errors kept in the report (all are counted).
const MAX_REPORTED_ERRORS: usize = 1000;

/// What `strata import` was given.
pub struct ImportArgs<'a> {
    pub db: &'a str,
    pub container: &'a str,
    pub file: &'a Path,
    pub upsert: bool,
    pub stop_on_error: bool,
}

/// One item that failed, with the line it starts on.
struct LineError {
    line: usize,
    error: CliError,
}

/// Runs the import and reports the summary: itemsOk, itemsFailed, bytes (of the items read,
/// blank lines not counted), requestCharge, elapsedMs (statusCode 200, or 207 with exit code 1
/// when any item failed).
pub fn run(g: &Globals, a: &ImportArgs<'_>) -> CliResult<Report> {
    let (input, size) = open_input(a.file)?;
    let account = account::open(g)?;
    let c = account.database(a.db).container(a.container);
    let pk_def = c.partition_key_definition()?;
    let records = records::open(input).map_err(|e| read_error(a.file, &e, 0))?;
    let opts = ItemOptions::default().with_durability(Durability::Buffered);
    let live_errors = g.format() == Format::Table;

    let mut progress = Progress::new(size);
    let mut counts = Counts::default();
    let mut errors: Vec<LineError> = Vec::new();
    let mut stopped_at = None;
    let mut failure = None;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                failure = Some(read_error(a.file, &e, counts.items));
                break;
            }
        };
        counts.bytes += record.bytes;
        match import_one(&c, &pk_def, &record, a.upsert, &opts) {
            Ok(charge) => {
                counts.items += 1;
                counts.request_charge += charge;
            }
            Err(error) => {
                counts.failed += 1;
                counts.request_charge += error.request_charge.unwrap_or(0.0);
                if live_errors {
                    progress.println(&format!("line {}: {error}", record.line));
                }
                if errors.len() < MAX_REPORTED_ERRORS {
                    errors.push(LineError {
                        line: record.line,
                        error,
                    });
                }
                if a.stop_on_error {
                    stopped_at = Some(record.line);
                    break;
                }
            }
        }
        progress.update(counts);
    }
    progress.finish();
    // One durable sync for everything written, also when the import stops early.
    account.sync()?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(summary(
        g.format(),
        counts,
        &errors,
        stopped_at,
        progress.elapsed().as_millis(),
    ))
}

/// Parses one record and writes it; the item's charge, or why it failed.
fn import_one(
    c: &Container,
    pk_def: &PartitionKeyDefinition,
    record: &Record,
    upsert: bool,
    opts: &ItemOptions,
) -> CliResult<f64> {
    let text = record
        .text
        .as_ref()
        .map_err(|why| CliError::new(400, 0, why.clone()))?;
    let item: Value =
        parse_item_json(text).map_err(|why| CliError::new(400, 0, format!("the item {why}")))?;
    if !item.is_object() {
        return Err(CliError::new(
            400,
            0,
            "an item must be a JSON object with an \"id\"",
        ));
    }
    let pk = pk_def.extract(&item)?;
    // Handed over by value, with no content back: the import has no use for the stored item.
    let resp = if upsert {
        c.upsert_item_value(pk, item, opts)?
    } else {
        c.create_item_value(pk, item, opts)?
    };
    Ok(resp.request_charge)
}

fn summary(
    format: Format,
    counts: Counts,
    errors: &[LineError],
    stopped_at: Option<usize>,
    elapsed_ms: u128,
) -> Report {
    let failed = counts.failed > 0;
    let mut report = Report::new(if failed { 207 } else { 200 })
        .field("itemsOk", counts.items)
        .field("itemsFailed", counts.failed)
        .field("bytes", counts.bytes)
        .field("requestCharge", round2(counts.request_charge))
        .field("elapsedMs", u64::try_from(elapsed_ms).unwrap_or(u64::MAX))
        .opt_field("stoppedAtLine", stopped_at);
    if failed {
        report = report.with_exit_code(EXIT_REQUEST);
    }
    // In table mode the errors were printed as they happened.
    if format != Format::Table {
        let rows = errors
            .iter()
            .map(|e| {
                vec![
                    Value::from(e.line),
                    Value::from(e.error.status),
                    Value::from(e.error.substatus),
                    Value::from(e.error.message.clone()),
                ]
            })
            .collect();
        report = report.list("errors", vec!["line", "statusCode", "subStatus", "message"], rows);
    }
    report
}

/// The input and its size when it is a file ("-" = stdin).
fn open_input(path: &Path) -> CliResult<(Box<dyn BufRead>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(BufReader::new(io::stdin())), None));
    }
    let file = File::open(path).map_err(|e| {
        CliError::bad_input(format!(
            "cannot open {} ({e}); give a JSON Lines or JSON array file, or - for stdin",
            path.display()
        ))
    })?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 16, file)), size))
}

fn read_error(path: &Path, e: &io::Error, imported: u64) -> CliError {
    CliError::bad_input(format!(
        "cannot read {} ({e}); {imported} items were imported (and synced) before the error",
        path.display()
    ))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
