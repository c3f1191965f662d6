//! User-defined functions for queries: one sandboxed runtime on a thread of its own that defines
//! a set of functions once and then answers calls, one per row a query evaluates them on, until
//! dropped. The limits hold for the whole session (a query page): past the time budget or the
//! memory cap every further call fails. A UDF has no collection, no host, only the language and
//! the frozen clock. Must not know about queries or documents: values in, values out.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rquickjs::{Function, Object, Value as JsValue};
use serde_json::Value;

use crate::error::ScriptError;
use crate::limits::Limits;
use crate::sandbox::{as_expression, classify, freeze_clock, Phase, Sandbox};

/// Calls every UDF through one function: arguments and result as JSON text (`undefined` for a
/// result JSON cannot hold).
const DISPATCH_JS: &str = "(function (udfs) {
  'use strict';
  return function (name, argsJson) {
    const r = udfs[name].apply(undefined, JSON.parse(argsJson));
    return r === undefined ? undefined : JSON.stringify(r);
  };
})";

/// The global the dispatcher is kept under between calls.
const DISPATCH_GLOBAL: &str = "__strata_udf_call";

type Reply = Result<Option<String>, ScriptError>;

/// A running set of user-defined functions.
pub struct Functions {
    calls: Option<Sender<(String, String)>>,
    replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
    /// Time spent in calls (what a CPU charge counts).
    busy: Duration,
}

impl Functions {
    /// Defines `(name, body)` pairs (each body one function) in a fresh runtime whose clock is
    /// `now_ms`: 400.3703 for a body that does not compile or is not a function.
    pub fn start(
        definitions: &[(String, String)],
        now_ms: f64,
        limits: Limits,
    ) -> Result<Functions, ScriptError> {
        let (calls, requests) = mpsc::channel::<(String, String)>();
        let (answers, replies) = mpsc::channel::<Reply>();
        let definitions = definitions.to_vec();
        let thread = thread::Builder::new()
            .name("strata-udf".into())
            .stack_size(limits.stack + (1 << 20))
            .spawn(move || serve(&definitions, now_ms, limits, requests, answers))
            .map_err(|e| ScriptError::Internal(format!("starting the UDF thread: {e}")))?;
        let functions = Functions {
            calls: Some(calls),
            replies,
            thread: Some(thread),
            busy: Duration::ZERO,
        };
        // The first reply says whether the definitions took.
        functions.reply()?;
        Ok(functions)
    }

    /// Calls UDF `name` (one of the defined) with `args`: its result (`None` for undefined),
    /// or why it failed (400.3703 for a throw, 408.3701 or 400.3702 past the session's limits).
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Option<Value>, ScriptError> {
        args.iter().try_for_each(crate::check_depth)?;
        let args = serde_json::to_string(args)
            .map_err(|e| ScriptError::Internal(format!("serialising UDF arguments: {e}")))?;
        let started = Instant::now();
        let reply = self.send_and_wait(name, args);
        self.busy += started.elapsed();
        reply?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| ScriptError::Internal(format!("a UDF result is not JSON: {e}")))
            })
            .transpose()
    }

    /// Time spent in calls so far, the round trip to the UDF thread included.
    pub fn busy(&self) -> Duration {
        self.busy
    }

    fn send_and_wait(&self, name: &str, args: String) -> Reply {
        self.calls
            .as_ref()
            .and_then(|c| c.send((name.to_string(), args)).ok())
            .ok_or_else(|| ScriptError::Internal("the UDF thread stopped".into()))?;
        self.reply()
    }

    fn reply(&self) -> Reply {
        self.replies
            .recv()
            .unwrap_or_else(|_| Err(ScriptError::Internal("the UDF thread stopped".into())))
    }
}

impl Drop for Functions {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        self.calls = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The UDF thread: defines, answers the setup, then one call at a time until the handle drops.
fn serve(
    definitions: &[(String, String)],
    now_ms: f64,
    limits: Limits,
    requests: Receiver<(String, String)>,
    answers: Sender<Reply>,
) {
    let abort = Arc::new(AtomicBool::new(false));
    let sandbox = match Sandbox::new(limits, Instant::now(), abort.clone()) {
        Ok(s) => s,
        Err(e) => {
            let _ = answers.send(Err(e));
            return;
        }
    };
    let setup = sandbox.ctx.with(|ctx| -> Result<(), ScriptError> {
        let fail = |phase, e| classify(&ctx, phase, e, &sandbox.timed_out, &abort, limits);
        freeze_clock(&ctx, now_ms).map_err(|e| fail(Phase::Setup, e))?;
        let udfs = Object::new(ctx.clone()).map_err(|e| fail(Phase::Setup, e))?;
        for (name, body) in definitions {
            let f: JsValue = ctx
                .eval(as_expression(body))
                .map_err(|e| match fail(Phase::Define, e) {
                    ScriptError::Compile(m) => ScriptError::Compile(format!("udf.{name}: {m}")),
                    other => other,
                })?;
            if !f.is_function() {
                return Err(ScriptError::Compile(format!(
                    "udf.{name}: the body must be one JavaScript function, e.g. function tax(price) {{ … }}"
                )));
            }
            udfs.set(name.as_str(), f).map_err(|e| fail(Phase::Setup, e))?;
        }
        let factory: Function = ctx.eval(DISPATCH_JS).map_err(|e| fail(Phase::Setup, e))?;
        let dispatch: Function = factory.call((udfs,)).map_err(|e| fail(Phase::Setup, e))?;
        ctx.globals()
            .set(DISPATCH_GLOBAL, dispatch)
            .map_err(|e| fail(Phase::Setup, e))
    });
    let ok = setup.is_ok();
    if answers.send(setup.map(|()| None)).is_err() || !ok {
        return;
    }
    for (name, args) in requests.iter() {
        let reply = sandbox.ctx.with(|ctx| -> Reply {
            let fail = |e| classify(&ctx, Phase::Run, e, &sandbox.timed_out, &abort, limits);
            let dispatch: Function = ctx.globals().get(DISPATCH_GLOBAL).map_err(fail)?;
            dispatch
                .call::<_, Option<String>>((name.as_str(), args.as_str()))
                .map_err(fail)
        });
        if answers.send(reply).is_err() {
            return;
        }
    }
}
