//! `strata udf`: user-defined functions as resources (create, replace, get, list, delete): reads the
//! body, calls the engine, reports `statusCode` and the function. No storage or script logic.

use serde_json::Value;
use strata_engine::UserDefinedFunction;

use crate::args::{Globals, SprocBody};
use crate::commands::account;
use crate::commands::sproc::{script_text, Named};
use crate::error::CliResult;
use crate::output::Report;

fn udf_report(status: u16, u: &UserDefinedFunction) -> Report {
    Report::new(status)
        .field("id", u.id.as_str())
        .field("body", u.body.as_str())
        .field("etag", u.etag.as_str())
        .field("ts", u.ts)
}

/// `create` (`replace` false: 201) or `replace` (200).
pub fn put(g: &Globals, (db, cont, name): Named<'_>, body: &SprocBody, replace: bool) -> CliResult<Report> {
    let text = script_text(body)?;
    let account = account::open(g)?;
    let c = account.database(db).container(cont);
    Ok(if replace {
        udf_report(200, &c.replace_user_defined_function(name, &text)?)
    } else {
        udf_report(201, &c.create_user_defined_function(name, &text)?)
    })
}

pub fn get(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    let u = account.database(db).container(cont).user_defined_function(name)?;
    Ok(udf_report(200, &u))
}

pub fn list(g: &Globals, db: &str, cont: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let rows = account
        .database(db)
        .container(cont)
        .list_user_defined_functions()?
        .into_iter()
        .map(|u| vec![Value::from(u.id)])
        .collect();
    Ok(Report::new(200).list("userDefinedFunctions", vec!["id"], rows))
}

pub fn delete(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    account
        .database(db)
        .container(cont)
        .delete_user_defined_function(name)?;
    Ok(Report::new(204).field("id", name))
}
