//! One sandboxed execution (and the `Sandbox` runtime functions.rs reuses): a fresh QuickJS
//! runtime and context on a thread of its own, with a memory cap, a native stack cap and an
//! interrupt handler that stops the script at its deadline (or when the host fails the
//! execution). The context has the language and JSON, Date (frozen by clock.js), RegExp,
//! Map/Set and eval, api.js (with chain.js's `__`) and its `console` (kept only when the program
//! asks for its log) — no module loader, file system, network, timers, promises or performance
//! clock. The script reaches the host only through one native function (bridge.rs), whose
//! requests are served on the calling thread, so the host needs to be neither `Send` nor
//! `'static`. Must not know about documents or storage.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rquickjs::context::intrinsic::{Date, Eval, Json, MapSet, RegExp, RegExpCompiler};
use rquickjs::{Context, Ctx, Function, Runtime, Value};

use crate::bridge::{parse_request, reply, NOT_ACCEPTED};
use crate::error::ScriptError;
use crate::host::{Host, HostError, Request};
use crate::limits::Limits;
use crate::log::ScriptLog;

/// The server-side API (getContext() and the rest), in JavaScript.
const API_JS: &str = include_str!("api.js");
/// The `__` object (chain.js), in JavaScript: api.js is called with its factory.
const CHAIN_JS: &str = include_str!("chain.js");
/// The frozen clock, in JavaScript.
const CLOCK_JS: &str = include_str!("clock.js");
/// The console that writes to the script log, in JavaScript (only when the log is asked for).
const CONSOLE_JS: &str = include_str!("console.js");

/// Native stack the script thread has beyond the interpreter's cap, for the Rust frames around
/// it.
const THREAD_STACK_SLACK: usize = 1 << 20;

/// What to run: a body (one function), and whether to invoke it or only define it.
pub(crate) struct Program<'a> {
    pub(crate) body: &'a str,
    /// The arguments, a JSON array (`None`: define the function, do not call it).
    pub(crate) args_json: Option<String>,
    /// A trigger's request body (the item the request writes) and response body (the item as
    /// written), as JSON; `None` for a procedure, whose request body is its arguments.
    pub(crate) request_json: Option<String>,
    pub(crate) response_json: Option<String>,
    pub(crate) self_link: &'a str,
    pub(crate) alt_link: &'a str,
    pub(crate) now_ms: f64,
    /// Whether to keep what `console` writes (`Ran::log`); otherwise it is dropped.
    pub(crate) log: bool,
}

/// What an execution did.
pub(crate) struct Ran {
    /// `{"body", "request"}` as JSON text: the response and request bodies as the script left
    /// them (`None` when the function was not invoked).
    pub(crate) result: Option<String>,
    /// Time spent running JavaScript (host calls excluded).
    pub(crate) script_time: Duration,
    pub(crate) operations: usize,
    /// What `console` wrote, when the program asked for it.
    pub(crate) log: Option<String>,
}

type Reply = Result<serde_json::Value, HostError>;

/// Runs `program`, serving its document requests with `host` on this thread.
pub(crate) fn run(program: &Program<'_>, host: &mut dyn Host, limits: Limits) -> Result<Ran, ScriptError> {
    let (to_host, requests) = mpsc::channel::<Request>();
    let (replies, from_host) = mpsc::channel::<Reply>();
    let abort = Arc::new(AtomicBool::new(false));
    thread::scope(|s| {
        let js = {
            let abort = abort.clone();
            thread::Builder::new()
                .name("strata-script".into())
                .stack_size(limits.stack + THREAD_STACK_SLACK)
                .spawn_scoped(s, move || execute(program, limits, to_host, from_host, abort))
                .map_err(|e| ScriptError::Internal(format!("starting the script thread: {e}")))?
        };
        let mut fatal: Option<HostError> = None;
        // Ends when the script thread drops its sender: when the runtime is gone.
        for request in requests.iter() {
            let reply = match &fatal {
                Some(e) => Err(e.clone()),
                None => host.call(request),
            };
            if let Err(e) = &reply {
                if e.fatal && fatal.is_none() {
                    fatal = Some(e.clone());
                    abort.store(true, Ordering::SeqCst);
                }
            }
            if replies.send(reply).is_err() {
                break;
            }
        }
        let ran = js
            .join()
            .map_err(|_| ScriptError::Internal("the script thread panicked".into()))?;
        match fatal {
            Some(e) => Err(ScriptError::Host(e)),
            None => ran,
        }
    })
}

/// A runtime with its limits and a context with the sandbox's intrinsics.
pub(crate) struct Sandbox {
    pub(crate) rt: Runtime,
    pub(crate) ctx: Context,
    /// Set by the interrupt handler when it stopped the script at the deadline.
    pub(crate) timed_out: Arc<AtomicBool>,
}

impl Sandbox {
    /// A runtime capped at `limits.memory` and `limits.stack` whose scripts stop at
    /// `start + limits.time`, or as soon as `abort` is set.
    pub(crate) fn new(
        limits: Limits,
        start: Instant,
        abort: Arc<AtomicBool>,
    ) -> Result<Sandbox, ScriptError> {
        let internal = |e: rquickjs::Error| ScriptError::Internal(e.to_string());
        let rt = Runtime::new().map_err(internal)?;
        rt.set_memory_limit(limits.memory);
        rt.set_max_stack_size(limits.stack);
        let timed_out = Arc::new(AtomicBool::new(false));
        {
            let timed_out = timed_out.clone();
            let deadline = start + limits.time;
            rt.set_interrupt_handler(Some(Box::new(move || {
                if abort.load(Ordering::SeqCst) {
                    return true;
                }
                if Instant::now() >= deadline {
                    timed_out.store(true, Ordering::SeqCst);
                    return true;
                }
                false
            })));
        }
        let ctx =
            Context::custom::<(Date, Eval, RegExpCompiler, RegExp, Json, MapSet)>(&rt).map_err(internal)?;
        Ok(Sandbox { rt, ctx, timed_out })
    }
}

/// Replaces `Date` with one whose "now" is `now_ms` (clock.js).
pub(crate) fn freeze_clock(ctx: &Ctx<'_>, now_ms: f64) -> rquickjs::Result<()> {
    let clock: Function = ctx.eval(CLOCK_JS)?;
    clock.call::<_, ()>((now_ms,))
}

/// `(\n BODY \n)`: a body as one expression, which must be a function.
pub(crate) fn as_expression(body: &str) -> String {
    format!("(\n{}\n)", body.trim_end().trim_end_matches(';'))
}

/// The script thread: builds the runtime, runs the program, classifies how it ended.
fn execute(
    program: &Program<'_>,
    limits: Limits,
    to_host: Sender<Request>,
    from_host: Receiver<Reply>,
    abort: Arc<AtomicBool>,
) -> Result<Ran, ScriptError> {
    let start = Instant::now();
    let Sandbox { rt, ctx, timed_out } = Sandbox::new(limits, start, abort.clone())?;
    let blocked = Rc::new(Cell::new(Duration::ZERO));
    let ops = Rc::new(Cell::new(0usize));
    let log = program.log.then(|| Rc::new(RefCell::new(ScriptLog::default())));
    let result = ctx.with(|ctx| -> Result<Option<String>, ScriptError> {
        let fail = |phase: Phase, e: rquickjs::Error| classify(&ctx, phase, e, &timed_out, &abort, limits);
        let bridge = {
            let (blocked, ops, abort) = (blocked.clone(), ops.clone(), abort.clone());
            Function::new(ctx.clone(), move |op: String, arg: String| -> String {
                if abort.load(Ordering::SeqCst) || !limits.accepts(ops.get(), start.elapsed()) {
                    return NOT_ACCEPTED.to_string();
                }
                ops.set(ops.get() + 1);
                let request = match parse_request(&op, &arg) {
                    Ok(r) => r,
                    Err(e) => return reply(&Err(e)),
                };
                let t = Instant::now();
                let answer = match to_host.send(request) {
                    Ok(()) => from_host.recv().unwrap_or_else(|_| Err(gone())),
                    Err(_) => Err(gone()),
                };
                blocked.set(blocked.get() + t.elapsed());
                reply(&answer)
            })
            .map_err(|e| fail(Phase::Setup, e))?
        };
        freeze_clock(&ctx, program.now_ms).map_err(|e| fail(Phase::Setup, e))?;
        let api: Function = ctx.eval(API_JS).map_err(|e| fail(Phase::Setup, e))?;
        let chain: Function = ctx.eval(CHAIN_JS).map_err(|e| fail(Phase::Setup, e))?;
        let invoke: Function = api
            .call((bridge, program.self_link, program.alt_link, chain))
            .map_err(|e| fail(Phase::Setup, e))?;
        if let Some(log) = &log {
            let log = log.clone();
            let sink = Function::new(ctx.clone(), move |line: String| log.borrow_mut().push(&line))
                .map_err(|e| fail(Phase::Setup, e))?;
            let console: Function = ctx.eval(CONSOLE_JS).map_err(|e| fail(Phase::Setup, e))?;
            console
                .call::<_, ()>((sink,))
                .map_err(|e| fail(Phase::Setup, e))?;
        }
        let f: Value = ctx
            .eval(as_expression(program.body))
            .map_err(|e| fail(Phase::Define, e))?;
        if !f.is_function() {
            return Err(ScriptError::Compile(
                "the body must be one JavaScript function, e.g. function name(arg) { … }".into(),
            ));
        }
        let Some(args) = &program.args_json else {
            return Ok(None);
        };
        let out: String = invoke
            .call((
                f,
                args.as_str(),
                program.request_json.as_deref(),
                program.response_json.as_deref(),
            ))
            .map_err(|e| fail(Phase::Run, e))?;
        Ok(Some(out))
    });
    // The runtime (and the bridge, with its sender) goes before the host loop is told the
    // script is done.
    drop(ctx);
    drop(rt);
    let result = result?;
    Ok(Ran {
        result,
        script_time: start.elapsed().saturating_sub(blocked.get()),
        operations: ops.get(),
        log: log.map(|l| l.take().finish()),
    })
}

fn gone() -> HostError {
    HostError {
        status: 500,
        substatus: 0,
        message: "the host stopped serving the script".into(),
        fatal: true,
    }
}

/// Where in the execution an error arose.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Setup,
    Define,
    Run,
}

/// How a failed evaluation ended: stopped at the deadline or by the host, out of memory, or a
/// throw (a compile error while defining).
pub(crate) fn classify(
    ctx: &Ctx<'_>,
    phase: Phase,
    e: rquickjs::Error,
    timed_out: &AtomicBool,
    abort: &AtomicBool,
    limits: Limits,
) -> ScriptError {
    if timed_out.load(Ordering::SeqCst) {
        return ScriptError::Timeout(limits.time);
    }
    if abort.load(Ordering::SeqCst) {
        // run() answers with the host's error.
        return ScriptError::Internal("stopped by the host".into());
    }
    let message = match e {
        rquickjs::Error::Allocation => return ScriptError::OutOfMemory(limits.memory),
        rquickjs::Error::Exception => match thrown_message(ctx) {
            Some(m) => m,
            // QuickJS throws null when no memory is left to build its error. A script's own
            // `throw null` cannot be told apart, and is reported so too (docs/scripts.md).
            None => return ScriptError::OutOfMemory(limits.memory),
        },
        other => other.to_string(),
    };
    if message.contains("out of memory") {
        return ScriptError::OutOfMemory(limits.memory);
    }
    match phase {
        Phase::Define => ScriptError::Compile(message),
        Phase::Run => ScriptError::Thrown(message),
        Phase::Setup => ScriptError::Internal(message),
    }
}

/// The message of the pending exception: `Name: message` for an error object (just the
/// message for a plain `Error`), the value as text otherwise; `None` for null or undefined.
fn thrown_message(ctx: &Ctx<'_>) -> Option<String> {
    let v = ctx.catch();
    if v.is_null() || v.is_undefined() {
        return None;
    }
    Some(if let Some(o) = v.as_object() {
        let message: Option<String> = o.get("message").ok();
        let name: Option<String> = o.get("name").ok();
        match (message, name.as_deref()) {
            (Some(m), Some(n)) if n != "Error" => format!("{n}: {m}"),
            (Some(m), _) => m,
            (None, _) => stringified(ctx, v),
        }
    } else if let Some(s) = v.as_string().and_then(|s| s.to_string().ok()) {
        s
    } else {
        stringified(ctx, v)
    })
}

fn stringified<'js>(ctx: &Ctx<'js>, v: Value<'js>) -> String {
    ctx.json_stringify(v)
        .ok()
        .flatten()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| "a value that is not an Error".into())
}
