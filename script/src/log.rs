//! A stored procedure's script log: the lines its `console.log` (and `info`, `warn`, `error`,
//! `debug`) calls wrote, kept only when the caller asked for them, in memory, bounded at
//! `MAX_LOG_BYTES`. Owns the bound and the truncation marker; must not format values (api.js
//! does) nor store or send the log anywhere (the caller decides what to do with it).

/// Most bytes of script output kept per execution; what follows is dropped and the log ends
/// with `TRUNCATED`.
pub const MAX_LOG_BYTES: usize = 16 * 1024;

/// What ends a log that went over `MAX_LOG_BYTES`.
pub const TRUNCATED: &str = "\n[script log truncated at 16 KiB]";

/// The lines collected so far.
#[derive(Debug, Default)]
pub(crate) struct ScriptLog {
    text: String,
    truncated: bool,
}

impl ScriptLog {
    /// Appends one line (lines are separated by `\n`); `false` once the log is full, so the
    /// script can stop formatting what would be dropped.
    pub(crate) fn push(&mut self, line: &str) -> bool {
        if self.truncated {
            return false;
        }
        let sep = usize::from(!self.text.is_empty());
        let room = MAX_LOG_BYTES - self.text.len();
        if sep + line.len() <= room {
            if sep == 1 {
                self.text.push('\n');
            }
            self.text.push_str(line);
            return true;
        }
        let mut end = room.saturating_sub(sep);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        if end > 0 {
            if sep == 1 {
                self.text.push('\n');
            }
            self.text.push_str(&line[..end]);
        }
        self.truncated = true;
        false
    }

    /// The log as the caller gets it.
    pub(crate) fn finish(mut self) -> String {
        if self.truncated {
            self.text.push_str(TRUNCATED);
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_joined_until_the_bound_then_cut_on_a_char_boundary_and_marked() {
        let mut log = ScriptLog::default();
        assert!(log.push("a"));
        assert!(log.push("b c"));
        assert_eq!(log.finish(), "a\nb c");

        let mut log = ScriptLog::default();
        assert!(log.push(&"x".repeat(MAX_LOG_BYTES - 2)));
        // "é" is two bytes: after the separator one byte is left, which would split it.
        assert!(!log.push("é"));
        assert!(!log.push("more"));
        let text = log.finish();
        assert_eq!(text, format!("{}{TRUNCATED}", "x".repeat(MAX_LOG_BYTES - 2)));
        assert!(text.len() <= MAX_LOG_BYTES + TRUNCATED.len());

        let mut log = ScriptLog::default();
        assert!(log.push(&"y".repeat(MAX_LOG_BYTES)));
        assert!(!log.push("z"));
        assert_eq!(log.finish(), format!("{}{TRUNCATED}", "y".repeat(MAX_LOG_BYTES)));
    }
}
