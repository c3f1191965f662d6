//! `strata sproc`: stored procedures as resources (create, replace, get, list, delete) and their
//! execution (`run`): reads the body or the arguments, calls the engine, reports `statusCode`,
//! the procedure or the response `body`, and `requestCharge`. No storage or script logic.

use serde_json::Value;
use strata_engine::{ProcedureOptions, StoredProcedure, MAX_ITEM_DEPTH};

use crate::args::SprocBody;
use crate::args::{parse_json_within, read_file, Globals, PkArgs};
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::{print_to_stderr, Report};

/// `(database, container, procedure name)`.
pub type Named<'a> = (&'a str, &'a str, &'a str);

fn procedure_report(status: u16, db: &str, cont: &str, sp: &StoredProcedure) -> Report {
    Report::new(status)
        .field("database", db)
        .field("container", cont)
        .field("id", sp.id.as_str())
        .field("body", sp.body.as_str())
        .field("etag", sp.etag.as_str())
        .field("ts", sp.ts)
}

/// The JavaScript given with --body or --file.
pub fn script_text(body: &SprocBody) -> CliResult<String> {
    match (&body.body, &body.file) {
        (Some(js), _) => Ok(js.clone()),
        (None, Some(file)) => read_file(file),
        (None, None) => Err(CliError::bad_input(
            "give the script's JavaScript with --file or --body",
        )),
    }
}

pub fn put(g: &Globals, (db, cont, name): Named<'_>, body: &SprocBody, replace: bool) -> CliResult<Report> {
    let text = script_text(body)?;
    let account = account::open(g)?;
    let c = account.database(db).container(cont);
    Ok(if replace {
        procedure_report(200, db, cont, &c.replace_stored_procedure(name, &text)?)
    } else {
        procedure_report(201, db, cont, &c.create_stored_procedure(name, &text)?)
    })
}

pub fn get(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    let sp = account.database(db).container(cont).stored_procedure(name)?;
    Ok(procedure_report(200, db, cont, &sp))
}

pub fn list(g: &Globals, db: &str, cont: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let names = account.database(db).container(cont).list_stored_procedures()?;
    let rows = names.into_iter().map(|n| vec![Value::from(n)]).collect();
    Ok(Report::new(200).list("storedProcedures", vec!["id"], rows))
}

pub fn delete(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    account
        .database(db)
        .container(cont)
        .delete_stored_procedure(name)?;
    Ok(Report::new(204)
        .field("database", db)
        .field("container", cont)
        .field("id", name))
}

/// Runs the procedure (only if its etag is `if_match`, when given); with `log`, its console output goes to stderr (stdout keeps the report).
pub fn execute(
    g: &Globals,
    (db, cont, name): Named<'_>,
    pk: &PkArgs,
    args: &str,
    log: bool,
    if_match: Option<&str>,
) -> CliResult<Report> {
    let pk = pk.partition_key()?;
    let parsed = parse_json_within(args, MAX_ITEM_DEPTH + 2).map_err(|why| {
        CliError::bad_input(format!(
            "--args {why}; pass a JSON array of the procedure's arguments"
        ))
    })?;
    let Value::Array(args) = parsed else {
        return Err(CliError::bad_input(
            "--args is a JSON array with one element per parameter, e.g. --args '[\"a\", 2]'",
        ));
    };
    let account = account::open(g)?;
    let options = ProcedureOptions {
        enable_script_logging: log,
        if_match: if_match.map(str::to_string),
        ..ProcedureOptions::default()
    };
    let resp = account
        .database(db)
        .container(cont)
        .execute_stored_procedure_with(name, pk, &args, options)?;
    if let Some(text) = resp.log.as_deref().filter(|t| !t.is_empty()) {
        print_to_stderr(text);
    }
    Ok(Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .field("scriptMs", resp.script_time.as_secs_f64() * 1000.0)
        .field("body", resp.body))
}
