//! `strata serve [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE | --insecure-http]`,
//! `strata serve --print-cert` and `strata serve --print-keys`: the REST gateway over the account
//! in --data. Arguments only; `commands::serve` runs it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::keys::KeyArg;
use super::outcome::Outcome;
use super::shared::Globals;
use crate::commands::serve;
use crate::error::CliResult;

#[derive(Args, Debug)]
pub struct ServeCommand {
    /// Where to listen (any address with HTTPS, loopback only with --insecure-http; port 0
    /// picks a free port, printed on start).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    /// The server's certificate chain, PEM (its own certificate first); default: a self-signed
    /// certificate kept sealed in the catalog.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "insecure_http"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1); refused if group or others
    /// have any access to it (as ssh refuses a private key).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        conflicts_with = "insecure_http"
    )]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS, on a loopback address only.
    #[arg(long)]
    insecure_http: bool,
    /// Print the certificate the server presents (PEM; the self-signed one for --addr is made
    /// now if need be) and exit, so clients can trust it.
    #[arg(long, conflicts_with_all = ["insecure_http", "print_keys"])]
    print_cert: bool,
    /// Print the account's access keys as JSON ({"primaryKey", "secondaryKey"}) and exit;
    /// the first call generates them.
    #[arg(long, conflicts_with_all = ["addr", "insecure_http", "tls_cert", "tls_key"])]
    print_keys: bool,
    /// Replace one access key with a fresh one (the other stays valid, so clients can move to
    /// it first), print both as --print-keys does, and exit (as `strata keys regenerate`).
    #[arg(long, value_enum, value_name = "WHICH", conflicts_with_all = ["addr", "insecure_http", "tls_cert", "tls_key", "print_cert", "print_keys"])]
    regenerate_key: Option<KeyArg>,
}

impl ServeCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Outcome> {
        if self.print_keys {
            return serve::print_keys(g, None);
        }
        if let Some(which) = self.regenerate_key {
            return serve::print_keys(g, Some(which.into()));
        }
        let args = serve::ServeArgs {
            addr: self.addr,
            insecure_http: self.insecure_http,
            tls_files: self.tls_cert.clone().zip(self.tls_key.clone()),
        };
        if self.print_cert {
            return serve::print_cert(g, &args);
        }
        serve::run(g, &args)
    }
}
