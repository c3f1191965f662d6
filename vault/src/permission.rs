//! The four key permissions of the vault's access-policy model (get, list, wrapKey, unwrapKey):
//! their names on the command line and in access.json, and parsing a list of them. Both
//! permission models use them: access policies grant them directly, RBAC roles grant sets of
//! them (rbac.rs). Pure values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One key permission of an access policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "get")]
    Get,
    #[serde(rename = "list")]
    List,
    #[serde(rename = "wrapKey")]
    WrapKey,
    #[serde(rename = "unwrapKey")]
    UnwrapKey,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Get,
        Permission::List,
        Permission::WrapKey,
        Permission::UnwrapKey,
    ];

    /// The name used on the command line and in policies: get, list, wrapKey, unwrapKey.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Get => "get",
            Permission::List => "list",
            Permission::WrapKey => "wrapKey",
            Permission::UnwrapKey => "unwrapKey",
        }
    }

    /// Parses a comma-separated list such as `get,wrapKey,unwrapKey` (400 on an unknown name or
    /// an empty list). Duplicates are merged.
    pub fn parse_list(s: &str) -> Result<Vec<Permission>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let p = Permission::ALL
                .into_iter()
                .find(|p| p.as_str().eq_ignore_ascii_case(part))
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "unknown key permission \"{}\"; use a comma-separated list of get, list, \
                         wrapKey and unwrapKey",
                        part.chars().take(50).collect::<String>()
                    ))
                })?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        if out.is_empty() {
            return Err(Error::BadRequest(
                "no permissions given; use a comma-separated list of get, list, wrapKey and \
                 unwrapKey, or `strata vault policy remove` to remove every permission"
                    .into(),
            ));
        }
        out.sort();
        Ok(out)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
