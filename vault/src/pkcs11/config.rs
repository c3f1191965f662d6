//! `pkcs11.json`: which PKCS#11 module, which token and which environment variable holds the
//! user PIN, for a vault whose keys live in a token. Written once at `vault create` next to
//! `vault.json`; holds no secret (the PIN itself is read from the environment at every open and
//! never written). Validation only; loading the module is module.rs's.
//!
//! ```text
//! pkcs11.json := JSON {"module": absolute path, "token": label (1-32 bytes), "pinEnv": NAME,
//!                      "sealKey": hex CKA_ID of the record seal key (see seal.rs)}   0600
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_base::fs::{read_if_exists, write_atomic};

use crate::error::{Error, Result};

/// The file in a vault directory that makes the vault's key holder a PKCS#11 token.
pub(crate) const PKCS11_FILE: &str = "pkcs11.json";
/// PKCS#11 token labels are 32 bytes, blank padded (CK_TOKEN_INFO.label).
const MAX_TOKEN_LABEL: usize = 32;
const MAX_PIN_ENV: usize = 128;

/// Where a token vault's keys are: the module to load, the token's label and the name of the
/// environment variable holding the user PIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pkcs11Config {
    pub module: PathBuf,
    pub token: String,
    pub pin_env: String,
    /// The id of the vault's record seal key in the token; set when the vault is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_key: Option<String>,
}

impl Pkcs11Config {
    /// A checked configuration: 400 unless `module` is an absolute path to a file, `token` is 1
    /// to 32 bytes without leading/trailing blanks, and `pin_env` is an environment variable name
    /// (letters, digits, `_`, not starting with a digit).
    pub fn new(module: impl Into<PathBuf>, token: &str, pin_env: &str) -> Result<Pkcs11Config> {
        let cfg = Pkcs11Config {
            module: module.into(),
            token: token.to_string(),
            pin_env: pin_env.to_string(),
            seal_key: None,
        };
        cfg.validate().map_err(Error::BadRequest)?;
        if !cfg.module.is_file() {
            return Err(Error::BadRequest(format!(
                "the PKCS#11 module {} does not exist; give the module's full path (for SoftHSM2 \
                 on Debian: /usr/lib/softhsm/libsofthsm2.so)",
                cfg.module.display()
            )));
        }
        Ok(cfg)
    }

    /// The syntax of the three fields. Whether the module file exists is checked at creation
    /// only: a module that went missing later is the token being out of reach (403.4002 when
    /// it is loaded), not a damaged vault.
    fn validate(&self) -> std::result::Result<(), String> {
        if !self.module.is_absolute() {
            return Err(format!(
                "the PKCS#11 module {} is not an absolute path; give the module's full path (for \
                 SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so)",
                self.module.display()
            ));
        }
        let label_ok = !self.token.is_empty()
            && self.token.len() <= MAX_TOKEN_LABEL
            && self.token.trim() == self.token
            && !self.token.chars().any(char::is_control);
        if !label_ok {
            return Err(format!(
                "the token label {:?} is not valid: it must be 1 to {MAX_TOKEN_LABEL} bytes, \
                 without leading or trailing blanks or control characters",
                self.token
            ));
        }
        let mut chars = self.pin_env.chars();
        let env_ok = self.pin_env.len() <= MAX_PIN_ENV
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !env_ok {
            return Err(format!(
                "{:?} is not an environment variable name; use letters, digits and '_' (not \
                 starting with a digit), e.g. --pin-env STRATA_TOKEN_PIN",
                self.pin_env
            ));
        }
        Ok(())
    }

    /// The configuration of the vault in `dir`; `None` if its keys are not in a token.
    pub(crate) fn read(dir: &Path) -> Result<Option<Pkcs11Config>> {
        let path = dir.join(PKCS11_FILE);
        let Some(bytes) = read_if_exists(&path)? else {
            return Ok(None);
        };
        let cfg: Pkcs11Config = serde_json::from_slice(&bytes)
            .map_err(|e| Error::corruption(&path, 0, format!("not a valid {PKCS11_FILE}: {e}")))?;
        cfg.validate().map_err(|why| Error::corruption(&path, 0, why))?;
        if cfg
            .seal_key
            .as_deref()
            .and_then(strata_base::seal::hex::decode)
            .is_none()
        {
            return Err(Error::corruption(
                &path,
                0,
                "no valid sealKey: the vault's key records cannot be checked",
            ));
        }
        Ok(Some(cfg))
    }

    /// Writes `pkcs11.json` into the (new) vault directory `dir`, mode 0600.
    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("encoding {PKCS11_FILE}: {e}")))?;
        Ok(write_atomic(&dir.join(PKCS11_FILE), &json, true)?)
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn bad_configurations_are_400_and_a_good_one_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let module = tmp.path().join("libfake.so");
        std::fs::write(&module, b"not a module").unwrap();
        let bad = [
            ("relative.so".into(), "t", "PIN"),
            (tmp.path().join("missing.so"), "t", "PIN"),
            (module.clone(), "", "PIN"),
            (module.clone(), " t", "PIN"),
            (module.clone(), &"x".repeat(33), "PIN"),
            (module.clone(), "t", "1PIN"),
            (module.clone(), "t", "PIN-X"),
            (module.clone(), "t", ""),
        ];
        for (m, t, p) in bad {
            let e = Pkcs11Config::new(m.clone(), t, p).unwrap_err();
            assert_eq!(e.status(), 400, "{m:?} {t:?} {p:?}: {e}");
        }
        let mut cfg = Pkcs11Config::new(module, "strata token", "MY_PIN_2").unwrap();
        cfg.seal_key = Some("00ff".into());
        cfg.write(tmp.path()).unwrap();
        assert_eq!(Pkcs11Config::read(tmp.path()).unwrap(), Some(cfg.clone()));
        // A module that went away later reads fine; loading it is what fails (403.4002).
        std::fs::remove_file(&cfg.module).unwrap();
        assert_eq!(Pkcs11Config::read(tmp.path()).unwrap(), Some(cfg.clone()));
        let e = super::super::TokenKeys::open(&cfg).err().unwrap();
        assert_eq!(
            (e.status(), e.substatus()),
            (403, crate::error::substatus::KEY_VAULT_ACCESS),
            "{e}"
        );
        std::fs::write(tmp.path().join(PKCS11_FILE), b"{\"module\": 1}").unwrap();
        assert!(Pkcs11Config::read(tmp.path()).unwrap_err().is_corruption());
    }
}
