//! Who calls the vault: the first-party service identity, an account's system-assigned managed
//! identity (`system:<account>`), or a user-assigned managed identity (`user:<name>`). Pure value
//! type: parsing, display, serde as the string form. Thread-safe. See docs/keys.md#identities.

use std::fmt;

use crate::error::{Error, Result};

/// Longest user-assigned identity name.
const MAX_USER_NAME_LEN: usize = 64;
const FORMS: &str = "first-party, system (this account's identity), system:<account> or user:<name>";

/// A caller of the vault, as written in access policies and the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// The storage service's own identity; a new vault grants it get, wrapKey and unwrapKey.
    FirstParty,
    /// The system-assigned managed identity of the named account (exists while the account does).
    System(String),
    /// A user-assigned managed identity created with `strata identity create NAME`.
    User(String),
}

impl Principal {
    /// Parses `first-party`, `system:<account>`, `user:<name>`, and a bare `system`, which means
    /// the system-assigned identity of `account` (400 if no account is given).
    pub fn parse(s: &str, account: Option<&str>) -> Result<Principal> {
        if s == "first-party" {
            return Ok(Principal::FirstParty);
        }
        if s == "system" {
            return match account {
                Some(a) => Ok(Principal::System(a.to_string())),
                None => Err(Error::BadRequest(format!(
                    "principal \"system\" means an account's system-assigned identity, but no \
                     account is named here; write system:<account>, or use one of {FORMS}"
                ))),
            };
        }
        if let Some(a) = s.strip_prefix("system:") {
            strata_base::name::validate_name("account", a)?;
            return Ok(Principal::System(a.to_string()));
        }
        if let Some(n) = s.strip_prefix("user:") {
            check_user_name(n)?;
            return Ok(Principal::User(n.to_string()));
        }
        Err(Error::BadRequest(format!(
            "unknown principal \"{}\"; use one of {FORMS}",
            s.chars().take(100).collect::<String>()
        )))
    }
}

/// User-assigned identity names: 1-64 characters of `[A-Za-z0-9_-]`.
pub(crate) fn check_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_USER_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "identity name \"{}\" must be 1-{MAX_USER_NAME_LEN} characters of A-Z, a-z, 0-9, '-' \
             and '_'",
            name.chars().take(100).collect::<String>()
        )))
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::FirstParty => f.write_str("first-party"),
            Principal::System(a) => write!(f, "system:{a}"),
            Principal::User(n) => write!(f, "user:{n}"),
        }
    }
}

impl serde::Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Principal, D::Error> {
        let s = String::deserialize(d)?;
        Principal::parse(&s, None).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let table: &[(&str, Option<&str>, Principal)] = &[
            ("first-party", None, Principal::FirstParty),
            ("system", Some("acct"), Principal::System("acct".into())),
            ("system:other", Some("acct"), Principal::System("other".into())),
            ("user:ops-1", None, Principal::User("ops-1".into())),
        ];
        for (s, account, want) in table {
            let p = Principal::parse(s, *account).unwrap();
            assert_eq!(&p, want, "{s}");
            assert_eq!(Principal::parse(&p.to_string(), None).unwrap(), p);
        }
        for bad in [
            "",
            "system",
            "user:",
            "user:a b",
            "system:",
            "admin",
            "First-Party",
            "system:a/b",
        ] {
            let e = Principal::parse(bad, None).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
        let json = serde_json::to_string(&Principal::User("x".into())).unwrap();
        assert_eq!(json, "\"user:x\"");
        assert_eq!(
            serde_json::from_str::<Principal>(&json).unwrap(),
            Principal::User("x".into())
        );
    }
}
