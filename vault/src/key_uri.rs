//! Key identifiers in the cloud key-vault form `https://<vault>.vault.local/keys/<name>[/<version>]`.
//! Pure value type: parsing, validation, display, serde as the URI string. Thread-safe.
//! The vault host is case-insensitive and kept lowercase; key names and versions are exact.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

const SCHEME: &str = "https://";
const HOST_SUFFIX: &str = ".vault.local";
const FORM: &str = "https://<vault>.vault.local/keys/<name>[/<version>]";

/// Longest key name, as in the cloud key vault.
const MAX_NAME_LEN: usize = 127;
/// Longest vault name: one DNS label.
const MAX_VAULT_LEN: usize = 63;
/// Key versions are 128 random bits written as lowercase hex.
pub(crate) const VERSION_LEN: usize = 32;

/// Identifies a key in a vault, optionally pinned to one version.
///
/// A version-less URI means "the newest enabled version" wherever a key is used for wrapping;
/// unwrapping always needs the version that wrapped.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct KeyUri {
    vault: String,
    name: String,
    version: Option<String>,
}

impl KeyUri {
    /// Builds a URI from its parts, checking each (400 on a bad part). `vault` is lowercased.
    pub fn new(vault: &str, name: &str, version: Option<&str>) -> Result<KeyUri> {
        let vault = vault.to_ascii_lowercase();
        check_vault_name(&vault).map_err(bad_part)?;
        check_key_name(name).map_err(bad_part)?;
        if let Some(v) = version {
            check_version(v).map_err(bad_part)?;
        }
        Ok(KeyUri {
            vault,
            name: name.to_string(),
            version: version.map(str::to_string),
        })
    }

    /// Parses `https://<vault>.vault.local/keys/<name>[/<version>]`; anything else is a 400 whose
    /// message shows the expected form and what was wrong.
    pub fn parse(s: &str) -> Result<KeyUri> {
        parse_parts(s).map_err(|why| {
            Error::BadRequest(format!(
                "invalid key URI \"{}\": {why}; expected {FORM} (name: 1-{MAX_NAME_LEN} characters \
                 of A-Z, a-z, 0-9 and '-'; version: {VERSION_LEN} lowercase hex characters)",
                shorten(s)
            ))
        })
    }

    /// The vault name (the first label of the host), lowercase.
    pub fn vault(&self) -> &str {
        &self.vault
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key version, if the URI is pinned to one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The same key pinned to `version` (400 if `version` is not 32 lowercase hex characters).
    pub fn with_version(&self, version: &str) -> Result<KeyUri> {
        check_version(version).map_err(bad_part)?;
        Ok(KeyUri {
            vault: self.vault.clone(),
            name: self.name.clone(),
            version: Some(version.to_string()),
        })
    }

    /// The same key without a version ("the newest enabled version").
    pub fn without_version(&self) -> KeyUri {
        KeyUri {
            vault: self.vault.clone(),
            name: self.name.clone(),
            version: None,
        }
    }
}

impl fmt::Display for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}{HOST_SUFFIX}/keys/{}", self.vault, self.name)?;
        if let Some(v) = &self.version {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for KeyUri {
    type Err = Error;

    fn from_str(s: &str) -> Result<KeyUri> {
        KeyUri::parse(s)
    }
}

impl serde::Serialize for KeyUri {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeyUri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<KeyUri, D::Error> {
        let s = String::deserialize(d)?;
        KeyUri::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn parse_parts(s: &str) -> std::result::Result<KeyUri, String> {
    let rest = s
        .strip_prefix(SCHEME)
        .ok_or_else(|| "it must start with https://".to_string())?;
    let (host, path) = rest
        .split_once('/')
        .ok_or_else(|| "it has no /keys/<name> path".to_string())?;
    let host = host.to_ascii_lowercase();
    let vault = host
        .strip_suffix(HOST_SUFFIX)
        .ok_or_else(|| format!("the host must be <vault>{HOST_SUFFIX}"))?;
    check_vault_name(vault)?;

    let mut segments = path.split('/');
    if segments.next() != Some("keys") {
        return Err("the path must start with /keys/".to_string());
    }
    let name = segments.next().unwrap_or("");
    check_key_name(name)?;
    let version = segments.next();
    if let Some(v) = version {
        check_version(v)?;
    }
    if segments.next().is_some() {
        return Err("it has more path segments than /keys/<name>/<version>".to_string());
    }
    Ok(KeyUri {
        vault: vault.to_string(),
        name: name.to_string(),
        version: version.map(str::to_string),
    })
}

fn bad_part(why: String) -> Error {
    Error::BadRequest(format!("{why} (key URIs have the form {FORM})"))
}

/// Key names: 1-127 characters of `[A-Za-z0-9-]`.
pub(crate) fn check_key_name(name: &str) -> std::result::Result<(), String> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "key name \"{}\" may contain only A-Z, a-z, 0-9 and '-'",
            shorten(name)
        ));
    }
    // All ASCII from here on, so the byte length is the character count.
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "key name must be 1-{MAX_NAME_LEN} characters long (got {})",
            name.len()
        ));
    }
    Ok(())
}

/// Vault names: one lowercase DNS label, `[a-z0-9-]{1,63}`, not starting or ending with '-'.
pub(crate) fn check_vault_name(vault: &str) -> std::result::Result<(), String> {
    let ok = !vault.is_empty()
        && vault.len() <= MAX_VAULT_LEN
        && vault
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !vault.starts_with('-')
        && !vault.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "vault name \"{}\" must be 1-{MAX_VAULT_LEN} characters of a-z, 0-9 and '-', not \
             starting or ending with '-'",
            shorten(vault)
        ))
    }
}

/// Versions: exactly 32 lowercase hex characters.
pub(crate) fn check_version(version: &str) -> std::result::Result<(), String> {
    let ok = version.len() == VERSION_LEN
        && version
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key version \"{}\" must be {VERSION_LEN} lowercase hex characters",
            shorten(version)
        ))
    }
}

/// Caps user input echoed in messages at 200 characters.
fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push_str("...");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_good_uris() {
        let long_name = "a".repeat(127);
        let good_with_long = format!("https://v.vault.local/keys/{long_name}");
        let table: &[(&str, &str, &str, Option<&str>)] = &[
            ("https://local.vault.local/keys/cmk", "local", "cmk", None),
            (
                "https://local.vault.local/keys/cmk/0123456789abcdef0123456789abcdef",
                "local",
                "cmk",
                Some(V),
            ),
            (
                "https://my-vault-1.vault.local/keys/Key-2",
                "my-vault-1",
                "Key-2",
                None,
            ),
            ("https://LOCAL.Vault.Local/keys/cmk", "local", "cmk", None),
            (&good_with_long, "v", &long_name, None),
        ];
        for (s, vault, name, version) in table {
            let u = KeyUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(u.vault(), *vault, "{s}");
            assert_eq!(u.name(), *name, "{s}");
            assert_eq!(u.version(), *version, "{s}");
            // Display round-trips (the host is normalised to lowercase).
            assert_eq!(KeyUri::parse(&u.to_string()).unwrap(), u);
        }
        assert_eq!(
            KeyUri::parse("https://LOCAL.vault.local/keys/cmk")
                .unwrap()
                .to_string(),
            "https://local.vault.local/keys/cmk"
        );
    }

    #[test]
    fn rejects_bad_uris_with_400_and_the_expected_form() {
        let too_long = format!("https://v.vault.local/keys/{}", "a".repeat(128));
        let bad: &[&str] = &[
            "",
            "cmk",
            "http://local.vault.local/keys/cmk",
            "HTTPS://local.vault.local/keys/cmk",
            "https://local.vault.local",
            "https://local.vault.local/",
            "https://local.vault.local/keys",
            "https://local.vault.local/keys/",
            "https://local.vault.local/keys/cmk/",
            "https://local.vault.local/secrets/cmk",
            "https://local.vault.azure.net/keys/cmk",
            "https://vault.local/keys/cmk",
            "https://.vault.local/keys/cmk",
            "https://-v.vault.local/keys/cmk",
            "https://v_1.vault.local/keys/cmk",
            "https://a.b.vault.local/keys/cmk",
            "https://local.vault.local:443/keys/cmk",
            "https://local.vault.local/keys/cm_k",
            "https://local.vault.local/keys/cm k",
            "https://local.vault.local/keys/ключ",
            "https://local.vault.local/keys/cmk?api-version=7.4",
            &too_long,
            "https://local.vault.local/keys/cmk/0123456789ABCDEF0123456789ABCDEF",
            "https://local.vault.local/keys/cmk/0123456789abcdef",
            "https://local.vault.local/keys/cmk/0123456789abcdef0123456789abcdeg",
            "https://local.vault.local/keys/cmk/0123456789abcdef0123456789abcdef0",
            "https://local.vault.local/keys/cmk/0123456789abcdef0123456789abcdef/x",
        ];
        for s in bad {
            let e = KeyUri::parse(s).expect_err(s);
            assert_eq!(e.status(), 400, "{s}");
            assert!(e.to_string().contains(FORM), "{s}: {e}");
        }
    }

    #[test]
    fn with_version_and_serde() {
        let u = KeyUri::parse("https://local.vault.local/keys/cmk").unwrap();
        let pinned = u.with_version(V).unwrap();
        assert_eq!(pinned.version(), Some(V));
        assert_eq!(pinned.without_version(), u);
        assert_eq!(u.with_version("ABC").unwrap_err().status(), 400);
        assert!(KeyUri::new("Local", "cmk", Some(V)).unwrap() == pinned);
        assert_eq!(KeyUri::new("local", "c/k", None).unwrap_err().status(), 400);

        let json = serde_json::to_string(&pinned).unwrap();
        assert_eq!(json, format!("\"https://local.vault.local/keys/cmk/{V}\""));
        let back: KeyUri = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pinned);
        assert!(serde_json::from_str::<KeyUri>("\"https://x/keys/cmk\"").is_err());
        assert_eq!("https://local.vault.local/keys/cmk".parse::<KeyUri>().unwrap(), u);
    }
}
