//! Tokenizer of the query text: identifiers, keywords (case-insensitive), `@parameters`, numbers,
//! quoted strings with escapes, and operators (bitwise ones included), each with its byte span.
//! Pure; it must not decide grammar (the parser does). Errors are 400s naming the position.

use serde_json::Number;

use super::position::{query_error, Span};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A name; keywords are identifiers the parser matches case-insensitively.
    Ident(String),
    /// `@name` (the name without the `@`).
    Param(String),
    Number(Number),
    Str(String),
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Colon,
    Star,
    Plus,
    Minus,
    Slash,
    Percent,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    /// `&`, `|`, `^`, `~`, `<<`, `>>`, `>>>`.
    BitAnd,
    BitOr,
    BitXor,
    Tilde,
    Shl,
    Shr,
    UShr,
    Question,
    Coalesce,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            // A line comment.
            while bytes.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
            continue;
        }
        let two = |c: u8| bytes.get(i + 1) == Some(&c);
        let (tok, len) = match b {
            b',' => (Tok::Comma, 1),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => (Tok::Dot, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b':' => (Tok::Colon, 1),
            b'*' => (Tok::Star, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'=' => (Tok::Eq, 1),
            b'!' if two(b'=') => (Tok::NotEq, 2),
            b'<' if two(b'>') => (Tok::NotEq, 2),
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' if two(b'<') => (Tok::Shl, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' if two(b'>') && bytes.get(i + 2) == Some(&b'>') => (Tok::UShr, 3),
            b'>' if two(b'>') => (Tok::Shr, 2),
            b'>' => (Tok::Gt, 1),
            b'|' if two(b'|') => (Tok::Concat, 2),
            b'|' => (Tok::BitOr, 1),
            b'&' => (Tok::BitAnd, 1),
            b'^' => (Tok::BitXor, 1),
            b'~' => (Tok::Tilde, 1),
            b'?' if two(b'?') => (Tok::Coalesce, 2),
            b'?' => (Tok::Question, 1),
            b'\'' | b'"' => {
                let (s, end) = string(src, i)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            b'0'..=b'9' | b'.' => {
                let end = number_end(bytes, i);
                let text = src.get(start..end).unwrap_or("");
                let n = parse_number(text)
                    .ok_or_else(|| query_error(src, Span::new(start, end), "not a valid number"))?;
                out.push(Token {
                    tok: Tok::Number(n),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            b'@' => {
                let end = ident_end(src, i + 1);
                if end == i + 1 {
                    return Err(query_error(
                        src,
                        Span::new(i, i + 1),
                        "'@' must be followed by a parameter name",
                    ));
                }
                let name = src.get(i + 1..end).unwrap_or("").to_string();
                out.push(Token {
                    tok: Tok::Param(name),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            _ => {
                let end = ident_end(src, i);
                if end == i {
                    let ch_len = src
                        .get(i..)
                        .and_then(|s| s.chars().next())
                        .map_or(1, char::len_utf8);
                    return Err(query_error(src, Span::new(i, i + ch_len), "unexpected character"));
                }
                let name = src.get(i..end).unwrap_or("").to_string();
                out.push(Token {
                    tok: Tok::Ident(name),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
        };
        out.push(Token {
            tok,
            span: Span::new(start, start + len),
        });
        i += len;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Ok(out)
}

/// End of an identifier starting at `i` (letters, digits after the first, `_`, `$`).
fn ident_end(src: &str, i: usize) -> usize {
    let Some(rest) = src.get(i..) else {
        return i;
    };
    let mut end = i;
    for (k, ch) in rest.char_indices() {
        let ok = ch.is_alphabetic() || ch == '_' || ch == '$' || (k > 0 && ch.is_numeric());
        if !ok {
            break;
        }
        end = i + k + ch.len_utf8();
    }
    end
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
        i += 1;
    }
    if bytes.get(i).is_some_and(|c| *c == b'e' || *c == b'E') {
        let mut j = i + 1;
        if bytes.get(j).is_some_and(|c| *c == b'+' || *c == b'-') {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    i
}

/// An integer when it is one (and fits, or is an integral float such as `1e3` within 2^53), else
/// a finite float.
fn parse_number(text: &str) -> Option<Number> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<u64>() {
            return Some(Number::from(n));
        }
    }
    let f: f64 = text.parse().ok()?;
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        // Integral and exactly representable, so the cast is exact.
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

/// A quoted string starting at `start` (its quote char); returns the value and the end offset.
fn string(src: &str, start: usize) -> Result<(String, usize)> {
    let rest = src.get(start..).unwrap_or("");
    let mut chars = rest.char_indices();
    let quote = match chars.next() {
        Some((_, q)) => q,
        None => return Err(query_error(src, Span::new(start, start), "expected a string")),
    };
    let mut out = String::new();
    while let Some((k, ch)) = chars.next() {
        let at = start + k;
        if ch == quote {
            return Ok((out, at + 1));
        }
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let bad = |len: usize| query_error(src, Span::new(at, at + len), "invalid escape sequence");
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'b')) => out.push('\u{8}'),
            Some((_, 'f')) => out.push('\u{c}'),
            Some((_, c @ ('\\' | '\'' | '"' | '/'))) => out.push(c),
            Some((_, 'u')) => {
                let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                // from_str_radix alone would take a sign: `\u+041` is not an escape.
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
                match code.and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => return Err(bad(2 + hex.len())),
                }
            }
            _ => return Err(bad(2)),
        }
    }
    Err(query_error(
        src,
        Span::new(start, src.len()),
        "unterminated string",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_and_spans() {
        let t = tokenize("SELECT c.a FROM c").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("SELECT".into()));
        assert_eq!(t[0].span, Span::new(0, 6));
        assert_eq!(t[2].tok, Tok::Dot);
        assert_eq!(t[3].span, Span::new(9, 10));
        assert_eq!(t.last().unwrap().tok, Tok::Eof);
        assert_eq!(t.last().unwrap().span, Span::new(17, 17));
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("<= >= <> != < > = || ?? ? : % / * + - & | ^ ~ << >> >>> >>>>"),
            vec![
                Tok::Le,
                Tok::Ge,
                Tok::NotEq,
                Tok::NotEq,
                Tok::Lt,
                Tok::Gt,
                Tok::Eq,
                Tok::Concat,
                Tok::Coalesce,
                Tok::Question,
                Tok::Colon,
                Tok::Percent,
                Tok::Slash,
                Tok::Star,
                Tok::Plus,
                Tok::Minus,
                Tok::BitAnd,
                Tok::BitOr,
                Tok::BitXor,
                Tok::Tilde,
                Tok::Shl,
                Tok::Shr,
                Tok::UShr,
                Tok::UShr,
                Tok::Gt,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn literals() {
        assert_eq!(toks("42")[0], Tok::Number(Number::from(42u64)));
        assert_eq!(toks("1.5e2")[0], Tok::Number(Number::from(150)));
        assert_eq!(toks("2.5")[0], Tok::Number(Number::from_f64(2.5).unwrap()));
        assert_eq!(toks(".5")[0], Tok::Number(Number::from_f64(0.5).unwrap()));
        assert_eq!(toks("'it\\'s'")[0], Tok::Str("it's".into()));
        assert_eq!(toks("\"a\\u0041\\n\"")[0], Tok::Str("aA\n".into()));
        assert_eq!(toks("@p_1")[0], Tok::Param("p_1".into()));
        assert_eq!(toks("x -- comment\n y").len(), 3);
        assert_eq!(toks("héllo")[0], Tok::Ident("héllo".into()));
    }

    #[test]
    fn errors_name_position() {
        for (src, col) in [
            ("SELECT 'abc", 8),
            ("SELECT #", 8),
            ("SELECT @ x", 8),
            ("a 'x\\q'", 5),
        ] {
            let e = tokenize(src).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.to_string().contains(&format!("column {col}")), "{src}: {e}");
        }
        assert!(tokenize("'\\u12'").is_err());
        // Regression (found by `query::fuzz_tests::unicode_escapes`): a sign is not a hex digit.
        assert!(tokenize("'\\u+041'").is_err());
        assert!(tokenize("'\\u-041'").is_err());
        assert!(tokenize("1.2.3").is_err());
    }
}
