//! Decoder fuzzing of items (proptest, stable Rust, part of every `cargo test`): random JSON
//! values up to ~140 levels deep with odd keys, ids and ttls go through `validate_item` (SMK and
//! CMK rules), whose verdict must match the rules as written in document/item.rs; accepted items
//! round-trip through `parse_stored`, which also takes arbitrary bytes and nesting of any depth
//! without panicking or overflowing the stack. The one-pass typed read (`typed_read.rs`) must
//! agree with the two-pass one on whatever it decodes, and decode every stored item it can.
//! See docs/reliability.md ("Decoder fuzzing").

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::container::{parse_stored, without_lsn};
use super::typed_read::decode_typed;
use crate::document::item_lsn;
use crate::document::{validate_item, ItemRules};
use strata_base::fuzz_support::config;

const CMK_RESERVED: [&str; 7] = ["_ts", "_etag", "_rid", "_self", "_attachments", "_epk", "_lsn"];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{1,6}",
        1 => "\\PC{0,8}",
        1 => proptest::sample::select(&[
            "", "id", "ID", "ttl", "_ts", "_etag", "_rid", "_self", "_attachments", "_epk", "_lsn",
            "__sys_", "__sys_x", "_sys_x", "é", "\u{0}", "a/b", "a.b", " ",
        ][..]).prop_map(str::to_string),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        "\\PC{0,16}".prop_map(Value::from),
        (0usize..5000).prop_map(|n| Value::from("x".repeat(n))),
    ]
}

/// A small random tree of objects, arrays and scalars.
fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((key(), inner), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A tree wrapped in up to 140 levels of arrays and objects (each with a random sibling).
fn deep() -> impl Strategy<Value = Value> {
    (tree(), vec((any::<bool>(), key(), scalar()), 0..140)).prop_map(|(leaf, spine)| {
        spine.into_iter().fold(leaf, |v, (array, k, sibling)| {
            if array {
                Value::Array(vec![sibling, v])
            } else {
                let mut m = Map::new();
                m.insert(format!("s{k}"), sibling);
                m.insert(k, v);
                Value::Object(m)
            }
        })
    })
}

fn id() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => "[a-zA-Z0-9_-]{1,12}".prop_map(|s| Some(Value::from(s))),
        2 => "\\PC{0,12}".prop_map(|s| Some(Value::from(s))),
        1 => proptest::sample::select(&[
            "", "a/b", "a\\b", "a?b", "a#b", " ", "é", "\u{0}",
        ][..]).prop_map(|s| Some(Value::from(s))),
        1 => (1020usize..1026).prop_map(|n| Some(Value::from("x".repeat(n)))),
        1 => (1020usize..1026).prop_map(|n| Some(Value::from(format!("{}é", "x".repeat(n - 2))))),
        1 => Just(None),
        1 => scalar().prop_map(Some),
    ]
}

fn ttl() -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(prop_oneof![
        proptest::sample::select(&[-2i64, -1, 0, 1, 86_400, i64::MAX, i64::MIN][..]).prop_map(Value::from),
        Just(Value::from(1.0)),
        Just(Value::from(1.5)),
        Just(Value::from(u64::MAX)),
        Just(Value::from("10")),
        Just(Value::Null),
    ])
}

/// An item: a random object, with maybe an id and a ttl, and a deep subtree.
fn item() -> impl Strategy<Value = Value> {
    (
        vec((key(), tree()), 0..6),
        id(),
        ttl(),
        deep(),
        prop_oneof![8 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(props, id, ttl, deep, object)| {
            if !object {
                return deep;
            }
            let mut m: Map<String, Value> = props.into_iter().collect();
            if let Some(id) = id {
                m.insert("id".into(), id);
            }
            if let Some(ttl) = ttl {
                m.insert("ttl".into(), ttl);
            }
            m.insert("deep".into(), deep);
            Value::Object(m)
        })
}

/// Containers on the deepest path (the item itself counts as 1; scalars do not count).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The rules of document/item.rs, restated: `Ok(id)` or `Err(())` for a 400.
fn oracle(item: &Value, cmk: bool) -> Result<&str, ()> {
    let obj = item.as_object().ok_or(())?;
    let id = obj.get("id").and_then(Value::as_str).ok_or(())?;
    let id_ok = (1..=1023).contains(&id.len()) && !id.contains('/') && !id.contains('\\');
    let sys = obj.keys().any(|k| k.starts_with("__sys_"));
    let reserved = cmk && CMK_RESERVED.iter().any(|k| obj.contains_key(*k));
    let ttl_ok = match obj.get("ttl") {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => !n.is_f64() && n.as_i64().is_some_and(|t| t > 0 || t == -1),
        Some(_) => false,
    };
    if id_ok && !sys && !reserved && ttl_ok && depth(item) <= 128 {
        Ok(id)
    } else {
        Err(())
    }
}

proptest! {
    // 256 cases: each builds and checks a value of up to ~200 nodes and a few KiB of strings, in
    // both modes; a few seconds in all in a debug build.
    #![proptest_config(config(256))]

    /// The validator's verdict is the rules' verdict, for both key modes; a refusal is a 400;
    /// an accepted item, stored as JSON, parses back to exactly itself.
    #[test]
    fn validator_follows_the_rules(item in item()) {
        for cmk in [false, true] {
            let got = validate_item(&item, &ItemRules { cmk });
            match (&got, oracle(&item, cmk)) {
                (Ok(id), Ok(want)) => prop_assert_eq!(*id, want),
                (Err(e), Err(())) => prop_assert_eq!(e.status(), 400, "{}", e),
                (got, want) => prop_assert!(false, "cmk {}: validator {:?}, rules {:?} (depth {})",
                    cmk, got.as_ref().map_err(ToString::to_string), want, depth(&item)),
            }
            if got.is_ok() {
                let stored = serde_json::to_vec(&item).unwrap();
                prop_assert_eq!(&parse_stored(&stored).unwrap(), &item);
            }
        }
    }

    /// Arbitrary bytes, and stored items with a byte changed, removed or cut off: the stored-item
    /// parser returns a value or a 500 (stored bytes are authenticated before they get here, so
    /// a parse failure is an internal error), never a panic.
    #[test]
    fn stored_item_parser_takes_any_bytes(
        junk in vec(any::<u8>(), 0..1024),
        item in tree(),
        at in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
        how in 0..3u8,
    ) {
        if let Err(e) = parse_stored(&junk) {
            prop_assert_eq!(e.status(), 500);
        }
        let mut b = serde_json::to_vec(&item).unwrap();
        let at = at.index(b.len());
        match how {
            0 => b[at] = byte,
            1 => { b.remove(at); }
            _ => b.truncate(at),
        }
        if let Err(e) = parse_stored(&b) {
            prop_assert_eq!(e.status(), 500);
        }
    }
}

/// What `read_item` returned before the one-pass read: parse into a `Value`, note `_etag` and
/// `_lsn`, drop `_lsn`, rebuild `T` from the `Value`.
fn two_pass<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<(T, Option<String>, Option<u64>)> {
    let v = parse_stored(bytes).ok()?;
    let etag = v.get("_etag").and_then(Value::as_str).map(str::to_string);
    let lsn = item_lsn(&v);
    Some((serde_json::from_value(without_lsn(v)).ok()?, etag, lsn))
}

/// A shape that fits some stored items and not others, with `deny_unknown_fields` so that a
/// leftover `_lsn` would be refused.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    id: String,
    deep: Value,
    #[serde(default)]
    ttl: Option<i64>,
    #[serde(default)]
    _etag: Option<Value>,
}

proptest! {
    #![proptest_config(config(256))]

    /// Random items stored with an `_lsn` (and often an `_etag`, not always a string) and
    /// sometimes with a byte changed: whatever the one-pass read decodes, as a `Value` or as a
    /// struct, equals what the two-pass read makes of it; and it decodes every object the
    /// two-pass read does, up to serde_json's recursion limit.
    #[test]
    fn one_pass_read_equals_two_pass(
        item in item(),
        lsn in prop_oneof![Just(Value::from(7u64)), any::<u64>().prop_map(Value::from),
            Just(Value::from(-1)), Just(Value::from("9")), Just(Value::Null)],
        etag in proptest::option::of(prop_oneof![3 => "\\PC{0,12}".prop_map(Value::from), 1 => scalar()]),
        damage in proptest::option::of((any::<proptest::sample::Index>(), any::<u8>())),
    ) {
        let mut stored = item;
        if let Some(o) = stored.as_object_mut() {
            o.insert("_lsn".into(), lsn);
            if let Some(e) = etag {
                o.insert("_etag".into(), e);
            }
        }
        let mut bytes = serde_json::to_vec(&stored).unwrap();
        if let Some((at, byte)) = damage {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        let reference = two_pass::<Value>(&bytes);
        match decode_typed::<Value>(&bytes) {
            Some(t) => prop_assert_eq!(Some((t.item, t.etag, t.lsn)), reference),
            // serde_json refuses the 128th level of nesting; past that only the two-pass
            // path (no recursion limit) parses.
            None => prop_assert!(
                reference.as_ref().is_none_or(|(v, _, _)| !v.is_object() || depth(v) >= 128),
                "the one-pass read refused what the two-pass read took (depth {:?})",
                reference.as_ref().map(|(v, _, _)| depth(v))
            ),
        }
        if let Some(t) = decode_typed::<Strict>(&bytes) {
            prop_assert_eq!(Some((t.item, t.etag, t.lsn)), two_pass::<Strict>(&bytes));
        }
    }
}

proptest! {
    // 128 cases: inputs up to 40 KB; a refused one costs one linear scan, an accepted one a parse
    // of at most 256 levels.
    #![proptest_config(config(128))]

    /// Nesting of any depth up to 20,000, balanced or not, with brackets inside strings too: the
    /// stored-item parser returns the value (at most 256 levels) or a 500, never a stack overflow.
    #[test]
    fn stored_item_parser_survives_deep_nesting(
        n in 0usize..20_000,
        object in any::<bool>(),
        closed in any::<bool>(),
        in_string in any::<bool>(),
    ) {
        let (open, close) = if object { ("{\"a\":", "}") } else { ("[", "]") };
        let leaf = if in_string { "\"[[{{\\\"[\"" } else { "1" };
        let closers = if closed { close.repeat(n) } else { String::new() };
        let text = format!("{}{leaf}{closers}", open.repeat(n));
        match parse_stored(text.as_bytes()) {
            Ok(v) => {
                prop_assert!(closed && n <= 256, "depth {} parsed", n);
                prop_assert_eq!(depth(&v), n);
            }
            Err(e) => {
                prop_assert_eq!(e.status(), 500);
                prop_assert!(!closed || n > 256, "depth {} refused: {}", n, e);
            }
        }
    }
}

/// Regression (found fuzzing the stored-item parser with deep inputs: 5,000 levels overflowed a
/// test thread's stack and aborted the test binary): stored bytes nested 100,000 deep are a 500,
/// not a crash.
#[test]
fn stored_bytes_nested_100_000_deep_are_refused() {
    for text in [
        "[".repeat(100_000),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    ] {
        assert_eq!(parse_stored(text.as_bytes()).unwrap_err().status(), 500);
    }
    // The deepest item the rules allow, inside its change-feed record, still parses.
    let item = (0..127).fold(serde_json::json!(1), |v, _| serde_json::json!({ "a": v }));
    let record = serde_json::json!({"current": {"id": "x", "deep": item}});
    assert_eq!(
        parse_stored(&serde_json::to_vec(&record).unwrap()).unwrap(),
        record
    );
}

/// Regression (found by `validator_follows_the_rules`): serde_json's default float parser read
/// some numbers back one ulp off what its serializer wrote, so a stored item returned different
/// data. The engine now builds serde_json with `float_roundtrip`.
#[test]
fn stored_floats_read_back_exactly() {
    for f in [
        -4.474827850483011e-236,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        0.1 + 0.2,
    ] {
        let item = serde_json::json!({"id": "f", "n": f, "a": [f]});
        let stored = serde_json::to_vec(&item).unwrap();
        assert_eq!(parse_stored(&stored).unwrap(), item, "{f:e}");
    }
}
