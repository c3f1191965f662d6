//! Decoder fuzzing of the query language (proptest, stable Rust, part of every `cargo test`):
//! arbitrary text, token soup from the language's own words, and deep nesting of every form go
//! through `Prepared::new` (lexer, parser, checks) and, when accepted, run over a few documents.
//! Each is accepted or refused with a 400 naming a position inside the text; never a panic, a
//! stack overflow or a hang. See docs/reliability.md ("Decoder fuzzing").

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::parser::MAX_DEPTH;
use super::Prepared;
use crate::error::Error;
use strata_base::fuzz_support::config;

/// Words, operators and literals of the language, well-formed and not.
const EXTRA_WORDS: &[&str] = &[
    // Keywords: the parser's list (`KEYWORDS`) is added in `words()`.
    "select",
    "vAlUe",
    // Names and paths.
    "c",
    "x",
    "t",
    "_b",
    "$d",
    "é",
    "c.a",
    "c.tags",
    "c[0]",
    "c[\"a\"]",
    "c[@p]",
    "x.y.z",
    // Functions and aggregates.
    "ABS(",
    "LOWER(",
    "UPPER(",
    "LENGTH(",
    "SUBSTRING(",
    "CONCAT(",
    "ARRAY_CONTAINS(",
    "ARRAY_LENGTH(",
    "STARTSWITH(",
    "IS_DEFINED(",
    "ROUND(",
    "FLOOR(",
    "COUNT(",
    "SUM(",
    "AVG(",
    "MIN(",
    "MAX(",
    "NOPE(",
    // Operators and punctuation.
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "*",
    "+",
    "-",
    "/",
    "%",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "||",
    "?",
    "??",
    "!",
    "|",
    "&",
    ";",
    // Literals.
    "0",
    "1",
    "-1",
    "1.5",
    ".5",
    "1e3",
    "1e400",
    "1.2.3",
    "9223372036854775808",
    "18446744073709551616",
    "'s'",
    "\"d\"",
    "'it''s'",
    "'\\u0041'",
    "'\\u+041'",
    "'\\ud800'",
    "'\\q'",
    "'open",
    "\"k\":",
    // Parameters.
    "@p",
    "@n",
    "@f",
    "@s",
    "@o",
    "@missing",
    "@",
    // Layout.
    "-- comment",
    "\n",
    "\t",
    " ",
];

/// The parser's keywords and the extra words above.
fn words() -> Vec<&'static str> {
    super::parser::KEYWORDS
        .iter()
        .copied()
        .chain(EXTRA_WORDS.iter().copied())
        .collect()
}

fn params() -> Vec<(String, Value)> {
    vec![
        ("@p".into(), json!(["x", 1])),
        ("n".into(), json!(i64::MIN)),
        ("@f".into(), json!(-0.5)),
        ("@s".into(), json!("a")),
        ("@o".into(), json!({"a": [1, {"b": null}]})),
    ]
}

fn docs() -> Vec<Value> {
    vec![
        json!({"id": "1", "a": 1, "tags": ["x", 2, null], "x": {"y": {"z": true}}}),
        json!({"id": "2", "a": "s", "tags": "no"}),
        json!({"id": "3", "a": [1, {"b": 2}], "tags": []}),
        json!({"id": "4", "a": i64::MIN, "tags": [i64::MAX, -0.5, u64::MAX]}),
    ]
}

/// A refusal is a 400 whose message points inside the query text.
fn assert_positioned_400(sql: &str, e: &Error) {
    assert_eq!(e.status(), 400, "{sql:?}: {e}");
    let msg = e.to_string();
    let offset = msg
        .split("byte offset ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("{sql:?}: no position in {msg}"));
    assert!(
        offset <= sql.len(),
        "{sql:?}: offset {offset} outside the text: {msg}"
    );
    assert!(msg.contains("query error at line "), "{sql:?}: {msg}");
}

/// Prepares `sql`; if accepted, runs it (a run may still be refused, with a 400).
fn prepare_and_run(sql: &str) -> Result<Vec<Value>, Error> {
    match Prepared::new(sql, &params()) {
        Ok(p) => {
            let out = p.run(docs());
            if let Err(e) = &out {
                assert_eq!(e.status(), 400, "{sql:?}: {e}");
            }
            out
        }
        Err(e) => {
            assert_positioned_400(sql, &e);
            Err(e)
        }
    }
}

/// `depth` levels of one form of nesting around a literal.
fn nested(form: usize, depth: usize) -> String {
    let wrap = |open: &str, leaf: &str, close: &str| {
        format!("SELECT VALUE {}{leaf}{}", open.repeat(depth), close.repeat(depth))
    };
    match form {
        0 => wrap("(", "1", ")"),
        1 => wrap("[", "1", "]"),
        2 => wrap("{\"a\": ", "1", "}"),
        3 => wrap("ABS(", "1", ")"),
        4 => wrap("- ", "1", ""),
        5 => wrap("NOT ", "true", ""),
        6 => format!("SELECT VALUE c{} FROM c", ".a".repeat(depth)),
        7 => format!("SELECT VALUE c{} FROM c", "[0]".repeat(depth)),
        8 => format!("SELECT VALUE 1{}", " + 1".repeat(depth)),
        9 => wrap("1 ? 1 : ", "1", ""),
        10 => wrap("CONCAT('a', ", "'b'", ")"),
        11 => wrap("ARRAY_CONTAINS([", "1", "], 1)"),
        12 => format!(
            "SELECT * FROM c WHERE {}c.a = 1{}",
            "(c.a = 1 AND ".repeat(depth),
            ")".repeat(depth)
        ),
        13 => format!("{} FROM c", wrap("c.a IN (", "1", ")")),
        _ => wrap("1 BETWEEN (", "0", ") AND 2"),
    }
}

const FORMS: usize = 15;

proptest! {
    // 256 cases each: a query of at most a few hundred bytes prepares in well under a millisecond,
    // and runs over four documents in about as long.

    #![proptest_config(config(256))]

    /// Arbitrary text, control characters and any Unicode included.
    #[test]
    fn arbitrary_text(sql in "(?s).{0,200}") {
        let _ = prepare_and_run(&sql);
    }

    /// Any sequence of the language's words, operators and literals.
    #[test]
    fn token_soup(
        words in vec(proptest::sample::select(words()), 0..48),
        sep in prop_oneof![Just(" "), Just("")],
    ) {
        let _ = prepare_and_run(&words.join(sep));
    }

    /// Token soup in each clause of a well-formed query.
    #[test]
    fn token_soup_in_clauses(
        a in vec(proptest::sample::select(words()), 1..12),
        b in vec(proptest::sample::select(words()), 1..12),
    ) {
        let (a, b) = (a.join(" "), b.join(" "));
        for sql in [
            format!("SELECT VALUE {a} FROM c JOIN t IN c.tags WHERE {b}"),
            format!("SELECT {a} AS out FROM c ORDER BY {b}"),
            format!("SELECT {a} FROM c GROUP BY {b}"),
            format!("SELECT VALUE ARRAY(SELECT {a} FROM t IN c.tags GROUP BY {b}) FROM c"),
            format!("SELECT TOP {a} * FROM c WHERE {b} OFFSET 1 LIMIT 2"),
        ] {
            let _ = prepare_and_run(&sql);
        }
    }

    /// A well-formed query with one byte changed, removed or inserted.
    #[test]
    fn mutated_query(
        base in proptest::sample::select(&[
            "SELECT VALUE c.a FROM c WHERE c.a > 0 ORDER BY c.id DESC",
            "SELECT c.id, COUNT(1) AS n FROM c JOIN t IN c.tags GROUP BY c.id",
            "SELECT VALUE [EXISTS(SELECT VALUE t FROM t IN c.tags GROUP BY t), ARRAY(SELECT t, COUNT(1) AS n FROM t IN c.tags GROUP BY t)] FROM c",
            "SELECT DISTINCT TOP 2 {\"k\": [c.a, @p]} FROM c WHERE IS_DEFINED(c.x.y) OFFSET 0 LIMIT 3",
            "SELECT VALUE SUBSTRING('h\\u00e9llo', 1, 2) || LOWER(\"X\")",
            "SELECT * FROM c WHERE c.a BETWEEN -1 AND 1e3 AND c.a NOT IN (1, 2) OR c.a ?? 1 ? 2 : 3",
        ][..]),
        at in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
        how in 0..3u8,
    ) {
        prop_assert!(prepare_and_run(base).is_ok(), "{}", base);
        let mut b = base.as_bytes().to_vec();
        let at = at.index(b.len());
        match how {
            0 => b[at] = byte,
            1 => { b.remove(at); }
            _ => b.insert(at, byte),
        }
        let sql = String::from_utf8_lossy(&b);
        let _ = prepare_and_run(&sql);
    }
}

proptest! {
    // 256 cases: one short literal each.
    #![proptest_config(config(256))]

    /// Any string, written as a JSON-escaped literal, evaluates to itself.
    #[test]
    fn string_literals_round_trip(s in "(?s).{0,24}") {
        let sql = format!("SELECT VALUE {}", serde_json::to_string(&s).unwrap());
        prop_assert_eq!(prepare_and_run(&sql).unwrap(), vec![Value::from(s)]);
    }

    /// `\u` takes exactly four hex digits naming a scalar value (not a lone surrogate); anything
    /// else is a positioned 400.
    #[test]
    fn unicode_escapes(digits in proptest::string::string_regex("[0-9a-fA-F+\\-xX _]{4}").unwrap()) {
        let sql = format!("SELECT VALUE '\\u{digits}'");
        let want = u32::from_str_radix(&digits, 16)
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(char::from_u32);
        match (prepare_and_run(&sql), want) {
            (Ok(got), Some(c)) => prop_assert_eq!(got, vec![Value::from(c.to_string())]),
            (Err(e), None) => prop_assert!(e.to_string().contains("escape"), "{}", e),
            (got, want) => {
                let got = got.map_err(|e| e.to_string());
                prop_assert!(false, "{:?}: got {:?}, want {:?}", sql, got, want)
            }
        }
    }
}

proptest! {
    // 128 cases: nesting up to 400 levels; the deepest accepted queries also run (recursive
    // evaluation and drop), a few milliseconds each.
    #![proptest_config(config(128))]

    /// Every form of nesting is accepted up to an eighth of the limit (one level of some forms
    /// counts several times against it) and, beyond what the limit allows, refused with a
    /// positioned 400; never a stack overflow.
    #[test]
    fn nesting_of_every_form(form in 0..FORMS, depth in 1usize..400) {
        let sql = nested(form, depth);
        match prepare_and_run(&sql) {
            Ok(_) => prop_assert!(depth <= MAX_DEPTH, "form {} at depth {} accepted", form, depth),
            Err(e) => {
                prop_assert!(depth > MAX_DEPTH / 8, "form {} at depth {} refused: {}", form, depth, e);
                prop_assert!(e.to_string().contains("nests deeper"), "{}", e);
            }
        }
    }
}

/// 10,000 levels of every form, and 10,000 unclosed openers: a 400, in a test thread's stack.
#[test]
fn ten_thousand_levels_are_refused() {
    for form in 0..FORMS {
        let e = prepare_and_run(&nested(form, 10_000)).unwrap_err();
        assert!(e.to_string().contains("nests deeper"), "form {form}: {e}");
    }
    for open in ["(", "[", "{\"a\":", "ABS(", "NOT ", "- "] {
        let sql = format!("SELECT VALUE {}", open.repeat(10_000));
        assert_eq!(prepare_and_run(&sql).unwrap_err().status(), 400);
    }
}

/// Every form is accepted at an eighth of the limit, and the deepest query of each form that is
/// accepted runs (recursive checks, evaluation and drop at full depth, in a debug build's frames
/// and a test thread's stack).
#[test]
fn deepest_accepted_query_of_every_form_runs() {
    for form in 0..FORMS {
        assert!(
            prepare_and_run(&nested(form, MAX_DEPTH / 8)).is_ok(),
            "form {form}"
        );
        let deepest = (MAX_DEPTH / 8..=MAX_DEPTH + 1)
            .take_while(|d| Prepared::new(&nested(form, *d), &params()).is_ok())
            .last()
            .unwrap();
        assert!(deepest <= MAX_DEPTH, "form {form}");
        prepare_and_run(&nested(form, deepest)).unwrap();
    }
}
