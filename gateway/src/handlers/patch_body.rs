//! The body of a patch as the SDKs send it, alone or inside a transactional batch: parsed into
//! the engine's operations and condition. Only parses; the rules of the operations are the
//! engine's (docs/patch.md), and nothing here calls it.

use serde_json::Value;
use strata_engine::{parse_patch_operations, PatchOperation};

/// The body the SDKs send for a patch: `{"operations": [{"op", "path", "value"?, "from"?}, …],
/// "condition"?: "FROM c WHERE …"}`. The operations' rules are the engine's (docs/patch.md).
pub(super) fn patch_body(body: &Value) -> strata_engine::Result<(Vec<PatchOperation>, Option<String>)> {
    let bad = |m: &str| strata_engine::Error::BadRequest(m.to_string());
    let obj = body.as_object().ok_or_else(|| {
        bad("a patch body is {\"operations\": [...], \"condition\"?: \"FROM c WHERE ...\"}")
    })?;
    if let Some(k) = obj.keys().find(|k| *k != "operations" && *k != "condition") {
        return Err(bad(&format!("a patch body has no property '{k}'")));
    }
    let ops = parse_patch_operations(obj.get("operations").unwrap_or(&Value::Null))?;
    let condition = match obj.get("condition") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(bad("a patch's condition is a string, FROM c WHERE ...")),
    };
    Ok((ops, condition))
}
