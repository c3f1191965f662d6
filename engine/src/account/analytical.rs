//! The engine's side of the analytical tier: per-container settings (analytical TTL, schema
//! representation fixed at enablement) and the container's 32-byte analytical key. The key is
//! generated here and stored only wrapped, in `DATA/analytical/<container id>/KEY`: under a
//! customer key, RSA-OAEP-wrapped by the vault as the account's managed identity (the
//! first-party identity is refused for this tier); under the service key, sealed with the
//! service layer. It never touches Arrow or Parquet: the `strata-analytical` crate writes the
//! files with the key this module hands out. See docs/analytical.md.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::container::Container;
use super::handle::AccountInner;
use super::keys::open_vault;
use crate::catalog::Catalog;
use crate::error::{substatus, Error, Result};
use strata_base::seal::hex;
use strata_vault::{KeyUri, KeyVault, Principal};

/// How documents map to columns; chosen when the tier is enabled and fixed afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnalyticalSchema {
    /// One type per path; values of other types are dropped.
    WellDefined,
    /// Every value kept, in a column per type.
    FullFidelity,
}

impl AnalyticalSchema {
    pub fn as_str(self) -> &'static str {
        match self {
            AnalyticalSchema::WellDefined => "well-defined",
            AnalyticalSchema::FullFidelity => "full-fidelity",
        }
    }

    /// `well-defined` or `full-fidelity` (400 otherwise).
    pub fn parse(raw: &str) -> Result<AnalyticalSchema> {
        match raw {
            "well-defined" => Ok(AnalyticalSchema::WellDefined),
            "full-fidelity" => Ok(AnalyticalSchema::FullFidelity),
            other => Err(Error::BadRequest(format!(
                "analytical schema {other:?} is not one of well-defined, full-fidelity"
            ))),
        }
    }
}

/// A container's analytical-tier settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticalSettings {
    /// -1: keep forever; n > 0: an item leaves the tier n seconds after its last modification.
    pub ttl: i64,
    pub schema: AnalyticalSchema,
}

/// The wrapped analytical key as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    /// `customer` (RSA-OAEP by the vault key `kid`) or `service` (sealed by the service layer).
    wrapped_by: String,
    kid: Option<String>,
    wrapped: String,
}

const KEY_FILE: &str = "KEY";

/// What the tier of a customer-managed-key account asks of the account's identity.
const NEEDS_MANAGED_IDENTITY: &str = "the analytical tier of a customer-managed-key account works only \
     through the account's managed identity, not the first-party identity: set the account's default \
     identity to its system-assigned identity or a user-assigned one (`strata account set-identity`)";
const KEY_LEN: usize = 32;

fn validate_ttl(ttl: i64) -> Result<()> {
    if ttl == -1 || ttl > 0 {
        return Ok(());
    }
    Err(Error::BadRequest(format!(
        "analytical TTL must be -1 (keep forever) or a positive number of seconds, not {ttl}; \
         to turn the tier off, disable it"
    )))
}

/// The directory of a container's analytical files: `DATA/analytical/<container id>`.
pub(crate) fn analytical_dir_of(data_dir: &Path, container_id: u32) -> PathBuf {
    data_dir.join("analytical").join(container_id.to_string())
}

impl Container {
    /// The directory of this container's analytical files (`DATA/analytical/<container id>`).
    pub fn analytical_dir(&self) -> Result<PathBuf> {
        let id = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .id;
        Ok(analytical_dir_of(&self.inner.data_dir, id))
    }

    /// The tier's settings, `None` while it is off (404 if the container does not exist).
    pub fn analytical_settings(&self) -> Result<Option<AnalyticalSettings>> {
        Ok(self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .analytical)
    }

    /// Turns the analytical tier on with an analytical TTL (-1 or seconds) and a schema
    /// representation, creating and wrapping the container's analytical key. Enabling again
    /// changes only the TTL; another schema is refused (400). A customer-key account whose
    /// default identity is the first-party identity is refused (400): the tier's key is wrapped
    /// through the account's managed identity.
    pub fn enable_analytical(&self, ttl: i64, schema: AnalyticalSchema) -> Result<AnalyticalSettings> {
        validate_ttl(ttl)?;
        self.inner.require_key_access()?;
        if let Some(cur) = self.analytical_settings()? {
            if cur.schema != schema {
                return Err(Error::BadRequest(format!(
                    "the analytical tier of '{}' uses the {} schema, chosen when it was enabled; it cannot \
                     change to {}",
                    self.name(),
                    cur.schema.as_str(),
                    schema.as_str()
                )));
            }
        }
        self.ensure_key()?;
        let settings = AnalyticalSettings { ttl, schema };
        let (db, name) = (self.database_name().to_string(), self.name().to_string());
        self.inner.edit_catalog(|c| {
            c.container_mut(&db, &name)?.analytical = Some(settings);
            Ok(())
        })?;
        Ok(settings)
    }

    /// Creates and wraps the container's analytical key unless it exists. Refused (400) on a
    /// customer-key account whose default identity is the first-party identity.
    fn ensure_key(&self) -> Result<()> {
        let (identity, id) = {
            let c = self.inner.catalog()?;
            (c.identity()?, c.container(self.database_name(), self.name())?.id)
        };
        // Its key would be wrapped by the account's keys, not the container's: revoking the
        // container's key would leave the tier's copy readable.
        if self.inner.own_stores.has(id) {
            return Err(Error::BadRequest(
                "the analytical tier of a container with its own customer key is not built yet: \
                 the tier's key would not be under the container's key"
                    .into(),
            ));
        }
        if self.inner.is_cmk() && identity == Principal::FirstParty {
            return Err(Error::BadRequest(format!(
                "{NEEDS_MANAGED_IDENTITY}, grant it get/wrapKey/unwrapKey on the key, then enable"
            )));
        }
        let dir = self.analytical_dir()?;
        if !dir.join(KEY_FILE).exists() {
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
            self.write_key(&dir, &identity, key.as_ref())?;
        }
        Ok(())
    }

    /// Turns the tier off; its files and key stay until it is enabled again (same schema). 403
    /// while the customer key is revoked, as enabling it is.
    pub fn disable_analytical(&self) -> Result<()> {
        self.inner.require_key_access()?;
        let (db, name) = (self.database_name().to_string(), self.name().to_string());
        self.inner.edit_catalog(|c| {
            c.container_mut(&db, &name)?.analytical = None;
            Ok(())
        })
    }

    /// Whether the tier may be used now: the account's key gate (403 while the customer key is
    /// revoked) and, on a customer-managed-key account, a managed default identity (403.4002 if
    /// it is the first-party identity, e.g. switched back after the tier was enabled). Asked at
    /// every unwrap of the tier's key and by an open tier before each catch-up; no vault call.
    pub fn check_analytical_access(&self) -> Result<()> {
        self.inner.require_key_access()?;
        if self.inner.is_cmk() && self.inner.catalog()?.identity()? == Principal::FirstParty {
            return Err(Error::vault(
                substatus::KEY_VAULT_ACCESS,
                format!("{NEEDS_MANAGED_IDENTITY}, then open the tier again"),
            ));
        }
        Ok(())
    }

    /// The unwrapped analytical key, for the caller the vault allows (the account's default
    /// identity): 404 if the tier was never enabled, 403 if the customer key is revoked or the
    /// identity may not unwrap, 403.4002 if a customer-managed-key account calls as the
    /// first-party identity. A tier that is on but has no key (an account restored from a
    /// backup, which does not carry the analytical area) gets a new one: its files are rebuilt
    /// from the change feed.
    pub fn analytical_key(&self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.check_analytical_access()?;
        let dir = self.analytical_dir()?;
        let path = dir.join(KEY_FILE);
        if !path.exists() && self.analytical_settings()?.is_some() {
            self.ensure_key()?;
        }
        let bytes = strata_base::fs::read_if_exists(&path)?.ok_or_else(|| {
            Error::NotFound(format!(
                "the analytical tier of '{}' has never been enabled; enable it first",
                self.name()
            ))
        })?;
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
            Error::corruption(&path, 0, format!("the analytical key file does not parse: {e}"))
        })?;
        let wrapped = hex::decode(&file.wrapped)
            .ok_or_else(|| Error::corruption(&path, 0, "the analytical key file is not hex"))?;
        let plain = match (file.wrapped_by.as_str(), &file.kid) {
            ("customer", Some(kid)) => {
                let kid = KeyUri::parse(kid)?;
                let vault = open_vault(&self.inner.opts, &kid)?;
                vault.unwrap_key(&self.inner.catalog()?.identity()?, &kid, &wrapped)?
            }
            ("service", None) => Zeroizing::new(
                self.inner
                    .suite
                    .open_metadata(&self.key_label()?, &wrapped)
                    .ok_or_else(|| Error::corruption(&path, 0, "the analytical key fails authentication"))?,
            ),
            _ => {
                return Err(Error::corruption(
                    &path,
                    0,
                    "the analytical key file names no known wrapping",
                ))
            }
        };
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if plain.len() != KEY_LEN {
            return Err(Error::vault(
                substatus::KEY_WRAP_FAILED,
                "the unwrapped analytical key is not 256 bits",
            ));
        }
        key.copy_from_slice(&plain);
        Ok(key)
    }

    fn key_label(&self) -> Result<String> {
        let id = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .id;
        Ok(format!("analytical-key/{id}"))
    }

    fn write_key(&self, dir: &std::path::Path, identity: &Principal, key: &[u8]) -> Result<()> {
        // Bound first: a guard in the match scrutinee would live through the arms.
        let key_uri = self.inner.catalog()?.key_uri.clone();
        let file = match key_uri {
            Some(uri) if self.inner.is_cmk() => {
                let uri = KeyUri::parse(&uri)?;
                let vault = open_vault(&self.inner.opts, &uri)?;
                let (kid, wrapped) = vault.wrap_key(identity, &uri, key)?;
                KeyFile {
                    wrapped_by: "customer".into(),
                    kid: Some(kid.to_string()),
                    wrapped: hex::encode(&wrapped),
                }
            }
            _ => KeyFile {
                wrapped_by: "service".into(),
                kid: None,
                wrapped: hex::encode(&self.inner.suite.seal_metadata(&self.key_label()?, key)),
            },
        };
        let body = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Internal(format!("serialising the analytical key file: {e}")))?;
        strata_base::fs::create_dir(dir, false)?;
        Ok(strata_base::fs::write_atomic(&dir.join(KEY_FILE), &body, true)?)
    }
}

impl AccountInner {
    /// Re-wraps every customer-wrapped analytical key of the account under `uri` in `vault` as
    /// `caller` (part of a customer-key rotation, before KEYRING moves): each is unwrapped with
    /// the version that wrapped it, wrapped anew, checked to unwrap to itself, and replaced
    /// atomically. Returns how many it re-wrapped.
    pub(crate) fn rewrap_analytical_keys(
        &self,
        catalog: &Catalog,
        vault: &dyn KeyVault,
        caller: &Principal,
        uri: &KeyUri,
    ) -> Result<usize> {
        let mut done = 0;
        for c in catalog.databases.iter().flat_map(|d| d.containers.iter()) {
            let path = analytical_dir_of(&self.data_dir, c.id).join(KEY_FILE);
            let Some(bytes) = strata_base::fs::read_if_exists(&path)? else {
                continue;
            };
            let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
                Error::corruption(&path, 0, format!("the analytical key file does not parse: {e}"))
            })?;
            let (Some(old_kid), "customer") = (&file.kid, file.wrapped_by.as_str()) else {
                continue;
            };
            let wrapped = hex::decode(&file.wrapped)
                .ok_or_else(|| Error::corruption(&path, 0, "the analytical key file is not hex"))?;
            let old_kid = KeyUri::parse(old_kid)?;
            let key = open_vault(&self.opts, &old_kid)?.unwrap_key(caller, &old_kid, &wrapped)?;
            let (kid, rewrapped) = vault.wrap_key(caller, uri, &key)?;
            let back = vault.unwrap_key(caller, &kid, &rewrapped)?;
            if !bool::from(subtle::ConstantTimeEq::ct_eq(back.as_slice(), key.as_slice())) {
                return Err(Error::vault(
                    substatus::KEY_WRAP_FAILED,
                    format!("an analytical key wrapped under {kid} does not unwrap to itself"),
                ));
            }
            let next = KeyFile {
                wrapped_by: "customer".into(),
                kid: Some(kid.to_string()),
                wrapped: hex::encode(&rewrapped),
            };
            let body = serde_json::to_vec_pretty(&next)
                .map_err(|e| Error::Internal(format!("serialising the analytical key file: {e}")))?;
            strata_base::fs::write_atomic(&path, &body, true)?;
            done += 1;
        }
        Ok(done)
    }
}
