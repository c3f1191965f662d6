//! `strata demo`: its flags, handed to `commands::demo`. Arguments only; the tour itself (and its
//! printing) is `commands::demo`'s.

use clap::Args;

use super::outcome::Outcome;
use super::shared::Globals;
use crate::commands::demo;
use crate::error::CliResult;

#[derive(Args, Debug)]
pub struct DemoCommand {
    /// How many items the bulk-load step writes.
    #[arg(long, default_value_t = 2000)]
    items: usize,
    /// Keep the temporary directory afterwards for inspection.
    #[arg(long)]
    keep: bool,
}

impl DemoCommand {
    /// Runs the tour; it prints its own steps.
    pub fn run(&self, g: &Globals) -> CliResult<Outcome> {
        demo::run(g, self.items, self.keep).map(|()| Outcome::Done(0))
    }
}
