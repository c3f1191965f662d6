//! What a command that succeeded leaves to do: print a report, or only exit (the command
//! printed its own output). Shared by the dispatch and the commands that finish on their own.

use crate::output::Report;

/// What a command that succeeded leaves to do.
pub enum Outcome {
    /// Print this report (and exit with its exit code).
    Print(Report),
    /// The command printed its own output; exit with this code.
    Done(u8),
}
