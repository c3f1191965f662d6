//! The sandbox and the server-side API against an in-memory host: callbacks, accepted
//! returns, errors, and the limits (time, memory, stack) ending in errors, never a hang.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{check_procedure, run_procedure, Host, HostError, Limits, Procedure, Request, ScriptError};

/// Documents by id, and every request seen.
#[derive(Default)]
struct Memory {
    docs: BTreeMap<String, Value>,
    seen: Vec<Request>,
    fail_fatally: bool,
}

fn err(status: u16, message: &str) -> HostError {
    HostError {
        status,
        substatus: 0,
        message: message.into(),
        fatal: false,
    }
}

impl Host for Memory {
    fn call(&mut self, request: Request) -> Result<Value, HostError> {
        self.seen.push(request.clone());
        if self.fail_fatally {
            return Err(HostError {
                status: 403,
                substatus: 4002,
                message: "key withheld".into(),
                fatal: true,
            });
        }
        match request {
            Request::Read { link } => self.docs.get(&link).cloned().ok_or_else(|| err(404, "not found")),
            Request::Create { doc, .. } => {
                let id = doc["id"].as_str().ok_or_else(|| err(400, "no id"))?.to_string();
                if self.docs.contains_key(&id) {
                    return Err(err(409, "exists"));
                }
                self.docs.insert(id, doc.clone());
                Ok(doc)
            }
            Request::Replace { link, doc, .. } => {
                if !self.docs.contains_key(&link) {
                    return Err(err(404, "not found"));
                }
                self.docs.insert(link, doc.clone());
                Ok(doc)
            }
            Request::Upsert { doc, .. } => {
                let id = doc["id"].as_str().unwrap_or_default().to_string();
                self.docs.insert(id, doc.clone());
                Ok(doc)
            }
            Request::Delete { link, .. } => self
                .docs
                .remove(&link)
                .map(|_| Value::Null)
                .ok_or_else(|| err(404, "not found")),
            Request::Query { parameters, .. } => {
                Ok(json!({"documents": [{"parameters": parameters.len()}], "continuation": "next"}))
            }
            Request::ReadAll { .. } => Ok(
                json!({"documents": self.docs.values().cloned().collect::<Vec<_>>(), "continuation": null}),
            ),
        }
    }
}

/// A procedure of `body` on collection `c` of database `d`, at a fixed moment, without its log.
pub(crate) fn procedure(body: &str) -> Procedure<'_> {
    Procedure {
        body,
        self_link: "dbs/d/colls/c/",
        alt_link: "dbs/d/colls/c",
        now_ms: 1_700_000_000_000.0,
        log: false,
    }
}

fn run(host: &mut Memory, body: &str, args: Value, limits: Limits) -> Result<Value, ScriptError> {
    let p = procedure(body);
    let args = args.as_array().cloned().unwrap_or_default();
    run_procedure(&p, &args, host, limits).map(|o| o.body)
}

const BULK_IMPORT: &str = r#"
function bulkImport(docs) {
    var collection = getContext().getCollection();
    var count = 0;
    if (docs.length === 0) { getContext().getResponse().setBody(0); return; }
    tryCreate(docs[count], callback);
    function tryCreate(doc, callback) {
        var accepted = collection.createDocument(collection.getSelfLink(), doc, callback);
        if (!accepted) getContext().getResponse().setBody(count);
    }
    function callback(err, doc, options) {
        if (err) throw err;
        count++;
        if (count >= docs.length) getContext().getResponse().setBody(count);
        else tryCreate(docs[count], callback);
    }
}"#;

#[test]
fn bulk_import_stops_when_not_accepted_and_reports_its_count() {
    let mut host = Memory::default();
    let docs: Vec<Value> = (0..25).map(|i| json!({"id": format!("d{i}")})).collect();
    let limits = Limits {
        max_operations: 10,
        ..Limits::default()
    };
    let n = run(&mut host, BULK_IMPORT, json!([docs]), limits).unwrap();
    assert_eq!(n, json!(10));
    assert_eq!(host.docs.len(), 10);
    let rest = json!([docs[10..].to_vec()]);
    let n = run(&mut host, BULK_IMPORT, rest, Limits::default()).unwrap();
    assert_eq!(n, json!(15));
    assert_eq!(host.docs.len(), 25);
}

#[test]
fn callbacks_get_errors_and_an_unhandled_one_fails_the_call() {
    let mut host = Memory::default();
    let body = r#"function f() {
        var c = getContext().getCollection();
        c.readDocument(c.getAltLink() + '/docs/missing', {}, function (err, doc) {
            getContext().getResponse().setBody({ status: err.number, doc: doc === undefined });
        });
    }"#;
    assert_eq!(
        run(&mut host, body, json!([]), Limits::default()).unwrap(),
        json!({"status": 404, "doc": true})
    );
    let unhandled = "function f() { getContext().getCollection().deleteDocument('dbs/d/colls/c/docs/x'); }";
    let e = run(&mut host, unhandled, json!([]), Limits::default()).unwrap_err();
    assert_eq!(
        (e.status(), e.to_string()),
        (400, "the script threw: not found".into())
    );
}

#[test]
fn a_throw_is_a_400_with_its_message() {
    let mut host = Memory::default();
    let e = run(
        &mut host,
        "function f(x) { throw new Error('bad input: ' + x); }",
        json!(["7"]),
        Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::Thrown("bad input: 7".into()));
    assert_eq!((e.status(), e.substatus()), (400, crate::SCRIPT_ERROR));
    // QuickJS throws null when out of memory; a script's own `throw null` reads the same.
    let e = run(
        &mut host,
        "function f() { throw null; }",
        json!([]),
        Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::OutOfMemory(Limits::default().memory));
    let e = run(
        &mut host,
        "function f() { throw {code: 7}; }",
        json!([]),
        Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::Thrown(r#"{"code":7}"#.into()));
    let e = run(
        &mut host,
        "function f() { null.x; }",
        json!([]),
        Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ScriptError::Thrown(m) if m.starts_with("TypeError")),
        "{e}"
    );
}

#[test]
fn an_endless_loop_is_stopped_at_its_budget() {
    let mut host = Memory::default();
    let limits = Limits {
        time: Duration::from_millis(200),
        ..Limits::default()
    };
    let t = Instant::now();
    let e = run(&mut host, "function f() { while (true) {} }", json!([]), limits).unwrap_err();
    assert_eq!(e, ScriptError::Timeout(Duration::from_millis(200)));
    assert_eq!((e.status(), e.substatus()), (408, crate::SCRIPT_TIME_BUDGET));
    assert!(t.elapsed() < Duration::from_secs(10), "stopped, not hung");
    // A catch cannot keep it running.
    let body = "function f() { for (;;) { try { while (true) {} } catch (e) {} } }";
    assert!(matches!(
        run(&mut host, body, json!([]), limits),
        Err(ScriptError::Timeout(_))
    ));
}

#[test]
fn a_growing_array_hits_the_memory_cap() {
    let mut host = Memory::default();
    let limits = Limits {
        memory: 8 << 20,
        ..Limits::default()
    };
    let body = "function f() { var a = []; for (;;) a.push('x'.repeat(1000) + a.length); }";
    let e = run(&mut host, body, json!([]), limits).unwrap_err();
    assert_eq!(e, ScriptError::OutOfMemory(8 << 20));
    assert_eq!((e.status(), e.substatus()), (400, crate::SCRIPT_MEMORY_CAP));
    // The next execution has its own runtime and works.
    assert_eq!(
        run(
            &mut host,
            "function f() { getContext().getResponse().setBody(1); }",
            json!([]),
            limits
        )
        .unwrap(),
        json!(1)
    );
}

#[test]
fn deep_recursion_throws_instead_of_overflowing_the_stack() {
    let mut host = Memory::default();
    let e = run(
        &mut host,
        "function f() { (function r() { r(); })(); }",
        json!([]),
        Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(&e, ScriptError::Thrown(m) if m.contains("stack")), "{e}");
}

#[test]
fn a_fatal_host_error_stops_the_script_whatever_it_catches() {
    let mut host = Memory {
        fail_fatally: true,
        ..Memory::default()
    };
    let body = r#"function f() {
        var c = getContext().getCollection();
        c.createDocument(c.getSelfLink(), {id: 'a'}, function () {});
        while (true) {}
    }"#;
    let e = run(&mut host, body, json!([]), Limits::default()).unwrap_err();
    assert_eq!((e.status(), e.substatus()), (403, 4002));
}

#[test]
fn no_clock_or_host_access_beyond_the_api() {
    // console is the API's own (console_tests.rs), writing nowhere but the script log.
    let mut host = Memory::default();
    let body = r#"function f() {
        getContext().getResponse().setBody({
            now: Date.now(), fresh: new Date().getTime(), explicit: new Date(0).getTime(),
            console: typeof console, require: typeof require, performance: typeof performance,
            promise: typeof Promise, host: typeof __host, std: typeof std, os: typeof os,
        });
    }"#;
    assert_eq!(
        run(&mut host, body, json!([]), Limits::default()).unwrap(),
        json!({"now": 1_700_000_000_000u64, "fresh": 1_700_000_000_000u64, "explicit": 0,
               "console": "object", "require": "undefined", "performance": "undefined",
               "promise": "undefined", "host": "undefined", "std": "undefined", "os": "undefined"})
    );
}

#[test]
fn operations_reach_the_host_with_their_arguments() {
    let mut host = Memory::default();
    let body = r#"function f(id) {
        var c = getContext().getCollection();
        c.upsertDocument(c.getSelfLink(), {id: id, n: 1}, {etag: '"e1"'}, function () {});
        c.queryDocuments(c.getSelfLink(), {query: 'SELECT * FROM c WHERE c.n = @n', parameters: [{name: '@n', value: 1}]},
            {pageSize: 5}, function (err, docs, options) {
                getContext().getResponse().setBody({docs: docs, next: options.continuation});
            });
    }"#;
    assert_eq!(
        run(&mut host, body, json!(["a"]), Limits::default()).unwrap(),
        json!({"docs": [{"parameters": 1}], "next": "next"})
    );
    assert_eq!(
        host.seen,
        vec![
            Request::Upsert {
                doc: json!({"id": "a", "n": 1}),
                if_match: Some("\"e1\"".into())
            },
            Request::Query {
                sql: "SELECT * FROM c WHERE c.n = @n".into(),
                parameters: vec![("@n".into(), json!(1))],
                page: crate::Page {
                    continuation: None,
                    size: Some(5)
                }
            }
        ]
    );
}

#[test]
fn a_body_must_compile_and_be_one_function() {
    let limits = Limits::default();
    assert!(check_procedure("function ok(a) { return a; }", limits).is_ok());
    assert!(check_procedure("function ok(a) { return a; };\n", limits).is_ok());
    assert!(matches!(
        check_procedure("function (", limits),
        Err(ScriptError::Compile(_))
    ));
    assert!(matches!(
        check_procedure("42", limits),
        Err(ScriptError::Compile(_))
    ));
    // A definition that reaches for documents is refused, never served.
    let sneaky = "(getContext().getCollection().createDocument('', {id: 'x'}), function () {})";
    assert_eq!(check_procedure(sneaky, limits).unwrap_err().status(), 400);
}

#[test]
fn a_pre_trigger_changes_the_request_and_a_post_trigger_sees_the_result() {
    let mut host = Memory::default();
    let p = |body| Procedure {
        body,
        self_link: "dbs/d/colls/c/",
        alt_link: "dbs/d/colls/c",
        now_ms: 1_000.0,
        log: false,
    };
    let stamp = p("function stamp() { var r = getContext().getRequest(); var d = r.getBody(); d.stampedAt = Date.now(); r.setBody(d); }");
    let out = crate::run_trigger(&stamp, &json!({"id": "a"}), None, &mut host, Limits::default()).unwrap();
    assert_eq!(out.request, json!({"id": "a", "stampedAt": 1000}));
    let audit = p(
        "function audit() { var d = getContext().getResponse().getBody(); \
                   getContext().getCollection().createDocument('', {id: 'audit-' + d.id}); }",
    );
    let out = crate::run_trigger(
        &audit,
        &json!({"id": "a"}),
        Some(&json!({"id": "a", "_etag": "e"})),
        &mut host,
        Limits::default(),
    )
    .unwrap();
    assert_eq!(out.body, json!({"id": "a", "_etag": "e"}));
    assert!(host.docs.contains_key("audit-a"));
}

#[test]
fn user_defined_functions_answer_calls_until_a_limit() {
    use crate::Functions;
    let defs = vec![
        (
            "tax".to_string(),
            "function tax(p) { return p * 0.2; }".to_string(),
        ),
        (
            "greet".to_string(),
            "function (n) { if (!n) throw new Error('no name'); return {hi: n}; }".to_string(),
        ),
        ("nothing".to_string(), "function () {}".to_string()),
        ("spin".to_string(), "function () { while (true) {} }".to_string()),
    ];
    let limits = Limits {
        time: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut f = Functions::start(&defs, 0.0, limits).unwrap();
    assert_eq!(f.call("tax", &[json!(10)]).unwrap(), Some(json!(2)));
    assert_eq!(
        f.call("greet", &[json!("ann")]).unwrap(),
        Some(json!({"hi": "ann"}))
    );
    assert_eq!(f.call("nothing", &[]).unwrap(), None);
    assert_eq!(
        f.call("greet", &[]).unwrap_err(),
        ScriptError::Thrown("no name".into())
    );
    assert_eq!(
        f.call("spin", &[]).unwrap_err(),
        ScriptError::Timeout(Duration::from_millis(300))
    );
    let bad = vec![("x".to_string(), "42".to_string())];
    assert!(
        matches!(Functions::start(&bad, 0.0, limits), Err(ScriptError::Compile(m)) if m.starts_with("udf.x"))
    );
}

#[test]
fn hostile_bodies_and_arguments_fail_cleanly() {
    let limits = Limits::default();
    // Nesting deep enough to exhaust a parser that recursed without a check.
    let deep = format!(
        "function f() {{ return {}1{}; }}",
        "(".repeat(200_000),
        ")".repeat(200_000)
    );
    assert!(check_procedure(&deep, limits).is_err());
    let deep_array = format!(
        "function f() {{ return {}{}; }}",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    assert!(check_procedure(&deep_array, limits).is_err());
    // Arguments nested deeper than a document may be are refused before they reach the script.
    let mut arg = json!(1);
    for _ in 0..crate::MAX_INPUT_DEPTH {
        arg = json!([arg]);
    }
    let mut host = Memory::default();
    let e = run(&mut host, "function f(a) {}", json!([arg]), limits).unwrap_err();
    assert!(matches!(&e, ScriptError::BadInput(_)), "{e}");
    assert_eq!(e.status(), 400);
}
