//! The shell's statements and their parser: `use DB[/CONT]`, `SELECT ...`, `get ID PK`,
//! `create JSON`, `upsert JSON`, `delete ID PK`, `patch ID PK JSON`, `dbs`, `containers`,
//! `stats`, `help`, `exit`.
//! Pure parsing; `session` runs them.

/// One line of shell input, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// Nothing to do (blank line or a `--` comment).
    Empty,
    Use {
        db: String,
        container: Option<String>,
    },
    /// A query (the whole line) over the current container.
    Query(String),
    Get {
        id: String,
        pk: String,
    },
    Create(String),
    Upsert(String),
    Delete {
        id: String,
        pk: String,
    },
    /// Patch operations (a JSON array) for one item.
    Patch {
        id: String,
        pk: String,
        ops: String,
    },
    Databases,
    Containers,
    /// The session's request units per container.
    Stats,
    Help,
    Exit,
}

/// The statement keywords, for completion and help.
pub const KEYWORDS: [&str; 13] = [
    "use",
    "select",
    "get",
    "create",
    "upsert",
    "delete",
    "patch",
    "dbs",
    "containers",
    "stats",
    "help",
    "exit",
    "quit",
];

/// What `help` prints.
pub const HELP: &str = "\
use DB/CONT            pick the database and container the statements below work on
SELECT ...             run a query over the container (all pages, up to 1000 items)
get ID PK              read an item (PK read as JSON when a number, true, false or null;
                       under a hierarchical key a JSON array without spaces, e.g. [\"t1\",\"u1\"])
create {JSON}          create an item (its partition key is taken from the item)
upsert {JSON}          create or replace an item
delete ID PK           delete an item
patch ID PK [OPS]      patch an item, e.g. patch o1 alice [{\"op\":\"incr\",\"path\":\"/qty\",\"value\":1}]
dbs | containers       list the databases | the containers of the current database
stats                  request units this session charged per container (total, RU/s last minute, 429s)
help | exit            this text | leave (also Ctrl-D)";

/// Parses one line; the error says what was expected.
pub fn parse(line: &str) -> Result<Statement, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with("--") {
        return Ok(Statement::Empty);
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let st = match word.to_ascii_lowercase().as_str() {
        "select" => Statement::Query(line.to_string()),
        "use" => match args.as_slice() {
            [target] => match target.split_once('/') {
                Some((db, c)) if !db.is_empty() && !c.is_empty() => Statement::Use {
                    db: db.to_string(),
                    container: Some(c.to_string()),
                },
                Some(_) => return Err("use DB/CONT: give both names, e.g. use shop/orders".into()),
                None => Statement::Use {
                    db: (*target).to_string(),
                    container: None,
                },
            },
            [db, c] => Statement::Use {
                db: (*db).to_string(),
                container: Some((*c).to_string()),
            },
            _ => return Err("use DB/CONT, e.g. use shop/orders".into()),
        },
        "get" | "delete" => match args.as_slice() {
            [id, pk] => {
                let (id, pk) = ((*id).to_string(), (*pk).to_string());
                if word.eq_ignore_ascii_case("get") {
                    Statement::Get { id, pk }
                } else {
                    Statement::Delete { id, pk }
                }
            }
            _ => return Err(format!("{word} ID PK, e.g. {word} o1 alice")),
        },
        "patch" => {
            let mut parts = rest.splitn(3, char::is_whitespace);
            match (parts.next(), parts.next(), parts.next().map(str::trim)) {
                (Some(id), Some(pk), Some(ops)) if !id.is_empty() && !ops.is_empty() => Statement::Patch {
                    id: id.to_string(),
                    pk: pk.to_string(),
                    ops: ops.to_string(),
                },
                _ => return Err(
                    "patch ID PK [OPS], e.g. patch o1 alice [{\"op\":\"set\",\"path\":\"/qty\",\"value\":2}]"
                        .into(),
                ),
            }
        }
        "create" | "upsert" if !rest.is_empty() => {
            if word.eq_ignore_ascii_case("create") {
                Statement::Create(rest.to_string())
            } else {
                Statement::Upsert(rest.to_string())
            }
        }
        "create" | "upsert" => return Err(format!("{word} {{JSON}}, e.g. {word} {{\"id\":\"1\"}}")),
        "dbs" if args.is_empty() => Statement::Databases,
        "containers" if args.is_empty() => Statement::Containers,
        "stats" if args.is_empty() => Statement::Stats,
        "help" | "\\?" => Statement::Help,
        "exit" | "quit" | "\\q" => Statement::Exit,
        _ => return Err(format!("unknown statement {word:?}; type help")),
    };
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_parse() {
        let s = |x: &str| x.to_string();
        let cases = [
            ("", Statement::Empty),
            ("  -- a comment", Statement::Empty),
            (
                "use shop/orders",
                Statement::Use {
                    db: s("shop"),
                    container: Some(s("orders")),
                },
            ),
            (
                "USE shop orders",
                Statement::Use {
                    db: s("shop"),
                    container: Some(s("orders")),
                },
            ),
            (
                "use shop",
                Statement::Use {
                    db: s("shop"),
                    container: None,
                },
            ),
            (
                "select * from c where c.a = 'x y'",
                Statement::Query(s("select * from c where c.a = 'x y'")),
            ),
            (
                "get o1 alice",
                Statement::Get {
                    id: s("o1"),
                    pk: s("alice"),
                },
            ),
            (
                "delete o1 5",
                Statement::Delete {
                    id: s("o1"),
                    pk: s("5"),
                },
            ),
            (
                "patch o1 alice [{\"op\": \"remove\", \"path\": \"/a\"}]",
                Statement::Patch {
                    id: s("o1"),
                    pk: s("alice"),
                    ops: s("[{\"op\": \"remove\", \"path\": \"/a\"}]"),
                },
            ),
            ("create {\"id\": \"1\"}", Statement::Create(s("{\"id\": \"1\"}"))),
            ("upsert  {}", Statement::Upsert(s("{}"))),
            ("dbs", Statement::Databases),
            ("containers", Statement::Containers),
            ("stats", Statement::Stats),
            ("help", Statement::Help),
            ("\\q", Statement::Exit),
            ("quit", Statement::Exit),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), Ok(want), "{line}");
        }
        for bad in [
            "use",
            "use a/",
            "use a b c",
            "get o1",
            "delete",
            "patch o1 alice",
            "patch",
            "create",
            "frob",
            "dbs x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
