//! Obtaining an account's data keys: creating and wrapping them at account creation, unwrapping
//! them at open — the service layer under the service key store, the customer layer through the
//! vault (which never hands out the RSA private key). Returns a `CipherSuite` for storage.

use std::path::Path;

use crate::crypto::keyring::{CustomerEntry, Keyring};
use crate::crypto::service_key::ServiceKey;
use crate::crypto::{hex, CipherSuite, Dek};
use crate::error::{substatus, Error, Result};
use crate::options::AccountOptions;
use crate::vault::{KeyUri, LocalVault};

pub(crate) const KEYRING_FILE: &str = "KEYRING";

fn open_vault(opts: &AccountOptions) -> Result<LocalVault> {
    let dir = opts.vault_dir();
    if !dir.join("vault.json").exists() {
        return Err(Error::vault(
            substatus::KEY_NOT_FOUND,
            format!(
                "no key vault at {}; point --home / STRATA_HOME at the home that holds the customer key",
                dir.display()
            ),
        ));
    }
    LocalVault::open(&dir)
}

/// Creates the data keys of a new account and writes the keyring.
pub(crate) fn create_keys(
    opts: &AccountOptions,
    data_dir: &Path,
    key_uri: Option<&str>,
) -> Result<CipherSuite> {
    let smk = ServiceKey::load_or_create(&opts.service_dir())?;
    let service = Dek::generate();
    let customer = match key_uri {
        None => None,
        Some(uri) => {
            let uri = KeyUri::parse(uri)?;
            let vault = open_vault(opts)?;
            let dek = Dek::generate();
            let (kid, wrapped) = vault.wrap_key(&uri, dek.as_bytes())?;
            Some((
                CustomerEntry {
                    key_uri: uri.to_string(),
                    kid: kid.to_string(),
                    wrapped_dek: hex::encode(&wrapped),
                },
                dek,
            ))
        }
    };
    let ring = Keyring {
        service: Keyring::wrap_service(&smk, &service),
        customer: customer.as_ref().map(|(e, _)| e.clone()),
    };
    ring.write(&data_dir.join(KEYRING_FILE))?;
    Ok(CipherSuite::new(service, customer.map(|(_, d)| d)))
}

/// Unwraps the data keys of an existing account.
pub(crate) fn open_keys(opts: &AccountOptions, data_dir: &Path) -> Result<CipherSuite> {
    let path = data_dir.join(KEYRING_FILE);
    let ring = Keyring::read(&path)?
        .ok_or_else(|| Error::corruption(&path, 0, "the account's keyring is missing"))?;
    let smk = ServiceKey::load(&opts.service_dir())?;
    let service = ring.unwrap_service(&smk, &path)?;
    let customer = match ring.customer_wrapped(&path)? {
        None => None,
        Some((kid, wrapped)) => {
            let kid = KeyUri::parse(&kid)?;
            let vault = open_vault(opts)?;
            let plain = vault.unwrap_key(&kid, &wrapped)?;
            Some(Dek::from_slice(&plain).ok_or_else(|| {
                Error::vault(
                    substatus::KEY_WRAP_FAILED,
                    "the unwrapped customer data key is not 256 bits",
                )
            })?)
        }
    };
    Ok(CipherSuite::new(service, customer))
}
