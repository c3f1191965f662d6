//! The `__` object (chain.js) against an in-memory partition read in pages: the service docs'
//! samples of the JavaScript query API with hand-written results, the paging of a one-page query
//! (continuation) against a sort over the whole partition, `isAccepted` when the operation
//! budget is spent, the response body when there is no callback, `__` as the collection, and
//! bad arguments as 400s.

use serde_json::{json, Value};

use crate::tests::procedure;
use crate::{run_procedure, Host, HostError, Limits, Request, ScriptError};

/// A partition's documents in order, read `page.size` (default 100) at a time; the
/// continuation is the index of the next document. Creates append.
struct Pages {
    docs: Vec<Value>,
    reads: usize,
}

impl Host for Pages {
    fn call(&mut self, request: Request) -> Result<Value, HostError> {
        match request {
            Request::ReadAll { page } => {
                self.reads += 1;
                let start: usize = page.continuation.map_or(0, |c| c.parse().unwrap());
                let end = (start + page.size.unwrap_or(100)).min(self.docs.len());
                let next = (end < self.docs.len()).then(|| end.to_string());
                Ok(json!({"documents": self.docs[start..end], "continuation": next}))
            }
            Request::Read { link } => self
                .docs
                .iter()
                .find(|d| d["id"] == json!(link))
                .cloned()
                .ok_or_else(|| HostError {
                    status: 404,
                    substatus: 0,
                    message: format!("no document {link}"),
                    fatal: false,
                }),
            Request::Create { doc, .. } => {
                self.docs.push(doc.clone());
                Ok(doc)
            }
            other => panic!("not used here: {other:?}"),
        }
    }
}

fn sample() -> Pages {
    Pages {
        docs: vec![
            json!({"id": "X998_Y998", "message": "Hello", "actions": ["like"], "Tags": [123, 456], "_ts": 30}),
            json!({"id": "a1", "message": "Hi", "Tags": [7, [8, 9]], "_ts": 10}),
            json!({"id": "b2", "message": "Yo", "Tags": "not an array", "_ts": 20}),
            json!({"id": "c3", "message": "Hey", "_ts": 5}),
        ],
        reads: 0,
    }
}

fn run_with(host: &mut Pages, body: &str, limits: Limits) -> Result<Value, ScriptError> {
    run_procedure(&procedure(body), &[], host, limits).map(|o| o.body)
}

fn run(host: &mut Pages, body: &str) -> Value {
    run_with(host, body, Limits::default()).unwrap()
}

/// A procedure that sets the response body to what `expr` (a `__` query with `cb` as its
/// callback) hands its callback, with the continuation and the isAccepted result.
fn answer(expr: &str) -> String {
    format!(
        "function q() {{ var out = {{}}; \
         function cb(err, feed, options) {{ if (err) throw err; out.feed = feed; out.continuation = options.continuation; }} \
         out.accepted = ({expr}).isAccepted; getContext().getResponse().setBody(out); }}"
    )
}

#[test]
fn the_service_docs_samples_answer_as_their_sql() {
    // SELECT * FROM docs d WHERE d.id = "X998_Y998"
    let mut h = sample();
    let r = run(
        &mut h,
        &answer("__.filter(function (doc) { return doc.id === 'X998_Y998'; }, cb)"),
    );
    assert_eq!(r["feed"], json!([h.docs[0]]));
    assert_eq!(r["accepted"], json!(true));
    // SELECT * FROM docs d WHERE ARRAY_CONTAINS(d.Tags, 123)
    let r = run(
        &mut h,
        &answer("__.filter(function (x) { return x.Tags && Array.isArray(x.Tags) && x.Tags.indexOf(123) > -1; }, cb)"),
    );
    assert_eq!(r["feed"], json!([h.docs[0]]));
    // SELECT d.id, d.message AS msg FROM docs d WHERE d.id = "X998_Y998"
    let r = run(
        &mut h,
        &answer(
            "__.chain().filter(function (doc) { return doc.id === 'X998_Y998'; })\
             .map(function (doc) { return { id: doc.id, msg: doc.message }; }).value(cb)",
        ),
    );
    assert_eq!(r["feed"], json!([{"id": "X998_Y998", "msg": "Hello"}]));
    // SELECT VALUE tag FROM docs JOIN tag IN docs.Tags ORDER BY docs._ts
    let r = run(
        &mut h,
        &answer(
            "__.chain().filter(function (doc) { return doc.Tags && Array.isArray(doc.Tags); })\
             .sortBy(function (doc) { return doc._ts; }).pluck('Tags').flatten().value(cb)",
        ),
    );
    assert_eq!(r["feed"], json!([7, 8, 9, 123, 456]));
    // The shallow flatten keeps inner arrays.
    let r = run(
        &mut h,
        &answer("__.chain().filter(function (d) { return Array.isArray(d.Tags); }).sortBy('_ts').pluck('Tags').flatten(true).value(cb)"),
    );
    assert_eq!(r["feed"], json!([7, [8, 9], 123, 456]));
    // SELECT VALUE d.id FROM docs d ORDER BY d._ts DESC
    let r = run(
        &mut h,
        &answer("__.chain().sortByDescending(function (d) { return d._ts; }).pluck('id').value(cb)"),
    );
    assert_eq!(r["feed"], json!(["X998_Y998", "b2", "a1", "c3"]));
    assert_eq!(r["continuation"], Value::Null);
    // SELECT d.id, t FROM docs d JOIN t IN d.Tags (a tag that is no array joins nothing)
    let r = run(
        &mut h,
        &answer("__.unwind('Tags', function (d, t) { return [d.id, t]; }, cb)"),
    );
    assert_eq!(
        r["feed"],
        json!([["X998_Y998", 123], ["X998_Y998", 456], ["a1", 7], ["a1", [8, 9]]])
    );
    let r = run(
        &mut h,
        &answer("__.chain().filter(function (d) { return d.id === 'a1'; }).unwind(function (d) { return d.Tags; }).value(cb)"),
    );
    assert_eq!(r["feed"], json!([[h.docs[1], 7], [h.docs[1], [8, 9]]]));
    let r = run(
        &mut h,
        &answer("__.map(function (d) { return d.message.length; }, cb)"),
    );
    assert_eq!(r["feed"], json!([5, 2, 2, 3]));
}

#[test]
fn a_query_answers_one_page_with_its_continuation_and_a_sort_reads_them_all() {
    let mut h = sample();
    let page = "function q() { var out = []; var next; \
        function step(err, feed, options) { if (err) throw err; out.push(feed); next = options.continuation; \
          if (next !== undefined) __.pluck('id', { pageSize: 3, continuation: next }, step); } \
        __.pluck('id', { pageSize: 3 }, step); \
        getContext().getResponse().setBody(out); }";
    let r = run(&mut h, page);
    assert_eq!(r, json!([["X998_Y998", "a1", "b2"], ["c3"]]));
    assert_eq!(h.reads, 2);

    h.reads = 0;
    let r = run(
        &mut h,
        &answer("__.chain().sortBy('_ts').pluck('id').value({ pageSize: 1 }, cb)"),
    );
    assert_eq!(r["feed"], json!(["c3", "a1", "b2", "X998_Y998"]));
    assert_eq!(r["continuation"], Value::Null);
    assert_eq!(h.reads, 4, "one read per page of one document");

    // Keys of every kind order as ORDER BY does; NaN with undefined, equal keys in read order.
    let r = run(
        &mut h,
        &answer(
            "__.chain().sortBy(function (d) { return { X998_Y998: 'z', a1: NaN, b2: 1, c3: null }[d.id]; })\
             .pluck('id').value(cb)",
        ),
    );
    assert_eq!(r["feed"], json!(["a1", "c3", "b2", "X998_Y998"]));
}

#[test]
fn a_spent_budget_is_not_accepted_and_no_callback_runs() {
    let mut h = sample();
    let limits = Limits {
        max_operations: 1,
        ..Limits::default()
    };
    let body = "function q() { var called = false; \
        var first = __.filter(function () { return true; }, function () {}); \
        var second = __.filter(function () { return true; }, function () { called = true; }); \
        getContext().getResponse().setBody([first.isAccepted, second.isAccepted]); }";
    assert_eq!(run_with(&mut h, body, limits).unwrap(), json!([true, false]));
    // A sort needing more pages than the budget allows is refused whole.
    let body = "function q() { getContext().getResponse().setBody(\
        __.chain().sortBy('_ts').value({ pageSize: 1 }, function () { throw new Error('called'); }).isAccepted); }";
    let limits = Limits {
        max_operations: 2,
        ..Limits::default()
    };
    assert_eq!(run_with(&mut h, body, limits).unwrap(), json!(false));
}

#[test]
fn without_a_callback_the_results_are_the_response_body() {
    let mut h = sample();
    let body = "function q() { if (!__.chain().pluck('id').value().isAccepted) throw new Error('no'); }";
    assert_eq!(run(&mut h, body), json!(["X998_Y998", "a1", "b2", "c3"]));
    let body = "function q() { __.flatten(); }";
    assert_eq!(
        run(&mut h, body).as_array().map(Vec::len),
        Some(4),
        "documents are no arrays: flatten keeps them"
    );
}

#[test]
fn underscore_is_the_collection_too() {
    let mut h = sample();
    let body = "function q() { \
        __.createDocument(__.getSelfLink(), { id: 'd4', _ts: 1 }, function (err) { if (err) throw err; \
          __.readDocument(__.getAltLink() + '/docs/d4', function (err, doc) { if (err) throw err; \
            getContext().getResponse().setBody([doc.id, __.getSelfLink() === getContext().getCollection().getSelfLink()]); }); }); }";
    assert_eq!(run(&mut h, body), json!(["d4", true]));
    assert_eq!(h.docs.len(), 5);
}

#[test]
fn bad_arguments_are_400s() {
    for body in [
        "function q() { __.filter('not a function'); }",
        "function q() { __.map(); }",
        "function q() { __.pluck(3); }",
        "function q() { __.sortBy(42); }",
        "function q() { __.unwind(); }",
        "function q() { __.chain().unwind('Tags', 'not a function').value(); }",
        "function q() { __.filter(function () { return true; }, {}, 'not a callback'); }",
        "function q() { __.chain().filter(function () { return true; }).value(7); }",
        "function q() { __.filter(function (d) { throw new Error('predicate says no'); }); }",
    ] {
        let e = run_with(&mut sample(), body, Limits::default()).unwrap_err();
        assert_eq!(e.status(), 400, "{body}: {e}");
    }
}
