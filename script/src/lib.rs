//! Strata's server-side scripts: a sandboxed JavaScript runtime (QuickJS) that runs one stored
//! procedure or trigger at a time against a `Host` the engine implements, and user-defined
//! functions for queries (`Functions`). Owns the runtime, its limits,
//! the server-side API a script sees (getContext() and the collection) and how an execution
//! fails. Must not know how documents are stored, keyed or sealed, nor depend on the engine:
//! everything a script does to documents goes through `Host`. See docs/scripts.md.

mod bridge;
#[cfg(test)]
mod chain_tests;
#[cfg(test)]
mod console_tests;
mod error;
mod functions;
mod host;
mod limits;
mod log;
mod sandbox;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde_json::Value;

pub use error::{ScriptError, SCRIPT_ERROR, SCRIPT_MEMORY_CAP, SCRIPT_TIME_BUDGET};
pub use functions::Functions;
pub use host::{Host, HostError, Page, Request};
pub use limits::Limits;
pub use log::{MAX_LOG_BYTES, TRUNCATED as LOG_TRUNCATED};

/// The procedure to run and what it sees of where it runs.
#[derive(Clone, Copy, Debug)]
pub struct Procedure<'a> {
    /// Its body: one JavaScript function.
    pub body: &'a str,
    /// What `getCollection().getSelfLink()` and `getAltLink()` answer.
    pub self_link: &'a str,
    pub alt_link: &'a str,
    /// The execution's moment, Unix milliseconds: what `Date.now()` and `new Date()` give.
    pub now_ms: f64,
    /// Whether to keep what the script writes with `console.log` (and `info`, `warn`, `error`,
    /// `debug`) in `Outcome::log`, at most `MAX_LOG_BYTES`; otherwise console calls are
    /// accepted and dropped.
    pub log: bool,
}

/// What a successful execution returned.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What the script passed to `getResponse().setBody()` (`null` if nothing); for a
    /// post-trigger, the written item unless it set another.
    pub body: Value,
    /// The request body as the script left it: a pre-trigger's changed item (a procedure's
    /// arguments).
    pub request: Value,
    /// Time spent running JavaScript, host calls excluded (what the CPU charge counts).
    pub script_time: Duration,
    /// Document operations the script made.
    pub operations: usize,
    /// The script's console output, one line per call, when `Procedure::log` asked for it
    /// (over `MAX_LOG_BYTES`: cut there and ended with `LOG_TRUNCATED`).
    pub log: Option<String>,
}

/// Runs `procedure` with `args` (its parameters, in order), serving its document operations
/// with `host`. Nothing is kept by the runtime: whether the host's writes stand is the host's
/// business, decided on the result.
pub fn run_procedure(
    procedure: &Procedure<'_>,
    args: &[Value],
    host: &mut dyn Host,
    limits: Limits,
) -> Result<Outcome, ScriptError> {
    execute(procedure, args, None, None, host, limits)
}

/// Runs a trigger (a function of no arguments) for a request writing `request` (the item; null
/// for a delete): a pre-trigger may change it (`getRequest().setBody()`, read back in
/// `Outcome::request`); a post-trigger sees `response` (the item as written) in
/// `getResponse().getBody()`. Its document operations go to `host` like a procedure's.
pub fn run_trigger(
    trigger: &Procedure<'_>,
    request: &Value,
    response: Option<&Value>,
    host: &mut dyn Host,
    limits: Limits,
) -> Result<Outcome, ScriptError> {
    execute(trigger, &[], Some(request), response, host, limits)
}

fn execute(
    p: &Procedure<'_>,
    args: &[Value],
    request: Option<&Value>,
    response: Option<&Value>,
    host: &mut dyn Host,
    limits: Limits,
) -> Result<Outcome, ScriptError> {
    for v in args.iter().chain(request).chain(response) {
        check_depth(v)?;
    }
    let json = |v: &Value| {
        serde_json::to_string(v)
            .map_err(|e| ScriptError::Internal(format!("serialising for the script: {e}")))
    };
    let mut program = program(p, Some(json(&Value::from(args.to_vec()))?));
    program.request_json = request.map(json).transpose()?;
    program.response_json = response.map(json).transpose()?;
    let ran = sandbox::run(&program, host, limits)?;
    let text = ran
        .result
        .ok_or_else(|| ScriptError::Internal("the script was not invoked".into()))?;
    let mut out: Value = serde_json::from_str(&text)
        .map_err(|e| ScriptError::Internal(format!("the script's result is not JSON: {e}")))?;
    Ok(Outcome {
        body: out["body"].take(),
        request: out["request"].take(),
        script_time: ran.script_time,
        operations: ran.operations,
        log: ran.log,
    })
}

/// Checks that `body` compiles and is one function, without calling it: what creating or
/// replacing a stored procedure checks. Whatever the definition itself runs has no documents
/// to reach.
pub fn check_procedure(body: &str, limits: Limits) -> Result<(), ScriptError> {
    let procedure = Procedure {
        body,
        self_link: "",
        alt_link: "",
        now_ms: 0.0,
        log: false,
    };
    sandbox::run(&program(&procedure, None), &mut NoDocuments, limits).map(|_| ())
}

/// Deepest nesting of arguments and bodies handed to a script: a document's 128 levels, and a
/// few for the array around them.
pub const MAX_INPUT_DEPTH: usize = 132;

/// 400 for a value nested deeper than `MAX_INPUT_DEPTH` (checked without recursion: the
/// serialisation that follows recurses).
pub(crate) fn check_depth(v: &Value) -> Result<(), ScriptError> {
    let mut stack = vec![(v, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_INPUT_DEPTH {
            return Err(ScriptError::BadInput(format!(
                "a value nests deeper than {MAX_INPUT_DEPTH} levels"
            )));
        }
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(m) => stack.extend(m.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

fn program<'a>(p: &Procedure<'a>, args_json: Option<String>) -> sandbox::Program<'a> {
    sandbox::Program {
        body: p.body,
        args_json,
        request_json: None,
        response_json: None,
        self_link: p.self_link,
        alt_link: p.alt_link,
        now_ms: p.now_ms,
        log: p.log,
    }
}

/// The host of a definition: no documents.
struct NoDocuments;

impl Host for NoDocuments {
    fn call(&mut self, _: Request) -> Result<Value, HostError> {
        Err(HostError {
            status: 400,
            substatus: SCRIPT_ERROR,
            message: "a procedure's body may not reach the collection while it is being defined".into(),
            fatal: true,
        })
    }
}
