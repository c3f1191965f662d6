//! Enabling a customer-managed key on a service-managed account: a new customer DEK wrapped by
//! the vault (same vault and identity rules as a CMK account's creation), KEYRING first, then the
//! in-memory layer and the catalog; the store then seals new files twice and re-seals the old
//! ones in the background (`db/reseal.rs`). This file also records the migration's completion
//! and reports its progress. Serialised with catalog edits. See docs/keys.md#enabling-cmk.

use serde::Serialize;

use super::handle::{Account, AccountInner};
use super::keys::{open_vault, read_keyring, wrap_verified, KEYRING_FILE};
use crate::error::{Error, Result};
use crate::keyring::{CustomerEntry, Keyring};
use strata_base::seal::hex;
use strata_base::seal::Dek;
use strata_vault::KeyUri;

/// How much of a customer-managed account's data is sealed twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationStatus {
    /// "in-progress" while single-sealed files may remain, else "complete".
    pub state: String,
    pub segments_total: u64,
    pub segments_double_sealed: u64,
    pub bytes_total: u64,
    pub bytes_double_sealed: u64,
}

impl Account {
    /// Turns a service-managed account into a customer-managed one under `key_uri`, while it
    /// stays open and available. The vault is called as the account's default identity, which
    /// needs wrapKey and unwrapKey; the vault must pass the account rules (tenant, purge
    /// protection, network): the vault's 403 otherwise, and nothing changes. On return every new
    /// write (WAL, segments, MANIFEST) is sealed twice; existing segments are re-sealed in the
    /// background (see `key_status().migration`). 409 if the account is customer-managed already.
    pub fn enable_cmk(&self, key_uri: &str) -> Result<super::KeyStatus> {
        self.inner.enable_cmk(key_uri)?;
        // From now on the customer key is checked in the background like any CMK account's.
        super::key_watch::start(self.inner.arc())?;
        // Reported, not settled: the KEYRING's migration mark stays until a later status call
        // or open sees the re-seal complete (one step of the protocol per call).
        self.key_status_settling(false)
    }
}

impl Account {
    /// Re-seals, on the caller's thread, every file still sealed once, and records the
    /// migration's completion (for callers that do not stay open long enough for the background
    /// thread, such as the CLI). Nothing to do for an account created customer-managed.
    pub fn finish_cmk_migration(&self) -> Result<super::KeyStatus> {
        self.inner.require_key_access()?;
        if self.inner.is_cmk() {
            self.inner.db.reseal()?;
        }
        self.key_status()
    }
}

fn already_cmk() -> Error {
    Error::Conflict(
        "the account already uses a customer-managed key; use `strata key rotate --to KEY_URI` to \
         move it to another key"
            .into(),
    )
}

impl AccountInner {
    fn enable_cmk(&self, key_uri: &str) -> Result<()> {
        if self.is_cmk() {
            return Err(already_cmk());
        }
        let uri = KeyUri::parse(key_uri)?;
        let path = self.data_dir.join(KEYRING_FILE);
        self.edit_catalog(|catalog| {
            if self.is_cmk() {
                return Err(already_cmk());
            }
            let caller = catalog.identity()?;
            let vault = open_vault(&self.opts, &uri)?;
            let dek = Dek::generate();
            let (kid, wrapped) = wrap_verified(vault.as_ref(), &caller, &uri, &dek)?;
            let ring = read_keyring(&self.data_dir)?;
            let next = Keyring {
                customer: Some(CustomerEntry {
                    key_uri: uri.to_string(),
                    kid: kid.to_string(),
                    wrapped_dek: hex::encode(&wrapped),
                }),
                resealing: true,
                ..ring
            };
            // KEYRING first: from here on the account opens as customer-managed (and repairs
            // the catalog if a crash comes before it is written, see `repair_catalog`).
            next.write(&path)?;
            self.suite.customer_layer().enable(dek)?;
            catalog.encryption = "customer-managed".into();
            catalog.key_uri = Some(uri.to_string());
            Ok(())
        })?;
        // A new, double-sealed WAL for new writes; what the old one holds goes to a
        // double-sealed segment; the background thread re-seals the rest.
        Ok(self.db.start_reseal()?)
    }

    /// The catalog of an account whose enable-CMK was cut short after KEYRING was written says
    /// service-managed: bring it in line with KEYRING, which alone decides how the account opens.
    pub(crate) fn repair_catalog(&self) -> Result<()> {
        let Some(customer) = read_keyring(&self.data_dir)?.customer else {
            return Ok(());
        };
        self.edit_catalog(|catalog| {
            if catalog.key_uri.is_none() {
                catalog.encryption = "customer-managed".into();
                catalog.key_uri = Some(customer.key_uri.clone());
            }
            Ok(())
        })
    }

    /// The migration's progress (customer-managed accounts; `None` otherwise). Once the store
    /// reports every file sealed twice, clears the KEYRING's migration mark, after which a
    /// single-sealed file is corruption again.
    pub(crate) fn settle_migration(&self) -> Result<Option<MigrationStatus>> {
        self.migration_status(true)
    }

    /// The migration's progress without recording its completion.
    pub(crate) fn migration_progress(&self) -> Result<Option<MigrationStatus>> {
        self.migration_status(false)
    }

    fn migration_status(&self, settle: bool) -> Result<Option<MigrationStatus>> {
        if !self.is_cmk() {
            return Ok(None);
        }
        let p = self.db.seal_progress()?;
        let layer = self.suite.customer_layer();
        // A revoked account writes nothing: completion waits for the key to come back.
        if settle && p.complete && layer.migrating() && layer.has_key() {
            // Under the catalog lock, which every KEYRING writer holds.
            let _catalog = self.catalog()?;
            let ring = read_keyring(&self.data_dir)?;
            if ring.resealing {
                Keyring {
                    resealing: false,
                    ..ring
                }
                .write(&self.data_dir.join(KEYRING_FILE))?;
            }
            layer.set_migrating(false);
        }
        Ok(Some(MigrationStatus {
            state: if p.complete { "complete" } else { "in-progress" }.into(),
            segments_total: p.segments,
            segments_double_sealed: p.segments_sealed,
            bytes_total: p.bytes,
            bytes_double_sealed: p.bytes_sealed,
        }))
    }
}
