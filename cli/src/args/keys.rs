//! `strata keys list` and `strata keys regenerate primary|secondary`: the REST gateway's access
//! keys (what `strata serve --print-keys` and `--regenerate-key` also do), named as the managed
//! service's own CLI names them. Not the customer key (`strata key`). Arguments only;
//! `commands::serve` prints the keys.

use clap::{Subcommand, ValueEnum};
use strata_engine::AccessKeyKind;

use super::outcome::Outcome;
use super::shared::Globals;
use crate::commands::serve;
use crate::error::CliResult;

#[derive(Subcommand, Debug)]
pub enum AccessKeysCommand {
    /// Print the gateway's access keys as JSON ({"primaryKey", "secondaryKey"}); the first call
    /// generates them.
    #[command(after_help = "Example:\n  strata --data ./shop keys list")]
    List,
    /// Replace one access key with a fresh one and print both (the other stays valid, so
    /// clients move to it first; restart a running `strata serve` to use the new key).
    #[command(
        after_help = "Examples:\n  strata --data ./shop keys regenerate secondary\n  \
                            strata --data ./shop keys regenerate primary"
    )]
    Regenerate {
        /// Which key to replace.
        #[arg(value_enum)]
        which: KeyArg,
    },
}

/// Which access key.
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

impl AccessKeysCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Outcome> {
        match self {
            AccessKeysCommand::List => serve::print_keys(g, None),
            AccessKeysCommand::Regenerate { which } => serve::print_keys(g, Some((*which).into())),
        }
    }
}
