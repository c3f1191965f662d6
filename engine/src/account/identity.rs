//! Changing an account's default identity, the principal it calls the vault as. Allowed while
//! the account is revoked (it is one way out). The new identity must be able to unwrap the
//! customer key, and the key of every container that has its own, before the catalog records
//! it. See docs/keys.md#identities.

use super::container_keys::unwrap_container_dek;
use super::handle::Account;
use super::keys::{open_service, read_keyring, unwrap_customer};
use crate::catalog::Catalog;
use crate::error::{substatus, Error, Result};
use crate::options::AccountOptions;
use strata_lsm::db::DirLock;
use strata_lsm::CipherSuite;
use strata_vault::{Identities, Principal};

impl Account {
    /// The same change on a closed account, for when it cannot be opened because its current
    /// identity lost access: takes the data directory's lock, unwraps the customer key as
    /// `identity` (the vault's 403 if it cannot; nothing changes then), and records it in the
    /// catalog. 404 if there is no account, 423 if it is open elsewhere.
    pub fn set_default_identity_at(opts: &AccountOptions, identity: Principal) -> Result<()> {
        let name = Account::name_at(opts)?;
        check_own_system_identity(&name, &identity)?;
        Identities::new(&opts.home).require(&identity)?;
        let data_dir = &opts.data_dir;
        let _lock = DirLock::acquire(data_dir)?;
        let (ring, service) = open_service(opts, data_dir)?;
        let probe = CipherSuite::new(service, None);
        let mut catalog = Catalog::read(data_dir, &probe)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            ))
        })?;
        // Unwrapping proves access; the DEK itself is dropped (zeroized) right away. The keys of
        // containers with their own must unwrap too.
        drop(unwrap_customer(opts, data_dir, &ring, &identity)?);
        for entry in &ring.containers {
            drop(unwrap_container_dek(opts, data_dir, entry, &identity)?);
        }
        catalog.default_identity = Some(identity.to_string());
        catalog.write(data_dir, &probe)
    }

    /// Makes `identity` the account's default identity. 400 for another account's system
    /// identity; 404 for a user-assigned identity that does not exist; for a CMK account, the
    /// vault's 403 if `identity` cannot unwrap the customer key (nothing changes then). Runs a
    /// key check afterwards, so a revoked account whose new identity has access is restored.
    pub fn set_default_identity(&self, identity: Principal) -> Result<()> {
        let inner = &self.inner;
        check_own_system_identity(&self.name(), &identity)?;
        Identities::new(&inner.opts.home).require(&identity)?;
        inner.edit_catalog(|catalog| {
            if inner.is_cmk() {
                // Works while revoked too (the key is then withheld): compared with the DEK the
                // account was opened with, through its check value.
                let ring = read_keyring(&inner.data_dir)?;
                let dek = unwrap_customer(&inner.opts, &inner.data_dir, &ring, &identity)?;
                if !dek.is_some_and(|d| inner.suite.customer_layer().matches(&d)) {
                    return Err(Error::vault(
                        substatus::KEY_WRAP_FAILED,
                        "the customer key unwraps to a different data key than the account's",
                    ));
                }
            }
            // A container with its own key must stay readable under the new identity too.
            inner.verify_own_keys_as(&identity)?;
            catalog.default_identity = Some(identity.to_string());
            Ok(())
        })?;
        if inner.is_cmk() || inner.own_stores.any() {
            // The outcome is recorded in the key state; the change itself has succeeded.
            let _ = self.check_key();
        }
        Ok(())
    }
}

/// 400 for the system-assigned identity of another account.
pub(super) fn check_own_system_identity(account: &str, identity: &Principal) -> Result<()> {
    match identity {
        Principal::System(other) if other != account => Err(Error::BadRequest(format!(
            "an account can use only its own system-assigned identity (system:{account}), not \
             system:{other}"
        ))),
        _ => Ok(()),
    }
}
