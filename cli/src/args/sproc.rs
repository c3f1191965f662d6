//! `strata sproc create|replace|get|list|delete|run`: a container's stored procedures, their
//! bodies (--file or --body) and an execution's partition key and arguments, handed to
//! `commands::sproc`. Arguments only; no engine calls.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::shared::{Globals, PkArgs};
use crate::commands::sproc::{self, Named};
use crate::error::CliResult;
use crate::output::Report;

/// Where a stored procedure's JavaScript comes from.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct SprocBody {
    /// A file holding the procedure's JavaScript: one function ("-" reads standard input).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The procedure's JavaScript inline: one function.
    #[arg(long, value_name = "JS", allow_hyphen_values = true)]
    pub body: Option<String>,
}

/// A script's address: its database, container and name.
#[derive(Args, Debug)]
pub struct ScriptAddress {
    db: String,
    container: String,
    name: String,
}

impl ScriptAddress {
    pub fn named(&self) -> Named<'_> {
        (&self.db, &self.container, &self.name)
    }
}

#[derive(Subcommand, Debug)]
pub enum SprocCommand {
    /// Store a new stored procedure (its body is checked to compile, never run).
    #[command(
        after_help = "Examples:\n  strata sproc create shop orders count --body 'function count() { getContext().getResponse().setBody(1); }'\n  \
                            strata sproc create shop orders bulkImport --file bulkImport.js"
    )]
    Create {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Replace a stored procedure's body.
    #[command(after_help = "Example:\n  strata sproc replace shop orders bulkImport --file bulkImport.js")]
    Replace {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Print a stored procedure with its body.
    #[command(after_help = "Example:\n  strata sproc get shop orders bulkImport")]
    Get(ScriptAddress),
    /// List a container's stored procedures.
    #[command(after_help = "Example:\n  strata sproc list shop orders")]
    List { db: String, container: String },
    /// Delete a stored procedure.
    #[command(after_help = "Example:\n  strata sproc delete shop orders bulkImport")]
    Delete(ScriptAddress),
    /// Run a stored procedure on one partition key: everything it writes is stored together
    /// when it returns, or nothing is (a throw answers 400 with its message; over its 5 s budget
    /// 408). Prints its response body and the request charge; with --log, what the script wrote
    /// with console.log goes to stderr. With --if-match, it runs only if the procedure's
    /// etag is that one (else 412).
    #[command(
        visible_alias = "execute",
        after_help = "Examples:\n  strata sproc run shop orders bulkImport --pk alice --args '[[{\"id\": \"o1\", \"customer\": \"alice\"}]]'\n  strata sproc run shop orders bulkImport --pk alice --args '[[]]' --log\n  strata sproc run shop orders bulkImport --pk alice --args '[[]]' --if-match '\"<etag>\"'"
    )]
    Run {
        #[command(flatten)]
        at: ScriptAddress,
        #[command(flatten)]
        pk: PkArgs,
        /// The procedure's arguments, as a JSON array (one element per parameter).
        #[arg(long, value_name = "JSON_ARRAY", default_value = "[]")]
        args: String,
        /// Print the script's console output (console.log, info, warn, error, debug; at most
        /// 16 KiB) on stderr after the run; without it, console calls are dropped.
        #[arg(long)]
        log: bool,
        /// Run only if the procedure's etag is this one (as `sproc get` printed it); else 412
        /// and nothing runs.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
    },
}

impl SprocCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        use SprocCommand::*;
        match self {
            Create { at, body } => sproc::put(g, at.named(), body, false),
            Replace { at, body } => sproc::put(g, at.named(), body, true),
            Get(at) => sproc::get(g, at.named()),
            List { db, container } => sproc::list(g, db, container),
            Delete(at) => sproc::delete(g, at.named()),
            Run {
                at,
                pk,
                args,
                log,
                if_match,
            } => sproc::execute(g, at.named(), pk, args, *log, if_match.as_deref()),
        }
    }
}
