//! `strata sproc create|replace|get|list|delete|run`: a container's stored procedures, their
//! bodies (--file or --body) and an execution's partition key and arguments, handed to
//! `commands::sproc`. Arguments only; no engine calls.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::shared::{Globals, PkArgs};
use crate::commands::sproc;
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

#[derive(Subcommand, Debug)]
pub enum SprocCommand {
    /// Store a new stored procedure (its body is checked to compile, never run).
    #[command(
        after_help = "Examples:\n  strata sproc create shop orders count --body 'function count() { getContext().getResponse().setBody(1); }'\n  \
                            strata sproc create shop orders bulkImport --file bulkImport.js"
    )]
    Create {
        db: String,
        container: String,
        name: String,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Replace a stored procedure's body.
    #[command(after_help = "Example:\n  strata sproc replace shop orders bulkImport --file bulkImport.js")]
    Replace {
        db: String,
        container: String,
        name: String,
        #[command(flatten)]
        body: SprocBody,
    },
    /// Print a stored procedure with its body.
    #[command(after_help = "Example:\n  strata sproc get shop orders bulkImport")]
    Get {
        db: String,
        container: String,
        name: String,
    },
    /// List a container's stored procedures.
    #[command(after_help = "Example:\n  strata sproc list shop orders")]
    List { db: String, container: String },
    /// Delete a stored procedure.
    #[command(after_help = "Example:\n  strata sproc delete shop orders bulkImport")]
    Delete {
        db: String,
        container: String,
        name: String,
    },
    /// Run a stored procedure on one partition key: everything it writes is stored together
    /// when it returns, or nothing is (a throw answers 400 with its message; over its 5 s budget
    /// 408). Prints its response body and the request charge.
    #[command(
        after_help = "Example:\n  strata sproc run shop orders bulkImport --pk alice --args '[[{\"id\": \"o1\", \"customer\": \"alice\"}]]'"
    )]
    Run {
        db: String,
        container: String,
        name: String,
        #[command(flatten)]
        pk: PkArgs,
        /// The procedure's arguments, as a JSON array (one element per parameter).
        #[arg(long, value_name = "JSON_ARRAY", default_value = "[]")]
        args: String,
    },
}

impl SprocCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        use SprocCommand::*;
        match self {
            Create {
                db,
                container,
                name,
                body,
            } => sproc::put(g, (db, container, name), body, false),
            Replace {
                db,
                container,
                name,
                body,
            } => sproc::put(g, (db, container, name), body, true),
            Get { db, container, name } => sproc::get(g, (db, container, name)),
            List { db, container } => sproc::list(g, db, container),
            Delete { db, container, name } => sproc::delete(g, (db, container, name)),
            Run {
                db,
                container,
                name,
                pk,
                args,
            } => sproc::execute(g, (db, container, name), pk, args),
        }
    }
}
