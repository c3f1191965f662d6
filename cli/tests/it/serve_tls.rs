//! `strata serve` over HTTPS through the real binary: a certificate and key the operator brings
//! (`--tls-cert/--tls-key`; bad files refused with a clear 400 before the store is touched), and
//! the default self-signed certificate, printed by `--print-cert` for clients to trust, kept
//! across restarts, and served on a non-loopback address. Clients are rustls (ring) trusting only
//! the printed or given certificate; requests are signed as the SDKs sign them.

use crate::common::{self, Env};
use crate::serve::{client_trusting, Auth, Server};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// A certificate for `localhost` and 127.0.0.1 and its key, as PEM.
fn cert_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(path: PathBuf, text: &str, mode: u32) -> PathBuf {
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn sha256_hex(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A plain-HTTP request to a TLS port gets no HTTP answer.
fn plain_http_gets_no_answer(addr: &str) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert!(
        !raw.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
}

#[test]
fn a_given_certificate_serves_signed_requests_and_bad_files_are_refused() {
    let env = Env::with_container("/pk");
    let (cert, key) = cert_and_key();
    let (other_cert, _) = cert_and_key();
    let cert_file = write(env.path("server.crt"), &cert, 0o644);
    let key_file = write(env.path("server.key"), &key, 0o600);
    let (c, k) = (env.arg(&cert_file), env.arg(&key_file));

    let other_file = write(env.path("other.crt"), &other_cert, 0o644);
    let open_key = write(env.path("open.key"), &key, 0o644);
    let missing = env.path("missing.pem");
    let cert_as_key = write(env.path("cert-as.key"), &cert, 0o600);
    for (args, says) in [
        (
            vec!["--tls-cert", env.arg(&other_file), "--tls-key", k],
            "does not belong",
        ),
        (
            vec!["--tls-cert", c, "--tls-key", env.arg(&open_key)],
            "chmod 600",
        ),
        (
            vec!["--tls-cert", env.arg(&missing), "--tls-key", k],
            "cannot read",
        ),
        (
            vec!["--tls-cert", c, "--tls-key", env.arg(&cert_as_key)],
            "holds no private key",
        ),
        (vec!["--tls-cert", k, "--tls-key", k], "holds no certificate"),
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend(args);
        let r = env.run(&all);
        assert_eq!(r.code, 2, "{all:?}: {r:?}");
        let json = r.json();
        assert_eq!(json["statusCode"], 400, "{all:?}: {r:?}");
        assert!(json["message"].as_str().unwrap().contains(says), "{all:?}: {r:?}");
    }
    // Half a pair, or TLS files with plain HTTP, is a usage error.
    for args in [
        &["serve", "--tls-cert", c][..],
        &["serve", "--insecure-http", "--tls-cert", c, "--tls-key", k],
    ] {
        assert_eq!(env.run(args).code, 2, "{args:?}");
    }

    let printed = env.run(&["serve", "--print-cert", "--tls-cert", c, "--tls-key", k]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert_eq!(printed.stdout, cert.replace("\r\n", "\n"));

    let server = Server::start_tls(
        &env,
        &["--addr", "127.0.0.1:0", "--tls-cert", c, "--tls-key", k],
        &cert,
        "localhost",
    );
    let leaf = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
    assert_eq!(server.ready["certificateSha256"], sha256_hex(&leaf));
    assert!(server.endpoint().starts_with("https://"));
    let account = server.send("GET", "/", Auth::Primary, &[], b"");
    assert_eq!(account.status, 200, "{}", account.body);
    assert_eq!(
        account.body["writableLocations"][0]["databaseAccountEndpoint"],
        server.endpoint()
    );
    let created = server.send(
        "POST",
        "/dbs/d/colls/c/docs",
        Auth::Primary,
        &[("x-ms-documentdb-partitionkey", "[\"a\"]")],
        br#"{"id":"1","pk":"a"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(server.send("GET", "/", Auth::WrongKey, &[], b"").status, 401);
    plain_http_gets_no_answer(&server.addr);
    assert_eq!(server.stop().code(), Some(0));
    assert_eq!(common::all_items(&env, "c").len(), 1);

    // The given key is in no file of the data directory, as DER or as PEM.
    let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let der = der.secret_der().to_vec();
    let files = common::files_under(&env.path("data"));
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(der.len()).any(|w| w == der.as_slice()), "{f:?}");
        assert!(!String::from_utf8_lossy(&bytes).contains(key.trim()), "{f:?}");
    }
}

#[test]
fn https_is_the_default_with_a_kept_self_signed_certificate_clients_can_trust() {
    let env = Env::with_container("/pk");
    let printed = env.run(&["serve", "--print-cert", "--addr", "127.0.0.1:0"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    let pem = printed.stdout.clone();
    let leaf = CertificateDer::from_pem_slice(pem.as_bytes()).expect("one PEM certificate");

    for name in ["localhost", "127.0.0.1"] {
        let server = Server::start_tls(&env, &["--addr", "127.0.0.1:0"], &pem, name);
        assert_eq!(
            server.ready["certificateSha256"],
            sha256_hex(&leaf),
            "the printed one"
        );
        let r = server.send("GET", "/dbs/d/colls/c", Auth::Primary, &[], b"");
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        // The certificate is read from the store, which the server holds: 423 meanwhile.
        env.err_status(&["serve", "--print-cert"], 423, 1003);
        assert_eq!(server.send("GET", "/", Auth::None, &[], b"").status, 401);
        assert_eq!(server.stop().code(), Some(0));
    }

    // A client that trusts another certificate refuses the server.
    let (stranger, _) = cert_and_key();
    let server = Server::start_tls(&env, &["--addr", "127.0.0.1:0"], &stranger, "localhost");
    let tcp = TcpStream::connect(&server.addr).unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client_trusting(&stranger), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let err = tls.write_all(b"GET / HTTP/1.1\r\n\r\n").and_then(|_| tls.flush());
    let mut buf = [0u8; 16];
    let read = tls.read(&mut buf);
    assert!(
        err.is_err() || read.is_err(),
        "an untrusted certificate was accepted"
    );
    assert_eq!(server.stop().code(), Some(0));

    // With TLS the server may listen beyond loopback; the certificate covers 127.0.0.1.
    let server = Server::start_tls(&env, &["--addr", "0.0.0.0:0"], &pem, "127.0.0.1");
    assert!(server.ready["endpoint"]
        .as_str()
        .unwrap()
        .starts_with("https://0.0.0.0:"));
    assert_eq!(server.send("GET", "/", Auth::Primary, &[], b"").status, 200);
    assert_eq!(server.stop().code(), Some(0));

    let again = env.run(&["serve", "--print-cert", "--addr", "127.0.0.1:8081"]);
    assert_eq!(again.stdout, pem, "the certificate is kept across restarts");
}
