//! A command line clap could not parse: help and version print as usual (exit 0); anything else
//! is a 400 in the usual error shape (json, jsonl) or clap's own explanation, exit 2. Reads the
//! raw arguments only to find `--output`; runs no command.

use std::process::ExitCode;

use clap::error::ErrorKind;

use crate::error::{CliError, EXIT_USAGE};
use crate::output::{self, Format};

/// Prints `e` as the command line asked (see the module comment) and gives the exit code.
pub fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    let format = Format::resolve(output_flag(&args));
    if format.is_json() {
        let text = e.render().to_string();
        let message = text.trim().trim_start_matches("error: ").to_string();
        output::print_error(format, &CliError::bad_input(message), None);
    } else {
        // Best effort: if stderr is gone there is nowhere left to report to.
        let _ = e.print();
    }
    ExitCode::from(EXIT_USAGE)
}

/// `--output` as written on a command line clap rejected (so the error can use that format).
fn output_flag(args: &[String]) -> Option<Format> {
    let mut value = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--output" {
            value = it.next().map(String::as_str);
        } else if let Some(v) = a.strip_prefix("--output=") {
            value = Some(v);
        }
    }
    value.and_then(|v| <Format as clap::ValueEnum>::from_str(v, false).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_flag_found_in_raw_args() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            output_flag(&a(&["strata", "--output", "json", "x"])),
            Some(Format::Json)
        );
        assert_eq!(
            output_flag(&a(&["strata", "x", "--output=table"])),
            Some(Format::Table)
        );
        assert_eq!(output_flag(&a(&["strata", "x"])), None);
        assert_eq!(
            output_flag(&a(&["strata", "--output", "jsonl"])),
            Some(Format::Jsonl)
        );
        assert_eq!(output_flag(&a(&["strata", "--output=csv"])), Some(Format::Csv));
        assert_eq!(output_flag(&a(&["strata", "--output=xml"])), None);
    }
}
