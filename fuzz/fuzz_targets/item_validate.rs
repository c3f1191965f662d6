//! Fuzz target: the item validator and the stored-item parser (`strata_engine::fuzzing`) on
//! arbitrary bytes, taken the three ways the engine meets them: parsed by serde_json as an API
//! caller's value, parsed as the CLI parses `--json` (nesting checked first, then no recursion
//! limit), and as a stored item's bytes on read. Refusals are 400s (500 for stored bytes); an
//! accepted item round-trips through storage. The same values are read as a partition key the
//! way clients send one (a scalar, or an array of a hierarchical key's levels) and taken from an
//! item by a hierarchical definition. Never a panic or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;
use strata_engine::fuzzing::{parse_stored, partition_key, validate_item};
use strata_engine::{json_nesting_depth, PartitionKey, PartitionKeyDefinition, MAX_ITEM_DEPTH};

/// As `strata-cli`'s `parse_item_json`: too deep is refused before an unbounded parse.
fn parse_like_cli(bytes: &[u8]) -> Option<Value> {
    if json_nesting_depth(bytes) > MAX_ITEM_DEPTH {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .ok()
}

fn check_item(item: &Value) {
    let smk = validate_item(item, false);
    let cmk = validate_item(item, true);
    for r in [&smk, &cmk] {
        match r {
            Ok(id) => assert_eq!(item.get("id").and_then(Value::as_str), Some(id.as_str())),
            Err(e) => assert_eq!(e.status(), 400, "{e}"),
        }
    }
    // The customer-managed-key rules only add refusals.
    assert!(smk.is_ok() || cmk.is_err(), "accepted under CMK but not SMK");
    if smk.is_ok() {
        let stored = serde_json::to_vec(item).expect("an accepted item serializes");
        let back = parse_stored(&stored).expect("an accepted item parses back from storage");
        assert_eq!(&back, item);
        for path in [vec!["pk".to_string()], vec!["a".to_string(), "b".to_string()]] {
            if let Err(e) = partition_key(item, &path) {
                assert_eq!(e.status(), 400, "{e}");
            }
        }
        let hierarchical = PartitionKeyDefinition::new(&["/pk", "/a/b", "/c"]).expect("a valid definition");
        match hierarchical.extract(item) {
            Ok(pk) => assert_eq!(pk.levels().len(), 3),
            Err(e) => assert_eq!(e.status(), 400, "{e}"),
        }
    }
}

/// A partition key as a client sends it: refused with 400, or read back the same from its JSON.
fn check_client_key(v: &Value) {
    match PartitionKey::from_json_key(v) {
        Ok(pk) => {
            if let Some(json) = pk.to_json() {
                let back = PartitionKey::from_json_key(&json).expect("a key's JSON reads back");
                assert_eq!(back, pk);
            }
        }
        Err(e) => assert_eq!(e.status(), 400, "{e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        check_item(&v);
        check_client_key(&v);
    }
    if let Some(v) = parse_like_cli(data) {
        check_item(&v);
    }
    if let Err(e) = parse_stored(data) {
        assert_eq!(e.status(), 500, "{e}");
    }
});
