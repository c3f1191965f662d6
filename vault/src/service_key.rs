//! The service key store: the service-managed key (SMK), a 256-bit secret kept outside the data
//! directory (`$STRATA_HOME/service/smk`, mode 0600 in a 0700 directory), created on first use;
//! a key file that group or others can access is refused (403.4002), as ssh refuses a private key.
//! It only ever wraps service-layer data keys, and does so itself: the key never leaves this file
//! (the engine's keyring stores what `wrap_dek` returns). Thread-safe (immutable).
//!
//! ```text
//! service wrap key = HKDF-SHA256(ikm = SMK, salt = wrap_salt[32], info = "strata/v1/smk-wrap")
//! wrapped service DEK = AES-256-GCM(wrap key, nonce = 0, aad = "strata/v1/service-dek", DEK)
//! ```
//! The nonce may be fixed because every wrap uses a fresh random salt, hence a fresh wrap key.
//!
//! A home made with `strata init --smk-pkcs11-vault NAME` keeps the SMK file encrypted by a key
//! in that vault's PKCS#11 token (format version 2, pkcs11/service_key.rs); it is decrypted in
//! the token at load and used in memory as above.

use std::path::{Path, PathBuf};

use rand::RngCore;
use strata_base::seal::{derive_key, AeadKey, TAG_LEN};

use crate::custody::require_private;
use crate::error::{Error, Result};
use crate::format_version::{SERVICE_KEY_MAGIC, SERVICE_KEY_TOKEN_VERSION, SERVICE_KEY_VERSION};
use crate::pkcs11::{self, Pkcs11Config};
use strata_base::fs::{self, read_if_exists};
use strata_base::meta_file;
use strata_base::seal::hex;
use strata_base::seal::Dek;
use zeroize::Zeroizing;

const WRAP_AAD: &[u8] = b"strata/v1/service-dek";

pub struct ServiceKey {
    key: Dek,
    path: PathBuf,
    /// The file holds the SMK encrypted by a PKCS#11 token, not the SMK.
    in_token: bool,
}

impl ServiceKey {
    /// Reads and checks the key file; the buffers holding the key are zeroized when dropped.
    /// 403.4002 if group or others have any access to the file (it is not read then).
    fn read_file(path: &Path) -> Result<Option<ServiceKey>> {
        if !path.exists() {
            return Ok(None);
        }
        require_private(path, "the service key file")?;
        let Some(bytes) = read_if_exists(path)?.map(Zeroizing::new) else {
            return Ok(None);
        };
        let (version, payload) = meta_file::decode(path, SERVICE_KEY_MAGIC, &bytes)?;
        Self::from_file(path.to_path_buf(), version, payload).map(Some)
    }

    /// Loads the SMK of an existing store; a missing key store is a clear 403.4003.
    pub fn load(dir: &Path) -> Result<ServiceKey> {
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
        let (key, in_token) = match version {
            SERVICE_KEY_VERSION => (Dek::from_slice(payload), false),
            SERVICE_KEY_TOKEN_VERSION => (
                Dek::from_slice(&pkcs11::service_key::unwrap(&path, payload)?),
                true,
            ),
            _ => {
                return Err(Error::corruption(
                    &path,
                    8,
                    format!("unknown service key version {version}"),
                ))
            }
        };
        let key = key.ok_or_else(|| Error::corruption(&path, 20, "service key is not 32 bytes"))?;
        Ok(ServiceKey { key, path, in_token })
    }

    /// Creates the SMK of a new home in `dir`, encrypted at rest by a new AES key in the PKCS#11
    /// token `token` names (403.4002 if the token or its PIN is out of reach). A home whose SMK
    /// is in that token already keeps it; one whose SMK is a plain file is 409 (accounts depend
    /// on it). Nothing is written if the token fails.
    pub fn create_in_token(dir: &Path, token: &Pkcs11Config) -> Result<ServiceKey> {
        let path = dir.join("smk");
        if let Some(existing) = Self::read_file(&path)? {
            if existing.in_token {
                return Ok(existing);
            }
            return Err(Error::Conflict(format!(
                "this home's service key {} is a plain file that existing accounts depend on; \
                 a token can hold the service key of a new home only (use another --home)",
                path.display()
            )));
        }
        let key = Dek::generate();
        let payload = pkcs11::service_key::wrap(token, key.as_bytes())?;
        fs::create_dir(dir, true)?;
        let framed = meta_file::encode(SERVICE_KEY_MAGIC, SERVICE_KEY_TOKEN_VERSION, &payload);
        fs::write_atomic(&path, &framed, true)?;
        Ok(ServiceKey {
            key,
            path,
            in_token: true,
        })
    }

    /// The SMK itself, for tests that prove it is not on disk.
    #[cfg(test)]
    pub(crate) fn raw_for_tests(&self) -> &[u8] {
        self.key.as_bytes()
    }

    /// Whether the SMK file is encrypted by a PKCS#11 token.
    pub fn in_token(&self) -> bool {
        self.in_token
    }

    /// Loads the SMK from `dir`, creating it (and the directory) if it does not exist yet.
    pub fn load_or_create(dir: &Path) -> Result<ServiceKey> {
        let path = dir.join("smk");
        if let Some(key) = Self::read_file(&path)? {
            return Ok(key);
        }
        fs::create_dir(dir, true)?;
        let key = Dek::generate();
        // meta_file::write would drop its framed copy of the key without zeroizing it.
        let framed = Zeroizing::new(meta_file::encode(
            SERVICE_KEY_MAGIC,
            SERVICE_KEY_VERSION,
            key.as_bytes(),
        ));
        fs::write_atomic(&path, &framed, true)?;
        Ok(ServiceKey {
            key,
            path,
            in_token: false,
        })
    }

    /// Wraps `dek` under the SMK with a fresh random salt: `(salt, AES-256-GCM(DEK) || tag)`.
    pub fn wrap_dek(&self, dek: &Dek) -> ([u8; 32], Vec<u8>) {
        let mut salt = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        // Room for the tag up front: appending it must not reallocate and leave a copy of the
        // plaintext key behind in freed memory. Sealing in place overwrites the key itself.
        let mut buf = Vec::with_capacity(dek.as_bytes().len() + TAG_LEN);
        buf.extend_from_slice(dek.as_bytes());
        self.wrap_key(&salt).seal_in_place([0u8; 12], WRAP_AAD, &mut buf);
        (salt, buf)
    }

    /// Unwraps a `wrap_dek` result; `None` if it does not authenticate under this SMK or is
    /// not a 32-byte key.
    pub fn unwrap_dek(&self, salt: &[u8], wrapped: &[u8]) -> Option<Dek> {
        let mut buf = zeroize::Zeroizing::new(wrapped.to_vec());
        if !self.wrap_key(salt).open_in_place([0u8; 12], WRAP_AAD, &mut buf) {
            return None;
        }
        Dek::from_slice(&buf)
    }

    fn wrap_key(&self, salt: &[u8]) -> AeadKey {
        AeadKey::new(&derive_key(
            self.key.as_bytes(),
            Some(salt),
            b"strata/v1/smk-wrap",
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A public identifier of this SMK (HKDF output, not the key), stored beside the wrapped DEK
    /// so that opening a data directory with the wrong service key store says so clearly.
    pub fn key_id(&self) -> String {
        // The first 16 bytes of the HKDF output (an HKDF output is a prefix of any longer one).
        let okm = derive_key(self.key.as_bytes(), None, b"strata/v1/smk-id");
        hex::encode(&okm[..16])
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
        let dek = Dek::generate();
        let (salt, wrapped) = a.wrap_dek(&dek);
        assert!(b.unwrap_dek(&salt, &wrapped).unwrap().ct_eq(dek.as_bytes()));
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

    /// As ssh with a private key: a service key file that group or others can read is refused
    /// by every load, and accepted again once it is private.
    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_group_or_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("service");
        let id = ServiceKey::load_or_create(&d).unwrap().key_id();
        let file = d.join("smk");
        for mode in [0o640, 0o644, 0o604] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            for e in [
                ServiceKey::load(&d).err().unwrap(),
                ServiceKey::load_or_create(&d).err().unwrap(),
            ] {
                assert_eq!((e.status(), e.substatus()), (403, 4002), "{e}");
                assert!(e.to_string().contains("service key file"), "{e}");
                assert!(e.to_string().contains("chmod 600"), "{e}");
            }
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            ServiceKey::load(&d).unwrap().key_id(),
            id,
            "the same key, not a new one"
        );
    }
}
