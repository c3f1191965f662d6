//! Resource-name rules (account, database, container): shared by the catalog, which names
//! resources, and the vault, whose principals name accounts. Pure; thread-safe.

use crate::error::{Error, Result};

/// Resource names (account, database, container): 1-255 characters, none of `/ \ ? #`, no
/// control characters, no trailing space — the managed service's rules.
pub fn validate_name(kind: &str, name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::BadRequest(format!(
            "{kind} name '{name}' is invalid: {why}"
        )))
    };
    if name.is_empty() || name.chars().count() > 255 {
        return bad("it must be 1 to 255 characters long");
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '?' | '#') || c.is_control())
    {
        return bad(&format!("it must not contain {c:?}"));
    }
    if name.ends_with(' ') {
        return bad("it must not end with a space");
    }
    Ok(())
}
