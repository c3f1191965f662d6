//! String functions. Positions and lengths count characters (Unicode scalar values), never bytes;
//! counts must be integers; an argument of the wrong type gives undefined. `RegexMatch` uses the
//! `regex` crate (linear-time matching, compiled size bounded) through a small per-thread cache, so
//! a pattern repeated on every row is compiled once. Pure apart from that cache.

use std::cell::RefCell;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::{arg, flag, int, text};
use crate::query::value::{number, Val};

/// Longest result `REPLICATE` makes, in characters (the managed service's limit).
const MAX_REPLICATE: usize = 10_000;
/// Compiled-program bound for `RegexMatch` (the crate's own limits are larger).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Patterns a thread keeps compiled.
const REGEX_CACHE: usize = 16;

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "LOWER" | "UPPER" | "LENGTH" | "LTRIM" | "RTRIM" | "TRIM" | "REVERSE" | "TOSTRING"
        | "STRINGTOARRAY" | "STRINGTOBOOLEAN" | "STRINGTONULL" | "STRINGTONUMBER" | "STRINGTOOBJECT" => {
            (1, 1)
        }
        "STARTSWITH" | "ENDSWITH" | "CONTAINS" | "STRINGEQUALS" | "INDEX_OF" | "REGEXMATCH" => (2, 3),
        "LEFT" | "RIGHT" | "REPLICATE" | "STRINGJOIN" | "STRINGSPLIT" => (2, 2),
        "SUBSTRING" | "REPLACE" => (3, 3),
        "CONCAT" => (2, usize::MAX),
        _ => return None,
    })
}

fn string(s: impl Into<String>) -> Val {
    Some(Value::String(s.into()))
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    let s0 = || text(args, 0);
    Some(match name {
        "LOWER" => s0().map(|s| s.to_lowercase()).map(Value::String),
        "UPPER" => s0().map(|s| s.to_uppercase()).map(Value::String),
        "LENGTH" => s0().map(|s| Value::from(s.chars().count())),
        "LTRIM" => s0().and_then(|s| string(s.trim_start())),
        "RTRIM" => s0().and_then(|s| string(s.trim_end())),
        "TRIM" => s0().and_then(|s| string(s.trim())),
        "REVERSE" => s0().and_then(|s| string(s.chars().rev().collect::<String>())),
        "TOSTRING" => match arg(args, 0) {
            Some(Value::String(s)) => string(s.as_str()),
            Some(other) => string(other.to_string()),
            None => None,
        },
        "STRINGTOARRAY" => parse_as(s0(), Value::is_array),
        "STRINGTOBOOLEAN" => parse_as(s0(), Value::is_boolean),
        "STRINGTONULL" => parse_as(s0(), Value::is_null),
        // An integral float reads as the integer it equals, as arithmetic results do.
        "STRINGTONUMBER" => parse_as(s0(), Value::is_number).and_then(|v| match v.as_i64() {
            Some(_) => Some(v),
            None => number(v.as_f64()?),
        }),
        "STRINGTOOBJECT" => parse_as(s0(), Value::is_object),
        "STARTSWITH" | "ENDSWITH" | "CONTAINS" | "STRINGEQUALS" => {
            compare_strings(name, s0(), text(args, 1), flag(args, 2))
        }
        "INDEX_OF" => index_of(s0(), text(args, 1), args.get(2)),
        "REGEXMATCH" => regex_match(s0(), text(args, 1), args.get(2)),
        "LEFT" | "RIGHT" => s0().zip(int(args, 1)).and_then(|(s, n)| {
            let take = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            let len = s.chars().count();
            let out: String = if name == "LEFT" {
                s.chars().take(take).collect()
            } else {
                s.chars().skip(len.saturating_sub(take)).collect()
            };
            string(out)
        }),
        "REPLICATE" => s0().zip(int(args, 1)).and_then(|(s, n)| {
            let n = usize::try_from(n).ok()?;
            let len = s.chars().count().checked_mul(n)?;
            (len <= MAX_REPLICATE).then(|| Value::String(s.repeat(n)))
        }),
        "STRINGJOIN" => match (arg(args, 0), text(args, 1)) {
            (Some(Value::Array(items)), Some(sep)) => {
                let parts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                parts.map(|p| Value::String(p.join(sep)))
            }
            _ => None,
        },
        "STRINGSPLIT" => s0().zip(text(args, 1)).map(|(s, sep)| {
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep).map(|p| Value::String(p.to_string())).collect()
            };
            Value::Array(parts)
        }),
        "SUBSTRING" => s0()
            .zip(int(args, 1).zip(int(args, 2)))
            .and_then(|(s, (start, len))| substring(s, start, len)),
        "REPLACE" => match (s0(), text(args, 1), text(args, 2)) {
            // An empty search string matches nothing (not between every character).
            (Some(s), Some(""), Some(_)) => string(s),
            (Some(s), Some(find), Some(with)) => string(s.replace(find, with)),
            _ => None,
        },
        "CONCAT" => {
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(text(args, i)?);
            }
            string(out)
        }
        _ => return None,
    })
}

/// `s` parsed as JSON (surrounding whitespace allowed) when the result passes `want`.
fn parse_as(s: Option<&str>, want: fn(&Value) -> bool) -> Val {
    let v: Value = serde_json::from_str(s?).ok()?;
    want(&v).then_some(v)
}

fn compare_strings(name: &str, a: Option<&str>, b: Option<&str>, ignore_case: bool) -> Val {
    let (a, b) = (a?, b?);
    let (a, b) = if ignore_case {
        (a.to_lowercase(), b.to_lowercase())
    } else {
        (a.to_string(), b.to_string())
    };
    Some(Value::Bool(match name {
        "STARTSWITH" => a.starts_with(&b),
        "ENDSWITH" => a.ends_with(&b),
        "CONTAINS" => a.contains(&b),
        _ => a == b,
    }))
}

/// Zero-based, counted in characters; a negative start counts as 0, a length past the end stops
/// at the end.
fn substring(text: &str, start: i64, len: i64) -> Val {
    let start = usize::try_from(start.max(0)).ok()?;
    let len = usize::try_from(len.max(0)).ok()?;
    string(text.chars().skip(start).take(len).collect::<String>())
}

/// The character position of the first `needle` at or after `start` (default 0, a negative start
/// counts as 0), or -1.
fn index_of(hay: Option<&str>, needle: Option<&str>, start: Option<&Val>) -> Val {
    let (hay, needle) = (hay?, needle?);
    let start = match start {
        None => 0,
        Some(v) => usize::try_from(super::as_integer(v)?.max(0)).unwrap_or(usize::MAX),
    };
    let chars: Vec<char> = hay.chars().collect();
    let want: Vec<char> = needle.chars().collect();
    let found = (start..=chars.len().saturating_sub(want.len()))
        .find(|&i| chars.get(i..i + want.len()) == Some(&want[..]));
    Some(found.map_or(Value::from(-1), Value::from))
}

thread_local! {
    static COMPILED: RefCell<Vec<(String, Regex)>> = const { RefCell::new(Vec::new()) };
}

/// `RegexMatch(s, pattern [, modifiers])`: true if the pattern matches anywhere in `s`. Modifiers
/// are any of `i` (ignore case), `m` (multi-line), `s` (dot matches newline), `x` (extended);
/// another modifier, or a pattern that does not compile, gives undefined.
fn regex_match(s: Option<&str>, pattern: Option<&str>, modifiers: Option<&Val>) -> Val {
    let (s, pattern) = (s?, pattern?);
    let modifiers = match modifiers {
        None => "",
        Some(Some(Value::String(m))) => m.as_str(),
        Some(_) => return None,
    };
    if !modifiers.chars().all(|c| "imsx".contains(c)) {
        return None;
    }
    let key = format!("{modifiers}/{pattern}");
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, re)) = cache.iter().find(|(k, _)| *k == key) {
            return Some(Value::Bool(re.is_match(s)));
        }
        let re = RegexBuilder::new(pattern)
            .case_insensitive(modifiers.contains('i'))
            .multi_line(modifiers.contains('m'))
            .dot_matches_new_line(modifiers.contains('s'))
            .ignore_whitespace(modifiers.contains('x'))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .ok()?;
        let found = re.is_match(s);
        if cache.len() >= REGEX_CACHE {
            cache.remove(0);
        }
        cache.push((key, re));
        Some(Value::Bool(found))
    })
}
