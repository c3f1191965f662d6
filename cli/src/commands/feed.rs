//! `strata feed DB CONT [--mode latest|all] [--from-beginning|--from-now|--from-time T|--continuation
//! TOKEN] [--pk VALUE] [--max-items N]`: reads one page of a container's change feed and reports
//! it (JSON: statusCode 200 or 304, requestCharge, items, continuation; other formats: one row per
//! change). No storage logic.

use serde_json::Value;
use strata_engine::{ChangeFeedMode, ChangeFeedOptions, ChangeFeedStart, PartitionKey, DEFAULT_FEED_PAGE};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// What `strata feed` was given.
pub struct FeedArgs<'a> {
    pub db: &'a str,
    pub container: &'a str,
    pub mode: &'a str,
    pub from_now: bool,
    pub from_time: Option<&'a str>,
    pub continuation: Option<&'a str>,
    /// The partition (or prefix of a hierarchical key's levels) to read; `None`: all.
    pub pk: Option<PartitionKey>,
    pub max_items: Option<usize>,
}

fn mode(raw: &str) -> CliResult<ChangeFeedMode> {
    match raw {
        "latest" | "latest-version" => Ok(ChangeFeedMode::LatestVersion),
        "all" | "all-versions-and-deletes" => Ok(ChangeFeedMode::AllVersionsAndDeletes),
        other => Err(CliError::bad_input(format!(
            "--mode {other:?} is not a feed mode; use latest (creates and updates, latest version) or \
             all (every version and delete)"
        ))),
    }
}

/// Where to start; the flags are mutually exclusive (clap enforces it), the beginning by default.
fn start(a: &FeedArgs<'_>) -> CliResult<ChangeFeedStart> {
    if let Some(t) = a.continuation {
        return Ok(ChangeFeedStart::Continuation(t.to_string()));
    }
    if a.from_now {
        return Ok(ChangeFeedStart::Now);
    }
    if let Some(t) = a.from_time {
        let secs = t.parse::<u64>().map_err(|_| {
            CliError::bad_input(format!(
                "--from-time {t:?} is not a time; give Unix seconds, e.g. --from-time 1767225600"
            ))
        })?;
        return Ok(ChangeFeedStart::Time(secs));
    }
    Ok(ChangeFeedStart::Beginning)
}

/// Reads the page and reports it.
pub fn run(g: &Globals, a: &FeedArgs<'_>) -> CliResult<Report> {
    let opts = ChangeFeedOptions {
        mode: mode(a.mode)?,
        start: start(a)?,
        partition_key: a.pk.clone(),
        max_item_count: a.max_items.unwrap_or(DEFAULT_FEED_PAGE),
    };
    let account = account::open(g)?;
    let resp = account
        .database(a.db)
        .container(a.container)
        .read_change_feed(&opts)?;
    Ok(Report::new(resp.status_code)
        .field("requestCharge", resp.request_charge)
        .field("items", Value::Array(resp.items.clone()))
        .field("continuation", Value::String(resp.continuation))
        .records("items", resp.items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(mode: &str) -> FeedArgs<'_> {
        FeedArgs {
            db: "d",
            container: "c",
            mode,
            from_now: false,
            from_time: None,
            continuation: None,
            pk: None,
            max_items: None,
        }
    }

    #[test]
    fn flags_map_to_options() {
        assert_eq!(mode("latest").unwrap(), ChangeFeedMode::LatestVersion);
        assert_eq!(mode("all").unwrap(), ChangeFeedMode::AllVersionsAndDeletes);
        assert_eq!(mode("every").unwrap_err().status, 400);
        assert_eq!(start(&args("all")).unwrap(), ChangeFeedStart::Beginning);
        let a = FeedArgs {
            from_time: Some("1767225600"),
            ..args("all")
        };
        assert_eq!(start(&a).unwrap(), ChangeFeedStart::Time(1_767_225_600));
        let a = FeedArgs {
            from_time: Some("yesterday"),
            ..args("all")
        };
        assert_eq!(start(&a).unwrap_err().status, 400);
        let a = FeedArgs {
            continuation: Some("cf1:all:1:*:5"),
            ..args("all")
        };
        assert_eq!(
            start(&a).unwrap(),
            ChangeFeedStart::Continuation("cf1:all:1:*:5".into())
        );
    }
}
