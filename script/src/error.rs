//! The ways a script execution fails, with the HTTP-style status each answers. Owns the mapping
//! to status and substatus; must not carry document contents beyond the script's own message.

use std::time::Duration;

use crate::host::HostError;

/// Substatus of a 408: the script ran past its time budget.
pub const SCRIPT_TIME_BUDGET: u32 = 3701;
/// Substatus of a 400: the script allocated past its memory cap.
pub const SCRIPT_MEMORY_CAP: u32 = 3702;
/// Substatus of a 400: the script threw (or failed to compile).
pub const SCRIPT_ERROR: u32 = 3703;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ScriptError {
    /// The body does not compile, or is not one function.
    #[error("the script does not compile: {0}")]
    Compile(String),
    /// The script threw, or an operation failed and the script did not handle it.
    #[error("the script threw: {0}")]
    Thrown(String),
    #[error("the script ran longer than its {} ms budget and was stopped; nothing it wrote is kept: do less per call (return early when an operation is not accepted) and call it again", .0.as_millis())]
    Timeout(Duration),
    #[error("the script used more than its {} MiB memory cap and was stopped; nothing it wrote is kept", .0 >> 20)]
    OutOfMemory(usize),
    /// What the caller passed is unusable (arguments nested too deep).
    #[error("bad script input: {0}")]
    BadInput(String),
    /// The host failed the execution as a whole.
    #[error("{}", .0.message)]
    Host(HostError),
    #[error("script runtime failure: {0}")]
    Internal(String),
}

impl ScriptError {
    pub fn status(&self) -> u16 {
        match self {
            ScriptError::Compile(_)
            | ScriptError::Thrown(_)
            | ScriptError::OutOfMemory(_)
            | ScriptError::BadInput(_) => 400,
            ScriptError::Timeout(_) => 408,
            ScriptError::Host(e) => e.status,
            ScriptError::Internal(_) => 500,
        }
    }

    pub fn substatus(&self) -> u32 {
        match self {
            ScriptError::Compile(_) | ScriptError::Thrown(_) => SCRIPT_ERROR,
            ScriptError::Timeout(_) => SCRIPT_TIME_BUDGET,
            ScriptError::OutOfMemory(_) => SCRIPT_MEMORY_CAP,
            ScriptError::Host(e) => e.substatus,
            ScriptError::Internal(_) | ScriptError::BadInput(_) => 0,
        }
    }
}
