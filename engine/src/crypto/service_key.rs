//! The service key store: the service-managed key (SMK), a 256-bit secret kept outside the data
//! directory (`$STRATA_HOME/service/smk`, mode 0600 in a 0700 directory), created on first use.
//! It only ever wraps service-layer data keys (see keyring.rs). Thread-safe (immutable).

use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use sha2::Sha256;

use super::dek::Dek;
use super::hex;
use crate::error::{Error, Result};
use crate::format_version::{SERVICE_KEY_MAGIC, SERVICE_KEY_VERSION};
use crate::util::fs::{self, read_if_exists};
use crate::util::meta_file;
use zeroize::Zeroizing;

pub(crate) struct ServiceKey {
    key: Dek,
    path: PathBuf,
}

impl ServiceKey {
    /// Reads and checks the key file; the buffers holding the key are zeroized when dropped.
    fn read_file(path: &Path) -> Result<Option<ServiceKey>> {
        let Some(bytes) = read_if_exists(path)?.map(Zeroizing::new) else {
            return Ok(None);
        };
        let (version, payload) = meta_file::decode(path, SERVICE_KEY_MAGIC, &bytes)?;
        Self::from_file(path.to_path_buf(), version, payload).map(Some)
    }

    /// Loads the SMK of an existing store; a missing key store is a clear 403.4003.
    pub(crate) fn load(dir: &Path) -> Result<ServiceKey> {
        let path = dir.join("smk");
        Self::read_file(&path)?.ok_or_else(|| {
            Error::vault(
                crate::error::substatus::KEY_NOT_FOUND,
                format!(
                    "no service key at {}; point --home / STRATA_HOME at the home this account was created with",
                    path.display()
                ),
            )
        })
    }

    fn from_file(path: PathBuf, version: u32, payload: &[u8]) -> Result<ServiceKey> {
        if version != SERVICE_KEY_VERSION {
            return Err(Error::corruption(
                &path,
                8,
                format!("unknown service key version {version}"),
            ));
        }
        let key = Dek::from_slice(payload)
            .ok_or_else(|| Error::corruption(&path, 20, "service key is not 32 bytes"))?;
        Ok(ServiceKey { key, path })
    }

    /// Loads the SMK from `dir`, creating it (and the directory) if it does not exist yet.
    pub(crate) fn load_or_create(dir: &Path) -> Result<ServiceKey> {
        let path = dir.join("smk");
        if let Some(key) = Self::read_file(&path)? {
            return Ok(key);
        }
        fs::create_dir(dir, true)?;
        let key = Dek::generate();
        meta_file::write(
            &path,
            SERVICE_KEY_MAGIC,
            SERVICE_KEY_VERSION,
            key.as_bytes(),
            true,
        )?;
        Ok(ServiceKey { key, path })
    }

    pub(crate) fn key(&self) -> &Dek {
        &self.key
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A public identifier of this SMK (HKDF output, not the key), stored beside the wrapped DEK
    /// so that opening a data directory with the wrong service key store says so clearly.
    pub(crate) fn key_id(&self) -> String {
        let hk = Hkdf::<Sha256>::new(None, self.key.as_bytes());
        let mut id = [0u8; 16];
        if hk.expand(b"strata/v1/smk-id", &mut id).is_err() {
            unreachable!("HKDF-SHA256 can always expand 16 bytes");
        }
        hex::encode(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("service");
        let a = ServiceKey::load_or_create(&d).unwrap();
        let b = ServiceKey::load_or_create(&d).unwrap();
        assert_eq!(a.key().as_bytes(), b.key().as_bytes());
        assert_eq!(a.key_id(), b.key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
    }
}
