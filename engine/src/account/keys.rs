//! Obtaining an account's data keys: creating and wrapping them at account creation, unwrapping
//! them at open — the service layer under the service key store, the customer layer through the
//! vault as the account's default identity (the vault never hands out the RSA private key).
//! Opening is two steps: the service layer first (it authenticates the catalog, which names the
//! identity), then the customer layer.

use std::path::Path;
use std::sync::Arc;

use crate::error::{substatus, Error, Result};
use crate::keyring::{CustomerEntry, Keyring};
use crate::options::AccountOptions;
use strata_vault::ServiceKey;
use strata_vault::{KeyUri, KeyVault, Principal, VaultHome};
use {
    strata_base::seal::{hex, Dek},
    strata_lsm::CipherSuite,
};

pub(crate) const KEYRING_FILE: &str = "KEYRING";

/// Opens the vault backend `uri` names (`strata_vault::VaultHome::open_for_uri`), on the
/// account's wall clock (which decides when a rotation policy is due), and checks that this
/// account may use it: same tenant, purge protection, network access (403.4002 otherwise). The
/// only way the engine reaches a customer key.
pub(crate) fn open_vault(opts: &AccountOptions, uri: &KeyUri) -> Result<Arc<dyn KeyVault>> {
    let vault = VaultHome::new(&opts.home).open_for_uri(uri, opts.wall_clock.clone())?;
    super::tenant::check_vault(&opts.service_dir(), vault.as_ref())?;
    Ok(vault)
}

/// Wraps `dek` under `uri` as `caller`, then unwraps the result once and compares it (constant
/// time): a key change never leaves the account with a key it cannot open. Needs wrapKey and
/// unwrapKey. Returns the versioned key id and the wrapped key.
pub(crate) fn wrap_verified(
    vault: &dyn KeyVault,
    caller: &Principal,
    uri: &KeyUri,
    dek: &Dek,
) -> Result<(KeyUri, Vec<u8>)> {
    let (kid, wrapped) = vault.wrap_key(caller, uri, dek.as_bytes())?;
    let back = vault.unwrap_key(caller, &kid, &wrapped)?;
    if !dek.ct_eq(&back) {
        return Err(Error::vault(
            substatus::KEY_WRAP_FAILED,
            format!("the data key wrapped under {kid} does not unwrap to itself"),
        ));
    }
    Ok((kid, wrapped))
}

/// Reads KEYRING: 500.1002 if it is missing.
pub(crate) fn read_keyring(data_dir: &Path) -> Result<Keyring> {
    let path = data_dir.join(KEYRING_FILE);
    Keyring::read(&path)?.ok_or_else(|| Error::corruption(&path, 0, "the account's keyring is missing"))
}

/// Creates the data keys of a new account and writes the keyring; the customer DEK is wrapped
/// by the vault as `caller`.
pub(crate) fn create_keys(
    opts: &AccountOptions,
    data_dir: &Path,
    key_uri: Option<&str>,
    caller: &Principal,
) -> Result<CipherSuite> {
    let smk = ServiceKey::load_or_create(&opts.service_dir())?;
    let service = Dek::generate();
    let customer = match key_uri {
        None => None,
        Some(uri) => {
            let uri = KeyUri::parse(uri)?;
            let vault = open_vault(opts, &uri)?;
            let dek = Dek::generate();
            let (kid, wrapped) = vault.wrap_key(caller, &uri, dek.as_bytes())?;
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
        resealing: false,
        containers: Vec::new(),
    };
    ring.write(&data_dir.join(KEYRING_FILE))?;
    Ok(CipherSuite::new(service, customer.map(|(_, d)| d)))
}

/// Reads the keyring of an existing account and unwraps its service-layer DEK.
pub(crate) fn open_service(opts: &AccountOptions, data_dir: &Path) -> Result<(Keyring, Dek)> {
    let path = data_dir.join(KEYRING_FILE);
    let ring = read_keyring(data_dir)?;
    let smk = ServiceKey::load(&opts.service_dir())?;
    let service = ring.unwrap_service(&smk, &path)?;
    Ok((ring, service))
}

/// Unwraps the customer-layer DEK (CMK accounts; `None` otherwise) through the vault as `caller`.
pub(crate) fn unwrap_customer(
    opts: &AccountOptions,
    data_dir: &Path,
    ring: &Keyring,
    caller: &Principal,
) -> Result<Option<Dek>> {
    let path = data_dir.join(KEYRING_FILE);
    let Some((kid, wrapped)) = ring.customer_wrapped(&path)? else {
        return Ok(None);
    };
    let kid = KeyUri::parse(&kid)?;
    let vault = open_vault(opts, &kid)?;
    let plain = vault.unwrap_key(caller, &kid, &wrapped)?;
    Dek::from_slice(&plain).map(Some).ok_or_else(|| {
        Error::vault(
            substatus::KEY_WRAP_FAILED,
            "the unwrapped customer data key is not 256 bits",
        )
    })
}
