//! Stored procedures end to end: the managed service's documented samples (a bulk import that
//! returns how many items it wrote and is called again for the rest, a counter increment, a
//! conditional update that throws), all-or-nothing commits (a throw leaves no trace in items,
//! indexes or the change feed), the limits (an endless loop answers 408 and the store goes on, a
//! growing array hits the memory cap), the one-partition rule, the resource operations, and the
//! bodies surviving a reopen and a backup's restore while never reaching a file in the clear
//! (sync of scripts: script_sync.rs), and queries that see the execution's own writes.

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions, Container, ProcedureOptions, ScriptLimits};

use crate::common::{self, plain_container};

const BULK_IMPORT: &str = r#"
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
}"#;

const INCREMENT: &str = r#"
function increment(id) {
    var collection = getContext().getCollection();
    var accepted = collection.readDocument(collection.getAltLink() + "/docs/" + id, {}, function (err, doc) {
        if (err) throw err;
        doc.count = (doc.count || 0) + 1;
        collection.replaceDocument(doc._self, doc, { etag: doc._etag }, function (err, updated) {
            if (err) throw err;
            getContext().getResponse().setBody(updated.count);
        });
    });
    if (!accepted) throw new Error("not accepted, retry");
}"#;

/// Sets `status` on every item of the partition whose `n` is at least `min`, then throws when
/// one is below: the managed service's "validate, else roll back" sample.
const CONDITIONAL: &str = r#"
function markAll(min, status) {
    var collection = getContext().getCollection();
    collection.queryDocuments(collection.getSelfLink(),
        { query: "SELECT * FROM c ORDER BY c.id", parameters: [] },
        function (err, docs) {
            if (err) throw err;
            docs.forEach(function (doc) {
                if (doc.n < min) throw new Error("item " + doc.id + " has n " + doc.n + ", below " + min + ": nothing changed");
                doc.status = status;
                collection.upsertDocument(collection.getSelfLink(), doc, function (err) { if (err) throw err; });
            });
            collection.createDocument(collection.getSelfLink(), { id: "audit", pk: docs[0].pk, status: status },
                function (err) { if (err) throw err; });
            getContext().getResponse().setBody(docs.length);
        });
}"#;

fn item(id: &str, n: i64) -> Value {
    json!({"id": id, "pk": "p", "n": n, "colour": "red"})
}

/// What an observer can see: the items, an indexed query's answer and the feed.
fn state(c: &Container) -> (Vec<Value>, Vec<Value>, usize) {
    common::visible_state(
        c,
        "SELECT VALUE c.id FROM c WHERE c.status = 'done' OR c.colour = 'red'",
    )
}

fn with(limits: ScriptLimits) -> ProcedureOptions {
    ProcedureOptions {
        limits,
        ..ProcedureOptions::default()
    }
}

#[test]
fn bulk_import_returns_its_count_and_is_called_again_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_stored_procedure("bulkImport", BULK_IMPORT).unwrap();
    let items: Vec<Value> = (0..25).map(|i| item(&format!("i{i:02}"), i)).collect();
    let limits = ScriptLimits {
        max_operations: 10,
        ..ScriptLimits::default()
    };
    let mut done = 0;
    let mut calls = 0;
    while done < items.len() {
        let r = c
            .execute_stored_procedure_with("bulkImport", "p", &[json!(items[done..])], with(limits))
            .unwrap();
        assert_eq!(r.status_code, 200);
        assert!(r.request_charge > 0.0);
        let n = r.body.as_u64().unwrap() as usize;
        assert!(n > 0 && n <= 10, "{n}");
        done += n;
        calls += 1;
    }
    assert_eq!((done, calls), (25, 3));
    let (all, _, feed) = state(&c);
    assert_eq!(all.len(), 25);
    assert_eq!(feed, 25);
    // Charged at least what the 25 creates cost on their own.
    let alone = c.create_item("p", &item("alone", 0)).unwrap().request_charge;
    let r = c
        .execute_stored_procedure("bulkImport", "p", &[json!([item("one", 1)])])
        .unwrap();
    assert!(r.request_charge >= alone, "{} < {alone}", r.request_charge);
}

#[test]
fn counter_increment_reads_and_replaces_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_stored_procedure("increment", INCREMENT).unwrap();
    c.create_item("p", &json!({"id": "counter", "pk": "p", "count": 0}))
        .unwrap();
    for want in 1..=5 {
        let r = c
            .execute_stored_procedure("increment", "p", &[json!("counter")])
            .unwrap();
        assert_eq!(r.body, json!(want));
    }
    let stored = c.read_item::<Value>("p", "counter").unwrap().item.unwrap();
    assert_eq!(stored["count"], 5);
    // A missing item: the script throws the read's error, a 400 with its message.
    let e = c
        .execute_stored_procedure("increment", "p", &[json!("nope")])
        .unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR));
    assert!(e.to_string().contains("item 'nope'"), "{e}");
}

#[test]
fn counter_increments_from_four_threads_end_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_stored_procedure("increment", INCREMENT).unwrap();
    c.create_item("p", &json!({"id": "counter", "pk": "p", "count": 0}))
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10 {
                    // A conflict after its retries answers 409 with nothing written: try again.
                    loop {
                        match c.execute_stored_procedure("increment", "p", &[json!("counter")]) {
                            Ok(_) => break,
                            Err(e) => assert_eq!(e.status(), 409, "{e}"),
                        }
                    }
                }
            });
        }
    });
    let stored = c.read_item::<Value>("p", "counter").unwrap().item.unwrap();
    assert_eq!(stored["count"], 40);
}

#[test]
fn a_throw_rolls_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_stored_procedure("markAll", CONDITIONAL).unwrap();
    for (id, n) in [("a", 5), ("b", 7), ("c", 2)] {
        c.create_item("p", &item(id, n)).unwrap();
    }
    let before = state(&c);
    // "a" and "b" are upserted before "c" throws: neither, nor the audit item, is kept.
    let e = c
        .execute_stored_procedure("markAll", "p", &[json!(3), json!("done")])
        .unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR));
    assert!(
        e.to_string().contains("item c has n 2, below 3: nothing changed"),
        "{e}"
    );
    assert!(e.request_charge().unwrap() > 0.0, "the query it ran is charged");
    assert_eq!(state(&c), before, "no trace in items, index or change feed");
    // With a bar every item clears, the same procedure commits all of it.
    let r = c
        .execute_stored_procedure("markAll", "p", &[json!(1), json!("done")])
        .unwrap();
    assert_eq!(r.body, json!(3));
    let (all, indexed, feed) = state(&c);
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|d| d["status"] == "done"));
    assert_eq!(indexed.len(), 4);
    assert_eq!(feed, before.2 + 4);
}

#[test]
fn an_endless_loop_answers_408_and_the_store_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let body = r#"function spin() {
        var c = getContext().getCollection();
        c.createDocument(c.getSelfLink(), {id: "before-loop", pk: "p"});
        while (true) {}
    }"#;
    c.create_stored_procedure("spin", body).unwrap();
    let limits = ScriptLimits {
        time: std::time::Duration::from_millis(300),
        ..ScriptLimits::default()
    };
    let e = c
        .execute_stored_procedure_with("spin", "p", &[], with(limits))
        .unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (408, substatus::SCRIPT_TIME_BUDGET),
        "{e}"
    );
    assert_eq!(
        c.read_item::<Value>("p", "before-loop").unwrap_err().status(),
        404
    );
    c.create_item("p", &item("after", 1)).unwrap();
    c.create_stored_procedure(
        "ok",
        "function ok() { getContext().getResponse().setBody('fine'); }",
    )
    .unwrap();
    assert_eq!(
        c.execute_stored_procedure("ok", "p", &[]).unwrap().body,
        json!("fine")
    );
}

#[test]
fn a_growing_array_hits_the_memory_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let body = "function grow() { var a = []; while (true) a.push({n: a.length, s: 'x'.repeat(100)}); }";
    c.create_stored_procedure("grow", body).unwrap();
    let e = c.execute_stored_procedure("grow", "p", &[]).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (400, substatus::SCRIPT_MEMORY_CAP),
        "{e}"
    );
    assert!(e.to_string().contains("32 MiB memory cap"), "{e}");
}

#[test]
fn writes_outside_the_partition_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let body = r#"function escape(pk) {
        var c = getContext().getCollection();
        c.createDocument(c.getSelfLink(), {id: "mine", pk: "p"});
        c.createDocument(c.getSelfLink(), {id: "theirs", pk: pk}, function (err) {
            getContext().getResponse().setBody({status: err && err.number, message: err && err.message});
        });
    }"#;
    c.create_stored_procedure("escape", body).unwrap();
    let r = c.execute_stored_procedure("escape", "p", &[json!("q")]).unwrap();
    assert_eq!(r.body["status"], 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("writes only in the partition it runs on"),
        "{r:?}"
    );
    assert_eq!(c.read_item::<Value>("q", "theirs").unwrap_err().status(), 404);
    // The script handled the refusal, so what it wrote in its own partition commits.
    assert_eq!(c.read_item::<Value>("p", "mine").unwrap().status_code, 200);
}

#[test]
fn procedures_are_resources_with_errors_for_each_misuse() {
    let dir = tempfile::tempdir().unwrap();
    let (account, c) = plain_container(dir.path());
    let created = c.create_stored_procedure("b", "function b() {}").unwrap();
    c.create_stored_procedure("a", "function a() {}").unwrap();
    assert_eq!(c.list_stored_procedures().unwrap(), vec!["a", "b"]);
    assert_eq!(c.stored_procedure("b").unwrap(), created);
    let status = |r: strata::Result<strata::StoredProcedure>| r.unwrap_err().status();
    assert_eq!(status(c.create_stored_procedure("b", "function b() {}")), 409);
    assert_eq!(status(c.replace_stored_procedure("zz", "function z() {}")), 404);
    assert_eq!(status(c.stored_procedure("zz")), 404);
    assert_eq!(
        status(c.create_stored_procedure("bad/name", "function b() {}")),
        400
    );
    let e = c.create_stored_procedure("c", "function c( {").unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR), "{e}");
    assert_eq!(status(c.create_stored_procedure("c", "var x = 1")), 400);
    assert_eq!(
        c.execute_stored_procedure("zz", "p", &[]).unwrap_err().status(),
        404
    );
    let replaced = c
        .replace_stored_procedure("b", "function b() { getContext().getResponse().setBody(2); }")
        .unwrap();
    assert_ne!(replaced.etag, created.etag);
    assert_eq!(c.execute_stored_procedure("b", "p", &[]).unwrap().body, json!(2));
    c.delete_stored_procedure("a").unwrap();
    assert_eq!(c.delete_stored_procedure("a").unwrap_err().status(), 404);
    assert_eq!(c.list_stored_procedures().unwrap(), vec!["b"]);
    // The catalog and the store agree after a reopen.
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    drop(c);
    account.close().unwrap();
    let account = Account::open(opts).unwrap();
    let c = account.database("db").container("c");
    assert_eq!(c.list_stored_procedures().unwrap(), vec!["b"]);
    assert_eq!(c.execute_stored_procedure("b", "p", &[]).unwrap().body, json!(2));
}

#[test]
fn bodies_survive_a_backup_and_never_reach_a_file_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (account, c) = plain_container(dir.path());
    let canary = "CANARYSPROC-k8Qz-body";
    let body = format!("function leaky() {{ getContext().getResponse().setBody('{canary}'); }}");
    c.create_stored_procedure("leak-proc-plaintext-name", &body)
        .unwrap();
    assert_eq!(
        c.execute_stored_procedure("leak-proc-plaintext-name", "p", &[])
            .unwrap()
            .body,
        json!(canary)
    );
    let backups = dir.path().join("backups");
    let info = account.backup_now(&backups).unwrap();
    account.flush().unwrap();
    let needles = common::text_needles(&[canary.to_string()]);
    let marker = b"leak-proc-plaintext-name";
    for root in [dir.path().join("data"), backups.clone()] {
        let files = common::files_under(&root);
        // The name is plaintext by contract (the catalog): proof the scan read the files.
        assert!(
            common::assert_no_needle(&files, &needles, marker),
            "{}",
            root.display()
        );
    }
    let restored = Account::restore(
        &info.path,
        AccountOptions::new(dir.path().join("restored"), dir.path().join("home")),
    )
    .unwrap();
    let rc = restored.database("db").container("c");
    assert_eq!(
        rc.list_stored_procedures().unwrap(),
        vec!["leak-proc-plaintext-name"]
    );
    assert_eq!(
        rc.stored_procedure("leak-proc-plaintext-name").unwrap().body,
        body
    );
    assert_eq!(
        rc.execute_stored_procedure("leak-proc-plaintext-name", "p", &[])
            .unwrap()
            .body,
        json!(canary)
    );
}

#[test]
fn if_match_runs_only_the_body_the_caller_read() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let first = c.create_stored_procedure("bulkImport", BULK_IMPORT).unwrap();
    let if_match = |etag: &str| ProcedureOptions {
        if_match: Some(etag.to_string()),
        ..ProcedureOptions::default()
    };
    let r = c
        .execute_stored_procedure_with("bulkImport", "p", &[json!([item("a", 1)])], if_match(&first.etag))
        .unwrap();
    assert_eq!((r.status_code, r.body), (200, json!(1)));

    let replaced = c.replace_stored_procedure("bulkImport", BULK_IMPORT).unwrap();
    assert_ne!(replaced.etag, first.etag);
    let before = state(&c);
    for stale in [first.etag.as_str(), "\"not-an-etag\"", ""] {
        let e = c
            .execute_stored_procedure_with("bulkImport", "p", &[json!([item("b", 2)])], if_match(stale))
            .unwrap_err();
        assert_eq!(e.status(), 412, "{stale}: {e}");
        assert!(e.to_string().contains(&replaced.etag), "{e}");
    }
    // Refused before it ran: nothing written, and the item it would have made is absent.
    assert_eq!(state(&c), before);
    assert_eq!(c.read_item::<Value>("p", "b").unwrap_err().status(), 404);

    let r = c
        .execute_stored_procedure_with(
            "bulkImport",
            "p",
            &[json!([item("b", 2)])],
            if_match(&replaced.etag),
        )
        .unwrap();
    assert_eq!(r.body, json!(1));
    let missing = c
        .execute_stored_procedure_with("gone", "p", &[], if_match(&replaced.etag))
        .unwrap_err();
    assert_eq!(missing.status(), 404);
}

/// The `__` query API over the engine's pages: a filter page by page with the continuation the
/// engine hands back, and a sort over the whole partition.
#[test]
fn underscore_queries_page_through_the_partition() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    for i in 0..7 {
        c.create_item("p", &item(&format!("i{i}"), (i * 3) % 7)).unwrap();
    }
    c.create_item("q", &json!({"id": "other", "pk": "q", "n": 100}))
        .unwrap();
    c.create_stored_procedure(
        "pages",
        "function pages() { var out = []; \
           function step(err, feed, options) { if (err) throw err; out.push(feed.length); \
             if (options.continuation !== undefined) \
               __.filter(function (d) { return d.n >= 0; }, { pageSize: 3, continuation: options.continuation }, step); } \
           __.filter(function (d) { return d.n >= 0; }, { pageSize: 3 }, step); \
           getContext().getResponse().setBody(out); }",
    )
    .unwrap();
    let r = c.execute_stored_procedure("pages", "p", &[]).unwrap();
    assert_eq!(r.body, json!([3, 3, 1]), "the other partition's item is not seen");

    c.create_stored_procedure(
        "top",
        "function top(k) { var r = __.chain().filter(function (d) { return d.n % 2 === 0; }) \
           .sortByDescending(function (d) { return d.n; }).pluck('id').value({ pageSize: 2 }); \
           if (!r.isAccepted) throw new Error('not accepted'); }",
    )
    .unwrap();
    // n by id: i0 0, i1 3, i2 6, i3 2, i4 5, i5 1, i6 4; the even ones, highest first.
    let r = c.execute_stored_procedure("top", "p", &[]).unwrap();
    assert_eq!(r.body, json!(["i2", "i6", "i3", "i0"]));
}

/// Once a procedure has written, its queries see the partition as it has left it: its creates,
/// replaces and deletes over what is stored, paged and aggregated alike, and still not the other
/// partitions. A throw afterwards leaves nothing of it.
#[test]
fn queries_see_the_executions_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    for i in 0..4 {
        c.create_item("p", &item(&format!("i{i}"), i)).unwrap();
    }
    c.create_item("q", &json!({"id": "other", "pk": "q", "n": 100}))
        .unwrap();
    c.create_stored_procedure(
        "rewrite",
        r#"function rewrite(fail) {
            var coll = getContext().getCollection();
            var link = coll.getSelfLink();
            var out = {};
            function ok(err) { if (err) throw err; }
            coll.createDocument(link, { id: "new", pk: "p", n: 10, colour: "red" }, ok);
            coll.deleteDocument(coll.getAltLink() + "/docs/i1", {}, ok);
            // Callbacks run after the call returns: the queries go in the replace's callback.
            coll.readDocument(coll.getAltLink() + "/docs/i2", {}, function (err, doc) {
                if (err) throw err;
                doc.n = 20;
                coll.replaceDocument(doc._self, doc, function (err) { if (err) throw err; queries(); });
            });
            function queries() {
            coll.queryDocuments(link, "SELECT VALUE c.id FROM c ORDER BY c.n", {}, function (err, ids) {
                if (err) throw err; out.ordered = ids;
            });
            coll.queryDocuments(link, { query: "SELECT VALUE SUM(c.n) FROM c WHERE c.n >= @min",
                                        parameters: [{ name: "@min", value: 3 }] }, {}, function (err, s) {
                if (err) throw err; out.sum = s[0];
            });
            var pages = [];
            function step(err, docs, options) {
                if (err) throw err;
                pages.push(docs.map(function (d) { return d.id; }));
                if (options.continuation !== undefined)
                    coll.queryDocuments(link, "SELECT * FROM c", { pageSize: 2, continuation: options.continuation }, step);
            }
            coll.queryDocuments(link, "SELECT * FROM c", { pageSize: 2 }, step);
            out.pages = pages;
            if (fail) throw new Error("rolled back");
            getContext().getResponse().setBody(out);
            }
        }"#,
    )
    .unwrap();
    let r = c
        .execute_stored_procedure("rewrite", "p", &[json!(false)])
        .unwrap();
    // n: i0 0, i2 20 (replaced), i3 3, new 10; i1 deleted; "other" is in another partition.
    assert_eq!(r.body["ordered"], json!(["i0", "i3", "new", "i2"]));
    assert_eq!(r.body["sum"], json!(33));
    assert_eq!(r.body["pages"], json!([["i0", "i2"], ["i3", "new"]]));

    // Rolled back: the store is as the first execution left it.
    let before = state(&c);
    let e = c
        .execute_stored_procedure("rewrite", "p", &[json!(true)])
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(state(&c), before);
}
