//! `strata serve` through the real binary, on a free loopback port: the access keys it prints,
//! authentication (a signed request is served; unsigned, wrongly signed and stale ones get the
//! same bare 401), bad input (oversized, malformed, unknown resources, missing partition key),
//! writes through HTTP that survive a SIGTERM, a transactional batch applied whole or not at all,
//! and the refusal to serve plain HTTP off loopback.
//! The SDK checks (ignored in a plain `cargo test`; scripts/test.sh runs them with STRATA_PYTHON
//! and STRATA_NODE_SDK set) drive the server with the vendor's `azure-cosmos` (Python) and
//! `@azure/cosmos` (Node), over HTTPS trusting the printed self-signed certificate.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use common::Env;
use serde_json::{json, Value};
use strata_gateway::auth::{master_token, SignedRequest};

/// A running `strata serve`; SIGTERM and wait on drop.
pub(crate) struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
    key: Vec<u8>,
    /// HTTPS, trusting these certificates, and asking for this name; `None`: plain HTTP.
    tls: Option<(Arc<rustls::ClientConfig>, String)>,
    /// The listening line.
    pub(crate) ready: Value,
}

/// A connection, plain or TLS.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// A rustls client trusting only the certificates in `pem`.
pub(crate) fn client_trusting(pem: &str) -> Arc<rustls::ClientConfig> {
    strata_gateway::tls::client_config_trusting(pem).expect("a PEM certificate to trust")
}

fn keys(env: &Env) -> Value {
    env.ok(&["serve", "--print-keys"])
}

impl Server {
    pub(crate) fn start(env: &Env) -> Server {
        Server::start_with(env, &[])
    }

    pub(crate) fn start_with(env: &Env, extra: &[&str]) -> Server {
        let mut args = vec!["--insecure-http", "--addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Server::spawn(env, &args, None)
    }

    /// `strata serve ARGS` over HTTPS, trusting `pem` and asking for `name`.
    pub(crate) fn start_tls(env: &Env, args: &[&str], pem: &str, name: &str) -> Server {
        Server::spawn(env, args, Some((client_trusting(pem), name.to_string())))
    }

    fn spawn(env: &Env, args: &[&str], tls: Option<(Arc<rustls::ClientConfig>, String)>) -> Server {
        let key = keys(env)["primaryKey"].as_str().unwrap().to_string();
        let mut child = env
            .bare()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn strata serve");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .expect("read the listening line");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
        assert_eq!(ready["status"], "listening", "{ready}");
        let endpoint = ready["endpoint"].as_str().unwrap();
        let scheme = if tls.is_some() { "https://" } else { "http://" };
        assert!(endpoint.starts_with(scheme), "{ready}");
        let addr = endpoint
            .trim_start_matches(scheme)
            .trim_end_matches('/')
            .replace("0.0.0.0", "127.0.0.1");
        Server {
            child,
            addr,
            key: base64::engine::general_purpose::STANDARD.decode(key).unwrap(),
            tls,
            ready,
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// A new connection to the server (TLS when it serves HTTPS; the handshake happens on the
    /// first write).
    fn connect(&self) -> Box<dyn Stream> {
        let tcp = TcpStream::connect(&self.addr).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        match &self.tls {
            None => Box::new(tcp),
            Some((config, name)) => {
                let name = rustls_pki_types::ServerName::try_from(name.clone()).unwrap();
                let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        }
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait().expect("wait for strata serve")
    }

    /// One request (with `Connection: close`), signed with `key` (None: unsigned) at `date`.
    pub(crate) fn send(
        &self,
        verb: &str,
        path: &str,
        auth: Auth,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let (type_, link) = resource_of(path);
        let date = match auth {
            Auth::Stale => httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600)),
            _ => httpdate::fmt_http_date(SystemTime::now()),
        };
        let token = |key: &[u8]| {
            master_token(
                key,
                &SignedRequest {
                    verb,
                    resource_type: &type_,
                    resource_link: &link,
                    x_ms_date: &date,
                    date: "",
                },
            )
        };
        let authorization = match auth {
            Auth::Primary | Auth::Stale => Some(token(&self.key)),
            Auth::WrongKey => Some(token(&[7u8; 64])),
            Auth::None => None,
        };
        let mut req = format!(
            "{verb} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nx-ms-date: {date}\r\n",
            self.addr
        );
        if let Some(a) = authorization {
            req.push_str(&format!("authorization: {}\r\n", url_encode(&a)));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let mut s = self.connect();
        s.write_all(req.as_bytes()).unwrap();
        // The server may answer (413) before the whole body is sent, and close.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        Response::parse(&raw)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Auth {
    Primary,
    WrongKey,
    Stale,
    None,
}

/// The resource type and link the SDKs sign for a path.
fn resource_of(path: &str) -> (String, String) {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // An offer is addressed by resource id: the SDKs sign its bare id in lower case.
    if let ["offers", id] = segs.as_slice() {
        return ("offers".to_string(), id.to_ascii_lowercase());
    }
    match segs.len() {
        0 => (String::new(), String::new()),
        n if n % 2 == 1 => (segs[n - 1].to_string(), segs[..n - 1].join("/")),
        n => (segs[n - 2].to_string(), segs.join("/")),
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no response: {text:?}"));
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let body = serde_json::from_str(body).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[test]
fn print_keys_prints_two_stable_base64_keys() {
    let env = Env::with_container("/pk");
    let first = keys(&env);
    let (p, s) = (
        first["primaryKey"].as_str().unwrap(),
        first["secondaryKey"].as_str().unwrap(),
    );
    assert_eq!(p.len(), 88, "{p}");
    assert_ne!(p, s);
    for k in [p, s] {
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(k).unwrap().len(),
            64
        );
    }
    assert_eq!(keys(&env), first, "the keys are kept, not made anew");

    let rolled = env.ok(&["keys", "regenerate", "secondary"]);
    assert_eq!(rolled["primaryKey"], first["primaryKey"]);
    assert_ne!(rolled["secondaryKey"], first["secondaryKey"]);
    assert_eq!(keys(&env), rolled);
    assert_eq!(env.ok(&["keys", "list"]), rolled);

    // The older spelling still works, and `keys regenerate` takes only the two names.
    let primary_rolled = env.ok(&["serve", "--regenerate-key", "primary"]);
    assert_ne!(primary_rolled["primaryKey"], rolled["primaryKey"]);
    assert_eq!(primary_rolled["secondaryKey"], rolled["secondaryKey"]);
    assert_eq!(env.run(&["keys", "regenerate", "tertiary"]).code, 2);
    let rolled = primary_rolled;
    let first = json!({"primaryKey": rolled["primaryKey"], "secondaryKey": first["secondaryKey"]});

    // A server signs nothing with a regenerated key: requests signed with the old one fail.
    let old_secondary = base64::engine::general_purpose::STANDARD
        .decode(first["secondaryKey"].as_str().unwrap())
        .unwrap();
    let mut server = Server::start(&env);
    assert_eq!(server.send("GET", "/", Auth::Primary, &[], b"").status, 200);
    server.key = old_secondary;
    assert_eq!(server.send("GET", "/", Auth::Primary, &[], b"").status, 401);
    let new_secondary = base64::engine::general_purpose::STANDARD
        .decode(rolled["secondaryKey"].as_str().unwrap())
        .unwrap();
    server.key = new_secondary;
    assert_eq!(server.send("GET", "/", Auth::Primary, &[], b"").status, 200);
}

#[test]
fn only_signed_current_requests_are_served_and_refusals_say_nothing() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let ok = server.send("GET", "/", Auth::Primary, &[], b"");
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["id"], "acct");
    assert!(ok.header("x-ms-activity-id").is_some());
    assert_eq!(
        ok.body["writableLocations"][0]["databaseAccountEndpoint"],
        json!(server.endpoint())
    );

    let mut bodies = Vec::new();
    for auth in [Auth::None, Auth::WrongKey, Auth::Stale] {
        let r = server.send("GET", "/dbs/d/colls/c", auth, &[], b"");
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["code"], "Unauthorized");
        bodies.push(r.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "401 bodies differ: {bodies:?}"
    );

    // A signature is bound to its resource: one over `dbs/d` does not open `dbs/d/colls/c`.
    let date = httpdate::fmt_http_date(SystemTime::now());
    let over_db = master_token(
        &server.key,
        &SignedRequest {
            verb: "GET",
            resource_type: "dbs",
            resource_link: "dbs/d",
            x_ms_date: &date,
            date: "",
        },
    );
    let r = server.send(
        "GET",
        "/dbs/d/colls/c",
        Auth::None,
        &[("authorization", &url_encode(&over_db)), ("x-ms-date", &date)],
        b"",
    );
    assert_eq!(r.status, 401);
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn bad_input_gets_the_services_status_codes_and_nothing_is_written() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let docs = "/dbs/d/colls/c/docs";
    let doc = format!("{docs}/1");
    let pk = ("x-ms-documentdb-partitionkey", "[\"a\"]");
    let big = format!(
        "{{\"id\":\"big\",\"pk\":\"a\",\"s\":\"{}\"}}",
        "x".repeat(3 << 20)
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    // (why, verb, path, headers, body, status)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [u8], u16);
    let refused: Vec<Case> = vec![
        ("over the body cap", "POST", docs, vec![pk], big.as_bytes(), 413),
        ("malformed JSON", "POST", docs, vec![pk], b"{\"id\": \"1\", ", 400),
        ("nested too deep", "POST", docs, vec![pk], deep.as_bytes(), 400),
        (
            "non-atomic batch (bulk) with a malformed operation after a good one",
            "POST",
            docs,
            vec![pk, ("x-ms-cosmos-is-batch-request", "True")],
            br#"[{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}}, "oops"]"#,
            400,
        ),
        (
            "non-atomic batch (bulk) whose operation names no partition key",
            "POST",
            docs,
            vec![("x-ms-cosmos-is-batch-request", "True")],
            br#"[{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}}]"#,
            400,
        ),
        (
            "atomic batch that asks to continue on error",
            "POST",
            docs,
            vec![pk, BATCH, ATOMIC, ("x-ms-cosmos-batch-continue-on-error", "True")],
            br#"[{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}}]"#,
            400,
        ),
        (
            "batch without its partition key",
            "POST",
            docs,
            vec![BATCH, ATOMIC],
            br#"[{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}}]"#,
            400,
        ),
        (
            "batch whose body is not an array",
            "POST",
            docs,
            vec![pk, BATCH, ATOMIC],
            br#"{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}}"#,
            400,
        ),
        (
            "batch with an item of another partition",
            "POST",
            docs,
            vec![pk, BATCH, ATOMIC],
            br#"[{"operationType":"Create","resourceBody":{"id":"b","pk":"a"}},
                 {"operationType":"Create","resourceBody":{"id":"c","pk":"z"}}]"#,
            400,
        ),
        (
            "partition key header disagrees with the item",
            "POST",
            docs,
            vec![("x-ms-documentdb-partitionkey", "[\"b\"]")],
            br#"{"id":"1","pk":"a"}"#,
            400,
        ),
        (
            "partition key header not a JSON array",
            "POST",
            docs,
            vec![("x-ms-documentdb-partitionkey", "a")],
            br#"{"id":"1","pk":"a"}"#,
            400,
        ),
        (
            "point read without its partition key",
            "GET",
            &doc,
            vec![],
            b"",
            400,
        ),
        (
            "unsupported resource",
            "GET",
            "/dbs/d/colls/c/conflicts",
            vec![],
            b"",
            404,
        ),
        ("unsupported verb", "PATCH", "/dbs/d", vec![], b"", 405),
        ("missing database", "GET", "/dbs/nope/colls/c", vec![], b"", 404),
        (
            "change feed in an unknown mode",
            "GET",
            docs,
            vec![("a-im", "Everything")],
            b"",
            400,
        ),
        (
            "change feed of a hash range narrower than the collection",
            "GET",
            docs,
            vec![
                ("a-im", "Incremental feed"),
                ("x-ms-read-key-type", "EffectivePartitionKeyRange"),
            ],
            b"",
            400,
        ),
    ];
    for (why, verb, path, headers, body, status) in refused {
        let r = server.send(verb, path, Auth::Primary, &headers, body);
        assert_eq!(r.status, status, "{why}: {}", r.body);
        assert!(
            r.body["code"].is_string() && r.body["message"].is_string(),
            "{why}: {}",
            r.body
        );
    }

    let created = server.send(
        "POST",
        docs,
        Auth::Primary,
        &[pk],
        br#"{"id":"1","pk":"a","n":1}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let etag = created.header("etag").unwrap().to_string();
    let charge: f64 = created.header("x-ms-request-charge").unwrap().parse().unwrap();
    assert!(charge > 0.0);
    let stale = ("if-match", "\"not-the-etag\"");
    let current = ("if-none-match", etag.as_str());
    let after: Vec<Case> = vec![
        (
            "create twice",
            "POST",
            docs,
            vec![pk],
            br#"{"id":"1","pk":"a","n":2}"#,
            409,
        ),
        (
            "replace on a stale etag",
            "PUT",
            &doc,
            vec![pk, stale],
            br#"{"id":"1","pk":"a","n":3}"#,
            412,
        ),
        (
            "read with the current etag",
            "GET",
            &doc,
            vec![pk, current],
            b"",
            304,
        ),
        (
            "change feed from now",
            "GET",
            docs,
            vec![("a-im", "Incremental feed"), ("if-none-match", "*")],
            b"",
            304,
        ),
        (
            "patch of the partition key",
            "PATCH",
            &doc,
            vec![pk],
            br#"{"operations":[{"op":"set","path":"/pk","value":"b"}]}"#,
            400,
        ),
    ];
    for (why, verb, path, headers, body, status) in after {
        let r = server.send(verb, path, Auth::Primary, &headers, body);
        assert_eq!(r.status, status, "{why}: {}", r.body);
    }
    assert_eq!(server.stop().code(), Some(0));

    // Only the one good create reached the store, and it is durable after the SIGTERM.
    let items = common::all_items(&env, "c");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["n"], 1);
}

/// An account under customer key `k` of the test vault.
pub(crate) fn cmk_env() -> Env {
    let env = Env::new();
    let uri = env.ok(&["vault", "key", "create", "k", "--size", "2048"])["keyUri"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["init", "--account", "acct", "--cmk", &uri]);
    env
}

/// Disables or enables key `k`, then waits out a server's 1 s `--key-check-interval`.
pub(crate) fn set_key_enabled(env: &Env, enabled: bool) {
    env.ok(&["vault", "key", if enabled { "enable" } else { "disable" }, "k"]);
    std::thread::sleep(Duration::from_millis(1100));
}

/// `r` is the revoked customer key's 403.4002 in the service's error body.
pub(crate) fn assert_revoked(r: &Response, what: &str) {
    assert_eq!(
        (r.status, r.header("x-ms-substatus")),
        (403, Some("4002")),
        "{what}: {}",
        r.body
    );
    assert_eq!(r.body["code"], "Forbidden", "{what}");
}

#[test]
fn a_revoked_customer_key_is_noticed_while_serving() {
    let env = cmk_env();
    let server = Server::start_with(&env, &["--key-check-interval", "1"]);
    let r = server.send("POST", "/dbs", Auth::Primary, &[], br#"{"id":"d"}"#);
    assert_eq!(r.status, 201, "{}", r.body);
    let create_collection = |id: &str| {
        let body = format!(r#"{{"id":"{id}","partitionKey":{{"paths":["/pk"],"kind":"Hash"}}}}"#);
        server.send("POST", "/dbs/d/colls", Auth::Primary, &[], body.as_bytes())
    };
    let r = create_collection("c0");
    assert_eq!(r.status, 201, "{}", r.body);

    let query_json = ("content-type", "application/query+json");
    let plan_headers = [query_json, ("x-ms-cosmos-is-query-plan-request", "True")];
    let query = &br#"{"query":"SELECT VALUE COUNT(1) FROM c"}"#[..];
    let plan = server.send(
        "POST",
        "/dbs/d/colls/c0/docs",
        Auth::Primary,
        &plan_headers,
        query,
    );
    assert_eq!(
        plan.status, 200,
        "a query plan while the key is enabled: {}",
        plan.body
    );
    assert_eq!(plan.body["queryRanges"][0]["max"], "FF", "{}", plan.body);

    set_key_enabled(&env, false);
    let batch_headers = [("x-ms-documentdb-partitionkey", "[\"a\"]"), BATCH, ATOMIC];
    for (verb, path, headers, body) in [
        ("POST", "/dbs/d/colls/c0/docs", &plan_headers[..], query),
        ("POST", "/dbs/d/colls/c0/docs", &[query_json][..], query),
        (
            "POST",
            "/dbs/d/colls",
            &[][..],
            &br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash"}}"#[..],
        ),
        (
            "POST",
            "/dbs/d/colls/c0/docs",
            &batch_headers[..],
            br#"[{"operationType":"Create","resourceBody":{"id":"1","pk":"a"}}]"#,
        ),
        ("DELETE", "/dbs/d", &[], b""),
    ] {
        let r = server.send(verb, path, Auth::Primary, headers, body);
        assert_revoked(&r, &format!("{verb} {path}"));
    }

    set_key_enabled(&env, true);
    let r = create_collection("c");
    assert_eq!(r.status, 201, "served again once the key is back: {}", r.body);
    assert_eq!(server.stop().code(), Some(0));
    let items = common::all_items(&env, "c0");
    assert!(
        items.is_empty(),
        "the batch refused while revoked wrote nothing: {items:?}"
    );
}

#[test]
fn spent_throughput_is_a_429_with_its_retry_after_at_once() {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    let server = Server::start(&env);
    let coll = br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash"}}"#;
    assert_eq!(
        server
            .send("POST", "/dbs", Auth::Primary, &[], br#"{"id":"d"}"#)
            .status,
        201
    );
    let r = server.send(
        "POST",
        "/dbs/d/colls",
        Auth::Primary,
        &[("x-ms-offer-throughput", "400")],
        coll,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // 400 RU/s: writes of 200 KiB items (hundreds of RU each) spend a second's budget in one
    // or two, however slowly a loaded machine sends them.
    let pad = "x".repeat(200 * 1024);
    let mut throttled = None;
    for i in 0..50 {
        let body = format!("{{\"id\":\"{i}\",\"pk\":\"a\",\"pad\":\"{pad}\"}}");
        let started = std::time::Instant::now();
        let r = server.send(
            "POST",
            "/dbs/d/colls/c/docs",
            Auth::Primary,
            &[("x-ms-documentdb-partitionkey", "[\"a\"]")],
            body.as_bytes(),
        );
        if r.status == 429 {
            throttled = Some((r, started.elapsed()));
            break;
        }
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (r, took) = throttled.expect("no 429 within 50 writes of 200 KiB at 400 RU/s");
    assert_eq!(r.header("x-ms-substatus"), Some("3200"), "{}", r.body);
    assert_eq!(r.body["code"], "TooManyRequests");
    let after: u64 = r
        .header("x-ms-retry-after-ms")
        .expect("x-ms-retry-after-ms")
        .parse()
        .unwrap();
    assert!(after > 0 && after <= 10_000, "{after}");
    assert!(
        took < Duration::from_secs(5),
        "the server waited {took:?} before answering 429"
    );
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn oversized_headers_are_refused_and_keep_alive_serves_many_requests() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let huge = "v".repeat(80 * 1024);
    let r = server.send("GET", "/", Auth::Primary, &[("x-filler", &huge)], b"");
    assert_eq!(r.status, 431, "request headers over 64 KiB");

    // One connection, several signed requests in a row, each answered whole.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for _ in 0..3 {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let token = master_token(
            &server.key,
            &SignedRequest {
                verb: "GET",
                resource_type: "colls",
                resource_link: "dbs/d/colls/c",
                x_ms_date: &date,
                date: "",
            },
        );
        let req = format!(
            "GET /dbs/d/colls/c HTTP/1.1\r\nHost: {}\r\nx-ms-date: {date}\r\nauthorization: {}\r\n\r\n",
            server.addr,
            url_encode(&token)
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut len = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let coll: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(coll["partitionKey"]["paths"], json!(["/pk"]));
    }
}

/// The headers the SDKs send with an atomic transactional batch.
const BATCH: (&str, &str) = ("x-ms-cosmos-is-batch-request", "True");
const ATOMIC: (&str, &str) = ("x-ms-cosmos-batch-atomic", "True");

#[test]
fn a_transactional_batch_is_all_or_nothing_and_answers_per_operation() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let docs = "/dbs/d/colls/c/docs";
    let pk = ("x-ms-documentdb-partitionkey", "[\"a\"]");
    let mut etag = String::new();
    for body in [r#"{"id":"r","pk":"a","n":1}"#, r#"{"id":"gone","pk":"a"}"#] {
        let r = server.send("POST", docs, Auth::Primary, &[pk], body.as_bytes());
        assert_eq!(r.status, 201, "{}", r.body);
        etag = r.header("etag").unwrap().to_string();
    }
    let created = server.send("GET", &format!("{docs}/r"), Auth::Primary, &[pk], b"");
    let r_etag = created.header("etag").unwrap().to_string();
    assert_ne!(r_etag, etag);

    // Every operation type, as the SDKs spell them (a patch's operations and condition under
    // resourceBody, a read's ifNoneMatch).
    let good = json!([
        {"operationType": "Create", "resourceBody": {"id": "b1", "pk": "a", "n": 1}},
        {"operationType": "Upsert", "resourceBody": {"id": "b2", "pk": "a", "n": 2}},
        {"operationType": "Replace", "id": "r", "resourceBody": {"id": "r", "pk": "a", "n": 10}, "ifMatch": r_etag},
        {"operationType": "Read", "id": "b1"},
        {"operationType": "Patch", "id": "b1", "resourceBody": {
            "operations": [{"op": "incr", "path": "/n", "value": 5}], "condition": "FROM c WHERE c.n = 1"}},
        {"operationType": "Read", "id": "b2", "ifNoneMatch": "*"},
        {"operationType": "Delete", "id": "gone"}
    ]);
    let r = server.send(
        "POST",
        docs,
        Auth::Primary,
        &[pk, BATCH, ATOMIC],
        good.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body.as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|x| x["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 200, 200, 304, 204], "{}", r.body);
    assert_eq!(
        results[3]["resourceBody"]["n"], 1,
        "the read sees the create before it"
    );
    assert_eq!(results[4]["resourceBody"]["n"], 6, "{}", r.body);
    assert_eq!(results[5].get("resourceBody"), None, "a 304 carries no item");
    for (i, x) in results.iter().enumerate().take(5) {
        assert!(x["eTag"].as_str().is_some_and(|e| !e.is_empty()), "{i}: {x}");
    }
    let per_op: f64 = results.iter().map(|x| x["requestCharge"].as_f64().unwrap()).sum();
    let charge: f64 = r.header("x-ms-request-charge").unwrap().parse().unwrap();
    assert!(
        charge > 0.0 && (charge - per_op).abs() < 0.05,
        "{charge} vs {per_op}"
    );

    // A duplicate create fails the batch: 207, its own 409, 424 for the others, nothing written.
    let failing = json!([
        {"operationType": "Create", "resourceBody": {"id": "b3", "pk": "a"}},
        {"operationType": "Patch", "id": "b1", "resourceBody": {"operations": [{"op": "incr", "path": "/n", "value": 100}]}},
        {"operationType": "Delete", "id": "b2"},
        {"operationType": "Create", "resourceBody": {"id": "b1", "pk": "a"}}
    ]);
    let r = server.send(
        "POST",
        docs,
        Auth::Primary,
        &[pk, BATCH, ATOMIC],
        failing.to_string().as_bytes(),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    let statuses: Vec<u64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [424, 424, 424, 409], "{}", r.body);
    assert!(
        r.body[3]["message"].as_str().is_some_and(|m| m.contains("b1")),
        "{}",
        r.body
    );
    assert!(r.header("x-ms-request-charge").is_some());

    // A batch over the engine's 100 operations is refused whole.
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"operationType": "Read", "id": format!("x{i}")}))
        .collect();
    let r = server.send(
        "POST",
        docs,
        Auth::Primary,
        &[pk, BATCH, ATOMIC],
        Value::from(many).to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(server.stop().code(), Some(0));

    let items = common::all_items(&env, "c");
    let got: Vec<(&str, &Value)> = items
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), &i["n"]))
        .collect();
    assert_eq!(
        got,
        [("b1", &json!(6)), ("b2", &json!(2)), ("r", &json!(10))],
        "the good batch whole, nothing of the failed one"
    );
}

#[test]
fn sigkill_loses_no_acknowledged_write() {
    let env = Env::with_container("/pk");
    let mut server = Server::start(&env);
    let pk = ("x-ms-documentdb-partitionkey", "[\"a\"]");
    for i in 0..20 {
        let body = format!("{{\"id\":\"{i}\",\"pk\":\"a\",\"n\":{i}}}");
        let r = server.send(
            "POST",
            "/dbs/d/colls/c/docs",
            Auth::Primary,
            &[pk],
            body.as_bytes(),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let items = common::all_items(&env, "c");
    assert_eq!(
        items.len(),
        20,
        "every acknowledged create is there after SIGKILL: {items:?}"
    );
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let env = Env::with_container("/pk");
    let r = env.run(&["serve", "--insecure-http", "--addr", "0.0.0.0:0"]);
    assert_eq!(r.code, 2, "a usage error: {r:?}");
    assert_eq!(r.json()["statusCode"], 400, "{r:?}");
    assert!(
        r.json()["message"].as_str().unwrap().contains("loopback"),
        "{r:?}"
    );
}

#[test]
fn hierarchical_keys_over_rest_with_a_prefix_as_an_effective_key_range() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let create = |body: &str| server.send("POST", "/dbs/d/colls", Auth::Primary, &[], body.as_bytes());
    for bad in [
        r#"{"id":"x","partitionKey":{"paths":["/t"],"kind":"MultiHash","version":2}}"#,
        r#"{"id":"x","partitionKey":{"paths":["/a","/b","/c","/d"],"kind":"MultiHash","version":2}}"#,
        r#"{"id":"x","partitionKey":{"paths":["/t","/u"],"kind":"Hash"}}"#,
        r#"{"id":"x","partitionKey":{"paths":["/t","/u"],"kind":"MultiHash","version":1}}"#,
    ] {
        assert_eq!(create(bad).status, 400, "{bad}");
    }
    let r = create(r#"{"id":"h","partitionKey":{"paths":["/t","/u"],"kind":"MultiHash","version":2}}"#);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["partitionKey"],
        json!({"paths": ["/t", "/u"], "kind": "MultiHash", "version": 2})
    );
    let docs = "/dbs/d/colls/h/docs";
    for (t, u, id) in [("t1", "u1", "a"), ("t1", "u2", "b"), ("t10", "u1", "c")] {
        let pk = json!([t, u]).to_string();
        let body = json!({"id": id, "t": t, "u": u}).to_string();
        let r = server.send(
            "POST",
            docs,
            Auth::Primary,
            &[("x-ms-documentdb-partitionkey", &pk)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let get = |pk: &str| {
        server.send(
            "GET",
            &format!("{docs}/a"),
            Auth::Primary,
            &[("x-ms-documentdb-partitionkey", pk)],
            b"",
        )
    };
    assert_eq!(get(r#"["t1","u1"]"#).status, 200);
    assert_eq!(get(r#"["t1","u2"]"#).status, 404);
    let short = get(r#"["t1"]"#);
    assert_eq!(short.status, 400, "{}", short.body);

    // The SDKs scope a query by the prefix ["t1"] to [epk("t1"), epk("t1") + "FF"): the hash is
    // azure-cosmos 4.17.1's for the string "t1".
    let epk_t1 = "3D48BB14DA9D090D22112C96695028B6";
    let end = format!("{epk_t1}FF");
    let query = |coll: &str, start: &str, end: &str| {
        let headers = [
            ("content-type", "application/query+json"),
            ("x-ms-documentdb-isquery", "True"),
            ("x-ms-start-epk", start),
            ("x-ms-end-epk", end),
        ];
        let path = format!("/dbs/d/colls/{coll}/docs");
        server.send(
            "POST",
            &path,
            Auth::Primary,
            &headers,
            br#"{"query":"SELECT VALUE c.id FROM c"}"#,
        )
    };
    let r = query("h", epk_t1, &end);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<&str> = r.body["Documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["a", "b"]);
    // A prefix's range is read as the prefix's key range; a range of another shape that holds
    // the same keys (it ends at "FE" instead of "FF") filters a read of the whole container, so
    // it returns the same items and is charged more.
    let charge = |r: &Response| -> f64 { r.header("x-ms-request-charge").unwrap().parse().unwrap() };
    let other_shape = query("h", epk_t1, &format!("{epk_t1}FE"));
    assert_eq!(other_shape.body["Documents"], r.body["Documents"]);
    assert!(
        charge(&r) < charge(&other_shape),
        "{} vs {}",
        charge(&r),
        charge(&other_shape)
    );
    // The whole range is no scope; a narrower one over a single-path key is refused, not ignored.
    assert_eq!(query("h", "", "FF").body["_count"], 3);
    assert_eq!(query("c", epk_t1, &end).status, 400);
    assert_eq!(server.stop().code(), Some(0));
}

/// Starts `strata serve` over HTTPS with its default self-signed certificate, runs
/// `program SCRIPT ENDPOINT KEY CERT_PEM` (a vendor SDK's check script, trusting only that
/// certificate and checking the host name: the endpoint says `localhost`) with `envs`, and
/// requires every check of the script to pass.
/// Offers: a collection's and a database's own throughput are found by the SDKs' query, read
/// and replaced; a replace that is not this offer's, has a stale etag, asks for autoscale or
/// an invalid RU/s changes nothing; unknown offers are 404 and nothing is created by a POST.
#[test]
fn offers_read_and_replace_throughput_with_their_checks() {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    let server = Server::start(&env);
    let created = |path: &str, extra: &[(&str, &str)], body: &[u8]| {
        let r = server.send("POST", path, Auth::Primary, extra, body);
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    };
    created("/dbs", &[("x-ms-offer-throughput", "1000")], br#"{"id":"d"}"#);
    let coll = created(
        "/dbs/d/colls",
        &[("x-ms-offer-throughput", "400")],
        br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash"}}"#,
    );
    created(
        "/dbs/d/colls",
        &[],
        br#"{"id":"shared","partitionKey":{"paths":["/pk"],"kind":"Hash"}}"#,
    );
    let all = server.send("GET", "/offers", Auth::Primary, &[], b"");
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        all.body["_count"], 2,
        "the shared container has no offer: {}",
        all.body
    );
    let query = serde_json::json!({
        "query": "SELECT * FROM root r WHERE r.resource = @link",
        "parameters": [{"name": "@link", "value": coll["_self"]}],
    });
    let found = server.send(
        "POST",
        "/offers",
        Auth::Primary,
        &[
            ("content-type", "application/query+json"),
            ("x-ms-documentdb-isquery", "True"),
        ],
        query.to_string().as_bytes(),
    );
    assert_eq!(found.status, 200, "{}", found.body);
    let offer = found.body["Offers"][0].clone();
    assert_eq!(found.body["_count"], 1);
    assert_eq!(offer["content"]["offerThroughput"], 400);
    assert_eq!(offer["offerResourceId"], coll["_rid"]);
    let path = format!("/{}", offer["_self"].as_str().unwrap());
    assert_eq!(server.send("GET", &path, Auth::Primary, &[], b"").body, offer);

    let with = |throughput: Value| {
        let mut body = offer.clone();
        body["content"]["offerThroughput"] = throughput;
        body.to_string()
    };
    let etag = offer["_etag"].as_str().unwrap().to_string();
    let mut autoscale = offer.clone();
    autoscale["content"]["offerAutopilotSettings"] = serde_json::json!({"maxThroughput": 4000});
    let mut foreign = offer.clone();
    foreign["offerResourceId"] = serde_json::json!("elsewhere");
    for (what, headers, body, status) in [
        (
            "a stale etag",
            vec![("if-match", "\"other\"")],
            with(500.into()),
            412,
        ),
        ("autoscale", vec![], autoscale.to_string(), 400),
        ("another resource's offer", vec![], foreign.to_string(), 400),
        ("RU/s off the steps", vec![], with(450.into()), 400),
        ("RU/s that is not a number", vec![], with("many".into()), 400),
    ] {
        let r = server.send("PUT", &path, Auth::Primary, &headers, body.as_bytes());
        assert_eq!(r.status, status, "{what}: {}", r.body);
    }
    assert_eq!(
        server.send("GET", &path, Auth::Primary, &[], b"").body["content"]["offerThroughput"],
        400
    );
    let replaced = server.send(
        "PUT",
        &path,
        Auth::Primary,
        &[("if-match", etag.as_str())],
        with(600.into()).as_bytes(),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["content"]["offerThroughput"], 600);
    assert_ne!(replaced.body["_etag"], offer["_etag"]);
    let coll_read = server.send("GET", "/offers", Auth::Primary, &[], b"");
    let throughputs: Vec<&Value> = coll_read.body["Offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["content"]["offerThroughput"])
        .collect();
    assert_eq!(throughputs, [&Value::from(1000), &Value::from(600)]);
    assert_eq!(
        server.send("GET", "/offers/0000", Auth::Primary, &[], b"").status,
        404
    );
    let posted = server.send(
        "POST",
        "/offers",
        Auth::Primary,
        &[],
        offer.to_string().as_bytes(),
    );
    assert_eq!(posted.status, 400, "{}", posted.body);
    assert_eq!(server.stop().code(), Some(0));
}

/// The non-atomic batch: without continue-on-error the operations after a failure are not run
/// (424) and those before it stay; with it, every operation runs. Each names its partition key.
#[test]
fn a_non_atomic_batch_runs_each_operation_on_its_own() {
    let env = Env::with_container("/pk");
    let server = Server::start(&env);
    let docs = "/dbs/d/colls/c/docs";
    let run = |extra: &[(&str, &str)], ops: Value| {
        let mut headers = vec![BATCH, ("x-ms-cosmos-batch-atomic", "False")];
        headers.extend_from_slice(extra);
        let r = server.send("POST", docs, Auth::Primary, &headers, ops.to_string().as_bytes());
        let statuses: Vec<u64> = r.body.as_array().map_or(Vec::new(), |a| {
            a.iter().map(|x| x["statusCode"].as_u64().unwrap()).collect()
        });
        (r.status, statuses)
    };
    let ops = json!([
        {"operationType": "Create", "partitionKey": "[\"a\"]", "resourceBody": {"id": "1", "pk": "a"}},
        {"operationType": "Create", "partitionKey": "[\"a\"]", "resourceBody": {"id": "1", "pk": "a"}},
        {"operationType": "Create", "partitionKey": "[\"b\"]", "resourceBody": {"id": "2", "pk": "b"}}
    ]);
    assert_eq!(run(&[], ops.clone()), (207, vec![201, 409, 424]));
    let read = |id: &str, pk: &str| {
        let header = format!("[\"{pk}\"]");
        server
            .send(
                "GET",
                &format!("{docs}/{id}"),
                Auth::Primary,
                &[("x-ms-documentdb-partitionkey", header.as_str())],
                b"",
            )
            .status
    };
    assert_eq!((read("1", "a"), read("2", "b")), (200, 404));
    let keep_going = ("x-ms-cosmos-batch-continue-on-error", "True");
    assert_eq!(run(&[keep_going], ops), (207, vec![409, 409, 201]));
    assert_eq!(read("2", "b"), 200);
    // An operation without its own partition key takes the request's header.
    let header_pk = ("x-ms-documentdb-partitionkey", "[\"c\"]");
    let ok = json!([{"operationType": "Upsert", "resourceBody": {"id": "3", "pk": "c"}}]);
    assert_eq!(run(&[header_pk], ok), (200, vec![201]));
    assert_eq!(read("3", "c"), 200);
    assert_eq!(server.stop().code(), Some(0));
}

fn run_sdk_script(program: &str, script: &str, envs: &[(&str, String)]) {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    let key = keys(&env)["primaryKey"].as_str().unwrap().to_string();
    let pem = env
        .run(&["serve", "--print-cert", "--addr", "127.0.0.1:0"])
        .code(0)
        .stdout
        .clone();
    let cert = env.path("strata.pem");
    std::fs::write(&cert, &pem).unwrap();
    let server = Server::start_tls(&env, &["--addr", "127.0.0.1:0"], &pem, "localhost");
    let endpoint = server.endpoint().replace("127.0.0.1", "localhost");
    let out = Command::new(program)
        .args([script, &endpoint, &key, env.arg(&cert)])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("passed, 0 failed"), "{stdout}");
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
#[ignore = "runs from scripts/test.sh: needs STRATA_PYTHON with azure-cosmos installed"]
fn the_python_sdk_drives_databases_items_and_queries() {
    let python = std::env::var("STRATA_PYTHON")
        .unwrap_or_else(|_| panic!("STRATA_PYTHON is not set: run scripts/test.sh"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../gateway/tests/python/sdk_crud.py");
    run_sdk_script(&python, script, &[]);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs STRATA_NODE_SDK, an npm prefix holding @azure/cosmos"]
fn the_javascript_sdk_runs_queries_through_its_query_plan_pipeline() {
    let sdk = std::env::var("STRATA_NODE_SDK")
        .unwrap_or_else(|_| panic!("STRATA_NODE_SDK is not set: run scripts/test.sh"));
    let modules = std::path::Path::new(&sdk).join("node_modules");
    assert!(
        modules.join("@azure/cosmos/package.json").is_file(),
        "no @azure/cosmos under {}: run scripts/test.sh",
        modules.display()
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../gateway/tests/node/sdk_queries.cjs"
    );
    let node_path = modules.to_string_lossy().into_owned();
    run_sdk_script("node", script, &[("NODE_PATH", node_path)]);
}

/// A collection's `spatialIndexes` are taken at create and replace, returned as written, and a
/// bad one is a 400 that leaves the policy as it was.
#[test]
fn collections_carry_spatial_indexes() {
    let env = Env::new();
    env.ok(&["init", "--account", "acct"]);
    let server = Server::start(&env);
    assert_eq!(
        server
            .send("POST", "/dbs", Auth::Primary, &[], br#"{"id":"d"}"#)
            .status,
        201
    );
    let with = |types: &str| {
        format!(
            r#"{{"id":"c","partitionKey":{{"paths":["/pk"],"kind":"Hash"}},
                "indexingPolicy":{{"includedPaths":[{{"path":"/*"}}],
                "spatialIndexes":[{{"path":"/location/?","types":{types}}}]}}}}"#
        )
    };
    let r = server.send(
        "POST",
        "/dbs/d/colls",
        Auth::Primary,
        &[],
        with(r#"["Point","Polygon"]"#).as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let spatial = |body: &Value| body["indexingPolicy"]["spatialIndexes"].clone();
    assert_eq!(
        spatial(&r.body),
        json!([{"path": "/location/?", "types": ["Point", "Polygon"]}])
    );
    let put = |types: &str| {
        server.send(
            "PUT",
            "/dbs/d/colls/c",
            Auth::Primary,
            &[],
            with(types).as_bytes(),
        )
    };
    let r = put(r#"["LineString"]"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        spatial(&r.body),
        json!([{"path": "/location/?", "types": ["LineString"]}])
    );
    let r = put(r#"["Sphere"]"#);
    assert_eq!(r.status, 400, "{}", r.body);
    let r = server.send("GET", "/dbs/d/colls/c", Auth::Primary, &[], b"");
    assert_eq!(
        spatial(&r.body),
        json!([{"path": "/location/?", "types": ["LineString"]}])
    );
    // The same policy again, as sent (not normalised: no `_etag` exclusion), changes nothing:
    // the index is not rebuilt.
    assert_eq!(put(r#"["LineString"]"#).status, 200);
    assert_eq!(server.stop().code(), Some(0));
    let status = env.ok(&["container", "index-status", "d", "c"]);
    assert_eq!(status["generation"], 1, "created at 0, changed once: {status}");
}
