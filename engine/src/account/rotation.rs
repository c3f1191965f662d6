//! Customer-key rotation: re-wraps the account's customer-layer DEK under the newest enabled
//! version of its key (or under another key URI) and replaces KEYRING atomically. Constant time:
//! the DEK does not change, so no data is rewritten. The containers' analytical keys are
//! re-wrapped the same way. Serialised with catalog edits.
//! See docs/keys.md#rotation.

use serde::Serialize;

use super::handle::{Account, AccountInner};
use super::keys::{open_vault, read_keyring, wrap_verified, KEYRING_FILE};
use crate::error::{substatus, Error, Result};
use crate::keyring::{CustomerEntry, Keyring};
use strata_base::seal::hex;
use strata_vault::KeyUri;

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotation {
    /// The key URI the account is configured with from now on (may be version-less).
    pub key_uri: String,
    /// The versioned key id that wrapped the DEK before.
    pub previous_kid: String,
    /// The versioned key id that wraps it now.
    pub kid: String,
}

impl Account {
    /// Re-wraps the customer-layer DEK under `to` (a key URI), or without it under the key URI
    /// the account is configured with (a version-less one means its newest enabled version).
    /// The vault is called as the account's default identity, which needs wrapKey and unwrapKey
    /// on the target: the new wrap is unwrapped once before KEYRING is replaced, so a rotation
    /// can never leave the account with a key it cannot open. 400 for a service-managed account.
    pub fn rotate_customer_key(&self, to: Option<&str>) -> Result<KeyRotation> {
        self.inner.rotate_customer_key(to)
    }
}

impl AccountInner {
    pub(crate) fn rotate_customer_key(&self, to: Option<&str>) -> Result<KeyRotation> {
        let inner = self;
        if !inner.is_cmk() {
            return Err(Error::BadRequest(
                "the account uses service-managed keys only; there is no customer key to rotate".into(),
            ));
        }
        // While revoked the key is not in memory: the key check that restores it comes first.
        let Some(dek) = inner.suite.customer_dek() else {
            return Err(Error::vault(
                substatus::KEY_VAULT_ACCESS,
                "the customer-managed key is withdrawn; run `strata key check` once access is back",
            ));
        };
        let target = to.map(KeyUri::parse).transpose()?;
        let path = inner.data_dir.join(KEYRING_FILE);
        inner.edit_catalog(|catalog| {
            let ring = read_keyring(&inner.data_dir)?;
            let Some(old) = ring.customer.clone() else {
                return Err(Error::corruption(
                    &path,
                    0,
                    "the keyring holds no customer key but the account is customer-managed",
                ));
            };
            let uri = match &target {
                Some(u) => u.clone(),
                None => KeyUri::parse(&old.key_uri)?,
            };
            let caller = catalog.identity()?;
            let vault = open_vault(&inner.opts, &uri)?;
            let (kid, wrapped) = wrap_verified(vault.as_ref(), &caller, &uri, &dek)?;
            // The analytical keys follow the data key to the new version (before KEYRING, so a
            // failure leaves the account on the old, still enabled, version).
            inner.rewrap_analytical_keys(catalog, vault.as_ref(), &caller, &uri)?;
            let entry = CustomerEntry {
                key_uri: uri.to_string(),
                kid: kid.to_string(),
                wrapped_dek: hex::encode(&wrapped),
            };
            let next = Keyring {
                customer: Some(entry),
                ..ring
            };
            // KEYRING first: it alone decides how the account opens; the catalog only records
            // the configured URI for display.
            next.write(&path)?;
            catalog.key_uri = Some(uri.to_string());
            Ok(KeyRotation {
                key_uri: uri.to_string(),
                previous_kid: old.kid,
                kid: kid.to_string(),
            })
        })
    }
}
