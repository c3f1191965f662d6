//! Loading a PKCS#11 module: one `cryptoki` context per module path per process, loaded and
//! C_Initialize'd (OS locking) on first use and kept for the life of the process, since a module
//! may be initialised only once per process and vaults are opened many times. Thread-safe.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};

use crate::error::{substatus, Error, Result};

fn modules() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The initialised context of the module at `path` (403.4002 if it cannot be loaded: the vault's
/// keys are then out of reach).
pub(super) fn load(path: &Path) -> Result<Pkcs11> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut map = modules().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(ctx) = map.get(&key) {
        return Ok(ctx.clone());
    }
    let unusable = |why: String| {
        Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "the PKCS#11 module {} cannot be used: {why}; check the module path the vault was \
                 created with (`strata vault show`)",
                path.display()
            ),
        )
    };
    let ctx = Pkcs11::new(&key).map_err(|e| unusable(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        Ok(()) => {}
        // Initialised by another part of this process through its own handle: usable as is.
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(unusable(e.to_string())),
    }
    map.insert(key, ctx.clone());
    Ok(ctx)
}
