//! `strata query DB CONT "SELECT ..." [--param @p=VALUE]... [--pk VALUE] [--max-items N]
//! [--continuation TOKEN]`: turns the flags into a query call and reports one page (JSON:
//! statusCode, requestCharge, items, continuation; other formats: one row per item). No storage
//! logic.

use serde_json::Value;
use strata_engine::{PartitionKey, QueryOptions, QueryResponse};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// What `strata query` was given.
pub struct QueryArgs<'a> {
    pub db: &'a str,
    pub container: &'a str,
    pub sql: &'a str,
    pub params: &'a [String],
    /// The partition (or prefix of a hierarchical key's levels) to query; `None`: all.
    pub pk: Option<PartitionKey>,
    pub max_items: Option<usize>,
    pub continuation: Option<&'a str>,
    /// Print the plan instead of running the query.
    pub explain: bool,
}

/// Runs the query and reports the page.
pub fn run(g: &Globals, a: &QueryArgs<'_>) -> CliResult<Report> {
    let params = a
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<CliResult<Vec<_>>>()?;
    let opts = QueryOptions {
        force_full_scan: false,
        partition_key: a.pk.clone(),
        max_item_count: a.max_items,
        continuation: a.continuation.map(str::to_string),
        partition_filter: None,
    };
    let account = account::open_for_one_page(g)?;
    let container = account.database(a.db).container(a.container);
    if a.explain {
        let plan = container.explain_query(a.sql, &params, &opts)?;
        return Ok(Report::new(200).field("plan", plan));
    }
    let resp = container.query_items(a.sql, &params, &opts)?;
    let columns = strata_engine::projection_names(a.sql).unwrap_or_default();
    Ok(report(resp).leading_columns(columns))
}

/// `@name=VALUE`: VALUE as JSON when it parses as JSON, else as a string.
pub fn parse_param(raw: &str) -> CliResult<(String, Value)> {
    let Some((name, value)) = raw.split_once('=') else {
        return Err(CliError::bad_input(format!(
            "--param {raw:?} needs the form @name=VALUE, e.g. --param @min=5"
        )));
    };
    let valid = name
        .strip_prefix('@')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !valid {
        return Err(CliError::bad_input(format!(
            "--param {raw:?}: the name must be @ followed by letters, digits or _, e.g. @min"
        )));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((name.to_string(), value))
}

/// The JSON answer: `{"statusCode":200,"requestCharge":..,"items":[..],"continuation":..}`.
fn report(resp: QueryResponse) -> Report {
    Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .field("items", Value::Array(resp.items.clone()))
        .field(
            "continuation",
            resp.continuation.map_or(Value::Null, Value::String),
        )
        .records("items", resp.items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_read_json_else_strings() {
        let cases: &[(&str, &str, Value)] = &[
            ("@n=5", "@n", json!(5)),
            ("@s=abc", "@s", json!("abc")),
            ("@q=\"5\"", "@q", json!("5")),
            ("@a=[1,2]", "@a", json!([1, 2])),
            ("@o={\"k\":null}", "@o", json!({"k": null})),
            ("@e=", "@e", json!("")),
            ("@x=a=b", "@x", json!("a=b")),
            ("@t=true", "@t", json!(true)),
        ];
        for (raw, name, value) in cases {
            assert_eq!(
                parse_param(raw).unwrap(),
                (name.to_string(), value.clone()),
                "{raw}"
            );
        }
        for bad in ["n=5", "@=5", "@n", "@a b=1"] {
            assert_eq!(parse_param(bad).unwrap_err().status, 400, "{bad}");
        }
    }
}
