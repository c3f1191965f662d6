//! The CLI's one failure type: an HTTP-style status, a substatus and a message that says what to do,
//! and the process exit code it maps to (see docs/cli.md). Built from engine errors or from bad
//! command-line input (400); printed only by `output`. Holds no storage logic, never panics.

use std::fmt;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the store answered the request with an error (4xx/5xx not listed below).
pub const EXIT_REQUEST: u8 = 1;
/// Exit code: the command line is wrong (clap's errors, bad flag values, unreadable input).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the store is unavailable: key vault refused (403), data directory in use (423),
/// store poisoned (503).
pub const EXIT_UNAVAILABLE: u8 = 3;

/// A failed command: what `output::print_error` shows, and the process exit code.
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    /// HTTP-style status (400, 404, 409, 412, 403, 500, ...).
    pub status: u16,
    /// Substatus, 0 where none applies (e.g. 4002 = key vault refused).
    pub substatus: u32,
    /// What went wrong and what to do about it.
    pub message: String,
    /// Request units the failed operation still cost (e.g. a 404 read), if any.
    pub request_charge: Option<f64>,
    /// For a 429: milliseconds to wait before retrying.
    pub retry_after_ms: Option<u64>,
    /// The command line itself was wrong (exit code 2), not the request.
    pub usage: bool,
    /// The underlying error's debug form and its chain of causes, one per entry, for `-v`.
    pub details: Vec<String>,
}

impl CliError {
    pub fn new(status: u16, substatus: u32, message: impl Into<String>) -> Self {
        CliError {
            status,
            substatus,
            message: message.into(),
            request_charge: None,
            retry_after_ms: None,
            usage: false,
            details: Vec::new(),
        }
    }

    /// 400: the command line itself is wrong (unparseable JSON, unreadable file, bad flag);
    /// exit code 2.
    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError {
            usage: true,
            ..CliError::new(400, 0, message)
        }
    }

    /// The process exit code for this failure (see docs/cli.md).
    pub fn exit_code(&self) -> u8 {
        if self.usage {
            EXIT_USAGE
        } else if matches!(self.status, 403 | 423 | 503) {
            EXIT_UNAVAILABLE
        } else {
            EXIT_REQUEST
        }
    }

    /// 500: something the CLI expected did not hold (e.g. a demo step returned the wrong status).
    pub fn internal(message: impl Into<String>) -> Self {
        CliError::new(500, 0, message)
    }

    /// What to do next, by status (printed after the error line in text formats).
    pub fn hint(&self) -> &'static str {
        match (self.status, self.usage) {
            (400, true) => "check the command line; `strata help <command>` shows its flags and an example",
            (400, false) => "the store refused the request as malformed; fix the part the message names",
            (403, _) => {
                "the customer key is not available: see `strata key status`, `strata vault key list` and \
                 `strata vault audit`; once access is back run `strata key check`"
            }
            (404, _) => "check the names and ids; `strata ls` lists databases and containers",
            (409, _) => "the id exists in that partition: use `item upsert` or `item replace`, or another id",
            (412, _) => "the item changed since you read it: read it again for its current etag and retry",
            (413, _) => "items are limited to 2 MB with their system properties: split the item",
            (423, _) => "another process has the data directory open: close it, or use another --data",
            (429, _) => "throughput exceeded: retry after the time given, or raise the provisioned RU/s",
            (500, _) => {
                "the store found damage or an I/O failure: `strata backup verify` and restore from a backup"
            }
            (503, _) => "the store stopped after a failed write: run the command again to reopen it",
            _ => "run again with -v for details",
        }
    }

    /// Adds a hint after the message ("...; <hint>").
    pub fn with_hint(mut self, hint: impl fmt::Display) -> Self {
        self.message = format!("{}; {hint}", self.message);
        self
    }
}

/// `e`'s debug form, then each of its causes.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![format!("{e:?}")];
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(format!("caused by: {c}"));
        cause = c.source();
    }
    out
}

/// The vault's errors (key management commands) keep their status and substatus.
impl From<strata_engine::vault::Error> for CliError {
    fn from(e: strata_engine::vault::Error) -> Self {
        CliError::from(strata_engine::Error::from(e))
    }
}

impl From<strata_analytical::AnalyticalError> for CliError {
    fn from(e: strata_analytical::AnalyticalError) -> Self {
        match e {
            strata_analytical::AnalyticalError::Engine(e) => CliError::from(e),
            other => CliError {
                details: chain(&other),
                ..CliError::new(other.status(), 0, other.to_string())
            },
        }
    }
}

impl From<strata_engine::Error> for CliError {
    fn from(e: strata_engine::Error) -> Self {
        CliError {
            request_charge: e.request_charge(),
            retry_after_ms: e.retry_after(),
            details: chain(&e),
            ..CliError::new(e.status(), e.substatus(), e.to_string())
        }
    }
}

/// `STATUS[.SUBSTATUS] message`: the one line an error prints as.
impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.substatus == 0 {
            write!(f, "{} {}", self.status, self.message)
        } else {
            write!(f, "{}.{} {}", self.status, self.substatus, self.message)
        }
    }
}

/// Shorthand for every command's result.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_kind() {
        let cases = [
            (CliError::bad_input("x"), EXIT_USAGE),
            (CliError::new(400, 0, "engine said no"), EXIT_REQUEST),
            (CliError::new(404, 0, "x"), EXIT_REQUEST),
            (CliError::new(409, 0, "x"), EXIT_REQUEST),
            (CliError::new(429, 3200, "x"), EXIT_REQUEST),
            (CliError::new(500, 1002, "x"), EXIT_REQUEST),
            (CliError::new(403, 4002, "x"), EXIT_UNAVAILABLE),
            (CliError::new(423, 1003, "x"), EXIT_UNAVAILABLE),
            (CliError::new(503, 1001, "x"), EXIT_UNAVAILABLE),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e}");
        }
    }
}
