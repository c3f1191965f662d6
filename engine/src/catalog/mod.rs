//! The catalog (`DATA/CATALOG`): the account's metadata. Its plaintext fields, all of them:
//! account name, encryption mode and customer key URI, database names, container names, container
//! ids and partition-key paths (plus the frame's format version) — what the contract allows in
//! the clear. Settings the contract does not list (the default vault identity, provisioned
//! throughput, container TTL, the gateway's access keys) travel in `sealedSettings`, sealed under the service layer. CRC-framed JSON behind
//! an HMAC-SHA256 tag keyed from the service data key, so it cannot be altered (e.g. container ids
//! swapped) undetected; replaced atomically. No item data. See docs/format.md#catalog.
//!
//! ```text
//! payload        := tag: [u8; 32] (HMAC-SHA256, key from HKDF(service DEK, "strata/v1/metadata-mac/catalog"))
//!                   | json
//! sealedSettings := hex(salt[32] | AES-256-GCM(HKDF(service DEK, salt, "strata/v1/metadata-seal/settings"),
//!                   nonce 0, aad "settings", settings JSON))
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::document::PartitionKeyDefinition;
use crate::error::{Error, Result};
use crate::format_version::{CATALOG_MAGIC, CATALOG_VERSION, CATALOG_VERSION_HIERARCHICAL};
pub(crate) use parsed_pk::ParsedPk;
use strata_base::meta_file;
use strata_lsm::CipherSuite;

mod parsed_pk;

pub(crate) const CATALOG_FILE: &str = "CATALOG";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerEntry {
    pub(crate) name: String,
    /// Short id used as the container's key prefix in the LSM.
    pub(crate) id: u32,
    /// The first (for a `Hash` key, the only) partition-key path.
    pub(crate) partition_key_path: String,
    /// All the paths of a hierarchical (`MultiHash`) key, the first equal to
    /// `partition_key_path`; empty (and absent from the file) for a `Hash` key, as in catalogs
    /// written before hierarchical keys. A catalog holding one is written as version 2, which
    /// older strata refuse rather than read the container as partitioned on its first path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) partition_key_paths: Vec<String>,
    /// Provisioned RU/s of this container alone; absent: its database's shared throughput, if
    /// any, else unlimited. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) throughput: Option<u32>,
    /// `defaultTtl`: absent = TTL off, -1 = on without a default, n > 0 = seconds.
    /// Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) default_ttl: Option<i64>,
    /// How conflicts from `sync` are resolved; absent: last-writer-wins on `_ts`. Stored sealed.
    #[serde(skip)]
    pub(crate) conflict_policy: Option<crate::document::ConflictResolutionPolicy>,
    /// The analytical tier's settings; absent: off. Stored sealed.
    #[serde(skip)]
    pub(crate) analytical: Option<crate::account::AnalyticalSettings>,
    /// The indexing policy (plaintext: paths only, as the contract allows); absent in catalogs
    /// written before indexing, which means the default policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) indexing_policy: Option<crate::index::IndexingPolicy>,
    /// Bumped by each policy change: index entries carry it, so entries of an older policy are
    /// never read (see account/index.rs).
    #[serde(default)]
    pub(crate) index_generation: u32,
    /// The names of the container's stored procedures (plaintext, as the contract allows);
    /// their bodies are sealed in the store (key space `Script`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) stored_procedures: Vec<String>,
    /// The paths above, parsed once (never stored; see `pk_definition_shared`).
    #[serde(skip)]
    pub(crate) parsed_pk: ParsedPk,
}

impl ContainerEntry {
    /// The container's partition-key paths as recorded: one for a `Hash` key, all of a
    /// hierarchical one.
    pub(crate) fn pk_paths(&self) -> Vec<String> {
        if self.partition_key_paths.is_empty() {
            vec![self.partition_key_path.clone()]
        } else {
            self.partition_key_paths.clone()
        }
    }

    /// The container's partition-key definition (its paths, checked).
    pub(crate) fn pk_definition(&self) -> Result<PartitionKeyDefinition> {
        PartitionKeyDefinition::new(&self.pk_paths())
    }

    /// `pk_definition`, parsed on first use and kept with the entry: what every data-plane
    /// call resolves, so the paths are not validated and split again per operation.
    pub(crate) fn pk_definition_shared(&self) -> Result<std::sync::Arc<PartitionKeyDefinition>> {
        self.parsed_pk.get_or_parse(|| self.pk_definition())
    }

    /// Records `def` (the catalog's two fields, see above).
    pub(crate) fn set_pk_definition(&mut self, def: &PartitionKeyDefinition) {
        self.partition_key_path = def.paths()[0].clone();
        self.partition_key_paths = match def.kind() {
            crate::document::PartitionKeyKind::Hash => Vec::new(),
            crate::document::PartitionKeyKind::MultiHash => def.paths().to_vec(),
        };
        self.parsed_pk = ParsedPk::default();
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatabaseEntry {
    pub(crate) name: String,
    pub(crate) containers: Vec<ContainerEntry>,
    /// Provisioned RU/s shared by the containers without their own; absent: unlimited.
    /// Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) throughput: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Catalog {
    pub(crate) account: String,
    /// A random identifier of this account (not a secret): names it as a `sync` source, which
    /// its name cannot (two accounts may share one). Absent in catalogs written before sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) account_id: Option<String>,
    /// "service-managed" or "customer-managed".
    pub(crate) encryption: String,
    /// The customer key URI (CMK mode only).
    pub(crate) key_uri: Option<String>,
    /// The principal the account calls the vault as (`first-party`, `system:<account>`,
    /// `user:<name>`); absent: first-party. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) default_identity: Option<String>,
    pub(crate) databases: Vec<DatabaseEntry>,
    pub(crate) next_container_id: u32,
    /// Ids of removed containers whose keys are still being deleted (account/purge.rs): they
    /// left `databases` first, so a crash mid-purge leaves them invisible, and the purge is
    /// finished when the account next opens. Ids are never reused (`next_container_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) purging: Vec<u32>,
    /// The periodic backup policy; absent: the default. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) backup_policy: Option<crate::backup::BackupPolicy>,
    /// The continuous backup policy; absent: off. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) continuous_backup: Option<crate::backup::ContinuousPolicy>,
    /// Where scheduled periodic backups go; absent: no schedule. Stored sealed.
    #[serde(skip)]
    pub(crate) backup_schedule: Option<std::path::PathBuf>,
    /// The gateway's primary and secondary access keys (`strata serve`); absent until first
    /// asked for. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) access_keys: Option<crate::account::AccessKeyPair>,
    /// The gateway's self-signed TLS identity (certificate and private key, opaque here);
    /// absent until `strata serve` makes one. Stored sealed (see `Settings`).
    #[serde(skip)]
    pub(crate) gateway_tls: Option<crate::account::GatewayTlsSecret>,
    /// The sealed `Settings`, hex; filled on write, consumed on read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_settings: Option<String>,
}

/// The catalog's settings that must not be plaintext, sealed as one JSON value.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    default_identity: Option<String>,
    /// Database name -> RU/s.
    database_throughput: std::collections::BTreeMap<String, u32>,
    /// Container id -> RU/s.
    container_throughput: std::collections::BTreeMap<u32, u32>,
    #[serde(default)]
    backup_policy: Option<crate::backup::BackupPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    continuous_backup: Option<crate::backup::ContinuousPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup_schedule: Option<std::path::PathBuf>,
    /// Container id -> `defaultTtl` (containers with TTL on only).
    #[serde(default)]
    container_default_ttl: std::collections::BTreeMap<u32, i64>,
    /// Container id -> conflict-resolution policy (containers with a non-default one only).
    #[serde(default)]
    container_conflict_policy: std::collections::BTreeMap<u32, crate::document::ConflictResolutionPolicy>,
    /// Container id -> analytical-tier settings (containers with the tier on only).
    #[serde(default)]
    container_analytical: std::collections::BTreeMap<u32, crate::account::AnalyticalSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_keys: Option<crate::account::AccessKeyPair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gateway_tls: Option<crate::account::GatewayTlsSecret>,
}

const SETTINGS_LABEL: &str = "settings";

/// A fresh random account id (16 bytes, hex).
pub(crate) fn new_account_id() -> String {
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    strata_base::seal::hex::encode(&id)
}

impl Catalog {
    /// A new, empty catalog.
    pub(crate) fn new(
        account: &str,
        encryption: &str,
        key_uri: Option<String>,
        default_identity: Option<String>,
    ) -> Catalog {
        Catalog {
            account: account.to_string(),
            account_id: Some(new_account_id()),
            encryption: encryption.to_string(),
            key_uri,
            default_identity,
            databases: Vec::new(),
            next_container_id: 1,
            purging: Vec::new(),
            backup_policy: None,
            continuous_backup: None,
            backup_schedule: None,
            access_keys: None,
            gateway_tls: None,
            sealed_settings: None,
        }
    }

    fn seal_settings(&mut self, suite: &CipherSuite) -> Result<()> {
        let settings = Settings {
            default_identity: self.default_identity.clone(),
            database_throughput: self
                .databases
                .iter()
                .filter_map(|d| Some((d.name.clone(), d.throughput?)))
                .collect(),
            container_throughput: self
                .databases
                .iter()
                .flat_map(|d| d.containers.iter())
                .filter_map(|c| Some((c.id, c.throughput?)))
                .collect(),
            backup_policy: self.backup_policy,
            continuous_backup: self.continuous_backup.clone(),
            backup_schedule: self.backup_schedule.clone(),
            container_default_ttl: self.default_ttls(),
            container_conflict_policy: self
                .databases
                .iter()
                .flat_map(|d| d.containers.iter())
                .filter_map(|c| Some((c.id, c.conflict_policy.clone()?)))
                .collect(),
            container_analytical: self
                .databases
                .iter()
                .flat_map(|d| d.containers.iter())
                .filter_map(|c| Some((c.id, c.analytical?)))
                .collect(),
            access_keys: self.access_keys.clone(),
            gateway_tls: self.gateway_tls.clone(),
        };
        // The settings hold the gateway's access keys and TLS key: their clear text is wiped once sealed.
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(&settings)
                .map_err(|e| Error::Internal(format!("serialising settings: {e}")))?,
        );
        self.sealed_settings = Some(strata_base::seal::hex::encode(
            &suite.seal_metadata(SETTINGS_LABEL, &json),
        ));
        Ok(())
    }

    /// Container id -> `defaultTtl`, for the containers with TTL on.
    pub(crate) fn default_ttls(&self) -> std::collections::BTreeMap<u32, i64> {
        self.databases
            .iter()
            .flat_map(|d| d.containers.iter())
            .filter_map(|c| Some((c.id, c.default_ttl?)))
            .collect()
    }

    fn open_settings(&mut self, suite: &CipherSuite, path: &Path) -> Result<()> {
        let Some(sealed) = self.sealed_settings.take() else {
            return Ok(());
        };
        let bad = |why: &str| Error::corruption(path, 20, format!("catalog settings {why}"));
        let bytes = strata_base::seal::hex::decode(&sealed).ok_or_else(|| bad("are not hex"))?;
        let json = zeroize::Zeroizing::new(
            suite
                .open_metadata(SETTINGS_LABEL, &bytes)
                .ok_or_else(|| bad("fail authentication"))?,
        );
        let settings: Settings =
            serde_json::from_slice(&json).map_err(|e| bad(&format!("do not parse: {e}")))?;
        self.default_identity = settings.default_identity;
        self.backup_policy = settings.backup_policy;
        self.continuous_backup = settings.continuous_backup;
        self.backup_schedule = settings.backup_schedule;
        self.access_keys = settings.access_keys;
        self.gateway_tls = settings.gateway_tls;
        for d in &mut self.databases {
            d.throughput = settings.database_throughput.get(&d.name).copied();
            for c in &mut d.containers {
                c.throughput = settings.container_throughput.get(&c.id).copied();
                c.default_ttl = settings.container_default_ttl.get(&c.id).copied();
                c.conflict_policy = settings.container_conflict_policy.get(&c.id).cloned();
                c.analytical = settings.container_analytical.get(&c.id).copied();
            }
        }
        Ok(())
    }
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
        if version != CATALOG_VERSION && version != CATALOG_VERSION_HIERARCHICAL {
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
        let mut catalog: Catalog = serde_json::from_slice(json).map_err(|e| {
            Error::corruption(&path, 20 + TAG_LEN as u64, format!("catalog does not parse: {e}"))
        })?;
        catalog.open_settings(suite, &path)?;
        Ok(Some(catalog))
    }

    pub(crate) fn write(&self, dir: &Path, suite: &CipherSuite) -> Result<()> {
        let mut wire = self.clone();
        wire.seal_settings(suite)?;
        let json = serde_json::to_vec_pretty(&wire)
            .map_err(|e| Error::Internal(format!("serialising the catalog: {e}")))?;
        let mut payload = suite.metadata_tag(MAC_LABEL, &json);
        payload.extend_from_slice(&json);
        Ok(meta_file::write(
            &dir.join(CATALOG_FILE),
            CATALOG_MAGIC,
            self.format_version(),
            &payload,
            false,
        )?)
    }

    /// 1, or 2 while a container has a hierarchical key: catalogs without one stay readable
    /// by strata that predate hierarchical keys, which refuse those with one.
    fn format_version(&self) -> u32 {
        let hierarchical = self
            .databases
            .iter()
            .flat_map(|d| &d.containers)
            .any(|c| !c.partition_key_paths.is_empty());
        if hierarchical {
            CATALOG_VERSION_HIERARCHICAL
        } else {
            CATALOG_VERSION
        }
    }

    /// The account's default vault identity (first-party when the catalog names none).
    pub(crate) fn identity(&self) -> Result<strata_vault::Principal> {
        match &self.default_identity {
            None => Ok(strata_vault::Principal::FirstParty),
            Some(s) => strata_vault::Principal::parse(s, None)
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
            .ok_or_else(|| container_not_found(db, name))
    }

    /// The entry of a container, to edit it (inside `AccountInner::edit_catalog`).
    pub(crate) fn container_mut(&mut self, db: &str, name: &str) -> Result<&mut ContainerEntry> {
        self.databases
            .iter_mut()
            .find(|d| d.name == db)
            .ok_or_else(|| Error::NotFound(format!("database '{db}' does not exist; create it first")))?
            .containers
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| container_not_found(db, name))
    }
}

fn container_not_found(db: &str, name: &str) -> Error {
    Error::NotFound(format!(
        "container '{name}' does not exist in database '{db}'; create it first"
    ))
}

/// Resource names (account, database, container): the managed service's rules
/// (`strata_base::name`, shared with the vault's principals).
pub(crate) fn validate_name(kind: &str, name: &str) -> Result<()> {
    Ok(strata_base::name::validate_name(kind, name)?)
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
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let entry = |name: &str, id| ContainerEntry {
            name: name.into(),
            id,
            partition_key_path: "/pk".into(),
            partition_key_paths: Vec::new(),
            throughput: (id == 2).then_some(400),
            default_ttl: (id == 1).then_some(86_400),
            conflict_policy: (id == 2).then_some(crate::document::ConflictResolutionPolicy::Custom),
            analytical: (id == 1).then_some(crate::account::AnalyticalSettings {
                ttl: -1,
                schema: crate::account::AnalyticalSchema::FullFidelity,
            }),
            indexing_policy: (id == 2).then(crate::index::IndexingPolicy::default),
            index_generation: id,
            stored_procedures: Vec::new(),
            parsed_pk: ParsedPk::default(),
        };
        let mut c = Catalog::new("acct", "service-managed", None, Some("user:ops".into()));
        c.databases = vec![DatabaseEntry {
            name: "db".into(),
            containers: vec![entry("a", 1), entry("b", 2)],
            throughput: Some(1000),
        }];
        c.next_container_id = 3;
        c.backup_policy = Some(crate::backup::BackupPolicy::new(6, 48).unwrap());
        c.write(dir.path(), &suite).unwrap();
        assert_eq!(Catalog::read(dir.path(), &suite).unwrap(), Some(c.clone()));
        assert!(Catalog::exists(dir.path()));
        // Settings the contract does not allow in plaintext are sealed; names are readable.
        // Look at the plaintext JSON without the sealed settings' hex, which may hold any digits.
        let (_, payload) = meta_file::read(&dir.path().join(CATALOG_FILE), CATALOG_MAGIC)
            .unwrap()
            .unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&payload[TAG_LEN..]).unwrap();
        let sealed = json.as_object_mut().and_then(|o| o.remove("sealedSettings"));
        assert!(sealed.is_some_and(|v| v.is_string()));
        let raw = json.to_string();
        assert!(raw.contains("\"acct\"") && raw.contains("\"/pk\""));
        for secret in [
            "user:ops",
            "1000",
            "throughput",
            "Identity",
            "retention",
            "86400",
            "Ttl",
        ] {
            assert!(!raw.contains(secret), "{secret} is in the plaintext catalog");
        }

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

    #[test]
    fn hierarchical_keys_bump_the_version_only_while_present() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let mut c = Catalog::new("acct", "service-managed", None, None);
        let mut entry = ContainerEntry {
            name: "h".into(),
            id: 1,
            partition_key_path: String::new(),
            partition_key_paths: Vec::new(),
            throughput: None,
            default_ttl: None,
            conflict_policy: None,
            analytical: None,
            indexing_policy: None,
            index_generation: 0,
            stored_procedures: Vec::new(),
            parsed_pk: ParsedPk::default(),
        };
        entry.set_pk_definition(&PartitionKeyDefinition::new(&["/tenant"]).unwrap());
        c.databases = vec![DatabaseEntry {
            name: "db".into(),
            containers: vec![entry.clone()],
            throughput: None,
        }];
        let version = |c: &Catalog| {
            c.write(dir.path(), &suite).unwrap();
            let (v, payload) = meta_file::read(&dir.path().join(CATALOG_FILE), CATALOG_MAGIC)
                .unwrap()
                .unwrap();
            (v, String::from_utf8(payload[TAG_LEN..].to_vec()).unwrap())
        };
        let (v, json) = version(&c);
        assert_eq!(v, CATALOG_VERSION);
        assert!(!json.contains("partitionKeyPaths"), "{json}");
        let def = PartitionKeyDefinition::new(&["/tenant", "/user"]).unwrap();
        entry.set_pk_definition(&def);
        c.databases[0].containers.push(ContainerEntry {
            name: "h2".into(),
            id: 2,
            ..entry
        });
        let (v, json) = version(&c);
        assert_eq!(v, CATALOG_VERSION_HIERARCHICAL);
        assert!(json.contains("\"/user\""), "{json}");
        let read = Catalog::read(dir.path(), &suite).unwrap().unwrap();
        assert_eq!(read.container("db", "h2").unwrap().pk_definition().unwrap(), def);
        assert_eq!(
            read.container("db", "h")
                .unwrap()
                .pk_definition()
                .unwrap()
                .paths(),
            ["/tenant"]
        );
    }
}

#[cfg(test)]
mod fuzz_tests;
