//! The HTTP/1.1 server: accepts connections (tokio + hyper, keep-alive), over TLS (rustls,
//! `ServeOptions::tls`, the handshake bounded by the header timeout) or as plain HTTP on a
//! loopback address only; bounds what a request may take (header bytes, header and body read
//! time, body size, requests in flight), authenticates each request before reading its body, runs
//! the engine work on the worker thread after handing its other tasks off (`block_in_place`), and
//! frames the `Reply` with the headers every response carries. Stops accepting on SIGTERM or
//! SIGINT and waits for the requests in flight. Knows nothing of resources (that is `handlers`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request as HttpRequest, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use strata_engine::{AccessKeys, Account};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::{self, SignedRequest};
use crate::handlers::{self, Request};
use crate::route::{self, Route};
use crate::tls::TlsConfig;
use crate::wire::Reply;

/// Largest item the engine accepts (2 MiB) plus room for the request envelope.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024 + 64 * 1024;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Any address with TLS; a loopback address for plain HTTP (refused anywhere else).
    pub addr: SocketAddr,
    /// HTTPS with this configuration; `None`: plain HTTP (loopback only).
    pub tls: Option<TlsConfig>,
    /// Largest request body in bytes (413 above it).
    pub max_body: usize,
    /// Requests served at once; more wait for a slot.
    pub max_in_flight: usize,
    /// Time allowed to receive a request's headers, counted from when the server waits for them
    /// (so also how long a keep-alive connection may sit idle), and to complete a TLS handshake.
    pub header_timeout: Duration,
    /// Time allowed to receive a request's body.
    pub body_timeout: Duration,
    /// How long a shutdown waits for the requests in flight.
    pub drain_timeout: Duration,
}

impl ServeOptions {
    pub fn new(addr: SocketAddr) -> ServeOptions {
        ServeOptions {
            addr,
            tls: None,
            max_body: DEFAULT_MAX_BODY,
            max_in_flight: 64,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the server could not run.
#[derive(Debug)]
pub enum ServeError {
    /// Plain HTTP on an address other than loopback.
    NotLoopback(SocketAddr),
    Io(std::io::Error),
    Engine(strata_engine::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::NotLoopback(a) => write!(
                f,
                "refusing to serve plain HTTP on {a}: without TLS the gateway listens on loopback only \
                 (use 127.0.0.1 or [::1], or serve HTTPS)"
            ),
            ServeError::Io(e) => write!(f, "{e}"),
            ServeError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// What every request handler shares.
struct Shared {
    account: Account,
    keys: AccessKeys,
    opts: ServeOptions,
    in_flight: Semaphore,
    /// The global LSN part of `x-ms-session-token`: starts at the server's start time in
    /// milliseconds (so it grows across restarts) and counts the writes acknowledged since.
    session_lsn: AtomicU64,
}

/// Serves `account` until SIGTERM or SIGINT; `on_ready` gets the bound address (useful with
/// port 0) once the server accepts connections. Returns after the requests in flight finished
/// (or `drain_timeout` passed); the caller then closes the account.
pub fn serve(
    account: Account,
    opts: ServeOptions,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    serve_until(account, opts, on_ready, Shutdown::new())
}

/// Stops a server started with `serve_until` (as SIGTERM does), from any thread; a trigger
/// before the server waits for it is kept.
#[derive(Clone, Default)]
pub struct Shutdown(Arc<tokio::sync::Notify>);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    pub fn trigger(&self) {
        self.0.notify_one();
    }
}

/// As `serve`, stopping also when `shutdown` is triggered (for embedding and benchmarks).
pub fn serve_until(
    account: Account,
    opts: ServeOptions,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    if opts.tls.is_none() && !opts.addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(opts.addr));
    }
    let keys = account.access_keys().map_err(ServeError::Engine)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(opts.max_in_flight.max(1))
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServeError::Io)?;
    let start_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let shared = Arc::new(Shared {
        account,
        keys,
        in_flight: Semaphore::new(opts.max_in_flight.max(1)),
        opts,
        session_lsn: AtomicU64::new(start_ms),
    });
    let out = runtime.block_on(accept_loop(shared.clone(), on_ready, shutdown));
    runtime.shutdown_timeout(Duration::from_secs(1));
    out
}

async fn accept_loop(
    shared: Arc<Shared>,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(shared.opts.addr)
        .await
        .map_err(ServeError::Io)?;
    on_ready(listener.local_addr().map_err(ServeError::Io)?);
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(ServeError::Io)?;
    let mut int =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map_err(ServeError::Io)?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = shutdown.0.notified() => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            match shared.opts.tls.clone() {
                None => serve_connection(shared, stream).await,
                Some(tls) => {
                    // A handshake gets the time the request headers get: a client that opens a
                    // connection and sends nothing holds it no longer than an idle one.
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.0);
                    let handshake = tokio::time::timeout(shared.opts.header_timeout, acceptor.accept(stream));
                    if let Ok(Ok(tls_stream)) = handshake.await {
                        serve_connection(shared, tls_stream).await;
                    }
                }
            }
        });
    }
    drop(listener);
    // Drain: every slot free means no request is in flight.
    let all = shared.opts.max_in_flight.max(1) as u32;
    let _ = tokio::time::timeout(shared.opts.drain_timeout, shared.in_flight.acquire_many(all)).await;
    Ok(())
}

/// HTTP/1.1 with keep-alive on one accepted connection (plain or TLS), until the client or a
/// timeout closes it.
async fn serve_connection<S>(shared: Arc<Shared>, stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = shared.opts.header_timeout;
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, std::convert::Infallible>(respond(&shared, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service);
    let _ = conn.await;
}

/// Request line plus headers, at most (hyper's read buffer; 431/400 above it).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A fresh activity id (a random UUID, as the SDKs make).
fn activity_id() -> String {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap_or(());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn respond(shared: &Arc<Shared>, req: HttpRequest<Incoming>) -> Response<Full<Bytes>> {
    let activity = req
        .headers()
        .get("x-ms-activity-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .map_or_else(activity_id, str::to_string);
    let mut reply = match shared.in_flight.acquire().await {
        Ok(_permit) => handle(shared, req).await,
        Err(_) => Reply::error(503, "the server is shutting down"),
    };
    // Off loopback the client may be anyone: a 5xx's detail (it can name files of the data
    // directory) goes to the server's log (stderr), the client gets the activity id.
    if !shared.opts.addr.ip().is_loopback() {
        let (public, log) = reply.without_server_detail(&activity);
        if let Some(line) = log {
            eprintln!("{line}");
        }
        reply = public;
    }
    frame(shared, reply, &activity)
}

async fn handle(shared: &Arc<Shared>, req: HttpRequest<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    // hyper stops reading a head past its buffer, but one that arrived whole in a single read
    // can pass: the bound is checked again here, before anything else.
    let head_bytes: usize = parts.uri.to_string().len()
        + parts
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head_bytes > MAX_HEAD_BYTES {
        return Reply::error(
            431,
            format!("the request line and headers are larger than {MAX_HEAD_BYTES} bytes"),
        );
    }
    let Some(target) = route::parse(parts.uri.path()) else {
        return Reply::error(
            400,
            "the request path is not valid (bad percent-encoding or too many segments)",
        );
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let signed = SignedRequest {
        verb: parts.method.as_str(),
        resource_type: &target.resource_type,
        resource_link: &target.resource_link,
        x_ms_date: header("x-ms-date").unwrap_or(""),
        date: header("date").unwrap_or(""),
    };
    if auth::verify(&shared.keys, header("authorization"), &signed, SystemTime::now()).is_err() {
        return Reply::unauthorized();
    }
    let max = shared.opts.max_body;
    let declared = header(CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large(max);
    }
    let body = match tokio::time::timeout(shared.opts.body_timeout, Limited::new(body, max).collect()).await {
        Err(_) => return Reply::error(408, "the request body did not arrive in time"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(max),
        Ok(Err(_)) => return Reply::error(400, "the request body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let scheme = if shared.opts.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let endpoint = format!("{scheme}://{}/", header(HOST.as_str()).unwrap_or("localhost"));
    // The engine call runs on this worker thread: no hop to another thread and back, which cost
    // most of a point read's time through the gateway. A point read (one item, or one small
    // resource) takes microseconds and runs as it is; anything that may take longer (writes with
    // their fsync, queries, feeds, script lists) runs inside block_in_place, so tokio first hands this worker's
    // other connections to another thread. A panic in a handler is a 500, not a dropped
    // connection.
    let point_read = !matches!(target.route, Route::Documents { .. } | Route::Scripts { .. });
    let run = || {
        let req = Request {
            method: &parts.method,
            route: target.route,
            headers: &parts.headers,
            body: &body,
            endpoint,
        };
        handlers::dispatch(&shared.account, &req)
    };
    let guarded = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    let outcome = if parts.method == hyper::Method::GET && point_read {
        guarded()
    } else {
        tokio::task::block_in_place(guarded)
    };
    let reply =
        outcome.unwrap_or_else(|_| Reply::error(500, "the request failed inside the server; see its log"));
    // A write may have happened (207: a batch that failed wrote nothing).
    if parts.method != hyper::Method::GET && reply.status < 300 && reply.status != 207 {
        shared.session_lsn.fetch_add(1, Ordering::Relaxed);
    }
    reply
}

fn too_large(max: usize) -> Reply {
    Reply::error(
        413,
        format!("the request body is larger than {max} bytes (items are limited to 2 MB)"),
    )
}

fn frame(shared: &Shared, reply: Reply, activity: &str) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(Full::new(Bytes::from(reply.body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    };
    put("x-ms-activity-id", activity.to_string());
    put("x-ms-request-charge", format!("{:.2}", reply.charge));
    put(
        "x-ms-session-token",
        format!("0:-1#{}", shared.session_lsn.load(Ordering::Relaxed)),
    );
    put("x-ms-gatewayversion", "version=2.14.0".to_string());
    put(
        "x-ms-serviceversion",
        format!("strata/{}", env!("CARGO_PKG_VERSION")),
    );
    if reply.substatus != 0 {
        put("x-ms-substatus", reply.substatus.to_string());
    }
    if status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED {
        put(CONTENT_TYPE.as_str(), "application/json".to_string());
    }
    for (name, value) in reply.headers {
        put(name, value);
    }
    resp
}
