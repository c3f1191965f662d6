//! The items of an import, read from JSON Lines (one item per line, blank lines skipped) or from
//! one JSON array, each with the line it starts on; the form is told by the first non-blank byte.
//! Splitting only (items are parsed by the caller, so one bad item never stops the rest).
//! Single-threaded; JSON Lines are streamed, an array is read whole.

use std::io::{self, BufRead};

/// One item's text as read, or why it could not be read (e.g. not UTF-8).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line on which the item starts.
    pub line: usize,
    /// Bytes of input the item took (its line, or its array element).
    pub bytes: u64,
    pub text: Result<String, String>,
}

/// An iterator over the records of one input.
pub enum Records<R> {
    Lines { reader: R, line: usize },
    Array(std::vec::IntoIter<Record>),
}

/// Starts reading `reader`: a JSON array if its first non-blank byte is `[`, else JSON Lines.
pub fn open<R: BufRead>(mut reader: R) -> io::Result<Records<R>> {
    let mut line = 1;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(Records::Lines { reader, line });
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        line += buf.iter().take(blank).filter(|b| **b == b'\n').count();
        let starts_array = buf.get(blank) == Some(&b'[');
        let found = blank < buf.len();
        reader.consume(blank);
        if found {
            if !starts_array {
                return Ok(Records::Lines { reader, line });
            }
            let mut text = String::new();
            reader.read_to_string(&mut text)?;
            return Ok(Records::Array(split_array(&text, line).into_iter()));
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<io::Result<Record>> {
        match self {
            Records::Array(items) => items.next().map(Ok),
            Records::Lines { reader, line } => loop {
                let mut buf = Vec::new();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) => return None,
                    Ok(n) => {
                        let at = *line;
                        *line += 1;
                        if buf.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        let text =
                            String::from_utf8(buf).map_err(|_| "the line is not valid UTF-8".to_string());
                        return Some(Ok(Record {
                            line: at,
                            bytes: n as u64,
                            text,
                        }));
                    }
                    Err(e) => return Some(Err(e)),
                }
            },
        }
    }
}

/// Splits the text of a JSON array (starting at `[` on line `first_line`) into its elements,
/// by depth outside strings; structural damage becomes an error record at its line.
fn split_array(text: &str, first_line: usize) -> Vec<Record> {
    let mut out = Vec::new();
    let mut line = first_line;
    let mut chars = text.char_indices();
    // The opening bracket.
    chars.next();
    let mut start: Option<(usize, usize)> = None; // (byte offset, line) of the current element
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut closed_at = None;
    let push = |out: &mut Vec<Record>, from: usize, to: usize, at: usize| {
        let raw = text.get(from..to).unwrap_or_default();
        let body = raw.trim();
        out.push(Record {
            line: at,
            bytes: raw.len() as u64,
            text: if body.is_empty() {
                Err("empty array element (two commas in a row, or a trailing comma)".to_string())
            } else {
                Ok(body.to_string())
            },
        });
    };
    for (i, c) in chars {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if start.is_none() && !c.is_whitespace() && !(c == ']' && out.is_empty()) {
            start = Some((i, line));
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' if depth > 0 => depth -= 1,
            ',' | ']' if depth == 0 => {
                if let Some((from, at)) = start.take() {
                    push(&mut out, from, i, at);
                }
                if c == ']' {
                    closed_at = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    match closed_at {
        None => {
            let (from, at) = start.unwrap_or((text.len(), line));
            out.push(Record {
                line: at,
                bytes: text.len().saturating_sub(from) as u64,
                text: Err("the JSON array is not closed with ']' (is the file complete?)".to_string()),
            });
        }
        Some(end) => {
            let rest = text.get(end + 1..).unwrap_or_default();
            if let Some(pos) = rest.find(|c: char| !c.is_whitespace()) {
                let at = line + rest.get(..pos).unwrap_or_default().matches('\n').count();
                out.push(Record {
                    line: at,
                    bytes: rest.len() as u64,
                    text: Err(
                        "text after the end of the JSON array; give one array, or JSON Lines".to_string(),
                    ),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<(usize, Result<String, String>)> {
        open(input.as_bytes())
            .unwrap()
            .map(|r| r.unwrap())
            .map(|r| (r.line, r.text))
            .collect()
    }

    fn ok(line: usize, s: &str) -> (usize, Result<String, String>) {
        (line, Ok(s.to_string()))
    }

    #[test]
    fn json_lines_skip_blanks_and_keep_line_numbers() {
        let got = read("\n{\"id\":\"1\"}\n\n  {bad\n{\"id\":\"2\"}");
        assert_eq!(
            got,
            vec![
                ok(2, "{\"id\":\"1\"}\n"),
                ok(4, "  {bad\n"),
                ok(5, "{\"id\":\"2\"}")
            ]
        );
        assert!(read("").is_empty());
        assert!(read("\n \n").is_empty());
    }

    #[test]
    fn invalid_utf8_is_a_bad_record_not_a_failure() {
        let input: &[u8] = b"{\"id\":\"1\"}\n\xff\xfe\n{\"id\":\"2\"}\n";
        let got: Vec<Record> = open(input).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert!(got[1].text.is_err());
        assert_eq!(got[2].line, 3);
    }

    #[test]
    fn arrays_split_at_top_level_commas() {
        let got = read("\n[\n {\"id\":\"a,]\\\"\", \"x\":[1,{\"y\":2}]},\n 5 ,\n\n {\"id\":\"b\"}\n]\n");
        assert_eq!(
            got,
            vec![
                ok(3, "{\"id\":\"a,]\\\"\", \"x\":[1,{\"y\":2}]}"),
                ok(4, "5"),
                ok(6, "{\"id\":\"b\"}")
            ]
        );
        assert!(read("[]").is_empty());
        assert!(read(" [ \n ] ").is_empty());
    }

    #[test]
    fn damaged_arrays_give_error_records() {
        let got = read("[{\"id\":\"1\"},,{\"id\":\"2\"},]");
        let errs: Vec<usize> = got.iter().filter(|(_, t)| t.is_err()).map(|(l, _)| *l).collect();
        assert_eq!(errs.len(), 2, "{got:?}");
        assert_eq!(got.iter().filter(|(_, t)| t.is_ok()).count(), 2);

        let open_ended = read("[{\"id\":\"1\"},\n{\"id\":");
        assert_eq!(open_ended.first(), Some(&ok(1, "{\"id\":\"1\"}")));
        assert!(matches!(open_ended.get(1), Some((2, Err(_)))), "{open_ended:?}");

        let trailing = read("[1]\n\nxyz");
        assert_eq!(trailing.first(), Some(&ok(1, "1")));
        assert!(matches!(trailing.get(1), Some((3, Err(_)))), "{trailing:?}");
    }
}
