//! The `strata` binary: parse the command line (`args`), run the command (`args::dispatch`), print
//! its report or error (`output`), exit. Exit codes (docs/cli.md): 0 ok, 1 request error, 2 usage
//! error, 3 store unavailable or key revoked. Holds no command definitions (args/) and no storage
//! logic (commands/).

mod args;
mod color;
mod commands;
mod error;
mod output;
mod progress;
mod records;
mod rows;
mod scan;
mod session;
mod shell;
mod steps;
mod usage;

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc for the whole process (engine, gateway, bench and its
/// peers alike), measured in docs/bench.md, "Load change F". A library user of the engine picks
/// their own allocator; this is the binary's choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use crate::args::{dispatch, Cli, Outcome};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage::usage_error(e),
    };
    let format = cli.globals.format();
    let outcome = dispatch(&cli);
    if cli.globals.stats {
        eprintln!("{}", session::line());
    }
    match outcome {
        Ok(Outcome::Print(report)) => {
            output::print(format, &report);
            ExitCode::from(report.exit_code())
        }
        Ok(Outcome::Done(code)) => ExitCode::from(code),
        Err(err) => {
            output::print_error(format, &err, cli.globals.error_context().as_ref());
            ExitCode::from(err.exit_code())
        }
    }
}
