//! Rotation policies and autorotation: a key may carry "a new version every N days", stored with
//! the key (`keys/<name>/rotation.json`, so it moves with delete/recover and goes with purge).
//! There is no background task: a policy is checked whenever the vault is used on the key (get,
//! wrapKey, unwrapKey; list checks every key), and when the newest version is N days old by the
//! vault's clock, a new enabled version of the same size is created and audited as `autoRotate`.
//! Thread-safe: the due check is repeated under the writer lock, so concurrent callers create
//! one version, not several. See docs/keys.md#rotation-policy.
//!
//! ```text
//! rotation.json := JSON {"everyDays": N}          N in MIN_ROTATION_DAYS..=MAX_ROTATION_DAYS, mode 0600
//! ```

use std::fs;

use serde::{Deserialize, Serialize};

use super::{KeyRecord, LocalVault, Place, OWNER};
use crate::error::{Error, Result};
use crate::format_version::VAULT_ROTATION_SEALED_MAGIC;
use crate::key_uri::check_key_name;
use crate::sealed_doc::{self, DocKind};
use crate::KeyUri;
use strata_base::fs::sync_dir;

/// Shortest rotation period, in days (a cloud key vault's minimum time after creation).
pub const MIN_ROTATION_DAYS: u32 = 7;
/// Longest rotation period, in days (ten years; a bound that keeps the arithmetic far from
/// overflow and catches typos such as an extra digit).
pub const MAX_ROTATION_DAYS: u32 = 3650;
const ROTATION_FILE: &str = "rotation.json";
const DAY_SECS: u64 = 86_400;

/// A key's rotation policy, as shown by `strata vault key show`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationPolicy {
    /// A new version is created when the newest one is this many days old.
    pub every_days: u32,
    /// When that is due: the newest version's creation time plus `every_days`, unix seconds.
    pub next_rotation: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    every_days: u32,
}

impl LocalVault {
    /// Sets (`Some(days)`, 7 to 3650) or removes (`None`; nothing to remove is not an error) the
    /// rotation policy of the live key `name`. 400 outside the bounds; 404 if there is no such
    /// key; 409 if it is deleted. A policy whose period has already passed since the newest
    /// version was created rotates at the key's next use. Returns the policy now in force.
    pub fn set_rotation_policy(&self, name: &str, every_days: Option<u32>) -> Result<Option<RotationPolicy>> {
        let res = (|| {
            check_key_name(name).map_err(Error::BadRequest)?;
            if let Some(d) = every_days {
                if !(MIN_ROTATION_DAYS..=MAX_ROTATION_DAYS).contains(&d) {
                    return Err(Error::BadRequest(format!(
                        "a rotation period of {d} days is not allowed; use {MIN_ROTATION_DAYS} to \
                         {MAX_ROTATION_DAYS} days, or --off to remove the policy"
                    )));
                }
            }
            let _w = self.lock();
            self.require_live_for_update(name)?;
            let path = self.key_dir(Place::Live, name).join(ROTATION_FILE);
            match every_days {
                Some(d) => {
                    let json = serde_json::to_vec(&Stored { every_days: d })
                        .map_err(|e| Error::Internal(format!("encoding a rotation policy: {e}")))?;
                    sealed_doc::write(&path, &policy_doc(&context(name)), &self.sealer(), &json)?;
                }
                None => match fs::remove_file(&path) {
                    Ok(()) => sync_dir(&self.key_dir(Place::Live, name))?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io_path("removing", &path, e)),
                },
            }
            self.policy_info(Place::Live, name)
        })();
        let op = if every_days.is_some() {
            "setRotationPolicy"
        } else {
            "removeRotationPolicy"
        };
        self.audited(OWNER, op, Some(name), None, 200, res)
    }

    /// The rotation policy of key `name` (live or soft-deleted), `None` if it has none. 404 if
    /// there is no such key. Not audited (the owner reading the vault's configuration).
    pub fn rotation_policy(&self, name: &str) -> Result<Option<RotationPolicy>> {
        check_key_name(name).map_err(Error::BadRequest)?;
        for place in [Place::Live, Place::Deleted] {
            if self.key_exists(place, name)? {
                return self.policy_info(place, name);
            }
        }
        Err(Error::NotFound(format!(
            "key {name} not found in vault {}; list the keys with `strata vault key list`",
            self.name
        )))
    }

    /// Runs a due rotation of the key `uri` names, if it is a key of this vault.
    pub(super) fn autorotate_for(&self, uri: &KeyUri) {
        if uri.vault() == self.name && check_key_name(uri.name()).is_ok() {
            self.autorotate(uri.name());
        }
    }

    /// Runs the due rotations of every live key.
    pub(super) fn autorotate_all(&self) {
        if let Ok(names) = self.key_names(Place::Live) {
            for name in names {
                self.autorotate(&name);
            }
        }
    }

    /// Creates the new version of `name` if its policy says one is due, and audits it (also a
    /// failure). Never fails the operation that triggered it: that operation goes on with the
    /// versions there are, and a failed rotation is tried again at the next use.
    fn autorotate(&self, name: &str) {
        let res = self.autorotate_unaudited(name);
        let version = match &res {
            Ok(None) => return,
            Ok(Some(uri)) => uri.version().map(str::to_string),
            Err(_) => None,
        };
        // The audit log's own failure is the triggering operation's to report.
        let _ = self.audited(OWNER, "autoRotate", Some(name), version.as_deref(), 201, res);
    }

    fn autorotate_unaudited(&self, name: &str) -> Result<Option<KeyUri>> {
        let Some(bits) = self.due(name)? else {
            return Ok(None);
        };
        // Generate outside the lock (seconds for 4096 bits), then decide again under it.
        let (version, material) = self.generate_version(name, bits)?;
        let _w = self.lock();
        if self.due(name)?.is_none() {
            // Another caller rotated meanwhile: the pair made here is not needed.
            let unused = self.new_record(name, &version, bits, material);
            self.holder.destroy(&unused.held(&self.name))?;
            return Ok(None);
        }
        self.store_new_version(name, &version, bits, material).map(Some)
    }

    /// The size of the new version if the live key `name` has a rotation policy whose period has
    /// passed since its newest version was created; `None` if no rotation is due.
    fn due(&self, name: &str) -> Result<Option<usize>> {
        let Some(days) = self.read_policy(Place::Live, name)? else {
            return Ok(None);
        };
        let versions = self.versions(Place::Live, name)?;
        let Some(newest) = newest(&versions) else {
            return Ok(None);
        };
        let due_at = newest.attrs.created.saturating_add(u64::from(days) * DAY_SECS);
        Ok((due_at <= self.now()).then_some(newest.attrs.bits))
    }

    fn policy_info(&self, place: Place, name: &str) -> Result<Option<RotationPolicy>> {
        let Some(days) = self.read_policy(place, name)? else {
            return Ok(None);
        };
        let versions = self.versions(place, name)?;
        let created = newest(&versions).map_or(0, |r| r.attrs.created);
        Ok(Some(RotationPolicy {
            every_days: days,
            next_rotation: created.saturating_add(u64::from(days) * DAY_SECS),
        }))
    }

    fn read_policy(&self, place: Place, name: &str) -> Result<Option<u32>> {
        let path = self.key_dir(place, name).join(ROTATION_FILE);
        let Some(bytes) = sealed_doc::read(&path, &policy_doc(&context(name)), &self.sealer())? else {
            return Ok(None);
        };
        let stored: Stored = serde_json::from_slice(&bytes)
            .map_err(|e| Error::corruption(&path, 0, format!("the rotation policy does not parse: {e}")))?;
        if !(MIN_ROTATION_DAYS..=MAX_ROTATION_DAYS).contains(&stored.every_days) {
            return Err(Error::corruption(
                &path,
                0,
                format!("a rotation period of {} days is out of bounds", stored.every_days),
            ));
        }
        Ok(Some(stored.every_days))
    }
}

/// The seal context of key `name`'s policy: a token vault's policy of one key never passes for
/// another's.
fn context(name: &str) -> String {
    format!("strata/v1/rotation/{name}")
}

fn policy_doc(context: &str) -> DocKind<'_> {
    DocKind {
        magic: VAULT_ROTATION_SEALED_MAGIC,
        context,
        what: "the key's rotation policy",
    }
}

/// The newest version: highest creation time, then highest counter (disabled ones included: the
/// period runs from the last version created, whatever was done to it since).
fn newest(versions: &[KeyRecord]) -> Option<&KeyRecord> {
    versions.iter().reduce(|a, b| if b.newer_than(a) { b } else { a })
}
