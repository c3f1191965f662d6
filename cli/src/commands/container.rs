//! `strata container create|list|set-ttl`: containers of a database with their partition-key
//! paths, provisioned throughput, TTL (`defaultTtl`) and indexing policy (see index.rs).
//! Engine calls and reports only.

use std::path::Path;

use serde_json::Value;
use strata_engine::{ConflictResolutionPolicy, ContainerOptions};

use crate::args::Globals;
use crate::commands::{account, index};
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// What `strata container create` was given.
pub struct NewContainer<'a> {
    pub db: &'a str,
    pub name: &'a str,
    /// One path, or two or three for a hierarchical key.
    pub pk_paths: &'a [String],
    pub throughput: Option<u32>,
    pub default_ttl: Option<i64>,
    pub conflict_policy: Option<&'a str>,
    /// A file holding the indexing policy (JSON).
    pub index_policy: Option<&'a Path>,
    /// `--cmk`: the container's own customer key.
    pub customer_key: Option<&'a str>,
}

pub fn create(g: &Globals, n: &NewContainer<'_>) -> CliResult<Report> {
    let conflict_resolution = n.conflict_policy.map(parse_conflict_policy).transpose()?;
    let indexing_policy = n.index_policy.map(index::read_policy).transpose()?;
    let account = account::open(g)?;
    let c = account.database(n.db).create_container_with_paths(
        n.name,
        n.pk_paths,
        ContainerOptions {
            throughput: n.throughput,
            default_ttl: n.default_ttl,
            conflict_resolution,
            indexing_policy,
            customer_key: n.customer_key.map(str::to_string),
        },
    )?;
    let policy = serde_json::to_value(c.conflict_resolution_policy()?).unwrap_or_default();
    let indexing = serde_json::to_value(c.indexing_policy()?).unwrap_or_default();
    Ok(Report::new(201)
        .field("database", n.db)
        .field("container", n.name)
        .field("partitionKeyPath", pk_paths_value(n.pk_paths))
        .opt_field("throughput", n.throughput)
        .opt_field("defaultTtl", n.default_ttl)
        .field("conflictResolutionPolicy", policy)
        .field("indexingPolicy", indexing)
        .field("customerKey", key_of(n.customer_key)))
}

/// Whose key seals a container, as `container create`, `container list` and `ls` show it: its
/// own key's URI, or "account" (the account's keys).
pub fn key_of(own: Option<&str>) -> Value {
    Value::from(own.unwrap_or("account"))
}

/// How a container's partition-key paths are reported: the path for a single-path key (as
/// before hierarchical keys), a JSON array of them for a hierarchical one.
pub fn pk_paths_value(paths: &[String]) -> Value {
    match paths {
        [one] => Value::from(one.as_str()),
        many => Value::from(many.to_vec()),
    }
}

/// `lww` (last-writer-wins on /_ts), `lww:/path` (on a numeric path) or `custom`.
pub fn parse_conflict_policy(raw: &str) -> CliResult<ConflictResolutionPolicy> {
    match raw {
        "lww" => Ok(ConflictResolutionPolicy::default()),
        "custom" => Ok(ConflictResolutionPolicy::Custom),
        _ => match raw.strip_prefix("lww:") {
            Some(path) => Ok(ConflictResolutionPolicy::LastWriterWins {
                path: path.to_string(),
            }),
            None => Err(CliError::bad_input(format!(
                "--conflict-policy {raw:?} is not a policy; use lww, lww:/numeric/path or custom"
            ))),
        },
    }
}

/// `strata container set-ttl DB CONT N|off`: N is -1 (on, no default) or seconds.
pub fn set_ttl(g: &Globals, db: &str, name: &str, setting: &str) -> CliResult<Report> {
    let ttl = match setting {
        "off" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            CliError::bad_input(format!(
                "'{n}' is not a TTL setting: give -1 (on, no default), a number of seconds, or off"
            ))
        })?),
    };
    let account = account::open(g)?;
    account.database(db).container(name).set_default_ttl(ttl)?;
    Ok(Report::new(200)
        .field("database", db)
        .field("container", name)
        .field("defaultTtl", ttl.map_or(Value::from("off"), Value::from)))
}

/// `strata container delete DB CONT`: 204, or 404.
pub fn delete(g: &Globals, db: &str, name: &str) -> CliResult<Report> {
    account::open(g)?.database(db).delete_container(name)?;
    Ok(Report::new(204).field("database", db).field("container", name))
}

pub fn list(g: &Globals, db: &str) -> CliResult<Report> {
    let account = account::open(g)?;
    let rows = account
        .database(db)
        .list_containers()?
        .into_iter()
        .map(|c| {
            vec![
                Value::from(c.name),
                pk_paths_value(&c.partition_key_paths),
                key_of(c.customer_key.as_deref()),
            ]
        })
        .collect();
    Ok(Report::new(200).list(
        "containers",
        vec!["name", "partitionKeyPath", "customerKey"],
        rows,
    ))
}
