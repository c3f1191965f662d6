//! The accounts' tenant: a UUID kept next to the SMK in `<home>/service/tenant` (mode 0600),
//! recorded from the first vault an account of this home uses that passes its checks (so the
//! default flow needs no set-up); afterwards every vault must be of that tenant. Called by
//! `keys::open_vault`.

use std::path::Path;

use crate::error::{Error, Result};
use strata_base::fs::{create_dir, read_if_exists, write_atomic};
use strata_vault::{check_tenant_id, KeyVault};

pub(crate) const TENANT_FILE: &str = "tenant";

/// The tenant recorded for the accounts of this home, if any vault was used yet.
pub(crate) fn recorded_tenant(service_dir: &Path) -> Result<Option<String>> {
    let path = service_dir.join(TENANT_FILE);
    let Some(bytes) = read_if_exists(&path)? else {
        return Ok(None);
    };
    let t =
        String::from_utf8(bytes).map_err(|_| Error::corruption(&path, 0, "the tenant id is not UTF-8"))?;
    let t = t.trim().to_string();
    check_tenant_id(&t).map_err(|_| Error::corruption(&path, 0, "the tenant id is not a UUID"))?;
    Ok(Some(t))
}

/// Checks that an account of this home may use `vault` (403.4002 otherwise; see
/// `KeyVault::check_account_use`). With no tenant recorded yet, the vault's tenant becomes the
/// home's, but only once the vault passed its other checks.
pub(crate) fn check_vault(service_dir: &Path, vault: &dyn KeyVault) -> Result<()> {
    match recorded_tenant(service_dir)? {
        Some(t) => Ok(vault.check_account_use(&t)?),
        None => {
            vault.check_account_use(vault.tenant_id())?;
            create_dir(service_dir, true)?;
            Ok(write_atomic(
                &service_dir.join(TENANT_FILE),
                vault.tenant_id().as_bytes(),
                true,
            )?)
        }
    }
}
