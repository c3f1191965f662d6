//! `strata analytics enable|disable|status|key|export|query`: the analytical tier of one
//! container. Every command that reads the tier first catches it up from the change feed (the
//! CLI has no long-running replicator), so what it shows is current. No storage logic: calls
//! to the engine (settings, key) and to strata-analytical (the tier).

use std::path::Path;

use base64::Engine as _;
use serde_json::{Map, Value};
use strata_analytical::{Tier, EXPORT_FILE};
use strata_engine::{AnalyticalSchema, Container, SystemWallClock, WallClock};

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

fn container(g: &Globals, db: &str, name: &str) -> CliResult<(strata_engine::Account, Container)> {
    let account = account::open(g)?;
    let c = account.database(db).container(name);
    Ok((account, c))
}

fn now() -> i64 {
    i64::try_from(SystemWallClock.now_secs()).unwrap_or(i64::MAX)
}

/// Turns the tier on (TTL -1 = forever, n seconds; 0 turns it off).
pub fn enable(g: &Globals, db: &str, name: &str, ttl: i64, schema: &str) -> CliResult<Report> {
    let schema = AnalyticalSchema::parse(schema)?;
    let (_account, c) = container(g, db, name)?;
    if ttl == 0 {
        c.disable_analytical()?;
        return Ok(Report::new(200).field("analytical", "off"));
    }
    let s = c.enable_analytical(ttl, schema)?;
    let mut tier = Tier::open(&c)?;
    let caught = tier.catch_up()?;
    Ok(Report::new(200)
        .field("analyticalTtl", s.ttl)
        .field("schema", s.schema.as_str())
        .field("catchUp", serde_json::to_value(caught).unwrap_or_default()))
}

pub fn disable(g: &Globals, db: &str, name: &str) -> CliResult<Report> {
    let (_account, c) = container(g, db, name)?;
    c.disable_analytical()?;
    Ok(Report::new(200).field("analytical", "off"))
}

/// Catches up and shows the tier: settings, applied LSN, files, and the lag it had.
pub fn status(g: &Globals, db: &str, name: &str) -> CliResult<Report> {
    let (_account, c) = container(g, db, name)?;
    let Some(s) = c.analytical_settings()? else {
        return Ok(Report::new(200).field("analytical", "off"));
    };
    let mut tier = Tier::open(&c)?;
    let caught = tier.catch_up()?;
    let rows = tier.scan(now())?.num_rows();
    Ok(Report::new(200)
        .field("analytical", "on")
        .field("analyticalTtl", s.ttl)
        .field("schema", s.schema.as_str())
        .field("appliedLsn", caught.applied_lsn)
        .field("rows", rows as u64)
        .field("files", tier.files().len() as u64)
        .field("lagSecondsBeforeCatchUp", caught.oldest_change_age_secs)
        .field("catchUpMs", caught.took_ms)
        .field("appliedNow", caught.applied as u64))
}

/// Prints the unwrapped analytical key, base64, for external readers (DuckDB, pyarrow).
pub fn key(g: &Globals, db: &str, name: &str) -> CliResult<Report> {
    let (_account, c) = container(g, db, name)?;
    let key = c.analytical_key()?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.as_slice());
    Ok(Report::new(200).field("key", b64).field("encoding", "base64"))
}

/// Writes a compacted, encrypted snapshot to `out`.
pub fn export(g: &Globals, db: &str, name: &str, out: &Path) -> CliResult<Report> {
    let (_account, c) = container(g, db, name)?;
    let mut tier = Tier::open(&c)?;
    tier.catch_up()?;
    let t = now();
    let rows = tier.scan(t)?.num_rows();
    let file = tier.export(out, t)?;
    Ok(Report::new(200)
        .field("file", file.display().to_string())
        .field("name", EXPORT_FILE)
        .field("rows", rows as u64))
}

/// Runs an aggregation over the tier.
pub fn query(g: &Globals, db: &str, name: &str, sql: &str) -> CliResult<Report> {
    let (_account, c) = container(g, db, name)?;
    let mut tier = Tier::open(&c)?;
    tier.catch_up()?;
    let r = tier.query(sql, now())?;
    let rows: Vec<Value> = r
        .rows
        .into_iter()
        .map(|m: Map<String, Value>| Value::Object(m))
        .collect();
    Ok(Report::new(200)
        .field("columns", Value::from(r.columns))
        .field("items", Value::Array(rows.clone()))
        .records("items", rows))
}
