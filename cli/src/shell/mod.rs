//! `strata shell`: an interactive session over one open account (line editing, history and
//! completion on a terminal; statements read from stdin otherwise). No storage logic.

mod complete;
mod session;
mod statement;

pub use session::run;
