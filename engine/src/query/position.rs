//! Source positions for query errors: a byte span, turned into "line:col" and the offending text
//! when a 400 is built. Pure; owns no parsing decisions.

use crate::error::Error;

/// Byte range `[start, end)` of a token or expression in the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, ch) in src.char_indices() {
        if i >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// A 400 for the query text `src`, naming the position and the offending text of `span`.
pub(crate) fn query_error(src: &str, span: Span, message: &str) -> Error {
    let (line, col) = line_col(src, span.start);
    let text = src.get(span.start..span.end).unwrap_or("");
    let near = if text.is_empty() {
        "at the end of the query".to_string()
    } else {
        let shown: String = text.chars().take(40).collect();
        format!("near '{shown}'")
    };
    Error::BadRequest(format!(
        "query error at line {line}, column {col} (byte offset {}) {near}: {message}",
        span.start
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(line_col("abc", 0), (1, 1));
        assert_eq!(line_col("abc", 2), (1, 3));
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("é x", 3), (1, 3));
        let e = query_error("SELECT x", Span::new(7, 8), "bad");
        assert_eq!(e.status(), 400);
        let m = e.to_string();
        assert!(
            m.contains("line 1, column 8") && m.contains("'x'") && m.contains("offset 7"),
            "{m}"
        );
        assert!(query_error("a", Span::new(1, 1), "m")
            .to_string()
            .contains("end of the query"));
    }
}
