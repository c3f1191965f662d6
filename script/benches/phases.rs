//! Where the fixed cost of one sandboxed execution goes, phase by phase, measured with rquickjs
//! directly as sandbox.rs uses it: a thread with the script stack, a runtime and context with
//! the sandbox's limits and intrinsics, then cumulatively the frozen clock (clock.js), the
//! server-side API (api.js) compiled and then also called, and a typical procedure body
//! compiled (the bulk import sample); each of those figures includes the phases before it, so
//! the differences are the phases' costs. Then the body and the logging console compiled alone
//! in a live context, and the body and api.js read from bytecode in a fresh context (what a
//! compiled-script cache would pay instead of compiling). See docs/scripts.md, "Cost per call".

use std::thread;

use criterion::{criterion_group, criterion_main, Criterion};
use rquickjs::context::intrinsic::{Date, Eval, Json, MapSet, RegExp, RegExpCompiler};
use rquickjs::{Context, Function, Module, Runtime, Value, WriteOptions};

const API_JS: &str = include_str!("../src/api.js");
const CLOCK_JS: &str = include_str!("../src/clock.js");
const CONSOLE_JS: &str = include_str!("../src/console.js");

const BULK_IMPORT: &str = r#"(
function bulkImport(items) {
    var collection = getContext().getCollection();
    var count = 0;
    if (!items) throw new Error("The array is undefined or null.");
    if (items.length == 0) { getContext().getResponse().setBody(0); return; }
    tryCreate(items[count], callback);
    function tryCreate(item, callback) {
        var isAccepted = collection.createDocument(collection.getSelfLink(), item, callback);
        if (!isAccepted) getContext().getResponse().setBody(count);
    }
    function callback(err, item, options) {
        if (err) throw err;
        count++;
        if (count >= items.length) getContext().getResponse().setBody(count);
        else tryCreate(items[count], callback);
    }
}
)"#;

fn sandbox() -> (Runtime, Context) {
    let rt = Runtime::new().expect("runtime");
    rt.set_memory_limit(32 << 20);
    rt.set_max_stack_size(512 << 10);
    rt.set_interrupt_handler(Some(Box::new(|| false)));
    let ctx = Context::custom::<(Date, Eval, RegExpCompiler, RegExp, Json, MapSet)>(&rt).expect("context");
    (rt, ctx)
}

/// Up to which phase to go.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Upto {
    Context,
    Clock,
    ApiCompiled,
    Api,
    Body,
}

fn run(upto: Upto) {
    let (_rt, ctx) = sandbox();
    ctx.with(|ctx| {
        if upto >= Upto::Clock {
            let clock: Function = ctx.eval(CLOCK_JS).expect("clock");
            clock.call::<_, ()>((0.0,)).expect("freeze");
        }
        if upto == Upto::ApiCompiled {
            let _: Function = ctx.eval(API_JS).expect("api");
        }
        if upto >= Upto::Api {
            let api: Function = ctx.eval(API_JS).expect("api");
            let host = Function::new(ctx.clone(), |_: String, _: String| String::new()).expect("host");
            let _: Function = api.call((host, "s", "a")).expect("invoke");
        }
        if upto >= Upto::Body {
            let f: Value = ctx.eval(BULK_IMPORT).expect("body");
            assert!(f.is_function());
        }
    });
}

fn bench_phases(c: &mut Criterion) {
    let mut g = c.benchmark_group("phases");
    g.bench_function("thread", |b| {
        b.iter(|| {
            thread::Builder::new()
                .stack_size((512 << 10) + (1 << 20))
                .spawn(|| 1)
                .expect("spawn")
                .join()
                .expect("join")
        })
    });
    g.bench_function("runtime_context", |b| b.iter(|| run(Upto::Context)));
    g.bench_function("plus_clock", |b| b.iter(|| run(Upto::Clock)));
    g.bench_function("plus_api_compiled", |b| b.iter(|| run(Upto::ApiCompiled)));
    g.bench_function("plus_api", |b| b.iter(|| run(Upto::Api)));
    g.bench_function("plus_body", |b| b.iter(|| run(Upto::Body)));

    // The body alone in a live context: compiled from source, or read from bytecode (as a
    // module exporting it, the only form rquickjs writes; a lower bound, as the module is not
    // evaluated).
    let (_rt, ctx) = sandbox();
    let bytecode = ctx.with(|ctx| {
        Module::declare(ctx.clone(), "bulk", format!("export default {BULK_IMPORT}"))
            .and_then(|m| m.write(WriteOptions::default()))
            .expect("bytecode")
    });
    ctx.with(|ctx| {
        g.bench_function("body_compile", |b| {
            b.iter(|| ctx.eval::<Value, _>(BULK_IMPORT).expect("body").is_function())
        });
        // What an execution that asks for its log compiles on top (console.js).
        g.bench_function("console_compile", |b| {
            b.iter(|| ctx.eval::<Value, _>(CONSOLE_JS).expect("console").is_function())
        });
    });
    let api_bytecode = ctx.with(|ctx| {
        Module::declare(ctx.clone(), "api", format!("export default {API_JS}"))
            .and_then(|m| m.write(WriteOptions::default()))
            .expect("bytecode")
    });
    g.bench_function("api_read_bytecode_fresh_context", |b| {
        b.iter(|| {
            let (_rt, ctx) = sandbox();
            // SAFETY: the bytes were written by this QuickJS from a module compiled above.
            ctx.with(|ctx| unsafe { Module::load(ctx.clone(), &api_bytecode) }.is_ok())
        })
    });
    g.bench_function("body_read_bytecode_fresh_context", |b| {
        b.iter(|| {
            let (_rt, ctx) = sandbox();
            // SAFETY: the bytes were written by this QuickJS from a module compiled above.
            ctx.with(|ctx| unsafe { Module::load(ctx.clone(), &bytecode) }.is_ok())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_phases);
criterion_main!(benches);
