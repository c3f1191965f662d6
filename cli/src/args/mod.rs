//! The command line: the flags every command shares (`shared`), the command tree and its dispatch
//! (`command`), and one file per command group holding that group's clap types and the `run` that
//! hands them to `commands`. Arguments only: no engine calls and no printing here.

mod account;
mod analytics;
mod backup;
mod batch;
mod bench;
mod command;
mod completions;
mod container;
mod db;
mod demo;
mod export;
mod feed;
mod identity;
mod import;
mod item;
mod key;
mod keys;
mod outcome;
mod query;
mod serve;
mod shared;
mod sproc;
mod sync;
mod trigger;
mod udf;
mod vault;
mod vault_access;
mod vault_key;

pub use command::{dispatch, Cli};
pub use outcome::Outcome;
pub use shared::{
    parse_item_json, parse_json_within, pk_from_flag, pk_from_json_flag, read_file, BodyArgs, Globals, PkArgs,
};
pub use sproc::SprocBody;
