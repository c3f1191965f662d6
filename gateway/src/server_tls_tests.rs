//! The server over TLS, in process: several signed requests on one HTTPS keep-alive connection
//! are each answered, and a client that opens a connection and never starts its handshake is
//! disconnected once the header timeout passes (rather than holding the connection for ever).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use strata_engine::{Account, AccountOptions, Encryption};

use crate::auth::{master_token, SignedRequest};
use crate::tls::{client_config_trusting, self_signed_identity};
use crate::{serve_until, ServeOptions, Shutdown};

/// A TLS server on a free loopback port with a 300 ms header (and handshake) timeout; returns
/// its address, the PEM to trust, the primary key, and what stops it.
fn start(dir: &std::path::Path) -> (SocketAddr, String, Vec<u8>, Shutdown, std::thread::JoinHandle<()>) {
    let opts = AccountOptions::new(dir.join("data"), dir.join("home"));
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    let key = account.access_keys().unwrap().primary.to_vec();
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let identity = self_signed_identity(&account, local, SystemTime::now()).unwrap();
    let mut opts = ServeOptions::new(local);
    opts.tls = Some(identity.server_config().unwrap());
    opts.header_timeout = Duration::from_millis(300);
    let shutdown = Shutdown::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = shutdown.clone();
    let server = std::thread::spawn(move || {
        serve_until(account, opts, |a| tx.send(a).unwrap(), stop).unwrap();
    });
    (
        rx.recv().unwrap(),
        identity.certificate_pem(),
        key,
        shutdown,
        server,
    )
}

fn signed_get_root(key: &[u8], close: bool) -> String {
    let date = httpdate::fmt_http_date(SystemTime::now());
    let token = master_token(
        key,
        &SignedRequest {
            verb: "GET",
            resource_type: "",
            resource_link: "",
            x_ms_date: &date,
            date: "",
        },
    );
    // Sent as it is: the server takes the token URL-encoded (as the SDKs send it) or not.
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\nx-ms-date: {date}\r\n\
         authorization: {token}\r\n\r\n"
    )
}

#[test]
fn https_keeps_connections_alive_and_drops_a_silent_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, pem, key, shutdown, server) = start(tmp.path());

    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client_config_trusting(&pem).unwrap(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let requests = [false, false, true]
        .map(|close| signed_get_root(&key, close))
        .concat();
    tls.write_all(requests.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200").count(), 3, "{text}");

    // Connected, silent: closed by the server after the timeout, not kept.
    let mut silent = TcpStream::connect(addr).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = [0u8; 16];
    let read = silent.read(&mut buf);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );

    shutdown.trigger();
    server.join().unwrap();
}
