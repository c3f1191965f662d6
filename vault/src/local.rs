//! The local customer key vault: a private directory (default `$STRATA_HOME/vault`) of RSA key
//! versions, one framed record per version, whose key pairs are held by its `KeyHolder` (the
//! records' own PKCS#8 keys, or a PKCS#11 token named by `pkcs11.json`); wraps and unwraps data
//! keys with RSA-OAEP-SHA256 through the holder. Called by the account (wrap/unwrap) and the CLI
//! (key management). Thread-safe: writers in one process are
//! serialised by a mutex; across processes one writer at a time is assumed. Layout below.
//!
//! ```text
//! <dir>/                                mode 0700
//!   vault.json                          {"name", "tenant_id", "retention_days",
//!                                        "purge_protection", "network", "permission_model"}
//!                                        (see properties.rs, rbac.rs), 0600
//!   access.json                         access policies and role assignments (see access.rs), 0600
//!   audit.log                           one JSON line per operation (see audit.rs), mode 0600
//!   pkcs11.json                         token vaults only: module, token, PIN variable, seal key
//!                                        id (see pkcs11/config.rs), 0600
//!   keys/<name>/<version>.key           live key versions, mode 0600 (dirs 0700)
//!   keys/<name>/rotation.json           the key's rotation policy, if any (see local/rotation.rs)
//!   deleted/<name>/<version>.key        soft-deleted keys: the whole key directory, moved
//!   deleted/<name>/deleted_at           deletion time, unix seconds (see purge.rs)
//!   tenant.key                          per-tenant secret for key backups (see backup.rs), 0600
//!
//! <version>.key := meta_file(magic "STRVKEY1", version 1, payload)
//! payload       := attributes: bytes | material: bytes         bytes := len: u32 | data
//! material      := the key holder's (key_holder.rs): PKCS#8 DER of the private key for this
//!                  directory's own keys (local/file_keys.rs); the token object id for a vault
//!                  whose keys live in a PKCS#11 token (pkcs11/, which adds pkcs11.json here),
//!                  followed there by the token's seal of both fields (local/record.rs)
//! attributes    := JSON {name, version, kty: "RSA", bits, enabled, created (unix s), seq,
//!                        nbf?, exp? (unix s; absent = no bound)}
//! ```
//!
//! `seq` is a per-key counter, one higher than any existing version's, so "the newest enabled
//! version" (highest `created`, then highest `seq`) is well defined within one second.
//!
//! Times (`created`, activation windows, deletion, autorotation, audit) come from the vault's
//! [`WallClock`]: the system clock, or one given with [`LocalVault::with_clock`] (tests).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::custody::require_private;
use crate::error::{substatus, Error, Result};
use strata_base::fs::{create_dir, read_if_exists, sync_dir};
use strata_base::wall_clock::{SystemWallClock, WallClock};

use super::access::{AccessPolicies, ACCESS_FILE};
use super::audit::{self, AuditEntry, AUDIT_FILE};
use super::key_holder::{HeldKey, KeyHolder, Sealer};
use super::key_uri::{check_key_name, check_vault_name, check_version, KeyUri, VERSION_LEN};
use super::pkcs11::{Pkcs11Config, TokenKeys, PKCS11_FILE};
use super::properties::{check_account_use, NetworkAccess, VaultProperties, DEFAULT_RETENTION_DAYS};
use super::rbac::PermissionModel;
use super::sealed_doc::{self, DocKind};
use crate::format_version::VAULT_META_SEALED_MAGIC;

pub use rotation::{RotationPolicy, MAX_ROTATION_DAYS, MIN_ROTATION_DAYS};

/// Bytes of the meta_file frame before the payload (magic, version, len, crc).
const FRAME_HEADER_LEN: u64 = 20;
const VAULT_FILE: &str = "vault.json";
const KEYS_DIR: &str = "keys";
const DELETED_DIR: &str = "deleted";
const KEY_EXT: &str = "key";
const DEFAULT_VAULT_NAME: &str = "local";
const KTY_RSA: &str = "RSA";
const ALLOWED_BITS: [usize; 3] = [2048, 3072, 4096];
/// The caller recorded in the audit log for the vault owner's management operations.
pub(crate) const OWNER: &str = "owner";

/// One version of one key, as listed by [`LocalVault::list_keys`]. Holds no key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub version: String,
    pub bits: usize,
    pub enabled: bool,
    /// The key is soft-deleted; `recover_key` brings it back.
    pub deleted: bool,
    /// Creation time, unix seconds.
    pub created: u64,
    /// Activation: not usable for wrap before this unix time (`None`: no bound).
    pub nbf: Option<u64>,
    /// Expiration: not usable for wrap from this unix time on; unwrap still works.
    pub exp: Option<u64>,
    /// The versioned URI of this key version.
    pub uri: KeyUri,
}

/// The customer key vault in one local directory.
pub struct LocalVault {
    dir: PathBuf,
    name: String,
    tenant_id: String,
    /// Soft delete is always on; deleted keys stay recoverable this many days.
    retention_days: u32,
    purge_protection: bool,
    network: NetworkAccess,
    /// Serialises writers within this process.
    writer: Mutex<()>,
    /// Serialises audit-log appends within this process.
    audit: Mutex<()>,
    /// Creation times, activation windows, deletion times, autorotation and audit times.
    clock: Arc<dyn WallClock>,
    /// Where the key pairs live: this directory's record files, or a PKCS#11 token.
    holder: Arc<dyn KeyHolder>,
}

mod attributes;
mod backup;
mod data_plane;
mod file_keys;
mod key_vault;
mod policy;
mod purge;
mod record;
mod roles;
mod rotation;

impl std::fmt::Debug for LocalVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalVault")
            .field("dir", &self.dir)
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

/// `vault.json`. A file written before the properties existed reads as soft delete on with 90
/// days, purge protection off, public network access, and the access-policy permission model.
#[derive(Serialize, Deserialize)]
struct VaultMeta {
    name: String,
    tenant_id: String,
    #[serde(default = "default_retention")]
    retention_days: u32,
    #[serde(default)]
    purge_protection: bool,
    #[serde(default)]
    network: NetworkAccess,
    #[serde(default)]
    permission_model: PermissionModel,
}

fn default_retention() -> u32 {
    DEFAULT_RETENTION_DAYS
}

#[derive(Clone, Serialize, Deserialize)]
struct Attributes {
    name: String,
    version: String,
    kty: String,
    bits: usize,
    enabled: bool,
    created: u64,
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
}

impl Attributes {
    /// What `list_keys`/`get_key` report of this version (no key material).
    fn into_info(self, vault: &str, deleted: bool) -> Result<KeyInfo> {
        Ok(KeyInfo {
            uri: KeyUri::new(vault, &self.name, Some(&self.version))?,
            name: self.name,
            version: self.version,
            bits: self.bits,
            enabled: self.enabled,
            deleted,
            created: self.created,
            nbf: self.nbf,
            exp: self.exp,
        })
    }
}

/// One key version read from disk. Deliberately not `Debug`: its material may be the private key.
struct KeyRecord {
    path: PathBuf,
    attrs: Attributes,
    /// What the vault's key holder made for this version (see key_holder.rs).
    material: Zeroizing<Vec<u8>>,
}

impl KeyRecord {
    /// This version as the key holder of vault `vault` sees it.
    fn held<'a>(&'a self, vault: &'a str) -> HeldKey<'a> {
        HeldKey {
            path: &self.path,
            vault,
            name: &self.attrs.name,
            version: &self.attrs.version,
            bits: self.attrs.bits,
            material: &self.material,
        }
    }

    fn newer_than(&self, other: &KeyRecord) -> bool {
        (self.attrs.created, self.attrs.seq) > (other.attrs.created, other.attrs.seq)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Live,
    Deleted,
}

impl LocalVault {
    /// Opens the vault in `dir`, creating it (named "local") if `dir` has no vault yet.
    /// A vault created here has purge protection on ([`VaultProperties::default_vault`]).
    pub fn open(dir: &Path) -> Result<LocalVault> {
        Self::open_or_create(dir, None, &VaultProperties::default_vault(), None)
    }

    /// Creates the vault `name` in `dir` with `props`: 409 if `dir` holds a vault already, 400 on
    /// a bad name, retention outside 7–90 days or a tenant id that is not a UUID.
    pub fn create_with(dir: &Path, name: &str, props: &VaultProperties) -> Result<LocalVault> {
        Self::create_held(dir, name, props, None)
    }

    /// Creates the vault `name` in `dir` with `props`, its key pairs kept in the PKCS#11 token
    /// `token` describes (see pkcs11/). The token is opened and logged into first: a module, token
    /// or PIN that does not work leaves nothing behind. Errors as for [`LocalVault::create_with`],
    /// and those of opening the token.
    pub fn create_in_token(
        dir: &Path,
        name: &str,
        props: &VaultProperties,
        token: &Pkcs11Config,
    ) -> Result<LocalVault> {
        Self::create_held(dir, name, props, Some(token))
    }

    fn create_held(
        dir: &Path,
        name: &str,
        props: &VaultProperties,
        token: Option<&Pkcs11Config>,
    ) -> Result<LocalVault> {
        check_vault_name(name).map_err(Error::BadRequest)?;
        props.validate()?;
        if dir.join(VAULT_FILE).exists() {
            return Err(Error::Conflict(format!(
                "a key vault exists already in {}; choose another name",
                dir.display()
            )));
        }
        Self::open_or_create(dir, Some(name), props, token)
    }

    /// Opens the vault in `dir`, creating it with `name` (one DNS label) if it does not exist.
    /// 409 if a vault with a different name is there already; 400 on a bad name.
    pub fn create_named(dir: &Path, name: &str) -> Result<LocalVault> {
        check_vault_name(name).map_err(Error::BadRequest)?;
        Self::open_or_create(dir, Some(name), &VaultProperties::default_vault(), None)
    }

    /// The vault name, the first label of the host in its key URIs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory the vault lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The random tenant id chosen when the vault was created.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// Days a deleted key stays recoverable (soft delete is always on).
    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// Whether purge protection is on.
    pub fn purge_protection(&self) -> bool {
        self.purge_protection
    }

    /// Who may reach the vault.
    pub fn network(&self) -> NetworkAccess {
        self.network
    }

    /// 403.4002 unless an account of tenant `account_tenant` may use this vault: same tenant,
    /// purge protection on, not private-endpoint-only. See docs/keys.md.
    pub fn check_account_use(&self, account_tenant: &str) -> Result<()> {
        check_account_use(
            &self.name,
            &self.tenant_id,
            self.purge_protection,
            self.network,
            account_tenant,
        )
    }

    /// Turns purge protection on (there is no way to turn it off). Audited.
    pub fn enable_purge_protection(&mut self) -> Result<()> {
        let res = (|| {
            let _w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let mut meta = self.read_meta()?;
            meta.purge_protection = true;
            write_meta(&self.dir, &meta, &self.sealer())
        })();
        if res.is_ok() {
            self.purge_protection = true;
        }
        self.audited(OWNER, "enablePurgeProtection", None, None, 200, res)
    }

    /// Uses `clock` for every time the vault records or compares (key creation, activation
    /// windows, deletion, autorotation, audit entries) instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> LocalVault {
        self.clock = clock;
        self
    }

    /// Now, in unix seconds, by the vault's clock.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_secs()
    }

    /// Reads `vault.json` again (another handle or process may have changed it).
    fn read_meta(&self) -> Result<VaultMeta> {
        let path = self.dir.join(VAULT_FILE);
        let bytes = sealed_doc::read(&path, &META_DOC, &self.sealer())?
            .ok_or_else(|| Error::corruption(&path, 0, "vault.json disappeared"))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::corruption(&path, 0, format!("not a valid vault.json: {e}")))
    }

    /// Creates a key, or a new version of an existing key, with a fresh `bits`-bit RSA key pair
    /// (2048, 3072 or 4096, else 400). Returns the versioned URI of the new version.
    /// Below 3072 bits the key is created, and [`key_size_warning`] says why that is weak.
    pub fn create_key(&self, name: &str, bits: usize) -> Result<KeyUri> {
        let res = self.create_key_unaudited(name, bits);
        let version = res.as_ref().ok().and_then(|u| u.version().map(str::to_string));
        self.audited(OWNER, "create", Some(name), version.as_deref(), 201, res)
    }

    /// Creates a new version of an existing key with the size of its newest version ("rotate
    /// now"). 404 if there is no such key; 409 if it is deleted.
    pub fn rotate_key(&self, name: &str) -> Result<KeyUri> {
        let res = (|| {
            check_key_name(name).map_err(Error::BadRequest)?;
            self.require_live_for_update(name)?;
            let versions = self.versions(Place::Live, name)?;
            let newest = versions
                .iter()
                .reduce(|a, b| if b.newer_than(a) { b } else { a })
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "key {name} has no versions; create one with `strata vault key create {name}`"
                    ))
                })?;
            let bits = newest.attrs.bits;
            drop(versions);
            self.create_key_unaudited(name, bits)
        })();
        let version = res.as_ref().ok().and_then(|u| u.version().map(str::to_string));
        self.audited(OWNER, "rotate", Some(name), version.as_deref(), 201, res)
    }

    fn create_key_unaudited(&self, name: &str, bits: usize) -> Result<KeyUri> {
        check_key_name(name).map_err(Error::BadRequest)?;
        // Generate before taking the writer lock: 4096-bit keys take seconds.
        let (version, material) = self.generate_version(name, bits)?;
        let _w = self.lock();
        self.store_new_version(name, &version, bits, material)
    }

    /// A fresh version id and a new key pair for it, made by the vault's key holder.
    fn generate_version(&self, name: &str, bits: usize) -> Result<(String, Zeroizing<Vec<u8>>)> {
        file_keys::check_bits(bits)?;
        let version = random_hex(VERSION_LEN / 2);
        let material = self.holder.generate(&self.name, name, &version, bits)?;
        Ok((version, material))
    }

    /// Writes version `version` of `name` holding `material`; the caller holds the writer lock.
    /// If the version cannot be recorded, its key pair is destroyed again: nothing is left in a
    /// token that no record names.
    fn store_new_version(
        &self,
        name: &str,
        version: &str,
        bits: usize,
        material: Zeroizing<Vec<u8>>,
    ) -> Result<KeyUri> {
        let mut record = self.new_record(name, version, bits, material);
        let res = self.record_new_version(&mut record);
        if res.is_err() {
            // The failure to record is the error to report; a failed clean-up leaves an orphan
            // key pair that no version names, never a version without its key pair.
            let _ = self.holder.destroy(&record.held(&self.name));
        }
        res
    }

    /// The record of a just generated version (enabled, created now; `seq` set when stored).
    fn new_record(&self, name: &str, version: &str, bits: usize, material: Zeroizing<Vec<u8>>) -> KeyRecord {
        KeyRecord {
            path: self.version_path(Place::Live, name, version),
            attrs: Attributes {
                name: name.to_string(),
                version: version.to_string(),
                kty: KTY_RSA.to_string(),
                bits,
                enabled: true,
                created: self.now(),
                seq: 0,
                nbf: None,
                exp: None,
            },
            material,
        }
    }

    fn record_new_version(&self, record: &mut KeyRecord) -> Result<KeyUri> {
        let name = record.attrs.name.clone();
        let name = name.as_str();
        self.check_no_case_clash(name)?;
        if self.key_exists(Place::Deleted, name)? {
            return Err(Error::Conflict(format!(
                "key {name} is deleted but recoverable; recover it with `strata vault key recover \
                 {name}` and then create a new version, or choose another name"
            )));
        }
        let kdir = self.key_dir(Place::Live, name);
        if !self.key_exists(Place::Live, name)? {
            create_dir(&kdir, true)?;
            sync_dir(&self.place_dir(Place::Live))?;
        }
        let existing = self.versions(Place::Live, name)?;
        record.attrs.seq = existing.iter().map(|r| r.attrs.seq).max().unwrap_or(0) + 1;
        if record.path.exists() {
            return Err(Error::Conflict(format!(
                "version {} of key {name} exists already; create the key again",
                record.attrs.version
            )));
        }
        self.write_record(record)?;
        KeyUri::new(&self.name, name, Some(&record.attrs.version))
    }

    /// Every version of every key, live and soft-deleted, sorted by name, then creation.
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        self.autorotate_all();
        let res = self.list_keys_unaudited();
        self.audited(OWNER, "list", None, None, 200, res)
    }

    fn list_keys_unaudited(&self) -> Result<Vec<KeyInfo>> {
        let mut records = Vec::new();
        for place in [Place::Live, Place::Deleted] {
            for name in self.key_names(place)? {
                for rec in self.versions(place, &name)? {
                    records.push((place, rec));
                }
            }
        }
        records.sort_by(|(_, a), (_, b)| {
            (&a.attrs.name, a.attrs.created, a.attrs.seq).cmp(&(&b.attrs.name, b.attrs.created, b.attrs.seq))
        });
        records
            .into_iter()
            .map(|(place, rec)| rec.attrs.into_info(&self.name, place == Place::Deleted))
            .collect()
    }

    /// Enables or disables one version of a key (`Some(version)`) or all of its versions (`None`).
    /// 404 if the key or version does not exist; 409 if the key is deleted.
    pub fn set_enabled(&self, name: &str, version: Option<&str>, enabled: bool) -> Result<()> {
        let res = self.set_enabled_unaudited(name, version, enabled);
        let op = if enabled { "enable" } else { "disable" };
        self.audited(OWNER, op, Some(name), version, 200, res)
    }

    fn set_enabled_unaudited(&self, name: &str, version: Option<&str>, enabled: bool) -> Result<()> {
        check_key_name(name).map_err(Error::BadRequest)?;
        if let Some(v) = version {
            check_version(v).map_err(Error::BadRequest)?;
        }
        let _w = self.lock();
        self.require_live_for_update(name)?;
        let targets = match version {
            Some(v) => match self.read_record(&self.version_path(Place::Live, name, v), name, v)? {
                Some(rec) => vec![rec],
                None => {
                    return Err(Error::NotFound(format!(
                        "version {v} of key {name} not found in vault {}; list the versions with \
                         `strata vault key list`",
                        self.name
                    )))
                }
            },
            None => self.versions(Place::Live, name)?,
        };
        for mut rec in targets {
            // The holder first: a token that refuses the key while the record still says
            // enabled fails closed; the record is then brought in line.
            self.holder.set_usable(&rec.held(&self.name), enabled)?;
            if rec.attrs.enabled != enabled {
                rec.attrs.enabled = enabled;
                self.write_record(&rec)?;
            }
        }
        Ok(())
    }

    /// Soft-deletes a key with all its versions: it can no longer wrap or unwrap until
    /// `recover_key` brings it back. 404 if there is no such key; 409 if it is deleted already.
    pub fn delete_key(&self, name: &str) -> Result<()> {
        let res = (|| {
            check_key_name(name).map_err(Error::BadRequest)?;
            let _w = self.lock();
            self.require_live_for_update(name)?;
            // Switched off in the holder first, so that a deleted key stays unusable there even
            // if its directory is moved back by hand; recover restores each version's flag.
            for rec in self.versions(Place::Live, name)? {
                self.holder.set_usable(&rec.held(&self.name), false)?;
            }
            self.move_key(name, Place::Live, Place::Deleted)?;
            self.mark_deleted(name)
        })();
        self.audited(OWNER, "delete", Some(name), None, 200, res)
    }

    /// Undoes `delete_key`. 404 if there is no such key; 409 if the key is not deleted.
    pub fn recover_key(&self, name: &str) -> Result<()> {
        let res = self.recover_key_unaudited(name);
        self.audited(OWNER, "recover", Some(name), None, 200, res)
    }

    fn recover_key_unaudited(&self, name: &str) -> Result<()> {
        check_key_name(name).map_err(Error::BadRequest)?;
        let _w = self.lock();
        if !self.key_exists(Place::Deleted, name)? {
            return Err(if self.key_exists(Place::Live, name)? {
                Error::Conflict(format!("key {name} is not deleted; there is nothing to recover"))
            } else {
                Error::NotFound(format!(
                    "no deleted key named {name} in vault {}; list the keys with `strata vault key list`",
                    self.name
                ))
            });
        }
        if self.key_exists(Place::Live, name)? {
            return Err(Error::Conflict(format!(
                "key {name} exists both live and deleted in {}; move one of the two directories \
                 away by hand",
                self.dir.display()
            )));
        }
        for rec in self.versions(Place::Deleted, name)? {
            self.holder.set_usable(&rec.held(&self.name), rec.attrs.enabled)?;
        }
        self.move_key(name, Place::Deleted, Place::Live)?;
        self.clear_deleted_mark(name)
    }

    // ---- opening ----

    fn open_or_create(
        dir: &Path,
        want_name: Option<&str>,
        props: &VaultProperties,
        token: Option<&Pkcs11Config>,
    ) -> Result<LocalVault> {
        let meta_path = dir.join(VAULT_FILE);
        if meta_path.exists() {
            // An existing vault: refused, unread, if group or others can reach into it.
            require_private(dir, "the key vault directory")?;
        }
        let holder: Arc<dyn KeyHolder>;
        let meta = match read_if_exists(&meta_path)? {
            Some(bytes) => {
                // The name inside says which vault's seal to check, so it is read first; the
                // seal then covers it like every other field.
                let (json, seal) = sealed_doc::split(&meta_path, &META_DOC, &bytes)?;
                let meta: VaultMeta = serde_json::from_slice(&json)
                    .map_err(|e| Error::corruption(&meta_path, 0, format!("not a valid vault.json: {e}")))?;
                check_vault_name(&meta.name).map_err(|why| Error::corruption(&meta_path, 0, why))?;
                if let Some(want) = want_name {
                    if want != meta.name {
                        return Err(Error::Conflict(format!(
                            "the vault in {} is named {}, not {want}; use another directory for \
                             vault {want}",
                            dir.display(),
                            meta.name
                        )));
                    }
                }
                holder = Self::open_holder(dir)?;
                let sealer = Sealer::of(holder.as_ref(), &meta.name);
                sealed_doc::verify(&meta_path, &META_DOC, &json, seal.as_deref(), &sealer)?;
                meta
            }
            None => {
                let name = want_name.unwrap_or(DEFAULT_VAULT_NAME);
                match token {
                    None => {
                        holder = Arc::new(file_keys::FileKeys);
                        Self::init(dir, name, props, None, holder.as_ref())?
                    }
                    Some(cfg) => {
                        // A new token vault: the token must work, and gets the vault's record
                        // seal key, before anything is written here.
                        let mut keys = TokenKeys::open(cfg)?;
                        let seal_key = keys.create_seal_key(name)?;
                        keys.cfg.seal_key = Some(seal_key.clone());
                        let cfg = keys.cfg.clone();
                        let meta = Self::init(dir, name, props, Some(&cfg), &keys).inspect_err(|_| {
                            // The failure to create is the error to report.
                            let _ = keys.destroy_seal_key(name, &seal_key);
                        })?;
                        holder = Arc::new(keys);
                        meta
                    }
                }
            }
        };
        create_dir(&dir.join(KEYS_DIR), true)?;
        create_dir(&dir.join(DELETED_DIR), true)?;
        Ok(LocalVault {
            dir: dir.to_path_buf(),
            name: meta.name,
            tenant_id: meta.tenant_id,
            retention_days: meta.retention_days,
            purge_protection: meta.purge_protection,
            network: meta.network,
            writer: Mutex::new(()),
            audit: Mutex::new(()),
            clock: Arc::new(SystemWallClock),
            holder,
        })
    }

    /// The key holder of the existing vault in `dir`: the PKCS#11 token its `pkcs11.json`
    /// names, else the vault's own key files.
    fn open_holder(dir: &Path) -> Result<Arc<dyn KeyHolder>> {
        Ok(match Pkcs11Config::read(dir)? {
            Some(cfg) => Arc::new(TokenKeys::open(&cfg)?),
            None => Arc::new(file_keys::FileKeys),
        })
    }

    /// Seals and checks this vault's own files with its key holder (a no-op for file keys).
    pub(crate) fn sealer(&self) -> Sealer<'_> {
        Sealer::of(self.holder.as_ref(), &self.name)
    }

    /// Whether this vault's key pairs live in a PKCS#11 token (and which), for `vault show`.
    pub fn token(&self) -> Result<Option<Pkcs11Config>> {
        Pkcs11Config::read(&self.dir)
    }

    /// Makes `dir` a new vault: private directory, then `vault.json`.
    fn init(
        dir: &Path,
        name: &str,
        props: &VaultProperties,
        token: Option<&Pkcs11Config>,
        holder: &dyn KeyHolder,
    ) -> Result<VaultMeta> {
        if dir.exists() {
            // Refuse to turn an unrelated directory into a vault (and to chmod it).
            let entries = fs::read_dir(dir).map_err(|e| Error::io_path("listing", dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io_path("listing", dir, e))?;
                let file_name = entry.file_name();
                let known = [
                    KEYS_DIR,
                    DELETED_DIR,
                    "vault.json.tmp",
                    ACCESS_FILE,
                    "access.json.tmp",
                    AUDIT_FILE,
                    PKCS11_FILE,
                    "pkcs11.json.tmp",
                ];
                if !known.iter().any(|k| file_name == *k) {
                    return Err(Error::Conflict(format!(
                        "{} is not empty and is not a key vault (it has no {VAULT_FILE}); use a \
                         new or empty directory for the vault",
                        dir.display()
                    )));
                }
            }
        }
        create_dir(dir, true)?;
        set_private_dir_mode(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let meta = VaultMeta {
            name: name.to_string(),
            tenant_id: props.tenant_id.clone().unwrap_or_else(random_tenant_id),
            retention_days: props.retention_days,
            purge_protection: props.purge_protection,
            network: props.network,
            permission_model: PermissionModel::AccessPolicy,
        };
        // The portal's one-step setup: the first-party identity may get, wrapKey and unwrapKey.
        // Written before vault.json, which is what makes the directory a vault.
        AccessPolicies::initial().write(dir, &Sealer::of(holder, name))?;
        if let Some(cfg) = token {
            cfg.write(dir)?;
        }
        write_meta(dir, &meta, &Sealer::of(holder, name))?;
        Ok(meta)
    }

    // ---- lookups ----

    /// The key version `uri` names (or the newest enabled one), checked usable for wrap/unwrap.
    fn resolve(&self, uri: &KeyUri) -> Result<KeyRecord> {
        let name = uri.name();
        if uri.vault() != self.name {
            return Err(Error::vault(
                substatus::KEY_NOT_FOUND,
                format!(
                    "key vault {} not found: the local vault in {} is named {}; use a key URI \
                     starting with https://{}.vault.local/keys/",
                    uri.vault(),
                    self.dir.display(),
                    self.name,
                    self.name
                ),
            ));
        }
        if !self.key_exists(Place::Live, name)? {
            let msg = if self.key_exists(Place::Deleted, name)? {
                format!(
                    "key {name} in vault {} is deleted; it can be recovered with `strata vault key \
                     recover {name}`",
                    self.name
                )
            } else {
                format!(
                    "key {name} not found in vault {}; create it with `strata vault key create \
                     {name}` or correct the key URI",
                    self.name
                )
            };
            return Err(Error::vault(substatus::KEY_NOT_FOUND, msg));
        }
        match uri.version() {
            Some(v) => {
                let rec = self
                    .read_record(&self.version_path(Place::Live, name, v), name, v)?
                    .ok_or_else(|| {
                        Error::vault(
                            substatus::KEY_NOT_FOUND,
                            format!(
                                "version {v} of key {name} not found in vault {}; list the \
                                 versions with `strata vault key list`",
                                self.name
                            ),
                        )
                    })?;
                if !rec.attrs.enabled {
                    return Err(Error::vault(
                        substatus::KEY_VAULT_ACCESS,
                        format!(
                            "version {v} of key {name} is disabled; enable it with `strata vault \
                             key enable {name} --version {v}`"
                        ),
                    ));
                }
                Ok(rec)
            }
            None => {
                let versions = self.versions(Place::Live, name)?;
                if versions.is_empty() {
                    return Err(Error::vault(
                        substatus::KEY_NOT_FOUND,
                        format!(
                            "key {name} in vault {} has no versions; create one with `strata \
                             vault key create {name}`",
                            self.name
                        ),
                    ));
                }
                // The newest enabled version inside its activation window; failing that, the
                // newest enabled one (wrap then refuses it, naming its window).
                let now = self.now();
                let mut newest: Option<(bool, KeyRecord)> = None;
                for rec in versions.into_iter().filter(|r| r.attrs.enabled) {
                    let valid = attributes::outside_window(&rec.attrs, now).is_none();
                    let better = match &newest {
                        None => true,
                        Some((nv, n)) => (valid && !*nv) || (valid == *nv && rec.newer_than(n)),
                    };
                    if better {
                        newest = Some((valid, rec));
                    }
                }
                newest.map(|(_, r)| r).ok_or_else(|| {
                    Error::vault(
                        substatus::KEY_VAULT_ACCESS,
                        format!(
                            "every version of key {name} is disabled; enable one with `strata \
                             vault key enable {name} --version <version>` or create a new version \
                             with `strata vault key create {name}`"
                        ),
                    )
                })
            }
        }
    }

    /// 404 unless `name` is a live key; 409 if it is deleted.
    fn require_live_for_update(&self, name: &str) -> Result<()> {
        if self.key_exists(Place::Live, name)? {
            return Ok(());
        }
        Err(if self.key_exists(Place::Deleted, name)? {
            Error::Conflict(format!(
                "key {name} is deleted; recover it first with `strata vault key recover {name}`"
            ))
        } else {
            Error::NotFound(format!(
                "key {name} not found in vault {}; list the keys with `strata vault key list`",
                self.name
            ))
        })
    }

    /// Refuses a name that differs only in case from an existing key, so behaviour is the same on
    /// case-sensitive and case-insensitive file systems.
    fn check_no_case_clash(&self, name: &str) -> Result<()> {
        for place in [Place::Live, Place::Deleted] {
            if let Some(other) = self
                .key_names(place)?
                .into_iter()
                .find(|n| n != name && n.eq_ignore_ascii_case(name))
            {
                return Err(Error::Conflict(format!(
                    "a key named {other} exists already; key names that differ only in case are \
                     not allowed, use {other} or another name"
                )));
            }
        }
        Ok(())
    }

    /// Whether a key directory with exactly this name exists (exact even on case-insensitive
    /// file systems, because it compares directory entries).
    fn key_exists(&self, place: Place, name: &str) -> Result<bool> {
        Ok(self.key_names(place)?.iter().any(|n| n == name))
    }

    /// Names of the key directories in `place`; entries that are not key names are ignored.
    fn key_names(&self, place: Place) -> Result<Vec<String>> {
        let dir = self.place_dir(place);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io_path("listing", &dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io_path("listing", &dir, e))?;
            let is_dir = entry
                .file_type()
                .map_err(|e| Error::io_path("inspecting", &entry.path(), e))?
                .is_dir();
            if let (true, Some(n)) = (is_dir, entry.file_name().to_str()) {
                if check_key_name(n).is_ok() {
                    names.push(n.to_string());
                }
            }
        }
        Ok(names)
    }

    /// Every version of a key in `place`. Stray files (e.g. `*.key.tmp` of a crashed write) are
    /// ignored; a damaged key file is an error.
    fn versions(&self, place: Place, name: &str) -> Result<Vec<KeyRecord>> {
        let dir = self.key_dir(place, name);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io_path("listing", &dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io_path("listing", &dir, e))?;
            let path = entry.path();
            let version = match (path.extension(), path.file_stem().and_then(|s| s.to_str())) {
                (Some(ext), Some(stem)) if ext == KEY_EXT && check_version(stem).is_ok() => stem,
                _ => continue,
            };
            if let Some(rec) = self.read_record(&path, name, version)? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    // ---- writes ----

    fn move_key(&self, name: &str, from: Place, to: Place) -> Result<()> {
        let src = self.key_dir(from, name);
        let dst = self.key_dir(to, name);
        fs::rename(&src, &dst).map_err(|e| Error::io_path("moving key directory to", &dst, e))?;
        sync_dir(&self.place_dir(to))?;
        Ok(sync_dir(&self.place_dir(from))?)
    }

    /// Records one operation and its result in the audit log, then returns the result. If the
    /// record cannot be written, a successful operation fails with that error (nothing happens
    /// unaudited); a failed operation keeps its own error.
    fn audited<T>(
        &self,
        caller: &str,
        operation: &str,
        key: Option<&str>,
        version: Option<&str>,
        ok_status: u16,
        res: Result<T>,
    ) -> Result<T> {
        let (status, sub_status) = match &res {
            Ok(_) => (ok_status, 0),
            Err(e) => (e.status(), e.substatus()),
        };
        let entry = AuditEntry {
            time: self.clock.now_millis(),
            caller: caller.to_string(),
            operation: operation.to_string(),
            key: key.map(str::to_string),
            version: version.map(str::to_string),
            status,
            sub_status,
        };
        let logged = {
            let _a = self.audit.lock().unwrap_or_else(PoisonError::into_inner);
            audit::append(&self.dir, entry, &self.sealer())
        };
        match (res, logged) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // The mutex guards no data, so a panic in another writer leaves nothing inconsistent.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- paths ----

    fn place_dir(&self, place: Place) -> PathBuf {
        self.dir.join(match place {
            Place::Live => KEYS_DIR,
            Place::Deleted => DELETED_DIR,
        })
    }

    fn key_dir(&self, place: Place, name: &str) -> PathBuf {
        self.place_dir(place).join(name)
    }

    fn version_path(&self, place: Place, name: &str, version: &str) -> PathBuf {
        self.key_dir(place, name).join(format!("{version}.{KEY_EXT}"))
    }
}

/// `vault.json` as a sealed document (sealed_doc.rs): plain JSON in a file vault, sealed by the
/// token in a token vault.
const META_DOC: DocKind<'static> = DocKind {
    magic: VAULT_META_SEALED_MAGIC,
    context: "strata/v1/vault",
    what: "vault.json",
};

fn write_meta(dir: &Path, meta: &VaultMeta, sealer: &Sealer<'_>) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(meta).map_err(|e| Error::Internal(format!("encoding vault.json: {e}")))?;
    sealed_doc::write(&dir.join(VAULT_FILE), &META_DOC, sealer, &json)
}

fn set_private_dir_mode(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io_path("making private (mode 0700)", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A warning for keys below 3072 bits (allowed, but below current guidance), else `None`.
pub fn key_size_warning(bits: usize) -> Option<String> {
    (bits < 3072).then(|| {
        format!(
            "a {bits}-bit RSA key is below the recommended 3072 bits; it is accepted, but use \
             --size 3072 or 4096 for keys that protect real data"
        )
    })
}

fn random_hex(n_bytes: usize) -> String {
    let mut b = vec![0u8; n_bytes];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random (version 4) UUID, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
fn random_tenant_id() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    let x = u128::from_be_bytes(b);
    let x = (x & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 96,
        (x >> 80) & 0xffff,
        (x >> 64) & 0xffff,
        (x >> 48) & 0xffff,
        x & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Principal;

    const DEK: [u8; 32] = [7u8; 32];
    const FP: Principal = Principal::FirstParty;

    fn vault() -> (tempfile::TempDir, LocalVault) {
        let tmp = tempfile::tempdir().unwrap();
        let v = LocalVault::open(&tmp.path().join("vault")).unwrap();
        (tmp, v)
    }

    fn uri(v: &LocalVault, name: &str) -> KeyUri {
        KeyUri::new(v.name(), name, None).unwrap()
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn open_creates_a_private_vault_and_reopens_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home/vault");
        let v = LocalVault::open(&dir).unwrap();
        assert_eq!(v.name(), "local");
        assert_eq!(v.tenant_id().len(), 36);
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(VAULT_FILE)), 0o600);
            assert_eq!(mode(&dir.join(KEYS_DIR)), 0o700);
        }
        let again = LocalVault::open(&dir).unwrap();
        assert_eq!(again.tenant_id(), v.tenant_id());
        assert_eq!(LocalVault::create_named(&dir, "local").unwrap().name(), "local");
        assert_eq!(LocalVault::create_named(&dir, "prod").unwrap_err().status(), 409);

        let named = LocalVault::create_named(&tmp.path().join("prod"), "prod").unwrap();
        assert_eq!(named.name(), "prod");
        assert_eq!(LocalVault::open(&tmp.path().join("prod")).unwrap().name(), "prod");
        let bad = LocalVault::create_named(&tmp.path().join("x"), "Bad_Name").unwrap_err();
        assert_eq!(bad.status(), 400);

        // An unrelated non-empty directory is not taken over.
        let other = tmp.path().join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("notes.txt"), b"hi").unwrap();
        assert_eq!(LocalVault::open(&other).unwrap_err().status(), 409);

        // A damaged vault.json is reported, not replaced.
        fs::write(dir.join(VAULT_FILE), b"{not json").unwrap();
        assert!(LocalVault::open(&dir).unwrap_err().is_corruption());
    }

    /// An existing vault whose directory group or others can enter is refused, unread, until
    /// it is private again (a new vault is made private by `open` itself).
    #[cfg(unix)]
    #[test]
    fn a_vault_directory_open_to_group_or_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vault");
        LocalVault::open(&dir).unwrap().create_key("k", 2048).unwrap();
        for m in [0o750, 0o755, 0o701] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(m)).unwrap();
            let e = LocalVault::open(&dir).err().unwrap();
            assert_eq!(
                (e.status(), e.substatus()),
                (403, substatus::KEY_VAULT_ACCESS),
                "{e}"
            );
            assert!(e.to_string().contains("key vault directory"), "{e}");
            assert!(e.to_string().contains("chmod 700"), "{e}");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        let vault = LocalVault::open(&dir).unwrap();
        assert_eq!(vault.list_keys().unwrap().len(), 1);
        assert_eq!(mode(&dir), 0o700);
    }
    #[test]
    fn wrap_unwrap_round_trip_and_private_files() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let version = kid.version().unwrap().to_string();
        assert_eq!(version.len(), 32);
        assert_eq!(kid.vault(), "local");

        let (wrapped_kid, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        assert_eq!(wrapped_kid, kid);
        assert_eq!(wrapped.len(), 256);
        assert_eq!(&v.unwrap_key(&FP, &kid, &wrapped).unwrap()[..], &DEK[..]);

        let (kid2, wrapped2) = v.wrap_key(&FP, &uri(&v, "cmk"), &DEK).unwrap();
        assert_eq!(kid2, kid);
        assert_ne!(wrapped2, wrapped, "OAEP is randomised");
        assert_eq!(&v.unwrap_key(&FP, &kid2, &wrapped2).unwrap()[..], &DEK[..]);

        // Unwrap needs a version.
        assert_eq!(
            v.unwrap_key(&FP, &uri(&v, "cmk"), &wrapped).unwrap_err().status(),
            400
        );
        // A DEK too long for OAEP under 2048 bits is a 400, not a panic.
        assert_eq!(v.wrap_key(&FP, &kid, &[1u8; 191]).unwrap_err().status(), 400);
        assert_eq!(v.wrap_key(&FP, &kid, &[]).unwrap_err().status(), 400);

        // The private key exists only inside 0600 files in 0700 directories.
        #[cfg(unix)]
        {
            let key_dir = v.dir().join(KEYS_DIR).join("cmk");
            assert_eq!(mode(&key_dir), 0o700);
            assert_eq!(mode(&key_dir.join(format!("{version}.key"))), 0o600);
        }
        assert!(!format!("{v:?}").contains("PRIVATE"));
    }

    #[test]
    fn create_key_validates_and_list_keys_sorts() {
        let (_tmp, v) = vault();
        assert_eq!(v.create_key("cmk", 1024).unwrap_err().status(), 400);
        assert_eq!(v.create_key("bad name", 2048).unwrap_err().status(), 400);
        assert_eq!(v.create_key("", 2048).unwrap_err().status(), 400);

        let b1 = v.create_key("b", 2048).unwrap();
        let a1 = v.create_key("a", 2048).unwrap();
        let b2 = v.create_key("b", 2048).unwrap();
        assert_eq!(v.create_key("B", 2048).unwrap_err().status(), 409);
        // A crashed write leaves a temporary file, which listing ignores.
        fs::write(v.dir().join("keys/b/junk.key.tmp"), b"partial").unwrap();

        let list = v.list_keys().unwrap();
        let uris: Vec<_> = list.iter().map(|k| k.uri.clone()).collect();
        assert_eq!(uris, vec![a1, b1, b2.clone()]);
        let last = &list[2];
        assert_eq!(
            (last.name.as_str(), last.bits, last.enabled, last.deleted),
            ("b", 2048, true, false)
        );
        assert_eq!(Some(last.version.as_str()), b2.version());
        assert!(last.created > 1_600_000_000);
    }

    #[test]
    fn versionless_follows_the_newest_enabled_version() {
        let (_tmp, v) = vault();
        let v1 = v.create_key("cmk", 2048).unwrap();
        let v2 = v.create_key("cmk", 2048).unwrap();
        let any = uri(&v, "cmk");
        // Both were most likely created within the same second: the counter decides.
        assert_eq!(v.wrap_key(&FP, &any, &DEK).unwrap().0, v2);

        let (_, wrapped2) = v.wrap_key(&FP, &v2, &DEK).unwrap();
        v.set_enabled("cmk", v2.version(), false).unwrap();
        assert_eq!(v.wrap_key(&FP, &any, &DEK).unwrap().0, v1);

        let e = v.unwrap_key(&FP, &v2, &wrapped2).unwrap_err();
        assert_eq!((e.status(), e.substatus()), (403, substatus::KEY_VAULT_ACCESS));
        assert!(e.to_string().contains("strata vault key enable cmk"), "{e}");
        let e = v.wrap_key(&FP, &v2, &DEK).unwrap_err();
        assert_eq!(e.substatus(), substatus::KEY_VAULT_ACCESS);

        v.set_enabled("cmk", None, false).unwrap();
        let e = v.wrap_key(&FP, &any, &DEK).unwrap_err();
        assert_eq!(e.substatus(), substatus::KEY_VAULT_ACCESS);

        v.set_enabled("cmk", None, true).unwrap();
        assert_eq!(v.wrap_key(&FP, &any, &DEK).unwrap().0, v2);
        assert_eq!(&v.unwrap_key(&FP, &v2, &wrapped2).unwrap()[..], &DEK[..]);

        assert_eq!(v.set_enabled("nope", None, true).unwrap_err().status(), 404);
        let missing = "ffffffffffffffffffffffffffffffff";
        assert_eq!(
            v.set_enabled("cmk", Some(missing), true).unwrap_err().status(),
            404
        );
        assert_eq!(v.set_enabled("cmk", Some("xyz"), true).unwrap_err().status(), 400);
    }

    #[test]
    fn unknown_key_version_or_vault_is_4003() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let (_, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        let cases = [
            KeyUri::new("local", "other", None).unwrap(),
            KeyUri::new("local", "other", kid.version()).unwrap(),
            kid.with_version("ffffffffffffffffffffffffffffffff").unwrap(),
            KeyUri::new("elsewhere", "cmk", None).unwrap(),
            KeyUri::new("elsewhere", "cmk", kid.version()).unwrap(),
        ];
        for u in &cases {
            let e = v.wrap_key(&FP, u, &DEK).unwrap_err();
            assert_eq!(
                (e.status(), e.substatus()),
                (403, substatus::KEY_NOT_FOUND),
                "{u}: {e}"
            );
            if u.version().is_some() {
                let e = v.unwrap_key(&FP, u, &wrapped).unwrap_err();
                assert_eq!(e.substatus(), substatus::KEY_NOT_FOUND, "{u}: {e}");
            }
        }
    }

    #[test]
    fn deleted_key_is_4003_until_recovered() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let (_, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        v.delete_key("cmk").unwrap();

        for e in [
            v.unwrap_key(&FP, &kid, &wrapped).unwrap_err(),
            v.wrap_key(&FP, &uri(&v, "cmk"), &DEK).unwrap_err(),
        ] {
            assert_eq!(e.substatus(), substatus::KEY_NOT_FOUND);
            assert!(e.to_string().contains("deleted"), "{e}");
            assert!(e.to_string().contains("recover"), "{e}");
        }
        let list = v.list_keys().unwrap();
        assert_eq!(list.len(), 1);
        assert!(list[0].deleted);

        assert_eq!(v.create_key("cmk", 2048).unwrap_err().status(), 409);
        assert_eq!(v.set_enabled("cmk", None, false).unwrap_err().status(), 409);
        assert_eq!(v.delete_key("cmk").unwrap_err().status(), 409);
        assert_eq!(v.delete_key("nope").unwrap_err().status(), 404);
        assert_eq!(v.recover_key("nope").unwrap_err().status(), 404);

        v.recover_key("cmk").unwrap();
        assert_eq!(&v.unwrap_key(&FP, &kid, &wrapped).unwrap()[..], &DEK[..]);
        assert!(!v.list_keys().unwrap()[0].deleted);
        assert_eq!(v.recover_key("cmk").unwrap_err().status(), 409);
    }

    #[test]
    fn nothing_is_returned_unaudited() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let (_, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        // The audit log cannot be appended to: wrap and unwrap withhold their results.
        let log = v.dir().join(AUDIT_FILE);
        fs::remove_file(&log).unwrap();
        fs::create_dir(&log).unwrap();
        assert_eq!(v.wrap_key(&FP, &kid, &DEK).unwrap_err().status(), 500);
        assert_eq!(v.unwrap_key(&FP, &kid, &wrapped).unwrap_err().status(), 500);
        // A refused call keeps its own error.
        let nobody = Principal::User("nobody".into());
        assert_eq!(v.unwrap_key(&nobody, &kid, &wrapped).unwrap_err().status(), 403);
        fs::remove_dir(&log).unwrap();
        assert_eq!(&v.unwrap_key(&FP, &kid, &wrapped).unwrap()[..], &DEK[..]);
    }

    #[test]
    fn wrong_wrapped_bytes_are_4005() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let other = v.create_key("other", 2048).unwrap();
        let (_, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        let (_, wrapped_other) = v.wrap_key(&FP, &other, &DEK).unwrap();

        let mut flipped = wrapped.clone();
        flipped[100] ^= 1;
        for bad in [&flipped[..], &wrapped[..10], &[][..], &wrapped_other[..]] {
            let e = v.unwrap_key(&FP, &kid, bad).unwrap_err();
            assert_eq!(
                (e.status(), e.substatus()),
                (403, substatus::KEY_WRAP_FAILED),
                "{e}"
            );
        }
    }

    #[test]
    fn a_flipped_byte_in_a_key_file_is_an_error_not_a_panic() {
        let (_tmp, v) = vault();
        let kid = v.create_key("cmk", 2048).unwrap();
        let (_, wrapped) = v.wrap_key(&FP, &kid, &DEK).unwrap();
        let path = v.version_path(Place::Live, "cmk", kid.version().unwrap());
        let good = fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            fs::write(&path, &bad).unwrap();
            let e = v.unwrap_key(&FP, &kid, &wrapped).unwrap_err();
            assert!(e.is_corruption(), "flip at {i}: {e}");
            assert!(v.list_keys().is_err(), "flip at {i}");
        }
        fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert!(v.unwrap_key(&FP, &kid, &wrapped).unwrap_err().is_corruption());
        fs::write(&path, &good).unwrap();
        assert_eq!(&v.unwrap_key(&FP, &kid, &wrapped).unwrap()[..], &DEK[..]);
    }
}
