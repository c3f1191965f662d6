//! Key checks and rotation of the containers that have their own customer key
//! (`container_keys.rs`). A check unwraps each container's DEK again as the account's identity:
//! on failure that container's store withholds its customer key (zeroized), its block cache
//! is emptied and every call on it answers 403 with the vault's substatus, while the other
//! containers go on; a later successful check puts the same DEK back (or opens the store, if
//! the key was refused when the account opened). A version-less key URI follows the key's
//! newest enabled version, as the account's key does. Runs inside the account's key check
//! (`key_check.rs`), under its lock. Must not: touch the account's own customer key, or write
//! anything but KEYRING (rotation) and what opening a store writes (a store first opened at a
//! check, after its key was refused at the account's open).
//! See docs/keys.md#per-container-customer-keys.

use serde::Serialize;

use super::container::Container;
use super::container_keys::{open_own_db, unwrap_container_dek, OwnStore, Refusal};
use super::handle::AccountInner;
use super::keys::{open_vault, read_keyring, wrap_verified, KEYRING_FILE};
use super::rotation::KeyRotation;
use crate::error::{substatus, Error, Result};
use crate::keyring::ContainerKeyEntry;
use strata_base::seal::{hex, Dek};
use strata_vault::{KeyUri, Principal};

/// A container's own customer key, as `Container::customer_key` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerKeyStatus {
    /// `DB/CONT`.
    pub container: String,
    /// The key URI the container was created with (or rotated to).
    pub key_uri: String,
    /// The versioned key id that wraps the container's DEK.
    pub kid: String,
    /// "active", or "revoked" after a failed key check.
    pub state: String,
    /// The substatus of the failed check (4002, 4003, 4005) while revoked, else 0.
    pub sub_status: u32,
    /// Whether the container's unwrapped DEK is in memory.
    pub key_in_memory: bool,
}

impl AccountInner {
    /// Checks every container's own key (see the module comment). Never fails as a whole: a
    /// container whose check fails is revoked, the others are not affected.
    pub(crate) fn check_own_keys(&self) {
        if !self.own_stores.any() {
            return;
        }
        let entries = self
            .catalog()
            .and_then(|c| c.identity())
            .and_then(|caller| Ok((caller, read_keyring(&self.data_dir)?.containers)));
        let (caller, entries) = match entries {
            Ok(x) => x,
            Err(e) => {
                self.revoke_all_own(&Refusal::of(&e));
                return;
            }
        };
        for entry in entries {
            let outcome = unwrap_container_dek(&self.opts, &self.data_dir, &entry, &caller)
                .and_then(|dek| self.accept_own_key(entry.container_id, dek));
            match outcome {
                Ok(()) => {
                    // Not an error of the check: the current version unwraps.
                    let _ = self.follow_newest_own_version(&entry);
                }
                Err(e) => self.revoke_own(entry.container_id, Refusal::of(&e)),
            }
        }
    }

    /// Before the default identity changes: every container's own key must unwrap as
    /// `identity` to the DEK its store holds (or held, while withheld); the vault's 403, or
    /// 403.4005 for another DEK, otherwise. A store never opened has nothing to compare with:
    /// its key unwrapping is enough.
    pub(crate) fn verify_own_keys_as(&self, identity: &Principal) -> Result<()> {
        if !self.own_stores.any() {
            return Ok(());
        }
        for entry in read_keyring(&self.data_dir)?.containers {
            let dek = unwrap_container_dek(&self.opts, &self.data_dir, &entry, identity)?;
            let map = self.own_stores.read()?;
            let held = map.get(&entry.container_id).and_then(|s| s.open.as_ref());
            if held.is_some_and(|(_, suite)| !suite.customer_layer().matches(&dek)) {
                return Err(Error::vault(
                    substatus::KEY_WRAP_FAILED,
                    format!(
                        "the key of container id {} unwraps to a different data key than its store's",
                        entry.container_id
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A successful unwrap: puts the DEK back into the container's store (only the same DEK is
    /// accepted, 403.4005 otherwise), or opens the store if it never was.
    fn accept_own_key(&self, id: u32, dek: Dek) -> Result<()> {
        let opened = {
            let map = self.own_stores.read()?;
            match map.get(&id) {
                None => return Ok(()),
                Some(own) => own.open.clone(),
            }
        };
        let opened = match opened {
            Some((db, suite)) => {
                suite.customer_layer().restore(dek)?;
                db.wake_background();
                None
            }
            None => Some(open_own_db(&self.opts, &self.ttl_table, &self.suite, id, dek)?),
        };
        let mut map = self.own_stores.write()?;
        if let Some(own) = map.get_mut(&id) {
            if opened.is_some() && own.open.is_none() {
                own.open = opened;
            }
            own.refused = None;
        }
        drop(map);
        // An index rebuild that waited for this container's key may go on.
        self.wake_indexer();
        Ok(())
    }

    /// A failed check of container `id`: its DEK is withheld (zeroized) and its cached blocks
    /// dropped, so nothing sealed under its key stays readable in memory.
    fn revoke_own(&self, id: u32, why: Refusal) {
        let Ok(mut map) = self.own_stores.write() else {
            return;
        };
        if let Some(own) = map.get_mut(&id) {
            if let Some((db, suite)) = &own.open {
                suite.customer_layer().withhold();
                db.drop_cached_blocks();
            }
            own.refused = Some(why);
        }
    }

    fn revoke_all_own(&self, why: &Refusal) {
        let ids: Vec<u32> = self
            .own_stores
            .read()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        for id in ids {
            self.revoke_own(id, why.clone());
        }
    }

    /// Rotates container `entry`'s key to the newest enabled version of its version-less URI,
    /// if that is not the one in use.
    fn follow_newest_own_version(&self, entry: &ContainerKeyEntry) -> Result<()> {
        let uri = KeyUri::parse(&entry.key_uri)?;
        if uri.version().is_some() {
            return Ok(());
        }
        let caller = self.catalog()?.identity()?;
        let newest = open_vault(&self.opts, &uri)?.get_key(&caller, &uri)?;
        if newest.uri.to_string() == entry.kid {
            return Ok(());
        }
        self.rotate_own_key(entry.container_id, None).map(|_| ())
    }

    /// Re-wraps container `id`'s DEK under `to`, or under its configured key URI (the newest
    /// enabled version of a version-less one), and replaces its KEYRING entry. The DEK does not
    /// change: no data is rewritten. As the account's rotation: wrapped, unwrapped once and
    /// compared before KEYRING is written, under the catalog lock.
    pub(crate) fn rotate_own_key(&self, id: u32, to: Option<&str>) -> Result<KeyRotation> {
        let dek = {
            let map = self.own_stores.read()?;
            let own = map.get(&id).ok_or_else(|| {
                Error::BadRequest(
                    "the container has no customer-managed key of its own; it uses the account's keys".into(),
                )
            })?;
            own.open
                .as_ref()
                .and_then(|(_, suite)| suite.customer_dek())
                .ok_or_else(|| {
                    Error::vault(
                        substatus::KEY_VAULT_ACCESS,
                        "the container's customer-managed key is withdrawn; run `strata key check` once access is back",
                    )
                })?
        };
        let target = to.map(KeyUri::parse).transpose()?;
        let catalog = self.catalog()?;
        let mut ring = read_keyring(&self.data_dir)?;
        let path = self.data_dir.join(KEYRING_FILE);
        let entry = ring
            .containers
            .iter_mut()
            .find(|e| e.container_id == id)
            .ok_or_else(|| {
                Error::corruption(
                    &path,
                    0,
                    "the keyring holds no entry for a container with its own key",
                )
            })?;
        let uri = match &target {
            Some(u) => u.clone(),
            None => KeyUri::parse(&entry.key_uri)?,
        };
        let caller = catalog.identity()?;
        let vault = open_vault(&self.opts, &uri)?;
        let (kid, wrapped) = wrap_verified(vault.as_ref(), &caller, &uri, &dek)?;
        let previous_kid = std::mem::replace(&mut entry.kid, kid.to_string());
        entry.key_uri = uri.to_string();
        entry.wrapped_dek = hex::encode(&wrapped);
        ring.write(&path)?;
        if let Some(own) = self.own_stores.write()?.get_mut(&id) {
            own.key_uri = uri.to_string();
            own.kid = kid.to_string();
        }
        Ok(KeyRotation {
            key_uri: uri.to_string(),
            previous_kid,
            kid: kid.to_string(),
        })
    }
}

impl AccountInner {
    /// The own key of every container that has one, in catalog order (`strata key status`).
    pub(crate) fn own_key_statuses(&self) -> Result<Vec<ContainerKeyStatus>> {
        let names = self.own_key_containers()?;
        let map = self.own_stores.read()?;
        Ok(names
            .into_iter()
            .filter_map(|(id, name)| map.get(&id).map(|own| key_status_of(name, own)))
            .collect())
    }
}

fn key_status_of(container: String, own: &OwnStore) -> ContainerKeyStatus {
    ContainerKeyStatus {
        container,
        key_uri: own.key_uri.clone(),
        kid: own.kid.clone(),
        state: if own.refused.is_some() {
            "revoked"
        } else {
            "active"
        }
        .to_string(),
        sub_status: own.refused.as_ref().map_or(0, |r| r.substatus),
        key_in_memory: own
            .open
            .as_ref()
            .is_some_and(|(_, suite)| suite.has_customer_key()),
    }
}

impl Container {
    /// The container's own customer key and its state; `None` if it uses the account's keys.
    /// 404 if the container does not exist.
    pub fn customer_key(&self) -> Result<Option<ContainerKeyStatus>> {
        let id = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .id;
        let map = self.inner.own_stores.read()?;
        let name = format!("{}/{}", self.database_name(), self.name());
        Ok(map.get(&id).map(|own| key_status_of(name, own)))
    }

    /// Re-wraps the container's own DEK under `to` (a key URI), or without it under the newest
    /// enabled version of the key URI it is configured with; the data is not rewritten. 400 if
    /// the container has no key of its own, 403 while its key is withdrawn, the vault's 403 if
    /// the account's identity lacks wrapKey or unwrapKey on the target.
    pub fn rotate_customer_key(&self, to: Option<&str>) -> Result<KeyRotation> {
        self.inner.require_key_access()?;
        let id = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .id;
        self.inner.rotate_own_key(id, to)
    }
}
