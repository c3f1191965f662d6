//! Triggers end to end: a pre-trigger that validates (a throw refuses the write, 400.3703, with
//! nothing stored), one that stamps a property, a post-trigger that maintains a summary item in
//! the same transaction (its throw rolls the write back), triggers on delete, the checks on a
//! trigger's type and operation, and the resource operations.

use serde_json::{json, Value};
use strata::{substatus, Container, ItemOptions, TriggerOperation as Op, TriggerOptions, TriggerType as T};

use crate::common::{self, plain_container};

const VALIDATE: &str = r#"function validate() {
    var item = getContext().getRequest().getBody();
    if (typeof item.qty !== "number" || item.qty < 0) throw new Error("qty must be a number >= 0");
}"#;

const STAMP: &str = r#"function stamp() {
    var request = getContext().getRequest();
    var item = request.getBody();
    item.stampedAt = new Date().toISOString();
    request.setBody(item);
}"#;

/// Keeps `summary` (same partition) counting the items written; refuses a summary over 3.
const SUMMARY: &str = r#"function summary() {
    var c = getContext().getCollection();
    var written = getContext().getResponse().getBody();
    c.readDocument(c.getAltLink() + "/docs/summary", function (err, s) {
        if (err && err.number !== 404) throw err;
        s = s || { id: "summary", pk: written.pk, count: 0 };
        s.count += 1;
        if (s.count > 3) throw new Error("the summary is full");
        c.upsertDocument(c.getSelfLink(), s, function (err) { if (err) throw err; });
    });
}"#;

fn triggers(pre: &[&str], post: &[&str]) -> TriggerOptions {
    TriggerOptions {
        pre_triggers: pre.iter().map(|s| s.to_string()).collect(),
        post_triggers: post.iter().map(|s| s.to_string()).collect(),
    }
}

fn create(c: &Container, item: Value, t: &TriggerOptions) -> strata::Result<strata::ItemResponse<Value>> {
    c.write_item_with_triggers(Op::Create, "p", &item, &ItemOptions::default(), t)
}

#[test]
fn a_pre_trigger_validates_and_another_stamps() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_trigger("validate", T::Pre, Op::All, VALIDATE).unwrap();
    c.create_trigger("stamp", T::Pre, Op::Create, STAMP).unwrap();
    let before = common::visible_state(&c, "SELECT VALUE c.id FROM c WHERE c.qty >= 0");
    let e = create(
        &c,
        json!({"id": "bad", "pk": "p", "qty": -1}),
        &triggers(&["validate"], &[]),
    )
    .unwrap_err();
    assert_eq!((e.status(), e.substatus()), (400, substatus::SCRIPT_ERROR));
    assert!(e.to_string().contains("qty must be a number >= 0"), "{e}");
    assert_eq!(
        common::visible_state(&c, "SELECT VALUE c.id FROM c WHERE c.qty >= 0"),
        before
    );
    let r = create(
        &c,
        json!({"id": "ok", "pk": "p", "qty": 2}),
        &triggers(&["validate", "stamp"], &[]),
    )
    .unwrap();
    assert_eq!(r.status_code, 201);
    let stored = c.read_item::<Value>("p", "ok").unwrap().item.unwrap();
    assert!(stored["stampedAt"].as_str().unwrap().ends_with('Z'), "{stored}");
    assert_eq!(r.item.unwrap()["stampedAt"], stored["stampedAt"]);
    assert_eq!(r.etag, stored["_etag"].as_str().map(str::to_string));
}

#[test]
fn a_post_trigger_writes_in_the_same_transaction_and_its_throw_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_trigger("summary", T::Post, Op::All, SUMMARY).unwrap();
    let t = triggers(&[], &["summary"]);
    for i in 0..3 {
        create(&c, json!({"id": format!("i{i}"), "pk": "p"}), &t).unwrap();
    }
    let count = || c.read_item::<Value>("p", "summary").unwrap().item.unwrap()["count"].clone();
    assert_eq!(count(), 3);
    let before = common::visible_state(&c, "SELECT VALUE c.id FROM c WHERE c.pk = 'p'");
    let e = create(&c, json!({"id": "i3", "pk": "p"}), &t).unwrap_err();
    assert!(e.to_string().contains("the summary is full"), "{e}");
    assert_eq!(
        common::visible_state(&c, "SELECT VALUE c.id FROM c WHERE c.pk = 'p'"),
        before,
        "neither the item nor the summary changed"
    );
    // On delete too: the post-trigger runs, and the delete commits with its summary update.
    c.delete_trigger("summary").unwrap();
    c.create_trigger("summary", T::Post, Op::Delete, &SUMMARY.replace("> 3", "> 9"))
        .unwrap();
    let r = c
        .delete_item_with_triggers("p", "i0", &ItemOptions::default(), &t)
        .unwrap();
    assert_eq!(r.status_code, 204);
    assert_eq!(count(), 4);
    assert_eq!(c.read_item::<Value>("p", "i0").unwrap_err().status(), 404);
}

#[test]
fn triggers_are_checked_against_the_request_and_are_resources() {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = plain_container(dir.path());
    c.create_trigger("stamp", T::Pre, Op::Create, STAMP).unwrap();
    c.create_trigger("summary", T::Post, Op::All, SUMMARY).unwrap();
    let item = json!({"id": "x", "pk": "p"});
    let status = |t: TriggerOptions, op: Op| {
        c.write_item_with_triggers(op, "p", &item, &ItemOptions::default(), &t)
            .unwrap_err()
            .status()
    };
    assert_eq!(
        status(triggers(&["summary"], &[]), Op::Create),
        400,
        "a post-trigger named as pre"
    );
    assert_eq!(
        status(triggers(&["stamp"], &[]), Op::Upsert),
        400,
        "runs on create only"
    );
    assert_eq!(status(triggers(&["nope"], &[]), Op::Create), 404);
    assert_eq!(
        status(triggers(&[], &[]), Op::Delete),
        400,
        "delete is not a write"
    );
    assert_eq!(c.read_item::<Value>("p", "x").unwrap_err().status(), 404);

    let names: Vec<String> = c.list_triggers().unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(names, vec!["stamp", "summary"]);
    let got = c.trigger("stamp").unwrap();
    assert_eq!(
        (got.trigger_type, got.trigger_operation, got.body.as_str()),
        (T::Pre, Op::Create, STAMP)
    );
    assert_eq!(
        c.create_trigger("stamp", T::Pre, Op::All, STAMP)
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        c.create_trigger("bad", T::Pre, Op::All, "function (")
            .unwrap_err()
            .status(),
        400
    );
    let replaced = c.replace_trigger("stamp", T::Pre, Op::All, VALIDATE).unwrap();
    assert_ne!(replaced.etag, got.etag);
    let now = c.trigger("stamp").unwrap();
    assert_eq!(
        (now.trigger_operation, now.body.as_str(), now.etag),
        (Op::All, VALIDATE, replaced.etag)
    );
    let e = create(
        &c,
        json!({"id": "r", "pk": "p", "qty": -1}),
        &triggers(&["stamp"], &[]),
    )
    .unwrap_err();
    assert_eq!(
        e.substatus(),
        substatus::SCRIPT_ERROR,
        "the replaced body runs: {e}"
    );
    let status = |r: strata::Result<strata::Trigger>| r.unwrap_err().status();
    assert_eq!(status(c.replace_trigger("nope", T::Pre, Op::All, STAMP)), 404);
    assert_eq!(
        status(c.replace_trigger("stamp", T::Pre, Op::All, "function (")),
        400
    );
    assert_eq!(
        c.trigger("stamp").unwrap().body,
        VALIDATE,
        "a refused replace changes nothing"
    );
    c.delete_trigger("stamp").unwrap();
    assert_eq!(c.delete_trigger("stamp").unwrap_err().status(), 404);
    assert_eq!(c.trigger("stamp").unwrap_err().status(), 404);
}
