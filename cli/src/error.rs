//! The CLI's one failure type: an HTTP-style status, a substatus and a message that says what to do.
//! Built from engine errors or from bad command-line input (400); printed only by `output`.
//! Holds no storage logic and never panics on bad input.

use std::fmt;

/// A failed command: what `output::print_error` shows and why the process exits with code 1.
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
}

impl CliError {
    pub fn new(status: u16, substatus: u32, message: impl Into<String>) -> Self {
        CliError {
            status,
            substatus,
            message: message.into(),
            request_charge: None,
            retry_after_ms: None,
        }
    }

    /// 400: the command line itself is wrong (unparseable JSON, unreadable file, bad flag).
    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError::new(400, 0, message)
    }

    /// 500: something the CLI expected did not hold (e.g. a demo step returned the wrong status).
    pub fn internal(message: impl Into<String>) -> Self {
        CliError::new(500, 0, message)
    }

    /// Adds a hint after the message ("...; <hint>").
    pub fn with_hint(mut self, hint: impl fmt::Display) -> Self {
        self.message = format!("{}; {hint}", self.message);
        self
    }
}

impl From<strata_engine::Error> for CliError {
    fn from(e: strata_engine::Error) -> Self {
        CliError {
            request_charge: e.request_charge(),
            retry_after_ms: e.retry_after(),
            ..CliError::new(e.status(), e.substatus(), e.to_string())
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.substatus == 0 {
            write!(f, "{} ({})", self.message, self.status)
        } else {
            write!(f, "{} ({}.{})", self.message, self.status, self.substatus)
        }
    }
}

/// Shorthand for every command's result.
pub type CliResult<T> = Result<T, CliError>;
