//! Query errors: every parse and semantic error is a 400 whose message names the position (byte
//! offset, line and column) and the offending text; hostile input (deep nesting, huge inputs)
//! is a 400, never a panic.

use serde_json::{json, Value};
use strata::{Container, QueryOptions};

fn setup() -> (tempfile::TempDir, Container) {
    let dir = tempfile::tempdir().unwrap();
    let (_account, c) = crate::common::plain_container(dir.path());
    c.create_item("p", &json!({"id": "1", "pk": "p", "tags": ["a"]}))
        .unwrap();
    (dir, c)
}

fn error(c: &Container, sql: &str, params: &[(&str, Value)]) -> String {
    let params: Vec<(String, Value)> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let e = c
        .query_items(sql, &params, &QueryOptions::default())
        .expect_err(sql);
    assert_eq!(e.status(), 400, "{sql}: {e}");
    e.to_string()
}

#[test]
fn subquery_errors() {
    let (_dir, c) = setup();
    for (sql, want) in [
        (
            "SELECT VALUE (SELECT * FROM t IN c.tags) FROM c",
            "SELECT * is not supported in a subquery",
        ),
        (
            "SELECT VALUE EXISTS(SELECT VALUE 1 FROM d IN x.tags) FROM c",
            "reads from the enclosing query",
        ),
        (
            "SELECT VALUE (SELECT VALUE t FROM t IN c.tags GROUP BY (SELECT VALUE 1)) FROM c",
            "a subquery is not allowed in GROUP BY",
        ),
        (
            "SELECT VALUE (SELECT VALUE COUNT(1) FROM t IN c.tags GROUP BY 1) FROM c",
            "must read a property",
        ),
        (
            "SELECT VALUE (SELECT VALUE MAX(COUNT(1)) FROM t IN c.tags) FROM c",
            "aggregates cannot be nested",
        ),
        ("SELECT COUNT(1) FROM c GROUP BY 'x'", "must read a property"),
        (
            "SELECT VALUE ARRAY(SELECT VALUE t FROM t IN c.tags GROUP BY t ORDER BY t) FROM c",
            "ORDER BY is not supported with GROUP BY",
        ),
        (
            "SELECT VALUE ARRAY(SELECT t, c.id FROM t IN c.tags GROUP BY t) FROM c",
            "must be inside an aggregate",
        ),
        (
            "SELECT VALUE EXISTS(SELECT VALUE t FROM t IN c.tags GROUP BY COUNT(1)) FROM c",
            "aggregate COUNT is not allowed in GROUP BY",
        ),
        (
            "SELECT COUNT(1), ARRAY(SELECT VALUE t FROM t IN c.tags) FROM c",
            "aggregate query",
        ),
        (
            "SELECT VALUE (SELECT VALUE y FROM t IN c.tags) FROM c",
            "'y' is not bound",
        ),
        (
            "SELECT VALUE (SELECT VALUE t FROM t IN c.tags",
            "closing the subquery",
        ),
    ] {
        let e = error(&c, sql, &[]);
        assert!(e.contains(want), "{sql}: {e}");
    }
}

#[test]
fn errors_name_line_column_and_token() {
    let (_dir, c) = setup();
    // (query, line, column, the offending text or None for "at the end of the query").
    let cases: &[(&str, usize, usize, Option<&str>)] = &[
        ("", 1, 1, None),
        ("SELECT * FROM c WHERE", 1, 22, None),
        ("SELECT c.id FROM c WHERE c.id = = 'a'", 1, 33, Some("=")),
        ("SELECT *\nFROM c\nWHERE c.a >", 3, 12, None),
        ("SELECT *\n  FROM c\n  WHERE c.a ! 1", 3, 13, Some("!")),
        ("SELECT VALUE x.id FROM c", 1, 14, Some("x")),
        ("SELECT * FROM c WHERE c.id = @id", 1, 30, Some("@id")),
        ("SELECT * FROM c WHERE COUNT(1) > 1", 1, 23, Some("COUNT(1)")),
        ("SELECT * FROM c JOIN t IN c.tags", 1, 1, Some("SELECT *")),
        ("SELECT *", 1, 1, Some("SELECT *")),
        ("SELECT VALUE SUM(COUNT(1)) FROM c", 1, 18, Some("COUNT(1)")),
        ("SELECT c.pk, COUNT(1) FROM c GROUP BY c.id", 1, 8, Some("c.pk")),
        (
            "SELECT c.pk FROM c GROUP BY c.pk ORDER BY c.pk",
            1,
            43,
            Some("c.pk"),
        ),
        ("SELECT VALUE FOO(1)", 1, 14, Some("FOO")),
        ("SELECT VALUE LOWER('a', 'b')", 1, 14, Some("LOWER('a', 'b')")),
        ("SELECT VALUE CONCAT('a')", 1, 14, Some("CONCAT('a')")),
        ("SELECT TOP -1 * FROM c", 1, 12, Some("-")),
        ("SELECT # FROM c", 1, 8, Some("#")),
        ("SELECT VALUE 'abc", 1, 14, Some("'abc")),
        ("SELECT c.id, c.id FROM c", 1, 14, Some("c.id")),
        ("SELECT * FROM c LIMIT 5", 1, 17, Some("LIMIT")),
        ("SELECT * FROM c ORDER c.id", 1, 23, Some("c")),
        ("SELECT * FROM select", 1, 15, Some("select")),
        ("SELECT VALUE 1 FROM c JOIN t IN x.tags", 1, 33, Some("x")),
        ("SELECT VALUE t FROM c JOIN c IN c.tags", 1, 33, Some("c.tags")),
        ("SELECT * FROM c WHERE c.a IN ()", 1, 31, Some(")")),
        ("SELECT * FROM c WHERE c.a BETWEEN 1 OR 2", 1, 37, Some("OR")),
        ("SELECT VALUE {\"a\": 1, \"a\": 2}", 1, 23, Some("\"a\"")),
        ("SELECT VALUE c.", 1, 16, None),
        ("SELECT VALUE 1 ? 2", 1, 19, None),
        ("SELECT VALUE 'bad \\x escape'", 1, 19, Some("\\x")),
        ("SELECT VALUE 1 FROM c x IN c.tags", 1, 25, Some("IN")),
        ("SELECT * FROM c WHERE c.a = 1 extra", 1, 31, Some("extra")),
        ("SELECT VALUE ünï FROM c", 1, 14, Some("ünï")),
        ("SELECT VALUE 'é' || ünï FROM c", 1, 21, Some("ünï")),
        (
            "SELECT VALUE t FROM t IN c.tags WHERE c.id = 'a1'",
            1,
            39,
            Some("c"),
        ),
        ("SELECT * FROM t IN c.tags JOIN u IN t", 1, 1, Some("SELECT *")),
        (
            "SELECT VALUE t FROM t IN c.tags JOIN r IN c.ratings",
            1,
            43,
            Some("c"),
        ),
        ("SELECT * FROM c.tags[0]", 1, 15, Some("c.tags[0]")),
        ("SELECT * FROM t IN 5", 1, 20, Some("5")),
        ("SELECT VALUE 'a' LIKE 'a' ESCAPE 'ab'", 1, 34, Some("'ab'")),
        ("SELECT VALUE 'a' LIKE 'a' ESCAPE c.x FROM c", 1, 34, Some("c")),
        ("SELECT VALUE 'a' LIKE", 1, 22, None),
        ("SELECT VALUE 1 & & 2", 1, 18, Some("&")),
        ("SELECT VALUE IntAdd(1)", 1, 14, Some("IntAdd(1)")),
    ];
    for (sql, line, col, near) in cases {
        let m = error(&c, sql, &[]);
        assert!(m.contains(&format!("line {line}, column {col} ")), "{sql:?}: {m}");
        match near {
            Some(text) => assert!(m.contains(&format!("near '{text}'")), "{sql:?}: {m}"),
            None => assert!(m.contains("at the end of the query"), "{sql:?}: {m}"),
        }
    }
}

#[test]
fn byte_offsets_are_reported() {
    let (_dir, c) = setup();
    let m = error(&c, "SELECT é, # FROM c", &[]);
    // 'é' is two bytes: '#' is at byte 11 but column 11.
    assert!(m.contains("line 1, column 11 (byte offset 11)"), "{m}");
}

#[test]
fn parameter_errors() {
    let (_dir, c) = setup();
    let m = error(&c, "SELECT TOP @n * FROM c", &[("@n", json!("x"))]);
    assert!(m.contains("column 12") && m.contains("@n"), "{m}");
    let m = error(&c, "SELECT TOP @n * FROM c", &[("@n", json!(-1))]);
    assert!(m.contains("non-negative integer"), "{m}");
    let m = error(&c, "SELECT * FROM c OFFSET @o LIMIT 1", &[("@o", json!(1.5))]);
    assert!(m.contains("column 24"), "{m}");
    let m = error(&c, "SELECT VALUE @a", &[("@a", json!(1)), ("a", json!(2))]);
    assert!(m.contains("@a is given twice"), "{m}");
    let m = error(&c, "SELECT VALUE @b", &[("@a", json!(1))]);
    assert!(
        m.contains("@b was not supplied") && m.contains("column 14"),
        "{m}"
    );
}

#[test]
fn hostile_queries_are_400_not_panics() {
    let (_dir, c) = setup();
    let deep = [
        format!("SELECT VALUE {}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("SELECT VALUE {}1", "- ".repeat(10_000)),
        format!("SELECT VALUE {}true", "NOT ".repeat(10_000)),
        format!("SELECT VALUE c{} FROM c", ".a".repeat(10_000)),
        format!("SELECT VALUE c{} FROM c", "[0]".repeat(10_000)),
        format!("SELECT VALUE 1{}", " + 1".repeat(10_000)),
        format!("SELECT VALUE {}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("SELECT VALUE {}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
        format!("SELECT VALUE {}1", "1 ? 1 : ".repeat(10_000)),
        format!("SELECT VALUE {}", "LOWER(".repeat(10_000)),
        format!("SELECT * FROM c WHERE {}", "c.a = 1 AND ".repeat(10_000) + "true"),
    ];
    for sql in &deep {
        let m = error(&c, sql, &[]);
        assert!(m.contains("nests deeper than 128"), "{}: {m}", &sql[..40]);
    }
    // Just inside the limit works.
    let ok = format!("SELECT VALUE {}1{}", "(".repeat(120), ")".repeat(120));
    let r = c.query_items(&ok, &[], &QueryOptions::default()).unwrap();
    assert_eq!(r.items, vec![json!(1)]);
    // Garbage of every byte value never panics.
    for b in 0u8..=255 {
        let sql = format!("SELECT VALUE {}", char::from(b));
        let _ = c.query_items(&sql, &[], &QueryOptions::default());
    }
    for sql in [
        "'",
        "\"",
        "@",
        "SELECT VALUE \\",
        "SELECT VALUE 1e",
        "SELECT VALUE 1e+",
        "SELECT VALUE .",
        "-- only a comment",
    ] {
        let _ = c.query_items(sql, &[], &QueryOptions::default());
    }
}
