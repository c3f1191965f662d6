//! `strata export DB CONT [FILE] [--query SQL] [--with-system-properties]`: writes the container's
//! items as JSON Lines, page by page through the latest-version change feed (each page a range
//! read: linear in the container, in write order), or a query's results page by page through
//! query continuations; to FILE (written to a temporary file beside it, renamed at the end) or
//! stdout. Engine calls only.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::Value;
use strata_engine::{ChangeFeedOptions, ChangeFeedStart, Container, QueryOptions};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;
use crate::progress::{Counts, Progress};

/// The system properties the engine stamps on every item; left out unless asked for.
const SYSTEM_PROPERTIES: [&str; 6] = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];
/// Items per page.
const PAGE: usize = 1000;

/// What `strata export` was given.
pub struct ExportArgs<'a> {
    pub db: &'a str,
    pub container: &'a str,
    pub file: Option<&'a Path>,
    pub query: Option<&'a str>,
    pub with_system_properties: bool,
}

/// Runs the export. With FILE: the summary report (items, bytes, requestCharge, elapsedMs);
/// without (stdout holds the items): `None`, and the summary goes to stderr as one line.
pub fn run(g: &Globals, a: &ExportArgs<'_>) -> CliResult<Option<Report>> {
    let account = account::open(g)?;
    let c = account.database(a.db).container(a.container);
    let mut progress = Progress::new(None);
    let mut counts = Counts::default();
    let mut write_all = |out: &mut dyn Write| -> Result<(), Failure> {
        let mut cursor = match a.query {
            Some(sql) => Cursor::Query {
                sql,
                opts: QueryOptions {
                    max_item_count: Some(PAGE),
                    ..QueryOptions::default()
                },
            },
            None => Cursor::Feed(ChangeFeedOptions {
                max_item_count: PAGE,
                ..ChangeFeedOptions::default()
            }),
        };
        while let Some((items, charge)) = cursor.next_page(&c).map_err(|e| Failure::Store(e.into()))? {
            counts.request_charge += charge;
            for mut item in items {
                if let Some(o) = item.as_object_mut() {
                    // The change feed's, never part of an item.
                    o.shift_remove("_lsn");
                }
                if !a.with_system_properties {
                    strip_system_properties(&mut item);
                }
                let line = format!("{item}\n");
                out.write_all(line.as_bytes()).map_err(Failure::Write)?;
                counts.items += 1;
                counts.bytes += line.len() as u64;
            }
            progress.update(counts);
        }
        out.flush().map_err(Failure::Write)
    };
    match a.file {
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_error(a.file, &e))?;
            let mut out = BufWriter::new(tmp);
            write_all(&mut out).map_err(|f| f.into_error(a.file))?;
            let tmp = out.into_inner().map_err(|e| write_error(a.file, e.error()))?;
            tmp.persist(path).map_err(|e| write_error(a.file, &e.error))?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            match write_all(&mut out) {
                // The reader went away (e.g. `| head`): stop quietly, as other tools do.
                Err(Failure::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                    progress.finish();
                    return Ok(None);
                }
                other => other.map_err(|f| f.into_error(None))?,
            }
        }
    }
    progress.finish();
    let elapsed_ms = u64::try_from(progress.elapsed().as_millis()).unwrap_or(u64::MAX);
    if a.file.is_none() {
        progress.println(&format!(
            "exported {} items ({} bytes, {:.2} RU) in {elapsed_ms} ms",
            counts.items, counts.bytes, counts.request_charge
        ));
        return Ok(None);
    }
    Ok(Some(
        Report::new(200)
            .field("items", counts.items)
            .field("bytes", counts.bytes)
            .field("requestCharge", (counts.request_charge * 100.0).round() / 100.0)
            .field("elapsedMs", elapsed_ms),
    ))
}

/// Where an export is in its source: the latest-version feed (every item) or a query.
enum Cursor<'a> {
    Feed(ChangeFeedOptions),
    Query { sql: &'a str, opts: QueryOptions },
    Done,
}

impl Cursor<'_> {
    /// The next page's items and charge; `None` once the source is exhausted.
    fn next_page(&mut self, c: &Container) -> strata_engine::Result<Option<(Vec<Value>, f64)>> {
        match self {
            Cursor::Done => Ok(None),
            Cursor::Feed(opts) => {
                let page = c.read_change_feed(opts)?;
                if page.status_code == 304 {
                    *self = Cursor::Done;
                    return Ok(None);
                }
                opts.start = ChangeFeedStart::Continuation(page.continuation);
                Ok(Some((page.items, page.request_charge)))
            }
            Cursor::Query { sql, opts } => {
                let page = c.query_items(sql, &[], opts)?;
                let out = (page.items, page.request_charge);
                match page.continuation {
                    Some(token) => opts.continuation = Some(token),
                    None => *self = Cursor::Done,
                }
                Ok(Some(out))
            }
        }
    }
}

/// Why writing the export stopped.
enum Failure {
    Store(CliError),
    Write(io::Error),
}

impl Failure {
    fn into_error(self, file: Option<&Path>) -> CliError {
        match self {
            Failure::Store(e) => e,
            Failure::Write(e) => write_error(file, &e),
        }
    }
}

/// Removes the engine-stamped properties, so the export imports into any account (a CMK
/// account refuses items that carry them).
fn strip_system_properties(item: &mut Value) {
    if let Some(obj) = item.as_object_mut() {
        for k in SYSTEM_PROPERTIES {
            obj.shift_remove(k);
        }
    }
}

fn write_error(file: Option<&Path>, e: &io::Error) -> CliError {
    let target = file.map_or("stdout".to_string(), |p| p.display().to_string());
    CliError::new(500, 0, format!("cannot write the export to {target} ({e})"))
        .with_hint("check free space and permissions; a partial export file is not left behind")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_properties_are_stripped_from_objects_only() {
        let mut item = json!({"id": "1", "_rid": "r", "_self": "s", "_etag": "e",
                              "_attachments": "a", "_ts": 1, "_lsn": 3, "_mine": 2});
        strip_system_properties(&mut item);
        assert_eq!(item, json!({"id": "1", "_mine": 2}));
        let mut scalar = json!(5);
        strip_system_properties(&mut scalar);
        assert_eq!(scalar, json!(5));
    }
}
