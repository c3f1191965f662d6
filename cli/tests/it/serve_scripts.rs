//! Stored procedures, triggers and UDFs through `strata serve` at the HTTP level: script
//! failures keep the engine's status and substatus in the service's error body (a throw
//! 400.3703, the time budget 408.3701, a revoked key 403.4002) and write nothing; a throwing
//! post-trigger or pre-trigger refuses its item write whole; bad bodies, headers and verbs get
//! clear 400s, 404s and 405s; script bodies sent over REST are in no file in the clear. The Python SDK drives the success paths (serve.rs).

use crate::common::Env;
use crate::serve::{assert_revoked, cmk_env, set_key_enabled, Auth, Server};

use serde_json::{json, Value};

const SPROCS: &str = "/dbs/d/colls/c/sprocs";
const TRIGGERS: &str = "/dbs/d/colls/c/triggers";
const DOCS: &str = "/dbs/d/colls/c/docs";
const PK: (&str, &str) = ("x-ms-documentdb-partitionkey", "[\"a\"]");

fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &Value) -> crate::serve::Response {
    server.send("POST", path, Auth::Primary, headers, body.to_string().as_bytes())
}

/// The status, substatus and message of a reply.
fn outcome(r: &crate::serve::Response) -> (u16, Option<&str>, &str) {
    (
        r.status,
        r.header("x-ms-substatus"),
        r.body["message"].as_str().unwrap_or_default(),
    )
}

#[test]
fn script_failures_keep_the_engines_statuses_and_write_nothing() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let r = post(
        &server,
        SPROCS,
        &[],
        &json!({"id": "boom", "body": "function boom() { var c = getContext().getCollection(); \
            c.createDocument(c.getSelfLink(), {id: 'ghost', pk: 'a'}, {}, function (err) { \
            if (err) throw new Error(err.message); throw new Error('refused: ' + getContext().getRequest().getBody()[0]); }); }"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("etag"), r.body["_etag"].as_str());
    for field in ["_rid", "_self", "_ts", "body"] {
        assert!(r.body.get(field).is_some(), "{field}: {}", r.body);
    }

    let r = post(&server, &format!("{SPROCS}/boom"), &[PK], &json!(["why"]));
    let (status, sub, msg) = outcome(&r);
    assert_eq!((status, sub), (400, Some("3703")), "{}", r.body);
    assert!(msg.contains("refused: why"), "{msg}");
    assert_eq!(r.body["code"], "BadRequest");
    let r = server.send("GET", &format!("{DOCS}/ghost"), Auth::Primary, &[PK], b"");
    assert_eq!(r.status, 404, "the throwing procedure's create is not stored");

    let r = post(
        &server,
        SPROCS,
        &[],
        &json!({"id": "spin", "body": "function spin() { while (true) {} }"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(&server, &format!("{SPROCS}/spin"), &[PK], &json!([]));
    assert_eq!(
        (r.status, r.header("x-ms-substatus")),
        (408, Some("3701")),
        "{}",
        r.body
    );

    // A post-trigger that throws refuses the create it follows; a pre-trigger on delete that
    // throws keeps the item.
    for (id, ty, op, body) in [
        (
            "audit",
            "Post",
            "Create",
            "function audit() { throw new Error('audit says no'); }",
        ),
        (
            "guard",
            "Pre",
            "Delete",
            "function guard() { throw new Error('keep it'); }",
        ),
    ] {
        let t = json!({"id": id, "body": body, "triggerType": ty, "triggerOperation": op});
        let r = post(&server, TRIGGERS, &[], &t);
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(
            (
                r.body["triggerType"].as_str(),
                r.body["triggerOperation"].as_str()
            ),
            (Some(ty), Some(op))
        );
    }
    let item = json!({"id": "x", "pk": "a"});
    let r = post(
        &server,
        DOCS,
        &[PK, ("x-ms-documentdb-post-trigger-include", "audit")],
        &item,
    );
    let (status, sub, msg) = outcome(&r);
    assert_eq!((status, sub), (400, Some("3703")), "{}", r.body);
    assert!(msg.contains("audit says no"), "{msg}");
    let r = server.send("GET", &format!("{DOCS}/x"), Auth::Primary, &[PK], b"");
    assert_eq!(r.status, 404, "the post-trigger's throw rolled the create back");
    assert_eq!(post(&server, DOCS, &[PK], &item).status, 201);
    let del = [PK, ("x-ms-documentdb-pre-trigger-include", "guard")];
    let r = server.send("DELETE", &format!("{DOCS}/x"), Auth::Primary, &del, b"");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = server.send("GET", &format!("{DOCS}/x"), Auth::Primary, &[PK], b"");
    assert_eq!(r.status, 200, "the pre-trigger's throw kept the item");
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn if_match_on_execution_runs_only_the_body_the_caller_read() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let make = |tag: &str| {
        json!({"id": "mk", "body": format!("function mk(id) {{ var c = getContext().getCollection(); \
            c.createDocument(c.getSelfLink(), {{id: id, pk: 'a', by: '{tag}'}}, function (err) {{ if (err) throw err; }}); \
            getContext().getResponse().setBody('{tag}'); }}")})
    };
    let r = post(&server, SPROCS, &[], &make("v1"));
    assert_eq!(r.status, 201, "{}", r.body);
    let v1 = r.body["_etag"].as_str().unwrap().to_string();
    let exec = format!("{SPROCS}/mk");
    let r = post(&server, &exec, &[PK, ("if-match", &v1)], &json!(["one"]));
    assert_eq!((r.status, &r.body), (200, &json!("v1")));

    let r = server.send(
        "PUT",
        &exec,
        Auth::Primary,
        &[],
        make("v2").to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v2 = r.body["_etag"].as_str().unwrap().to_string();
    let r = post(&server, &exec, &[PK, ("if-match", &v1)], &json!(["two"]));
    let (status, _, msg) = outcome(&r);
    assert_eq!(status, 412, "{}", r.body);
    assert!(msg.contains(&v2), "{msg}");
    let r = server.send("GET", &format!("{DOCS}/two"), Auth::Primary, &[PK], b"");
    assert_eq!(r.status, 404, "a refused execution ran nothing");

    let r = post(&server, &exec, &[PK, ("if-match", &v2)], &json!(["two"]));
    assert_eq!((r.status, &r.body), (200, &json!("v2")));
    assert_eq!(server.stop().code(), Some(0));
}

/// A refused request: verb, path, headers, body, the status and what its message says.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Value, u16, &'a str);

#[test]
fn bad_script_requests_get_clear_refusals() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let ok = json!({"id": "noop", "body": "function noop() {}"});
    assert_eq!(post(&server, SPROCS, &[], &ok).status, 201);
    let trigger =
        json!({"id": "t", "body": "function t() {}", "triggerType": "Pre", "triggerOperation": "All"});
    assert_eq!(post(&server, TRIGGERS, &[], &trigger).status, 201);
    let noop = format!("{SPROCS}/noop");
    let query = ("x-ms-documentdb-isquery", "True");
    let cases: Vec<Case> = vec![
        (
            "POST",
            SPROCS.into(),
            vec![],
            json!({"id": "nobody"}),
            400,
            "\"body\"",
        ),
        (
            "POST",
            SPROCS.into(),
            vec![],
            json!({"body": "function () {}"}),
            400,
            "\"id\"",
        ),
        (
            "POST",
            SPROCS.into(),
            vec![query],
            json!({"query": "SELECT * FROM root"}),
            400,
            "not served",
        ),
        ("POST", noop.clone(), vec![], json!([]), 400, "partition key"),
        ("POST", noop.clone(), vec![PK], json!({"a": 1}), 400, "JSON array"),
        (
            "PUT",
            noop.clone(),
            vec![],
            json!({"id": "other", "body": "function () {}"}),
            400,
            "not the stored procedure",
        ),
        (
            "POST",
            format!("{SPROCS}/missing"),
            vec![PK],
            json!([]),
            404,
            "missing",
        ),
        (
            "POST",
            TRIGGERS.into(),
            vec![],
            json!({"id": "u", "body": "function u() {}", "triggerType": "Sideways", "triggerOperation": "All"}),
            400,
            "Sideways",
        ),
        (
            "POST",
            TRIGGERS.into(),
            vec![],
            json!({"id": "u", "body": "function u() {}", "triggerType": "Pre", "triggerOperation": "Update"}),
            400,
            "'Update'",
        ),
        (
            "POST",
            TRIGGERS.into(),
            vec![],
            json!({"id": "u", "body": "function u() {}", "triggerType": "Pre"}),
            400,
            "triggerOperation",
        ),
        (
            "PUT",
            format!("{TRIGGERS}/absent"),
            vec![],
            json!({"id": "absent", "body": "function a() {}", "triggerType": "Pre", "triggerOperation": "All"}),
            404,
            "absent",
        ),
        (
            "POST",
            format!("{TRIGGERS}/t"),
            vec![PK],
            json!([]),
            405,
            "not supported",
        ),
        (
            "POST",
            DOCS.into(),
            vec![PK, ("x-ms-documentdb-pre-trigger-include", "t,,t")],
            json!({"id": "1", "pk": "a"}),
            400,
            "separated by commas",
        ),
        (
            "POST",
            DOCS.into(),
            vec![PK, ("x-ms-documentdb-pre-trigger-include", "absent")],
            json!({"id": "1", "pk": "a"}),
            404,
            "absent",
        ),
        (
            "PATCH",
            format!("{DOCS}/1"),
            vec![PK, ("x-ms-documentdb-pre-trigger-include", "t")],
            json!({"operations": []}),
            400,
            "patch",
        ),
        (
            "POST",
            DOCS.into(),
            vec![
                PK,
                ("x-ms-cosmos-is-batch-request", "True"),
                ("x-ms-cosmos-batch-atomic", "True"),
                ("x-ms-documentdb-post-trigger-include", "t"),
            ],
            json!([{"operationType": "Create", "resourceBody": {"id": "2", "pk": "a"}}]),
            400,
            "transactional batch",
        ),
    ];
    for (verb, path, headers, body, status, says) in cases {
        let r = server.send(verb, &path, Auth::Primary, &headers, body.to_string().as_bytes());
        assert_eq!(r.status, status, "{verb} {path} {body}: {}", r.body);
        let msg = r.body["message"].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{verb} {path}: {msg:?} should say {says:?}");
    }
    let r = server.send("GET", SPROCS, Auth::Primary, &[], b"");
    assert_eq!(r.body["StoredProcedures"][0]["id"], "noop", "{}", r.body);
    assert_eq!(r.body["_count"], 1);
    assert_eq!(server.stop().code(), Some(0));
    assert!(
        crate::common::all_items(&env, "c").is_empty(),
        "no refused request wrote an item"
    );
}

#[test]
fn script_bodies_sent_over_rest_are_sealed_at_rest() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let canary = "CANARY-8f3b1e-REST-SCRIPT";
    let body = format!("function f() {{ return '{canary}'; }}");
    let creates = [
        (SPROCS, json!({"id": "p", "body": body})),
        (
            TRIGGERS,
            json!({"id": "t", "body": body, "triggerType": "Post", "triggerOperation": "All"}),
        ),
        ("/dbs/d/colls/c/udfs", json!({"id": "u", "body": body})),
    ];
    for (path, resource) in &creates {
        let r = post(&server, path, &[], resource);
        assert_eq!(r.status, 201, "{path}: {}", r.body);
        let read = server.send(
            "GET",
            &format!("{path}/{}", resource["id"].as_str().unwrap()),
            Auth::Primary,
            &[],
            b"",
        );
        assert_eq!(read.body["body"], body, "{path}");
    }
    assert_eq!(server.stop().code(), Some(0));
    let files = crate::common::files_under(&env.path("data"));
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{f:?}"
        );
    }
}

#[test]
fn a_revoked_key_refuses_procedures_and_their_writes() {
    let env = cmk_env();
    env.ok(&["db", "create", "d"]);
    env.ok(&["container", "create", "d", "c", "--pk", "/pk"]);
    let server = Server::start_with(&env, &["--key-check-interval", "1"]);
    let writer = json!({"id": "w", "body": "function w(id) { var c = getContext().getCollection(); \
        c.createDocument(c.getSelfLink(), {id: id, pk: 'a'}, {}, function (err, doc) { \
        if (err) throw new Error(err.message); getContext().getResponse().setBody(doc.id); }); }"});
    assert_eq!(post(&server, SPROCS, &[], &writer).status, 201);

    set_key_enabled(&env, false);
    for (path, headers, body) in [
        (format!("{SPROCS}/w"), vec![PK], json!(["while-revoked"])),
        (
            SPROCS.to_string(),
            vec![],
            json!({"id": "v", "body": "function v() {}"}),
        ),
        (
            TRIGGERS.to_string(),
            vec![],
            json!({"id": "t", "body": "function t() {}", "triggerType": "Pre", "triggerOperation": "All"}),
        ),
    ] {
        assert_revoked(&post(&server, &path, &headers, &body), &path);
    }

    set_key_enabled(&env, true);
    let r = post(&server, &format!("{SPROCS}/w"), &[PK], &json!(["after"]));
    assert_eq!(
        (r.status, r.body.clone()),
        (200, json!("after")),
        "served again once the key is back"
    );
    assert_eq!(server.stop().code(), Some(0));
    let ids: Vec<Value> = crate::common::all_items(&env, "c")
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("after")],
        "the execution refused while revoked wrote nothing"
    );
}
