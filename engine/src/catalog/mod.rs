//! The catalog (`DATA/CATALOG`): the account's plaintext metadata, by contract the only
//! plaintext in the data directory besides file headers and wrapped keys. Its fields, all of
//! them: account name, encryption mode, customer key URI and default vault identity, database
//! names, container names, container ids and partition-key paths, provisioned throughput (RU/s)
//! of databases and containers (plus the frame's format version). CRC-framed JSON behind an HMAC-SHA256 tag keyed from the service data key, so it
//! cannot be altered (e.g. container ids swapped) undetected; replaced atomically. No item data.
//! See docs/format.md#catalog.
//!
//! ```text
//! payload := tag: [u8; 32] (HMAC-SHA256, key from HKDF(service DEK, "strata/v1/metadata-mac/catalog"))
//!            | json
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::crypto::CipherSuite;
use crate::error::{Error, Result};
use crate::format_version::{CATALOG_MAGIC, CATALOG_VERSION};
use crate::util::meta_file;

pub(crate) const CATALOG_FILE: &str = "CATALOG";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerEntry {
    pub(crate) name: String,
    /// Short id used as the container's key prefix in the LSM.
    pub(crate) id: u32,
    pub(crate) partition_key_path: String,
    /// Provisioned RU/s of this container alone; absent: its database's shared throughput, if
    /// any, else unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) throughput: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatabaseEntry {
    pub(crate) name: String,
    pub(crate) containers: Vec<ContainerEntry>,
    /// Provisioned RU/s shared by the containers without their own; absent: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) throughput: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Catalog {
    pub(crate) account: String,
    /// "service-managed" or "customer-managed".
    pub(crate) encryption: String,
    /// The customer key URI (CMK mode only).
    pub(crate) key_uri: Option<String>,
    /// The principal the account calls the vault as (`first-party`, `system:<account>`,
    /// `user:<name>`); absent in catalogs written before identities existed: first-party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_identity: Option<String>,
    pub(crate) databases: Vec<DatabaseEntry>,
    pub(crate) next_container_id: u32,
}

const TAG_LEN: usize = 32;
const MAC_LABEL: &str = "catalog";

impl Catalog {
    /// Whether an account exists in `dir` (its catalog does), without reading it.
    pub(crate) fn exists(dir: &Path) -> bool {
        dir.join(CATALOG_FILE).exists()
    }

    /// Reads the catalog and checks its tag under the account's keys.
    pub(crate) fn read(dir: &Path, suite: &CipherSuite) -> Result<Option<Catalog>> {
        let path = dir.join(CATALOG_FILE);
        let Some((version, payload)) = meta_file::read(&path, CATALOG_MAGIC)? else {
            return Ok(None);
        };
        if version != CATALOG_VERSION {
            return Err(Error::corruption(
                &path,
                8,
                format!("unsupported catalog version {version}"),
            ));
        }
        if payload.len() < TAG_LEN {
            return Err(Error::corruption(&path, 20, "catalog shorter than its tag"));
        }
        let (tag, json) = payload.split_at(TAG_LEN);
        if !suite.verify_metadata_tag(MAC_LABEL, json, tag) {
            return Err(Error::corruption(
                &path,
                20,
                "catalog fails authentication: it was altered, or belongs to another account's keys",
            ));
        }
        serde_json::from_slice(json).map(Some).map_err(|e| {
            Error::corruption(&path, 20 + TAG_LEN as u64, format!("catalog does not parse: {e}"))
        })
    }

    pub(crate) fn write(&self, dir: &Path, suite: &CipherSuite) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serialising the catalog: {e}")))?;
        let mut payload = suite.metadata_tag(MAC_LABEL, &json);
        payload.extend_from_slice(&json);
        meta_file::write(
            &dir.join(CATALOG_FILE),
            CATALOG_MAGIC,
            CATALOG_VERSION,
            &payload,
            false,
        )
    }

    /// The account's default vault identity (first-party when the catalog names none).
    pub(crate) fn identity(&self) -> Result<crate::vault::Principal> {
        match &self.default_identity {
            None => Ok(crate::vault::Principal::FirstParty),
            Some(s) => crate::vault::Principal::parse(s, None)
                .map_err(|e| Error::Internal(format!("the catalog's default identity does not parse: {e}"))),
        }
    }

    pub(crate) fn database(&self, name: &str) -> Result<&DatabaseEntry> {
        self.databases
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| Error::NotFound(format!("database '{name}' does not exist; create it first")))
    }

    pub(crate) fn container(&self, db: &str, name: &str) -> Result<&ContainerEntry> {
        self.database(db)?
            .containers
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "container '{name}' does not exist in database '{db}'; create it first"
                ))
            })
    }
}

/// Resource names (account, database, container): 1-255 characters, none of `/ \ ? #`, no
/// control characters, no trailing space — the managed service's rules.
pub(crate) fn validate_name(kind: &str, name: &str) -> Result<()> {
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

/// A partition-key path: `/name` or `/a/b`, segments non-empty and without spaces or quotes.
pub(crate) fn validate_partition_key_path(path: &str) -> Result<Vec<String>> {
    let bad = || {
        Error::BadRequest(format!(
            "partition key path '{path}' is invalid: use a path such as /tenant or /address/city"
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    let segments: Vec<String> = rest.split('/').map(str::to_string).collect();
    if segments.iter().any(|s| {
        s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c.is_control())
    }) {
        return Err(bad());
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        for good in ["db", "my-db_1", "Ünïcode"] {
            assert!(validate_name("database", good).is_ok(), "{good}");
        }
        for bad in ["", "a/b", "a\\b", "a?b", "a#b", "trailing ", "tab\t"] {
            assert_eq!(
                validate_name("database", bad).unwrap_err().status(),
                400,
                "{bad:?}"
            );
        }
        assert_eq!(validate_partition_key_path("/tenant").unwrap(), vec!["tenant"]);
        assert_eq!(validate_partition_key_path("/a/b").unwrap(), vec!["a", "b"]);
        for bad in ["", "tenant", "/", "/a/", "//a", "/a b"] {
            assert!(validate_partition_key_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let entry = |name: &str, id| ContainerEntry {
            name: name.into(),
            id,
            partition_key_path: "/pk".into(),
            throughput: (id == 2).then_some(400),
        };
        let c = Catalog {
            account: "acct".into(),
            encryption: "service-managed".into(),
            key_uri: None,
            default_identity: Some("user:ops".into()),
            databases: vec![DatabaseEntry {
                name: "db".into(),
                containers: vec![entry("a", 1), entry("b", 2)],
                throughput: Some(1000),
            }],
            next_container_id: 3,
        };
        c.write(dir.path(), &suite).unwrap();
        assert_eq!(Catalog::read(dir.path(), &suite).unwrap(), Some(c.clone()));
        assert!(Catalog::exists(dir.path()));

        // An attacker swaps the container ids and fixes up the CRC: the tag catches it.
        let path = dir.path().join(CATALOG_FILE);
        let (_, payload) = meta_file::read(&path, CATALOG_MAGIC).unwrap().unwrap();
        let json = String::from_utf8(payload[TAG_LEN..].to_vec()).unwrap();
        let swapped = json
            .replace("\"id\": 1", "\"id\": 9")
            .replace("\"id\": 2", "\"id\": 1");
        assert_ne!(swapped, json);
        let mut forged = payload[..TAG_LEN].to_vec();
        forged.extend_from_slice(swapped.as_bytes());
        std::fs::write(&path, meta_file::encode(CATALOG_MAGIC, CATALOG_VERSION, &forged)).unwrap();
        assert!(Catalog::read(dir.path(), &suite).unwrap_err().is_corruption());

        // Another account's keys do not verify it either.
        c.write(dir.path(), &suite).unwrap();
        let other = CipherSuite::ephemeral(false);
        assert!(Catalog::read(dir.path(), &other).unwrap_err().is_corruption());
    }
}
