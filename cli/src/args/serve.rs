//! `strata serve [--addr HOST:PORT] --insecure-http` and `strata serve --print-keys`: the REST
//! gateway over the account in --data. Arguments only; `commands::serve` runs it.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use strata_engine::AccessKeyKind;

use super::outcome::Outcome;
use super::shared::Globals;
use crate::commands::serve;
use crate::error::CliResult;

#[derive(Args, Debug)]
pub struct ServeCommand {
    /// Where to listen (a loopback address while only plain HTTP is available; port 0 picks a
    /// free port, printed on start).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    /// Serve plain HTTP on loopback (required for now: TLS is not built yet).
    #[arg(long)]
    insecure_http: bool,
    /// Print the account's access keys as JSON ({"primaryKey", "secondaryKey"}) and exit;
    /// the first call generates them.
    #[arg(long, conflicts_with_all = ["addr", "insecure_http"])]
    print_keys: bool,
    /// Replace one access key with a fresh one (the other stays valid, so clients can move to
    /// it first), print both as --print-keys does, and exit.
    #[arg(long, value_enum, value_name = "WHICH", conflicts_with_all = ["addr", "insecure_http", "print_keys"])]
    regenerate_key: Option<KeyArg>,
}

/// `--regenerate-key` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyArg {
    Primary,
    Secondary,
}

impl From<KeyArg> for AccessKeyKind {
    fn from(k: KeyArg) -> AccessKeyKind {
        match k {
            KeyArg::Primary => AccessKeyKind::Primary,
            KeyArg::Secondary => AccessKeyKind::Secondary,
        }
    }
}

impl ServeCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Outcome> {
        if self.print_keys {
            return serve::print_keys(g, None);
        }
        if let Some(which) = self.regenerate_key {
            return serve::print_keys(g, Some(which.into()));
        }
        serve::run(
            g,
            &serve::ServeArgs {
                addr: self.addr,
                insecure_http: self.insecure_http,
            },
        )
    }
}
