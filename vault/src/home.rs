//! Where a home's vaults live and how they are found: the default vault (`local`) in
//! `<home>/vault`, named vaults in `<home>/vaults/<name>`; opening the backend a key URI names
//! (as a `dyn KeyVault`), opening or creating a vault by name (its keys in files, or in a
//! PKCS#11 token: `LocalVault::open` picks the key holder the vault was made with), and sharing a tenant's
//! key-backup secret between the vaults of one tenant. Called by the engine (key URIs) and the
//! CLI (`strata vault ...`). Reads only the vault directories; never the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_base::wall_clock::WallClock;

use crate::error::{substatus, Error, Result};
use crate::key_uri::KeyUri;
use crate::key_vault::KeyVault;
use crate::local::LocalVault;
use crate::pkcs11::Pkcs11Config;
use crate::properties::VaultProperties;

/// The name of the default vault, which lives in `<home>/vault` and always exists once used.
pub const DEFAULT_VAULT: &str = "local";
const VAULT_FILE: &str = "vault.json";

/// The vaults of one `$STRATA_HOME`.
#[derive(Clone, Debug)]
pub struct VaultHome {
    home: PathBuf,
}

impl VaultHome {
    pub fn new(home: impl Into<PathBuf>) -> VaultHome {
        VaultHome { home: home.into() }
    }

    /// The default vault's directory: `<home>/vault`.
    pub fn default_dir(&self) -> PathBuf {
        self.home.join("vault")
    }

    /// The directory of the vault `name` made by `strata vault create`: `<home>/vaults/<name>`.
    pub fn named_dir(&self, name: &str) -> PathBuf {
        self.home.join("vaults").join(name)
    }

    /// The directory of the vault key URIs name `vault`: its own under `<home>/vaults/` if one
    /// exists there, else the default vault's.
    pub fn dir_for(&self, vault: &str) -> PathBuf {
        let named = self.named_dir(vault);
        if exists(&named) {
            named
        } else {
            self.default_dir()
        }
    }

    /// The backend holding the key `uri` names, on `clock` (which decides when a rotation
    /// policy is due). 403.4003 when no vault is there. The vault directory decides where the
    /// key pairs are (its own files, or the PKCS#11 token its `pkcs11.json` names).
    pub fn open_for_uri(&self, uri: &KeyUri, clock: Arc<dyn WallClock>) -> Result<Arc<dyn KeyVault>> {
        let dir = self.dir_for(uri.vault());
        if !exists(&dir) {
            return Err(Error::vault(
                substatus::KEY_NOT_FOUND,
                format!(
                    "no key vault at {}; point --home / STRATA_HOME at the home that holds the customer key",
                    dir.display()
                ),
            ));
        }
        Ok(Arc::new(LocalVault::open(&dir)?.with_clock(clock)))
    }

    /// The local vault `name` (404 if it was never created); `None` or `local`: the default one.
    pub fn open_local(&self, name: Option<&str>) -> Result<LocalVault> {
        match name {
            None | Some(DEFAULT_VAULT) => LocalVault::open(&self.default_dir()),
            Some(name) => {
                // Validates the name as a vault name (one DNS label: no path separators).
                KeyUri::new(name, "probe", None)?;
                let dir = self.named_dir(name);
                if !exists(&dir) {
                    return Err(Error::NotFound(format!(
                        "no key vault named {name}; create it with `strata vault create {name}`"
                    )));
                }
                LocalVault::open(&dir)
            }
        }
    }

    /// Creates the named local vault `name` (409 for `local`, which always exists). A vault
    /// given the tenant of a vault this home already has shares that tenant's key-backup secret,
    /// so key backups restore across them.
    pub fn create_local(&self, name: &str, props: &VaultProperties) -> Result<LocalVault> {
        self.create_held(name, props, None)
    }

    /// Creates the named vault `name` as [`VaultHome::create_local`] does, its key pairs kept in
    /// the PKCS#11 token `token` names when given (see `LocalVault::create_in_token`).
    pub fn create_held(
        &self,
        name: &str,
        props: &VaultProperties,
        token: Option<&Pkcs11Config>,
    ) -> Result<LocalVault> {
        Self::check_new_name(name)?;
        let dir = self.named_dir(name);
        let v = match token {
            Some(cfg) => LocalVault::create_in_token(&dir, name, props, cfg)?,
            None => LocalVault::create_with(&dir, name, props)?,
        };
        if props.tenant_id.is_some() {
            if let Some(peer) = self.peer_of_tenant(&v)? {
                v.share_tenant_secret(&peer)?;
            }
        }
        Ok(v)
    }

    /// 409 for the name of the default vault, which always exists; callers that build vault
    /// properties from user input check the name first, so that this is the error reported.
    pub fn check_new_name(name: &str) -> Result<()> {
        if name == DEFAULT_VAULT {
            return Err(Error::Conflict(
                "the default vault is named local and always exists; choose another name".into(),
            ));
        }
        Ok(())
    }

    /// Another existing vault of `v`'s tenant in this home: the default vault, or one in vaults/.
    fn peer_of_tenant(&self, v: &LocalVault) -> Result<Option<LocalVault>> {
        let mut dirs = vec![self.default_dir()];
        if let Ok(entries) = std::fs::read_dir(self.home.join("vaults")) {
            dirs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
        for dir in dirs {
            if dir == v.dir() || !exists(&dir) {
                continue;
            }
            let peer = LocalVault::open(&dir)?;
            if peer.tenant_id().eq_ignore_ascii_case(v.tenant_id()) {
                return Ok(Some(peer));
            }
        }
        Ok(None)
    }
}

fn exists(dir: &Path) -> bool {
    dir.join(VAULT_FILE).exists()
}
