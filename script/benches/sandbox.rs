//! The sandbox's own cost per execution, without a store: a fresh runtime and context, the
//! server-side API, compiling and calling a procedure that sets its response (`empty`; with its
//! script log asked for and one console line, `empty_logged`), and
//! one that makes 10 document operations against an in-memory host (`ten_operations`); and one
//! user-defined function call in a running `Functions` (`udf_call`). See docs/scripts.md.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use strata_script::{run_procedure, Functions, Host, HostError, Limits, Procedure, Request};

/// Answers every request with a small document.
struct Echo;

impl Host for Echo {
    fn call(&mut self, _: Request) -> Result<Value, HostError> {
        Ok(json!({"id": "x", "n": 1}))
    }
}

fn procedure(body: &str) -> Procedure<'_> {
    Procedure {
        body,
        self_link: "dbs/d/colls/c/",
        alt_link: "dbs/d/colls/c",
        now_ms: 0.0,
        log: false,
    }
}

fn logged(body: &str) -> Procedure<'_> {
    Procedure {
        log: true,
        ..procedure(body)
    }
}

fn bench_sandbox(c: &mut Criterion) {
    let mut g = c.benchmark_group("sandbox");
    let empty = procedure("function empty() { getContext().getResponse().setBody(1); }");
    g.bench_function("empty", |b| {
        b.iter(|| run_procedure(&empty, &[], &mut Echo, Limits::default()).expect("run"))
    });
    // The same with its script log asked for, writing one line.
    let empty_logged =
        logged("function empty() { console.log('n = %d', 1); getContext().getResponse().setBody(1); }");
    g.bench_function("empty_logged", |b| {
        b.iter(|| run_procedure(&empty_logged, &[], &mut Echo, Limits::default()).expect("run"))
    });
    let ten = procedure(
        "function ten() { var c = getContext().getCollection(); \
         for (var i = 0; i < 10; i++) c.readDocument(c.getAltLink() + '/docs/x', function () {}); }",
    );
    g.bench_function("ten_operations", |b| {
        b.iter(|| run_procedure(&ten, &[], &mut Echo, Limits::default()).expect("run"))
    });
    let defs = vec![(
        "tax".to_string(),
        "function tax(p) { return p * 0.2; }".to_string(),
    )];
    let mut udfs = Functions::start(&defs, 0.0, Limits::default()).expect("start");
    g.bench_function("udf_call", |b| {
        b.iter(|| udfs.call("tax", &[json!(10)]).expect("call"))
    });
    g.finish();
}

criterion_group!(benches, bench_sandbox);
criterion_main!(benches);
