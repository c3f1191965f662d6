//! `strata serve`: opens the account in --data and hands it to the gateway (strata-gateway)
//! until SIGTERM or SIGINT, then closes it; or prints the certificate it presents, or prints (or
//! regenerates one of) the access keys. Picks the TLS identity (the given PEM files, else the
//! account's sealed self-signed one) but makes and checks none itself. Prints one JSON line when
//! listening (`{"status": "listening", "endpoint": "https://127.0.0.1:8081/", ...}`) so scripts
//! and tests can wait for it. No protocol logic here.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::json;
use strata_engine::{AccessKeyKind, Account, RetryPolicy};
use strata_gateway::tls::{self_signed_identity, TlsConfig, TlsError, TlsIdentity};
use strata_gateway::{serve, ServeError, ServeOptions};

use crate::args::{Globals, Outcome};
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::print_json_line;

/// Prints the access keys, after replacing one of them if `regenerate` says which.
pub fn print_keys(g: &Globals, regenerate: Option<AccessKeyKind>) -> CliResult<Outcome> {
    let account = account::open(g)?;
    let keys = match regenerate {
        None => account.access_keys()?,
        Some(which) => account.regenerate_access_key(which)?,
    };
    print_json_line(&strata_gateway::keys_json(&keys));
    account.close()?;
    Ok(Outcome::Done(0))
}

/// What `strata serve` was given.
pub struct ServeArgs {
    pub addr: SocketAddr,
    pub insecure_http: bool,
    /// `--tls-cert`, `--tls-key`.
    pub tls_files: Option<(PathBuf, PathBuf)>,
}

fn tls_error(e: TlsError) -> CliError {
    match e {
        TlsError::Engine(e) => e.into(),
        e if e.status() == 400 => CliError::bad_input(e.to_string()),
        e => CliError::new(e.status(), 0, e.to_string()),
    }
}

/// `--tls-cert`/`--tls-key`, read and checked (the key is the certificate's), if given.
fn given_identity(a: &ServeArgs) -> CliResult<Option<(TlsIdentity, TlsConfig)>> {
    let Some((cert, key)) = &a.tls_files else {
        return Ok(None);
    };
    let id = TlsIdentity::from_pem_files(cert, key).map_err(tls_error)?;
    let config = id.server_config().map_err(tls_error)?;
    Ok(Some((id, config)))
}

/// The account's self-signed identity for --addr (made and sealed now if need be).
fn self_signed(account: &Account, a: &ServeArgs) -> CliResult<(TlsIdentity, TlsConfig)> {
    let id = self_signed_identity(account, a.addr, SystemTime::now()).map_err(tls_error)?;
    let config = id.server_config().map_err(tls_error)?;
    Ok((id, config))
}

/// `--print-cert`: the certificate chain the server presents, as PEM, on stdout.
pub fn print_cert(g: &Globals, a: &ServeArgs) -> CliResult<Outcome> {
    let (id, _) = match given_identity(a)? {
        Some(given) => given,
        None => {
            let account = account::open(g)?;
            let made = self_signed(&account, a)?;
            account.close()?;
            made
        }
    };
    let pem = id.certificate_pem();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(pem.as_bytes());
    let _ = out.flush();
    Ok(Outcome::Done(0))
}

pub fn run(g: &Globals, a: &ServeArgs) -> CliResult<Outcome> {
    let addr = a.addr;
    if a.insecure_http && !addr.ip().is_loopback() {
        return Err(CliError::bad_input(ServeError::NotLoopback(addr).to_string()));
    }
    // Given files are read and checked before the account opens: a bad file changes nothing.
    let given = given_identity(a)?;
    // A 429 goes straight back to the client with its retry-after: the SDKs retry it themselves,
    // and a server thread must not sleep through the engine's own retries meanwhile.
    // The global --key-check-interval (default 60 s) bounds how long a revoked customer key
    // goes unnoticed; the account's background check and each request's check apply.
    let opts = g.account_options().retry_policy(RetryPolicy::none());
    let account = Account::open(opts).map_err(|e| account::with_init_hint(g, e.into()))?;
    let tls = match given {
        _ if a.insecure_http => None,
        Some(given) => Some(given),
        None => Some(self_signed(&account, a)?),
    };
    let mut serve_opts = ServeOptions::new(addr);
    let fingerprint = tls.as_ref().map(|(id, _)| id.certificate_sha256());
    // The key's bytes go now: the server keeps only ring's signing key inside the config.
    serve_opts.tls = tls.map(|(_, config)| config);
    let scheme = if a.insecure_http { "http" } else { "https" };
    let served = serve(account.clone(), serve_opts, |bound| {
        let mut ready = json!({"status": "listening", "endpoint": format!("{scheme}://{bound}/")});
        if let Some(sha256) = fingerprint {
            ready["certificateSha256"] = json!(sha256);
        }
        print_json_line(&ready);
        let _ = std::io::stdout().flush();
    });
    match served {
        Ok(()) => {}
        Err(ServeError::Engine(e)) => return Err(e.into()),
        Err(ServeError::NotLoopback(a)) => {
            return Err(CliError::bad_input(ServeError::NotLoopback(a).to_string()))
        }
        Err(ServeError::Io(e)) => return Err(CliError::new(500, 0, format!("serving on {addr}: {e}"))),
    }
    account.close()?;
    Ok(Outcome::Done(0))
}
