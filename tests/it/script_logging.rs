//! A stored procedure's script log through the engine: returned with the result only when the
//! execution asks for it, bounded, absent from a failed execution's answer (its writes and its
//! log both go), and never written to the data directory.

use serde_json::json;
use strata::{substatus, ProcedureOptions, SCRIPT_LOG_TRUNCATED};

use crate::common::{self, plain_container};

fn logging() -> ProcedureOptions {
    ProcedureOptions {
        enable_script_logging: true,
        ..ProcedureOptions::default()
    }
}

const LOGS_AND_WRITES: &str = r#"
function logsAndWrites(id) {
    var collection = getContext().getCollection();
    console.log("creating %s", id);
    collection.createDocument(collection.getSelfLink(), {id: id, pk: "p"}, function (err, doc) {
        if (err) throw err;
        console.info("created", {id: doc.id, pk: doc.pk});
        getContext().getResponse().setBody(doc.id);
    });
}"#;

#[test]
fn the_log_comes_back_with_the_option_and_not_without() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_stored_procedure("logsAndWrites", LOGS_AND_WRITES)
        .unwrap();

    let r = c
        .execute_stored_procedure_with("logsAndWrites", "p", &[json!("a")], logging())
        .unwrap();
    assert_eq!(r.body, json!("a"));
    assert_eq!(
        r.log.as_deref(),
        Some("creating a\ncreated {\"id\":\"a\",\"pk\":\"p\"}")
    );

    let r = c
        .execute_stored_procedure("logsAndWrites", "p", &[json!("b")])
        .unwrap();
    assert_eq!(r.body, json!("b"));
    assert_eq!(r.log, None);
    // Both executions committed their writes whatever happened to their logs.
    assert_eq!(common::feed_len(&c), 2);
}

#[test]
fn a_throw_answers_its_error_without_the_log_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let body = r#"function () {
        var collection = getContext().getCollection();
        console.log("about to fail");
        collection.createDocument(collection.getSelfLink(), {id: "x", pk: "p"});
        throw new Error("refused");
    }"#;
    c.create_stored_procedure("fails", body).unwrap();
    let e = c
        .execute_stored_procedure_with("fails", "p", &[], logging())
        .unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR), "{e}");
    assert!(!e.to_string().contains("about to fail"), "{e}");
    assert_eq!(common::feed_len(&c), 0);
}

#[test]
fn a_long_log_is_cut_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    let body = "function () { for (var i = 0; i < 1000; i++) console.log('line ' + i + ' of a long log'); }";
    c.create_stored_procedure("chatty", body).unwrap();
    let r = c
        .execute_stored_procedure_with("chatty", "p", &[], logging())
        .unwrap();
    let log = r.log.unwrap();
    assert!(log.starts_with("line 0 of a long log\nline 1 of a long log\n"));
    assert!(log.ends_with(SCRIPT_LOG_TRUNCATED), "{}", &log[log.len() - 80..]);
    assert_eq!(
        log.len(),
        strata::MAX_SCRIPT_LOG_BYTES + SCRIPT_LOG_TRUNCATED.len()
    );
}

#[test]
fn the_log_never_reaches_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let canary = "log-canary-7f3e9b21".to_string();
    {
        let (account, c) = plain_container(dir.path());
        // The canary exists only at run time: the body (sealed anyway) holds it in pieces.
        let body = "function () { console.log('log-' + 'canary-' + '7f3e9b21'); }";
        c.create_stored_procedure("leaky", body).unwrap();
        let r = c
            .execute_stored_procedure_with("leaky", "p", &[], logging())
            .unwrap();
        assert_eq!(r.log.as_deref(), Some(canary.as_str()));
        account.flush().unwrap();
    }
    let files = common::files_under(dir.path());
    assert!(!files.is_empty());
    // The procedure's name is plaintext in the catalog: seeing it proves the scan read the files.
    assert!(common::assert_no_needle(
        &files,
        &common::text_needles(&[canary]),
        b"leaky"
    ));
}
