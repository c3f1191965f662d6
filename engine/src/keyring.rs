//! The keyring file (`DATA/KEYRING`): the account's wrapped data keys and the identifiers of the
//! keys that wrap them. Plaintext by contract (wrapped keys and key ids only). The service-layer
//! DEK is wrapped by the service key store (`strata_vault::ServiceKey`, which keeps the SMK to
//! itself); the customer-layer DEK arrives already wrapped by the customer's vault, which the
//! caller (account/) talks to. Never holds an unwrapped key on disk. See docs/keys.md.

use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_base::meta_file;
use strata_base::seal::{hex, Dek};
use strata_vault::ServiceKey;

use crate::error::{substatus, Error, Result};
use crate::format_version::{KEYRING_MAGIC, KEYRING_VERSION, KEYRING_VERSION_OWN_KEYS};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ServiceEntry {
    /// `ServiceKey::key_id` of the SMK that wrapped the DEK.
    pub(crate) smk_id: String,
    pub(crate) wrap_salt: String,
    pub(crate) wrapped_dek: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CustomerEntry {
    /// The key URI the account was configured with (may be version-less).
    pub(crate) key_uri: String,
    /// The versioned key id that wrapped the DEK.
    pub(crate) kid: String,
    /// RSA-OAEP-SHA256 ciphertext of the customer-layer DEK, hex.
    pub(crate) wrapped_dek: String,
}

/// A container with its own customer key (docs/keys.md#per-container-customer-keys): the DEK
/// of its store's customer layer, wrapped by its own vault key. Never a raw key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ContainerKeyEntry {
    /// The container's catalog id; its store is `DATA/containers/<container_id>/`.
    pub(crate) container_id: u32,
    /// The key URI the container was created with (may be version-less).
    pub(crate) key_uri: String,
    /// The versioned key id that wrapped the DEK.
    pub(crate) kid: String,
    /// RSA-OAEP-SHA256 ciphertext of the container's customer-layer DEK, hex.
    pub(crate) wrapped_dek: String,
}

impl ContainerKeyEntry {
    pub(crate) fn wrapped(&self, path: &Path) -> Result<Vec<u8>> {
        hex::decode(&self.wrapped_dek)
            .ok_or_else(|| Error::corruption(path, 0, "keyring: bad wrapped container key"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Keyring {
    pub(crate) service: ServiceEntry,
    pub(crate) customer: Option<CustomerEntry>,
    /// Customer key enabled on a service-managed account, and some files may still be sealed
    /// once (docs/keys.md#enabling-cmk). Absent (false) otherwise, so older keyrings read as is.
    #[serde(default, rename = "cmkMigration", skip_serializing_if = "std::ops::Not::not")]
    pub(crate) resealing: bool,
    /// Containers with their own customer key, by container id. Absent (empty) otherwise, so
    /// older keyrings read as is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) containers: Vec<ContainerKeyEntry>,
}

impl Keyring {
    /// Wraps `service_dek` under the SMK with a fresh salt.
    pub(crate) fn wrap_service(smk: &ServiceKey, service_dek: &Dek) -> ServiceEntry {
        let (salt, buf) = smk.wrap_dek(service_dek);
        ServiceEntry {
            smk_id: smk.key_id(),
            wrap_salt: hex::encode(&salt),
            wrapped_dek: hex::encode(&buf),
        }
    }

    /// Unwraps the service-layer DEK with the SMK.
    pub(crate) fn unwrap_service(&self, smk: &ServiceKey, path: &Path) -> Result<Dek> {
        let e = &self.service;
        if e.smk_id != smk.key_id() {
            return Err(Error::vault(
                substatus::KEY_WRAP_FAILED,
                format!(
                    "the service key store at {} is not the one this data directory was created with; \
                     point --home / STRATA_HOME at the original home directory",
                    smk.path().display()
                ),
            ));
        }
        let salt = hex::decode(&e.wrap_salt)
            .ok_or_else(|| Error::corruption(path, 0, "keyring: bad service wrap salt"))?;
        let wrapped = hex::decode(&e.wrapped_dek)
            .ok_or_else(|| Error::corruption(path, 0, "keyring: bad wrapped service key"))?;
        smk.unwrap_dek(&salt, &wrapped).ok_or_else(|| {
            Error::vault(
                substatus::KEY_WRAP_FAILED,
                "the service-layer data key does not unwrap under the service key; the keyring or the service key store is damaged",
            )
        })
    }

    pub(crate) fn customer_wrapped(&self, path: &Path) -> Result<Option<(String, Vec<u8>)>> {
        match &self.customer {
            None => Ok(None),
            Some(c) => {
                let w = hex::decode(&c.wrapped_dek)
                    .ok_or_else(|| Error::corruption(path, 0, "keyring: bad wrapped customer key"))?;
                Ok(Some((c.kid.clone(), w)))
            }
        }
    }

    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let payload = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serialising keyring: {e}")))?;
        let version = match self.containers.is_empty() {
            true => KEYRING_VERSION,
            false => KEYRING_VERSION_OWN_KEYS,
        };
        Ok(meta_file::write(path, KEYRING_MAGIC, version, &payload, false)?)
    }

    pub(crate) fn read(path: &Path) -> Result<Option<Keyring>> {
        let Some((version, payload)) = meta_file::read(path, KEYRING_MAGIC)? else {
            return Ok(None);
        };
        if version != KEYRING_VERSION && version != KEYRING_VERSION_OWN_KEYS {
            return Err(Error::corruption(
                path,
                8,
                format!("unsupported keyring version {version}"),
            ));
        }
        serde_json::from_slice(&payload)
            .map(Some)
            .map_err(|e| Error::corruption(path, 20, format!("keyring does not parse: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_wrap_round_trip_and_wrong_smk() {
        let dir = tempfile::tempdir().unwrap();
        let smk = ServiceKey::load_or_create(&dir.path().join("a")).unwrap();
        let other = ServiceKey::load_or_create(&dir.path().join("b")).unwrap();
        let dek = Dek::generate();
        let ring = Keyring {
            service: Keyring::wrap_service(&smk, &dek),
            customer: None,
            resealing: false,
            containers: Vec::new(),
        };
        let path = dir.path().join("KEYRING");
        ring.write(&path).unwrap();
        let back = Keyring::read(&path).unwrap().unwrap();
        let p = Path::new("KEYRING");
        assert_eq!(back.unwrap_service(&smk, p).unwrap().as_bytes(), dek.as_bytes());
        let err = back.unwrap_service(&other, p).unwrap_err();
        assert_eq!((err.status(), err.substatus()), (403, substatus::KEY_WRAP_FAILED));
        // The wrapped key is not the key.
        assert!(!std::fs::read(&path)
            .unwrap()
            .windows(32)
            .any(|w| w == dek.as_bytes()));
    }

    #[test]
    fn own_container_keys_write_version_2_which_reads_back_and_none_write_version_1() {
        let dir = tempfile::tempdir().unwrap();
        let smk = ServiceKey::load_or_create(&dir.path().join("a")).unwrap();
        let mut ring = Keyring {
            service: Keyring::wrap_service(&smk, &Dek::generate()),
            customer: None,
            resealing: false,
            containers: Vec::new(),
        };
        let path = dir.path().join("KEYRING");
        let version = |p: &Path| meta_file::read(p, KEYRING_MAGIC).unwrap().unwrap().0;
        ring.write(&path).unwrap();
        assert_eq!(version(&path), KEYRING_VERSION);
        ring.containers.push(ContainerKeyEntry {
            container_id: 7,
            key_uri: "strata://local/keys/ck".into(),
            kid: "strata://local/keys/ck/0123".into(),
            wrapped_dek: "00ff".into(),
        });
        ring.write(&path).unwrap();
        // What an older build checks: it knows version 1 only, so it refuses this file.
        assert_eq!(version(&path), KEYRING_VERSION_OWN_KEYS);
        let back = Keyring::read(&path).unwrap().unwrap();
        assert_eq!(back.containers.len(), 1);
        assert_eq!(back.containers[0].container_id, 7);
        // Removing the last such container writes version 1 again.
        ring.containers.clear();
        ring.write(&path).unwrap();
        assert_eq!(version(&path), KEYRING_VERSION);
        // A version this build does not know is refused.
        meta_file::write(&path, KEYRING_MAGIC, 3, b"{}", false).unwrap();
        assert!(Keyring::read(&path).is_err());
    }
}
