//! `strata serve`: opens the account in --data and hands it to the gateway (strata-gateway)
//! until SIGTERM or SIGINT, then closes it; or prints (or regenerates one of) the access keys. Prints one JSON line
//! when listening (`{"status": "listening", "endpoint": "http://127.0.0.1:8081/"}`) so scripts
//! and tests can wait for it. No protocol logic here.

use std::io::Write;
use std::net::SocketAddr;

use serde_json::json;
use strata_engine::{AccessKeyKind, Account, RetryPolicy};
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
}

pub fn run(g: &Globals, a: &ServeArgs) -> CliResult<Outcome> {
    let addr = a.addr;
    if !a.insecure_http {
        return Err(CliError::bad_input(
            "strata serve speaks plain HTTP only for now (TLS is not built yet): pass --insecure-http \
             to serve on a loopback address",
        ));
    }
    // A 429 goes straight back to the client with its retry-after: the SDKs retry it themselves,
    // and a server thread must not sleep through the engine's own retries meanwhile.
    // The global --key-check-interval (default 60 s) bounds how long a revoked customer key
    // goes unnoticed; the account's background check and each request's check apply.
    let opts = g.account_options().retry_policy(RetryPolicy::none());
    let account = Account::open(opts).map_err(|e| account::with_init_hint(g, e.into()))?;
    let served = serve(account.clone(), ServeOptions::new(addr), |bound| {
        print_json_line(&json!({"status": "listening", "endpoint": format!("http://{bound}/")}));
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
