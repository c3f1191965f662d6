//! `strata query DB CONT "SELECT ..." [--param @p=VALUE]... [--pk VALUE] [--max-items N]
//! [--continuation TOKEN]`: turns the flags into a query call and prints one page (JSON:
//! statusCode, requestCharge, items, continuation; table: one row per item). No storage logic.

use comfy_table::Table;
use serde_json::Value;
use strata_engine::{QueryOptions, QueryResponse};

use crate::args::{pk_from_flag, Globals};
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::{self, cell, new_table, Format, Report};

/// What `strata query` was given.
pub struct QueryArgs<'a> {
    pub db: &'a str,
    pub container: &'a str,
    pub sql: &'a str,
    pub params: &'a [String],
    pub pk: Option<&'a str>,
    pub max_items: Option<usize>,
    pub continuation: Option<&'a str>,
}

/// Runs the query and prints the page.
pub fn run(g: &Globals, a: &QueryArgs<'_>) -> CliResult<()> {
    let params = a
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<CliResult<Vec<_>>>()?;
    let opts = QueryOptions {
        partition_key: a.pk.map(pk_from_flag).transpose()?,
        max_item_count: a.max_items,
        continuation: a.continuation.map(str::to_string),
    };
    let account = account::open(g)?;
    let resp = account
        .database(a.db)
        .container(a.container)
        .query_items(a.sql, &params, &opts)?;
    match g.format() {
        Format::Json => output::print(Format::Json, &report(&resp)),
        Format::Table => {
            if resp.items.is_empty() {
                println!("(no items)");
            } else {
                println!("{}", table(&resp.items));
            }
            println!("requestCharge: {}", resp.request_charge);
            if let Some(token) = &resp.continuation {
                println!("continuation: {token}");
            }
        }
    }
    Ok(())
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
fn report(resp: &QueryResponse) -> Report {
    Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .field("items", Value::Array(resp.items.clone()))
        .field(
            "continuation",
            resp.continuation.clone().map_or(Value::Null, Value::String),
        )
}

/// Items as a table: one column per property (in order of first appearance) when every item is
/// an object, else one `value` column.
fn table(items: &[Value]) -> Table {
    let objects: Option<Vec<&serde_json::Map<String, Value>>> = items.iter().map(Value::as_object).collect();
    match objects {
        Some(objects) => {
            let mut columns: Vec<&str> = Vec::new();
            for o in &objects {
                for k in o.keys() {
                    if !columns.contains(&k.as_str()) {
                        columns.push(k);
                    }
                }
            }
            let mut t = new_table(columns.iter().copied());
            for o in &objects {
                t.add_row(columns.iter().map(|c| o.get(*c).map(cell).unwrap_or_default()));
            }
            t
        }
        None => {
            let mut t = new_table(["value"]);
            for v in items {
                t.add_row([cell(v)]);
            }
            t
        }
    }
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

    #[test]
    fn table_columns_are_the_union_of_properties() {
        let t = table(&[json!({"a": 1}), json!({"b": "x", "a": 2})]).to_string();
        assert!(t.contains('a') && t.contains('b') && t.contains('x'), "{t}");
        let t = table(&[json!(1), json!({"a": 1})]).to_string();
        assert!(t.contains("value"), "{t}");
    }
}
