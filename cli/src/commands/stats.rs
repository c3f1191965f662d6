//! `strata stats`: each container's request units, operations and 429s over its life (the
//! counts of earlier sessions, kept as accounts close, plus this one's), one row per
//! container. Engine calls and reports only; see docs/ru-model.md#metrics.

use serde_json::Value;
use strata_engine::{Account, ContainerMetrics};

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

/// The columns of a metrics table, `strata stats` and the shell's `stats` alike.
pub const COLUMNS: [&str; 5] = [
    "container",
    "totalRu",
    "ruPerSecLastMinute",
    "operations",
    "throttled",
];

/// One row of a metrics table.
pub fn row(db: &str, container: &str, m: &ContainerMetrics) -> Vec<Value> {
    vec![
        Value::from(format!("{db}/{container}")),
        Value::from(m.total_ru),
        Value::from(m.ru_per_sec_last_minute),
        Value::from(m.operations),
        Value::from(m.throttled),
    ]
}

/// `strata stats`: lifetime metrics of every container.
pub fn run(g: &Globals) -> CliResult<Report> {
    let a: Account = account::open(g)?;
    let rows = a
        .lifetime_metrics()?
        .iter()
        .map(|(db, c, m)| row(db, c, m))
        .collect();
    Ok(Report::new(200).list("containers", COLUMNS.to_vec(), rows))
}
