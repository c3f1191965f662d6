//! `strata completions SHELL`: its argument, and writing clap_complete's script for the command
//! tree it is given to stdout. Knows nothing of the commands themselves.

use clap::Args;
use clap_complete::Shell;

use super::outcome::Outcome;

#[derive(Args, Debug)]
pub struct CompletionsCommand {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

impl CompletionsCommand {
    /// Prints the completion script of `cli` (the whole `strata` command).
    pub fn run(&self, cli: &mut clap::Command) -> Outcome {
        clap_complete::generate(self.shell, cli, "strata", &mut std::io::stdout());
        Outcome::Done(0)
    }
}
