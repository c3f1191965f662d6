//! The seal of a token vault's own files: one HMAC-SHA-256 key per vault, generated in the token
//! (a generic secret, sensitive, not extractable, sign/verify only) when the vault is created and
//! named by `sealKey` (its CKA_ID, hex) in `pkcs11.json`. Every key-version record and the access
//! rules carry the token's HMAC of their content (framed with a context by key_holder.rs,
//! `Sealer`), so that sidecar cannot be edited (activation windows, sizes, object ids, grants)
//! without the token and its PIN. Verification compares in constant time. Thread-safe (the
//! vault's session).
//!
//! ```text
//! seal key := CKO_SECRET_KEY, CKK_GENERIC_SECRET, 32 bytes, CKA_LABEL "strata/<vault>/record-seal"
//! seal     := C_Sign(CKM_SHA256_HMAC, seal key, context | 0x00 | content)   32 bytes
//! ```

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use rand::rngs::OsRng;
use rand::RngCore;
use strata_base::seal::hex;
use subtle::ConstantTimeEq;

use super::objects::{secret_key_template, SecretUse};
use super::session::{require_login, TokenKeys};
use crate::error::{substatus, Error, Result};

const SEAL_KEY_LEN: u64 = 32;
const SEAL_ID_LEN: usize = 16;

fn label(vault: &str) -> Vec<u8> {
    format!("strata/{vault}/record-seal").into_bytes()
}

impl TokenKeys {
    /// Generates vault `vault`'s seal key in the token; returns its id (hex) for pkcs11.json.
    pub(crate) fn create_seal_key(&self, vault: &str) -> Result<String> {
        let mut id = [0u8; SEAL_ID_LEN];
        OsRng.fill_bytes(&mut id);
        let template = secret_key_template(
            KeyType::GENERIC_SECRET,
            SEAL_KEY_LEN,
            SecretUse::Mac,
            &label(vault),
            &id,
        );
        self.with_session("generating the record seal key", |s| {
            s.generate_key(&Mechanism::GenericSecretKeyGen, &template)
        })?;
        Ok(hex::encode(&id))
    }

    /// Destroys a seal key made for a vault whose creation then failed.
    pub(crate) fn destroy_seal_key(&self, vault: &str, id_hex: &str) -> Result<()> {
        let Some(id) = hex::decode(id_hex) else {
            return Ok(());
        };
        self.with_session("destroying the record seal key", |s| {
            for h in find(s, vault, &id)? {
                s.destroy_object(h)?;
            }
            Ok(())
        })
    }

    /// The token's HMAC of `payload` under this vault's seal key.
    pub(super) fn seal_of(&self, vault: &str, payload: &[u8]) -> Result<Vec<u8>> {
        let id = self.seal_key_id()?;
        let mut missing = false;
        let tag = self.with_session("sealing a key record (C_Sign, HMAC-SHA-256)", |s| {
            missing = false;
            match find(s, vault, &id)?.as_slice() {
                [h] => s.sign(&Mechanism::Sha256Hmac, *h, payload),
                _ => {
                    require_login(s)?;
                    missing = true;
                    Ok(Vec::new())
                }
            }
        })?;
        if missing {
            return Err(Error::vault(
                substatus::KEY_VAULT_ACCESS,
                format!(
                    "PKCS#11 token {:?} has no record seal key for vault {vault} (label {}); the \
                     vault's records cannot be checked without it",
                    self.cfg.token,
                    String::from_utf8_lossy(&label(vault))
                ),
            ));
        }
        Ok(tag)
    }

    /// Whether `tag` is the seal of `payload` (constant-time comparison).
    pub(super) fn seal_matches(&self, vault: &str, payload: &[u8], tag: &[u8]) -> Result<bool> {
        let want = self.seal_of(vault, payload)?;
        Ok(want.len() == tag.len() && bool::from(want.ct_eq(tag)))
    }

    fn seal_key_id(&self) -> Result<Vec<u8>> {
        self.cfg
            .seal_key
            .as_deref()
            .and_then(hex::decode)
            .ok_or_else(|| Error::Internal("the vault's pkcs11.json names no record seal key".into()))
    }
}

pub(super) fn find(s: &Session, vault: &str, id: &[u8]) -> cryptoki::error::Result<Vec<ObjectHandle>> {
    s.find_objects(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::Token(true),
        Attribute::Label(label(vault)),
        Attribute::Id(id.to_vec()),
    ])
}
