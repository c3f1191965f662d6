//! `strata batch`: reads a batch file, runs it as one transactional batch and reports the
//! batch's statusCode and requestCharge and one result per operation (statusCode, requestCharge,
//! etag, resourceBody, message). A batch that failed prints the same way and exits 1. No
//! storage logic.

use std::path::PathBuf;

use serde_json::Value;
use strata_engine::{parse_batch_operations, MAX_ITEM_DEPTH};

use crate::args::{parse_json_within, read_file, Globals, PkArgs};
use crate::commands::account;
use crate::error::{CliError, CliResult, EXIT_REQUEST};
use crate::output::Report;

pub fn run(g: &Globals, db: &str, cont: &str, pk: &PkArgs, file: &PathBuf) -> CliResult<Report> {
    let pk = pk.partition_key()?;
    let text = read_file(file)?;
    let json = parse_json_within(&text, MAX_ITEM_DEPTH + 2).map_err(|why| {
        CliError::bad_input(format!(
            "--file {} {why}; pass a JSON array of batch operations",
            file.display()
        ))
    })?;
    let ops = parse_batch_operations(&json)?;
    let account = account::open(g)?;
    let resp = account.database(db).container(cont).execute_batch(pk, &ops)?;
    let results = resp
        .results
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| CliError::internal(format!("serialising a batch result: {e}")))?;
    let report = Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .field("results", results.clone())
        .records("results", results);
    Ok(if resp.is_success() {
        report
    } else {
        report.with_exit_code(EXIT_REQUEST)
    })
}
