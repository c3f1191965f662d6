//! The gateway's added latency per point read: the same read of a 1 KiB item in process
//! (`Container::read_item`) and through `strata serve`'s HTTP/1.1 (keep-alive, one signed request
//! at a time, as an SDK client sends them) on loopback, in the same run. The difference is what
//! the protocol costs: HTTP framing, authentication, routing, JSON of the reply and the tokio
//! wake-ups around the engine call (issue 18's goal: under 50 µs at p50). A loopback round trip of the same
//! sizes to a thread that parses nothing is the floor under both. Then the throughput of four
//! client threads, each on its own connection, beside four threads reading in process. The same
//! single-connection read over HTTPS (TLS 1.3, the server's self-signed certificate) gives what
//! TLS records add on a keep-alive connection, and a new connection per read (plain and TLS)
//! what a handshake costs. Durable upserts of 1 KiB items (the account's default durability,
//! as the gateway writes them) in process and through the gateway. Before criterion's runs, a
//! pass of single operations alternating in process and through the gateway prints both sides'
//! p50 and p99 (criterion reports means; the goal is stated at p50). `cargo bench -p
//! strata-gateway`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use strata_engine::{Account, AccountOptions, Encryption};
use strata_gateway::auth::{master_token, SignedRequest};
use strata_gateway::tls::{client_config_trusting, self_signed_identity};
use strata_gateway::{serve_until, ServeOptions, Shutdown};

const ITEMS: usize = 1000;
/// Operations each way of the percentile passes.
const PERCENTILE_READS: usize = 5_000;
const PERCENTILE_WRITES: usize = 500;
/// Client threads of the throughput runs.
const CLIENTS: usize = 4;

/// A connection, plain or TLS.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A keep-alive HTTP/1.1 client that reads each reply whole (by its content-length).
struct Client {
    addr: SocketAddr,
    reader: BufReader<Box<dyn Stream>>,
    key: Vec<u8>,
    /// Bytes of the last reply, head and body.
    last_reply_len: usize,
}

impl Client {
    fn connect(addr: SocketAddr, key: &[u8]) -> Client {
        Client::connect_with(addr, key, None)
    }

    /// Over TLS when `tls` is given (the handshake runs on the first request).
    fn connect_with(addr: SocketAddr, key: &[u8], tls: Option<&Arc<rustls::ClientConfig>>) -> Client {
        let tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let stream: Box<dyn Stream> = match tls {
            None => Box::new(tcp),
            Some(config) => {
                let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
                let conn = rustls::ClientConnection::new(config.clone(), name).expect("tls client");
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        };
        Client {
            addr,
            reader: BufReader::new(stream),
            key: key.to_vec(),
            last_reply_len: 0,
        }
    }

    /// GET of one item; returns the status.
    fn read_item(&mut self, id: &str, pk: &str) -> u16 {
        self.send("GET", &format!("dbs/d/colls/c/docs/{id}"), "", pk, b"")
    }

    /// Upsert of one item (POST with `x-ms-documentdb-is-upsert`); returns the status.
    fn upsert_item(&mut self, pk: &str, body: &[u8]) -> u16 {
        let headers = "x-ms-documentdb-is-upsert: true\r\ncontent-type: application/json\r\n";
        self.send("POST", "dbs/d/colls/c", headers, pk, body)
    }

    /// One signed request on the keep-alive connection (the link is the resource's, `docs` for a
    /// POST to a collection's documents); reads the reply whole and returns its status.
    fn send(&mut self, verb: &str, link: &str, headers: &str, pk: &str, body: &[u8]) -> u16 {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let token = master_token(
            &self.key,
            &SignedRequest {
                verb,
                resource_type: "docs",
                resource_link: link,
                x_ms_date: &date,
                date: "",
            },
        );
        let token: String = token
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let path = if verb == "POST" {
            format!("{link}/docs")
        } else {
            link.to_string()
        };
        let mut req = format!(
            "{verb} /{path} HTTP/1.1\r\nHost: {}\r\nx-ms-date: {date}\r\nauthorization: {token}\r\n\
             x-ms-documentdb-partitionkey: [\"{pk}\"]\r\n{headers}content-length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        self.reader.get_mut().write_all(&req).expect("send");
        let mut line = String::new();
        let mut total = self.reader.read_line(&mut line).expect("status line");
        assert!(
            total > 0,
            "the server closed the connection (idle past its header timeout?)"
        );
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).expect("header");
            assert!(n > 0, "the server closed the connection in a reply's head");
            total += n;
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().expect("content-length");
                }
            }
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body).expect("body");
        self.last_reply_len = total + len;
        status
    }
}

/// A thread answering every 400-byte request on one connection with as many bytes as a real
/// point-read reply has; returns its address and that reply length.
fn echo_server(client: &mut Client, id: &str, pk: &str) -> (SocketAddr, usize) {
    client.read_item(id, pk);
    let reply_len = client.last_reply_len;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind echo");
    let addr = listener.local_addr().expect("echo address");
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept echo");
        s.set_nodelay(true).expect("nodelay");
        let (mut req, reply) = (vec![0u8; 400], vec![b'x'; reply_len]);
        while s.read_exact(&mut req).is_ok() {
            if s.write_all(&reply).is_err() {
                break;
            }
        }
    });
    (addr, reply_len)
}

/// Nearest-rank percentile of sorted durations, in microseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1].as_secs_f64() * 1e6
}

/// Times `n` operations each way, alternating one in process and one through the gateway so
/// that both see the same machine, and prints their p50 and p99 and the gateway's addition at
/// p50 (criterion reports means; the goal is stated at p50).
fn latency_percentiles(
    what: &str,
    n: usize,
    mut in_process: impl FnMut(usize),
    mut gateway: impl FnMut(usize),
) {
    let (mut local, mut remote) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for k in 0..n {
        let t = Instant::now();
        in_process(k);
        local.push(t.elapsed());
        let t = Instant::now();
        gateway(k);
        remote.push(t.elapsed());
    }
    local.sort();
    remote.sort();
    let (l50, r50) = (percentile(&local, 50.0), percentile(&remote, 50.0));
    println!(
        "{what}: {n} each way, alternating. in process p50 {l50:.1} µs, p99 {:.1} µs; \
         gateway (keep-alive) p50 {r50:.1} µs, p99 {:.1} µs; added at p50 {:.1} µs",
        percentile(&local, 99.0),
        percentile(&remote, 99.0),
        r50 - l50
    );
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));
    let account = Account::create(opts, "bench", Encryption::ServiceManaged).expect("account");
    let container = account
        .create_database("d")
        .and_then(|d| d.create_container("c", "/pk"))
        .expect("container");
    let pad = "x".repeat(1000);
    for i in 0..ITEMS {
        container
            .create_item(
                format!("p{}", i % 10),
                &json!({"id": i.to_string(), "pk": format!("p{}", i % 10), "pad": pad}),
            )
            .expect("load");
    }
    let key = account.access_keys().expect("keys").primary.to_vec();

    let shutdown = Shutdown::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = {
        let account = account.clone();
        let shutdown = shutdown.clone();
        std::thread::spawn(move || {
            let opts = ServeOptions::new("127.0.0.1:0".parse().expect("addr"));
            serve_until(account, opts, |a| tx.send(a).expect("ready"), shutdown).expect("serve");
        })
    };
    let addr = rx.recv().expect("server address");
    let mut client = Client::connect(addr, &key);

    // A second server on the same account, over HTTPS with the account's self-signed certificate.
    let identity = self_signed_identity(&account, "127.0.0.1:0".parse().expect("addr"), SystemTime::now())
        .expect("self-signed identity");
    let trusting = client_config_trusting(&identity.certificate_pem()).expect("client config");
    let (tls_tx, tls_rx) = std::sync::mpsc::channel();
    let tls_shutdown = Shutdown::new();
    let tls_server = {
        let account = account.clone();
        let shutdown = tls_shutdown.clone();
        let mut opts = ServeOptions::new("127.0.0.1:0".parse().expect("addr"));
        opts.tls = Some(identity.server_config().expect("tls config"));
        std::thread::spawn(move || {
            serve_until(account, opts, |a| tls_tx.send(a).expect("ready"), shutdown).expect("serve tls");
        })
    };
    drop(identity);
    let tls_addr = tls_rx.recv().expect("tls server address");
    let mut tls_client = Client::connect_with(tls_addr, &key, Some(&trusting));

    // Percentiles first, outside criterion: reads of the loaded items, and durable upserts (the
    // account's default durability, as the gateway writes) of items of their own.
    let item_of = |k: usize| json!({"id": format!("w{}", k % 100), "pk": format!("p{}", k % 10), "pad": pad});
    latency_percentiles(
        "point read 1 KiB",
        PERCENTILE_READS,
        |k| {
            let i = (k * 7) % ITEMS;
            let r = container
                .read_item::<Value>(format!("p{}", i % 10), &i.to_string())
                .expect("read");
            assert_eq!(r.status_code, 200);
        },
        |k| {
            let i = (k * 7 + 3) % ITEMS;
            assert_eq!(client.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
        },
    );
    latency_percentiles(
        "durable upsert 1 KiB",
        PERCENTILE_WRITES,
        |k| {
            let item = item_of(2 * k);
            let pk = item["pk"].as_str().expect("pk").to_string();
            container.upsert_item(pk, &item).expect("upsert");
        },
        |k| {
            let item = item_of(2 * k + 1);
            let pk = item["pk"].as_str().expect("pk").to_string();
            let status = client.upsert_item(&pk, item.to_string().as_bytes());
            assert!(status == 200 || status == 201, "{status}");
        },
    );

    let mut group = c.benchmark_group("point_read_1KiB");
    let mut i = 0usize;
    group.bench_function("in_process", |b| {
        b.iter(|| {
            i = (i + 7) % ITEMS;
            let r = container
                .read_item::<Value>(format!("p{}", i % 10), &i.to_string())
                .expect("read");
            assert_eq!(r.status_code, 200);
        })
    });
    group.bench_function("gateway_keep_alive", |b| {
        b.iter(|| {
            i = (i + 7) % ITEMS;
            assert_eq!(client.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
        })
    });
    group.bench_function("gateway_tls_keep_alive", |b| {
        b.iter(|| {
            i = (i + 7) % ITEMS;
            assert_eq!(tls_client.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
        })
    });
    group.bench_function("gateway_new_connection", |b| {
        b.iter(|| {
            i = (i + 7) % ITEMS;
            let mut fresh = Client::connect(addr, &key);
            assert_eq!(fresh.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
        })
    });
    group.bench_function("gateway_tls_new_connection", |b| {
        b.iter(|| {
            i = (i + 7) % ITEMS;
            let mut fresh = Client::connect_with(tls_addr, &key, Some(&trusting));
            assert_eq!(fresh.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
        })
    });
    // Throughput: CLIENTS threads, each on its own keep-alive connection (or, in process, its
    // own handle), share the iterations; the time per iteration is the inverse of the
    // aggregate rate.
    group.bench_function(format!("gateway_{CLIENTS}_clients"), |b| {
        b.iter_custom(|iters| {
            let started = std::time::Instant::now();
            std::thread::scope(|s| {
                for t in 0..CLIENTS {
                    let key = &key;
                    s.spawn(move || {
                        let mut client = Client::connect(addr, key);
                        for n in 0..iters.div_ceil(CLIENTS as u64) {
                            let i = (n as usize * 7 + t) % ITEMS;
                            assert_eq!(client.read_item(&i.to_string(), &format!("p{}", i % 10)), 200);
                        }
                    });
                }
            });
            started.elapsed()
        })
    });
    group.bench_function(format!("in_process_{CLIENTS}_threads"), |b| {
        b.iter_custom(|iters| {
            let started = std::time::Instant::now();
            std::thread::scope(|s| {
                for t in 0..CLIENTS {
                    let container = container.clone();
                    s.spawn(move || {
                        for n in 0..iters.div_ceil(CLIENTS as u64) {
                            let i = (n as usize * 7 + t) % ITEMS;
                            container
                                .read_item::<Value>(format!("p{}", i % 10), &i.to_string())
                                .expect("read");
                        }
                    });
                }
            });
            started.elapsed()
        })
    });

    // The floor: the same exchange's bytes over loopback to a thread that answers with a fixed
    // reply of the same size, no HTTP parsing, no auth, no engine.
    // Fresh connections from here on: the one above may have sat idle past the server's
    // header timeout (30 s) during the runs since it was last used.
    let mut client = Client::connect(addr, &key);
    let (echo_addr, reply_len) = echo_server(&mut client, &i.to_string(), &format!("p{}", i % 10));
    let mut echo = TcpStream::connect(echo_addr).expect("connect echo");
    echo.set_nodelay(true).expect("nodelay");
    let request = vec![b'r'; 400];
    let mut reply = vec![0u8; reply_len];
    group.bench_function("loopback_round_trip_floor", |b| {
        b.iter(|| {
            echo.write_all(&request).expect("send");
            echo.read_exact(&mut reply).expect("reply");
        })
    });
    group.finish();

    let mut writes = c.benchmark_group("durable_upsert_1KiB");
    let mut k = 0usize;
    writes.bench_function("in_process", |b| {
        b.iter(|| {
            k += 1;
            let item = item_of(k);
            let pk = item["pk"].as_str().expect("pk").to_string();
            container.upsert_item(pk, &item).expect("upsert");
        })
    });
    writes.bench_function("gateway_keep_alive", |b| {
        b.iter(|| {
            k += 1;
            let item = item_of(k);
            let pk = item["pk"].as_str().expect("pk").to_string();
            let status = client.upsert_item(&pk, item.to_string().as_bytes());
            assert!(status == 200 || status == 201, "{status}");
        })
    });
    writes.finish();

    drop(client);
    drop(tls_client);
    shutdown.trigger();
    tls_shutdown.trigger();
    server.join().expect("server thread");
    tls_server.join().expect("tls server thread");
}

criterion_group!(benches, bench);
criterion_main!(benches);
