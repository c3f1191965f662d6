//! `strata import DB CONT FILE [--upsert] [--stop-on-error]`: loads JSON Lines or a JSON array
//! ("-" = stdin) in chunks of up to `--chunk-items` items (or ~1 MiB), each written with one engine bulk call
//! (one LSM commit, docs/bulk.md), with buffered durability and one sync at the end. Each item
//! is its own operation, so a bad line never leaves a partial item and never stops the others.
//! Per-line errors are reported with the line number (stderr in table mode, the report's
//! `errors` otherwise). Engine calls only.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde_json::Value;
use strata_engine::{
    BatchOperation, BulkOperation, BulkOptions, Container, Durability, PartitionKeyDefinition,
    FAILED_DEPENDENCY,
};

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
    /// Items per bulk call (1..=1000).
    pub chunk_items: usize,
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
    let opts = BulkOptions {
        durability: Some(Durability::Buffered),
        content_response: false,
        retry_throttled: true,
        stop_on_error: a.stop_on_error,
    };
    let mut tally = Tally {
        progress: Progress::new(size),
        counts: Counts::default(),
        errors: Vec::new(),
        stopped_at: None,
        live_errors: g.format() == Format::Table,
    };
    let mut chunk = Chunk::default();
    let mut failure = None;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                failure = Some(read_error(a.file, &e, tally.counts.items));
                break;
            }
        };
        tally.counts.bytes += record.bytes;
        let op = prepare(&pk_def, &record, a.upsert);
        // Under --stop-on-error a line that fails here ends the chunk: nothing after it runs.
        let ends_chunk = op.is_err() && a.stop_on_error;
        chunk.bytes += record.bytes;
        chunk.entries.push((record.line, op));
        if ends_chunk || chunk.entries.len() >= a.chunk_items || chunk.bytes >= CHUNK_BYTES {
            write_chunk(&c, std::mem::take(&mut chunk), &opts, &mut tally);
            if tally.stopped_at.is_some() {
                break;
            }
        }
    }
    if tally.stopped_at.is_none() {
        write_chunk(&c, chunk, &opts, &mut tally);
    }
    tally.progress.finish();
    // One durable sync for everything written, also when the import stops early.
    account.sync()?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(summary(
        g.format(),
        tally.counts,
        &tally.errors,
        tally.stopped_at,
        tally.progress.elapsed().as_millis(),
    ))
}

/// Items per bulk call by default: enough to share one commit among many, few enough that a
/// chunk's staged writes stay in the CPU's caches and the allocator's fast paths (measured in
/// docs/bench.md, "Load change E").
pub const DEFAULT_CHUNK_ITEMS: u16 = 32;

/// Input bytes after which a chunk is written even if it has fewer items.
const CHUNK_BYTES: u64 = 1 << 20;

/// Lines gathered for one bulk call: each with its line and its operation, or why it has none.
#[derive(Default)]
struct Chunk {
    entries: Vec<(usize, CliResult<BulkOperation>)>,
    bytes: u64,
}

/// What the import has done so far.
struct Tally {
    progress: Progress,
    counts: Counts,
    errors: Vec<LineError>,
    /// The line of the first failure under --stop-on-error.
    stopped_at: Option<usize>,
    live_errors: bool,
}

impl Tally {
    fn fail(&mut self, line: usize, error: CliError, stop: bool) {
        self.counts.failed += 1;
        self.counts.request_charge += error.request_charge.unwrap_or(0.0);
        if self.live_errors {
            self.progress.println(&format!("line {line}: {error}"));
        }
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(LineError { line, error });
        }
        if stop {
            self.stopped_at = Some(line);
        }
    }
}

/// Writes the chunk's operations with one bulk call (one commit) and tallies each line. A
/// refusal of the whole call (e.g. 403 while the customer key is revoked) is every line's.
fn write_chunk(c: &Container, chunk: Chunk, opts: &BulkOptions, tally: &mut Tally) {
    let mut ops = Vec::with_capacity(chunk.entries.len());
    let mut lines = Vec::with_capacity(chunk.entries.len());
    for (line, op) in chunk.entries {
        match op {
            Ok(op) => {
                ops.push(op);
                lines.push((line, None));
            }
            Err(e) => lines.push((line, Some(e))),
        }
    }
    let mut results = if ops.is_empty() {
        Ok(Vec::new().into_iter())
    } else {
        c.bulk_write(ops, opts)
            .map(Vec::into_iter)
            .map_err(CliError::from)
    };
    for (line, local) in lines {
        if tally.stopped_at.is_some() {
            break;
        }
        let outcome = match (local, &mut results) {
            (Some(e), _) => Err(e),
            (None, Ok(results)) => match results.next() {
                Some(r) if r.status_code < 400 => Ok(r.request_charge),
                Some(r) if r.status_code == FAILED_DEPENDENCY => continue,
                Some(r) => Err(CliError {
                    request_charge: Some(r.request_charge).filter(|c| *c > 0.0),
                    ..CliError::new(r.status_code, r.sub_status, r.message.unwrap_or_default())
                }),
                None => Err(CliError::new(
                    500,
                    0,
                    "the bulk call answered fewer results than it was given",
                )),
            },
            (None, Err(e)) => Err(e.clone()),
        };
        match outcome {
            Ok(charge) => {
                tally.counts.items += 1;
                tally.counts.request_charge += charge;
            }
            Err(e) => tally.fail(line, e, opts.stop_on_error),
        }
    }
    tally.progress.update(tally.counts);
}

/// Parses one record into the operation that writes it, or says why it cannot be written.
fn prepare(pk_def: &PartitionKeyDefinition, record: &Record, upsert: bool) -> CliResult<BulkOperation> {
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
    let op = if upsert {
        BatchOperation::upsert(item)
    } else {
        BatchOperation::create(item)
    };
    Ok(BulkOperation::new(pk, op))
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
