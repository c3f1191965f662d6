//! `strata trigger`: triggers as resources (create, replace, get, list, delete): reads the body, parses
//! the type and operation, calls the engine, reports `statusCode` and the trigger. No storage or
//! script logic.

use serde_json::Value;
use strata_engine::Trigger;

use crate::args::{Globals, SprocBody};
use crate::commands::account;
use crate::commands::sproc::{script_text, Named};
use crate::error::CliResult;
use crate::output::Report;

fn trigger_report(status: u16, t: &Trigger) -> Report {
    Report::new(status)
        .field("id", t.id.as_str())
        .field("triggerType", format!("{:?}", t.trigger_type))
        .field("triggerOperation", format!("{:?}", t.trigger_operation))
        .field("body", t.body.as_str())
        .field("etag", t.etag.as_str())
        .field("ts", t.ts)
}

/// `create` (`replace` false: 201) or `replace` (200).
pub fn put(
    g: &Globals,
    (db, cont, name): Named<'_>,
    (trigger_type, operation): (&str, &str),
    body: &SprocBody,
    replace: bool,
) -> CliResult<Report> {
    let (trigger_type, operation) = (trigger_type.parse()?, operation.parse()?);
    let text = script_text(body)?;
    let account = account::open(g)?;
    let c = account.database(db).container(cont);
    Ok(if replace {
        trigger_report(200, &c.replace_trigger(name, trigger_type, operation, &text)?)
    } else {
        trigger_report(201, &c.create_trigger(name, trigger_type, operation, &text)?)
    })
}

pub fn get(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    let t = account.database(db).container(cont).trigger(name)?;
    Ok(trigger_report(200, &t))
}

pub fn list(g: &Globals, db: &str, cont: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let rows = account
        .database(db)
        .container(cont)
        .list_triggers()?
        .into_iter()
        .map(|t| {
            vec![
                Value::from(t.id),
                Value::from(format!("{:?}", t.trigger_type)),
                Value::from(format!("{:?}", t.trigger_operation)),
            ]
        })
        .collect();
    Ok(Report::new(200).list("triggers", vec!["id", "triggerType", "triggerOperation"], rows))
}

pub fn delete(g: &Globals, (db, cont, name): Named<'_>) -> CliResult<Report> {
    let account = account::open(g)?;
    account.database(db).container(cont).delete_trigger(name)?;
    Ok(Report::new(204).field("id", name))
}
