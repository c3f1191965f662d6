//! `strata item create|upsert|replace|get|delete|patch`: reads the item or its address from the
//! arguments, takes the partition key from the item by the container's path, calls the engine
//! and reports statusCode, requestCharge, etag and item (`get`: the item is the result's one
//! row in jsonl, csv and table). No storage logic.

use serde_json::Value;
use strata_engine::{
    parse_patch_operations, ItemOptions, ItemResponse, PatchOptions, TriggerOperation, TriggerOptions,
};

use crate::args::{parse_item_json, BodyArgs, Globals, PkArgs};
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// Which write an item command performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    Create,
    Upsert,
    Replace,
}

/// `item create|upsert|replace DB CONT (--json | --file) [--if-match ETAG] [--pre-trigger N]…
/// [--post-trigger N]…`.
pub fn write(
    g: &Globals,
    kind: Write,
    (db, cont): (&str, &str),
    body: &BodyArgs,
    if_match: Option<&str>,
    triggers: &TriggerOptions,
) -> CliResult<Report> {
    let item = body.read()?;
    let account = account::open(g)?;
    let c = account.database(db).container(cont);
    let pk = c.partition_key_of(&item)?;
    let opts = ItemOptions {
        if_match: if_match.map(str::to_string),
        ..ItemOptions::default()
    };
    if !triggers.is_empty() {
        let op = match kind {
            Write::Create => TriggerOperation::Create,
            Write::Upsert => TriggerOperation::Upsert,
            Write::Replace => TriggerOperation::Replace,
        };
        return Ok(report(
            c.write_item_with_triggers(op, pk, &item, &opts, triggers)?,
        ));
    }
    let resp = match kind {
        Write::Create => c.create_item_with(pk, &item, &opts)?,
        Write::Upsert => c.upsert_item_with(pk, &item, &opts)?,
        Write::Replace => c.replace_item_with(pk, &item, &opts)?,
    };
    Ok(report(resp))
}

/// `item get DB CONT ID (--pk | --pk-json | --pk-none)`.
pub fn get(g: &Globals, db: &str, cont: &str, id: &str, pk: &PkArgs) -> CliResult<Report> {
    let pk = pk.partition_key()?;
    let account = account::open(g)?;
    let resp = account.database(db).container(cont).read_item::<Value>(pk, id)?;
    let item = resp.item.clone();
    Ok(report(resp).records("item", item.into_iter().collect()))
}

/// `item delete DB CONT ID (--pk ...) [--if-match ETAG] [--pre-trigger N]… [--post-trigger N]…`.
pub fn delete(
    g: &Globals,
    (db, cont, id, pk): (&str, &str, &str, &PkArgs),
    if_match: Option<&str>,
    triggers: &TriggerOptions,
) -> CliResult<Report> {
    let pk = pk.partition_key()?;
    let account = account::open(g)?;
    let opts = ItemOptions {
        if_match: if_match.map(str::to_string),
        ..ItemOptions::default()
    };
    let c = account.database(db).container(cont);
    let resp = if triggers.is_empty() {
        c.delete_item_with(pk, id, &opts)?
    } else {
        c.delete_item_with_triggers(pk, id, &opts, triggers)?
    };
    Ok(Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .opt_field("etag", resp.etag))
}

/// `item patch DB CONT ID (--pk ...) --ops JSON [--filter SQL] [--if-match ETAG]`.
pub fn patch(
    g: &Globals,
    (db, cont, id, pk): (&str, &str, &str, &PkArgs),
    ops: &str,
    filter: Option<&str>,
    if_match: Option<&str>,
) -> CliResult<Report> {
    let pk = pk.partition_key()?;
    let ops = parse_item_json(ops)
        .map_err(|why| CliError::bad_input(format!("--ops {why}; pass a JSON array of operations")))?;
    let ops = parse_patch_operations(&ops)?;
    let account = account::open(g)?;
    let opts = PatchOptions {
        if_match: if_match.map(str::to_string),
        filter_predicate: filter.map(str::to_string),
        ..PatchOptions::default()
    };
    let resp = account
        .database(db)
        .container(cont)
        .patch_item(pk, id, &ops, &opts)?;
    Ok(report(resp))
}

fn report(resp: ItemResponse<Value>) -> Report {
    Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .opt_field("etag", resp.etag)
        .opt_field("item", resp.item)
}
