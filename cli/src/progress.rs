//! The progress bar of import and export: bytes (or a spinner when the size is unknown), items/s
//! and RU/s, drawn on stderr only when stderr is a terminal (indicatif); hidden otherwise.
//! Single-threaded: owned by the command that reports through it.

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Redraws at most this often.
const TICK: Duration = Duration::from_millis(100);

/// Counts a bulk operation has made so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub bytes: u64,
    pub items: u64,
    pub failed: u64,
    pub request_charge: f64,
}

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    /// A bar over `total_bytes` when known, else a spinner; hidden when stderr is no terminal.
    pub fn new(total_bytes: Option<u64>) -> Progress {
        let bar = if !io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else if let Some(total) = total_bytes {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template("{wide_bar} {bytes}/{total_bytes} {msg}") {
                bar.set_style(style);
            }
            bar
        } else {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {bytes} {msg}") {
                bar.set_style(style);
            }
            bar
        };
        Progress {
            bar,
            started: Instant::now(),
            last: None,
        }
    }

    /// Shows the counts (at most every 100 ms).
    pub fn update(&mut self, c: Counts) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < TICK) {
            return;
        }
        self.last = Some(now);
        self.bar.set_position(c.bytes);
        self.bar.set_message(message(c, self.started.elapsed()));
    }

    /// Prints a line on stderr above the bar (also when the bar is hidden).
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Time since the bar was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `"120 items (3 failed), 400 items/s, 2100.0 RU/s"`.
fn message(c: Counts, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let failed = if c.failed > 0 {
        format!(" ({} failed)", c.failed)
    } else {
        String::new()
    };
    format!(
        "{} items{failed}, {:.0} items/s, {:.1} RU/s",
        c.items,
        c.items as f64 / secs,
        c.request_charge / secs
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_rates() {
        let c = Counts {
            bytes: 10,
            items: 50,
            failed: 2,
            request_charge: 300.0,
        };
        assert_eq!(
            message(c, Duration::from_secs(2)),
            "50 items (2 failed), 25 items/s, 150.0 RU/s"
        );
    }
}
