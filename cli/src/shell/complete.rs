//! Tab completion of the shell: statement keywords at the start of a line, database names and
//! `db/container` pairs after it. A rustyline `Helper` with no hints, highlighting or validation.

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::statement::KEYWORDS;

/// Completes keywords and the names it was given.
pub struct Completion {
    /// Database names and `db/container` pairs.
    pub names: Vec<String>,
}

impl Completer for Completion {
    type Candidate = String;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(candidates(line, pos, &self.names))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// The start of the word at `pos` and the completions of it: keywords for the first word,
/// names for later ones.
pub fn candidates(line: &str, pos: usize, names: &[String]) -> (usize, Vec<String>) {
    let head = line.get(..pos).unwrap_or(line);
    let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = head.get(start..).unwrap_or_default();
    let first = head.get(..start).unwrap_or_default().trim().is_empty();
    let mut matches: Vec<String> = if first {
        let lower = word.to_ascii_lowercase();
        KEYWORDS
            .iter()
            .filter(|k| k.starts_with(&lower))
            .map(|k| (*k).to_string())
            .collect()
    } else {
        names.iter().filter(|n| n.starts_with(word)).cloned().collect()
    };
    matches.sort();
    (start, matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_first_then_names() {
        let names = vec!["shop".to_string(), "shop/orders".to_string(), "stock".to_string()];
        assert_eq!(candidates("us", 2, &names), (0, vec!["use".to_string()]));
        assert_eq!(
            candidates("  d", 3, &names),
            (2, vec!["dbs".into(), "delete".into()])
        );
        assert_eq!(
            candidates("use sh", 6, &names),
            (4, vec!["shop".into(), "shop/orders".into()])
        );
        assert_eq!(candidates("use shop/o", 10, &names).1, vec!["shop/orders"]);
        assert!(candidates("use x", 5, &names).1.is_empty());
    }
}
