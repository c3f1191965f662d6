//! Whether to colour output: only on a terminal, and never when NO_COLOR is set to a non-empty
//! value (https://no-color.org). Read by `output` for table headers and the `error:` prefix.

use std::io::{self, IsTerminal};

/// Colour on stdout?
pub fn stdout() -> bool {
    enabled(
        io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Colour on stderr?
pub fn stderr() -> bool {
    enabled(
        io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

fn enabled(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `text` in bold red when `on`, else unchanged.
pub fn red(text: &str, on: bool) -> String {
    if on {
        format!("\x1b[1;31m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn only_on_a_terminal_without_no_color() {
        assert!(enabled(true, None));
        assert!(enabled(true, Some(OsStr::new(""))));
        assert!(!enabled(true, Some(OsStr::new("1"))));
        assert!(!enabled(false, None));
        assert_eq!(red("e", false), "e");
        assert_ne!(red("e", true), "e");
    }
}
