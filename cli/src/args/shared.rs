//! Arguments shared by several commands and their meaning in engine terms: the global flags
//! (-> AccountOptions, output format), partition-key flags (an item's key, a query's or feed's
//! scope) and item bodies. Parsing only: no engine calls, no printing.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Deserialize;
use serde_json::Value;
use strata_engine::{
    json_nesting_depth, AccountOptions, Durability, PartitionKey, DEFAULT_KEY_CHECK_INTERVAL, MAX_ITEM_DEPTH,
};

use crate::error::{CliError, CliResult};
use crate::output::{ErrorContext, Format};

/// Flags accepted before or after any subcommand.
#[derive(Args, Debug, Clone)]
pub struct Globals {
    /// Data directory: ciphertext, wrapped keys and the plaintext catalog.
    #[arg(long, global = true, value_name = "DIR", default_value = "./strata-data")]
    pub data: PathBuf,

    /// Home of the key holders (service/ and vault/); overrides $STRATA_HOME [default: $STRATA_HOME, else ~/.strata].
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Output format [default: table when stdout is a terminal, json otherwise].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// When writes are acknowledged: sync = fsync before ack; buffered = after the OS has them.
    #[arg(long, global = true, value_enum, default_value_t = DurabilityArg::Sync)]
    pub durability: DurabilityArg,

    /// The key vault `vault` commands act on: one made by `strata vault create NAME` [default: the default vault in <home>/vault].
    #[arg(long, global = true, value_name = "NAME")]
    pub vault: Option<String>,

    /// How often, in seconds, an open customer-managed-key account checks its key again in
    /// the background (what a long-running `strata shell` relies on to notice a revoked key).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = DEFAULT_KEY_CHECK_INTERVAL.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub key_check_interval: u64,

    /// On an error, also print details: the error's debug form and causes, the request charge,
    /// and the data directory and home in use.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// After the command, print the request units it charged in total (all containers), its
    /// operations and its 429s on stderr.
    #[arg(long, global = true)]
    pub stats: bool,
}

impl Globals {
    /// The account options these flags describe.
    pub fn account_options(&self) -> AccountOptions {
        let home = self.home.clone().unwrap_or_else(AccountOptions::default_home);
        AccountOptions::new(self.data.clone(), home)
            .durability(self.durability.into())
            .key_check_interval(Duration::from_secs(self.key_check_interval))
    }

    /// What `-v` adds to a printed error; `None` without `-v`.
    pub fn error_context(&self) -> Option<ErrorContext> {
        self.verbose.then(|| {
            let opts = self.account_options();
            ErrorContext {
                data_dir: opts.data_dir.display().to_string(),
                home: opts.home.display().to_string(),
            }
        })
    }

    /// The output format in force.
    pub fn format(&self) -> Format {
        Format::resolve(self.output)
    }
}

/// `--durability` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// fsync the log before acknowledging a write (survives power loss).
    Sync,
    /// Acknowledge once the OS has the write (survives a process crash, not a power loss).
    Buffered,
}

impl From<DurabilityArg> for Durability {
    fn from(d: DurabilityArg) -> Durability {
        match d {
            DurabilityArg::Sync => Durability::Sync,
            DurabilityArg::Buffered => Durability::Buffered,
        }
    }
}

/// The partition-key value addressing one item (`--pk`, `--pk-json` or `--pk-none`).
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct PkArgs {
    /// Partition-key value: read as JSON when it is a number, true, false or null, else as a string.
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    pub pk: Option<String>,

    /// Partition-key value as a JSON literal, e.g. --pk-json '"123"' for the string "123", or
    /// for a hierarchical key a JSON array of every level, e.g. --pk-json '["t1","u1"]'.
    #[arg(long = "pk-json", value_name = "JSON", allow_hyphen_values = true)]
    pub pk_json: Option<String>,

    /// The item has no partition-key value (the path is missing from it).
    #[arg(long = "pk-none")]
    pub pk_none: bool,
}

impl PkArgs {
    pub fn partition_key(&self) -> CliResult<PartitionKey> {
        if let Some(raw) = &self.pk {
            return pk_from_flag(raw);
        }
        if let Some(raw) = &self.pk_json {
            return pk_from_json_flag(raw);
        }
        Ok(PartitionKey::None)
    }
}

/// The partition key a query or change feed is scoped to (`--pk` or `--pk-json`); none: the
/// whole container. For a hierarchical key, a prefix of its levels will do.
#[derive(Args, Debug, Clone, Default)]
#[group(required = false, multiple = false)]
pub struct ScopeArgs {
    /// One partition only: read as JSON when it is a number, true, false or null, else as a
    /// string (for a hierarchical key: the partitions under that first level).
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    pub pk: Option<String>,

    /// One partition as a JSON literal, or for a hierarchical key a JSON array of its first
    /// levels or all of them, e.g. --pk-json '["t1"]' (every user of t1) or '["t1","u1"]'.
    #[arg(long = "pk-json", value_name = "JSON", allow_hyphen_values = true)]
    pub pk_json: Option<String>,
}

impl ScopeArgs {
    pub fn partition_key(&self) -> CliResult<Option<PartitionKey>> {
        match (&self.pk, &self.pk_json) {
            (Some(raw), _) => pk_from_flag(raw).map(Some),
            (None, Some(raw)) => pk_from_json_flag(raw).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// `--pk-json JSON`: a scalar, or an array with one value per level of a hierarchical key
/// (`{}` for a level the item lacks).
pub fn pk_from_json_flag(raw: &str) -> CliResult<PartitionKey> {
    let v: Value = serde_json::from_str(raw).map_err(|e| {
        CliError::bad_input(format!(
            "--pk-json {raw:?} is not a JSON literal ({e}); quote strings, e.g. --pk-json '\"123\"' or '[\"t1\",\"u1\"]'"
        ))
    })?;
    PartitionKey::from_json_key(&v).map_err(|e| {
        CliError::from(e).with_hint(
            "--pk-json must be a string, number, boolean or null, or an array of 1 to 3 of them \
             (one per level of a hierarchical key)",
        )
    })
}

/// `--pk VALUE`: a JSON number, boolean or null when it parses as one, else the string itself.
pub fn pk_from_flag(raw: &str) -> CliResult<PartitionKey> {
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => pk_from_json(&v, "--pk"),
        _ => Ok(PartitionKey::String(raw.to_string())),
    }
}

fn pk_from_json(v: &Value, what: &str) -> CliResult<PartitionKey> {
    PartitionKey::from_json(v)
        .map_err(|e| CliError::from(e).with_hint(format!("{what} must be a string, number, boolean or null")))
}

/// Where an item's JSON comes from (`--json` or `--file`).
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct BodyArgs {
    /// The item as a JSON object, e.g. --json '{"id":"1","tenant":"a"}'.
    #[arg(long, value_name = "JSON")]
    pub json: Option<String>,

    /// A file holding the item as a JSON object ("-" reads standard input).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Parses JSON text meant as an item. Too deep for an item is refused before parsing: the parse
/// has no recursion limit (serde_json's is one level short of an item's), so the depth check is
/// what keeps hostile input from overflowing the stack. The error completes "the item ...".
pub fn parse_item_json(text: &str) -> Result<Value, String> {
    parse_json_within(text, MAX_ITEM_DEPTH)
}

/// As `parse_item_json`, with another depth limit (a batch file holds items two levels down:
/// an array of operations that hold items).
pub fn parse_json_within(text: &str, max_depth: usize) -> Result<Value, String> {
    if json_nesting_depth(text.as_bytes()) > max_depth {
        return Err(format!(
            "nests objects and arrays deeper than {max_depth} levels (an item may nest \
             {MAX_ITEM_DEPTH})"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| format!("is not valid JSON ({e})"))
}

impl BodyArgs {
    /// The item, checked to be a JSON object; any problem is a 400 that names the flag.
    pub fn read(&self) -> CliResult<Value> {
        let (text, source) = match (&self.json, &self.file) {
            (Some(text), _) => (text.clone(), "--json".to_string()),
            (None, Some(path)) => (read_file(path)?, format!("--file {}", path.display())),
            (None, None) => {
                return Err(CliError::bad_input(
                    "no item given; pass --json '{...}' or --file FILE",
                ))
            }
        };
        let v = parse_item_json(&text).map_err(|why| {
            CliError::bad_input(format!(
                "{source} {why}; pass one JSON object, e.g. '{{\"id\":\"1\"}}'"
            ))
        })?;
        if !v.is_object() {
            return Err(CliError::bad_input(format!(
                "{source} must be a JSON object with an \"id\", not {}",
                kind(&v)
            )));
        }
        Ok(v)
    }
}

pub fn read_file(path: &PathBuf) -> CliResult<String> {
    let result = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    result.map_err(|e| {
        CliError::bad_input(format!(
            "cannot read --file {} ({e}); check the path and that it holds UTF-8 JSON",
            path.display()
        ))
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pk_flag_reads_json_scalars_else_strings() {
        let cases: &[(&str, PartitionKey)] = &[
            ("42", PartitionKey::Number(42.0)),
            ("-1.5", PartitionKey::Number(-1.5)),
            ("true", PartitionKey::Bool(true)),
            ("null", PartitionKey::Null),
            ("abc", PartitionKey::String("abc".into())),
            ("\"q\"", PartitionKey::String("\"q\"".into())),
            ("[1]", PartitionKey::String("[1]".into())),
        ];
        for (raw, want) in cases {
            assert_eq!(&pk_from_flag(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn pk_json_forces_literal() {
        let a = PkArgs {
            pk: None,
            pk_json: Some("\"123\"".into()),
            pk_none: false,
        };
        assert_eq!(a.partition_key().unwrap(), PartitionKey::String("123".into()));
        let bad = PkArgs {
            pk: None,
            pk_json: Some("123abc".into()),
            pk_none: false,
        };
        assert_eq!(bad.partition_key().unwrap_err().status, 400);
    }

    #[test]
    fn pk_json_takes_every_level_of_a_hierarchical_key() {
        let a = PkArgs {
            pk: None,
            pk_json: Some(r#"["t1", 2, {}]"#.into()),
            pk_none: false,
        };
        assert_eq!(
            a.partition_key().unwrap(),
            PartitionKey::hierarchical([
                PartitionKey::from("t1"),
                PartitionKey::from(2i64),
                PartitionKey::None
            ])
            .unwrap()
        );
        let scope = ScopeArgs {
            pk: None,
            pk_json: Some(r#"["t1"]"#.into()),
        };
        assert_eq!(scope.partition_key().unwrap(), Some("t1".into()));
        assert_eq!(ScopeArgs::default().partition_key().unwrap(), None);
        for bad in ["[]", "[1,2,3,4]", "[[1]]", r#"{"a":1}"#] {
            let a = ScopeArgs {
                pk: None,
                pk_json: Some(bad.into()),
            };
            assert_eq!(a.partition_key().unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn body_must_be_an_object() {
        let b = |s: &str| BodyArgs {
            json: Some(s.into()),
            file: None,
        };
        assert!(b("{\"id\":\"1\"}").read().is_ok());
        assert_eq!(b("{nope").read().unwrap_err().status, 400);
        assert_eq!(b("[1]").read().unwrap_err().status, 400);
        let missing = BodyArgs {
            json: None,
            file: Some("/definitely/not/here.json".into()),
        };
        assert_eq!(missing.read().unwrap_err().status, 400);
    }
}
