//! The service key (SMK) under a PKCS#11 token: the SMK file of a home made with `strata init
//! --smk-pkcs11-vault NAME` holds the SMK encrypted by an AES-256 key generated in that vault's
//! token (sensitive, not extractable, encrypt/decrypt only), so the file alone is useless without
//! the token and its PIN. Loading decrypts it inside the token (C_Decrypt, CKM_AES_GCM); the SMK
//! then works in memory as a file SMK does (service_key.rs). Never writes the SMK or the PIN.
//!
//! ```text
//! payload := token: bytes (JSON {"module", "token", "pinEnv"}) | wrap_key_id: bytes (16)
//!          | iv: bytes (12) | sealed: bytes (AES-256-GCM(token AES key, iv,
//!            aad = "strata/v1/smk-at-rest", SMK) || tag, 48)
//! wrap key := CKO_SECRET_KEY, CKK_AES, 32 bytes, CKA_LABEL "strata/service/smk-wrap"
//! ```

use std::path::Path;

use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::types::Ulong;
use rand::rngs::OsRng;
use rand::RngCore;
use strata_base::coding::{put_bytes, Reader};
use zeroize::Zeroizing;

use super::config::Pkcs11Config;
use super::objects::{secret_key_template, SecretUse};
use super::session::{require_login, TokenKeys};
use crate::error::{Error, Result};

const LABEL: &[u8] = b"strata/service/smk-wrap";
const AAD: &[u8] = b"strata/v1/smk-at-rest";
const ID_LEN: usize = 16;
const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;
const AES_KEY_LEN: u64 = 32;

/// Encrypts `smk` under a new AES key in `token`'s token; returns the SMK file's payload.
pub(crate) fn wrap(token: &Pkcs11Config, smk: &[u8]) -> Result<Vec<u8>> {
    let cfg = Pkcs11Config {
        seal_key: None,
        ..token.clone()
    };
    let keys = TokenKeys::open(&cfg)?;
    let mut id = [0u8; ID_LEN];
    OsRng.fill_bytes(&mut id);
    let template = secret_key_template(KeyType::AES, AES_KEY_LEN, SecretUse::Encrypt, LABEL, &id);
    keys.with_session("generating the service key's wrapping key", |s| {
        s.generate_key(&Mechanism::AesKeyGen, &template)
    })?;
    let mut iv = [0u8; IV_LEN];
    OsRng.fill_bytes(&mut iv);
    let sealed = keys.with_session("encrypting the service key (C_Encrypt, AES-GCM)", |s| {
        let h = find(s, &id)?;
        let mut iv = iv;
        let gcm = GcmParams::new(&mut iv, AAD, Ulong::from(TAG_BITS))?;
        s.encrypt(&Mechanism::AesGcm(gcm), h, smk)
    })?;
    let json = serde_json::to_vec(&cfg).map_err(|e| Error::Internal(format!("encoding the token: {e}")))?;
    let mut payload = Vec::new();
    put_bytes(&mut payload, &json);
    put_bytes(&mut payload, &id);
    put_bytes(&mut payload, &iv);
    put_bytes(&mut payload, &sealed);
    Ok(payload)
}

/// Decrypts the SMK in the payload of the SMK file at `path` inside its token (403.4002 if the
/// token, its PIN or the wrapping key is out of reach; a corruption error if the file is damaged).
pub(crate) fn unwrap(path: &Path, payload: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let damaged = |why: &str| Error::corruption(path, 20, format!("the token-held service key file {why}"));
    let mut r = Reader::new(payload);
    let json = r.bytes().ok_or_else(|| damaged("is truncated"))?;
    let id = r.bytes().ok_or_else(|| damaged("is truncated"))?;
    let iv = r.bytes().ok_or_else(|| damaged("is truncated"))?;
    let sealed = r.bytes().ok_or_else(|| damaged("is truncated"))?;
    if !r.is_empty() || id.len() != ID_LEN || iv.len() != IV_LEN {
        return Err(damaged("is not well formed"));
    }
    let cfg: Pkcs11Config = serde_json::from_slice(json).map_err(|_| damaged("names no valid token"))?;
    let keys = TokenKeys::open(&cfg)?;
    let plain = keys.with_session("decrypting the service key (C_Decrypt, AES-GCM)", |s| {
        let h = find(s, id)?;
        let mut iv_buf = [0u8; IV_LEN];
        iv_buf.copy_from_slice(iv);
        let gcm = GcmParams::new(&mut iv_buf, AAD, Ulong::from(TAG_BITS))?;
        s.decrypt(&Mechanism::AesGcm(gcm), h, sealed).map(Zeroizing::new)
    })?;
    Ok(plain)
}

/// The wrapping key `id`: an error the caller retries after a lost login, or 403.4003-like
/// CKR_KEY_HANDLE_INVALID when the token has no such key.
fn find(s: &Session, id: &[u8]) -> cryptoki::error::Result<ObjectHandle> {
    let found = s.find_objects(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::Token(true),
        Attribute::Label(LABEL.to_vec()),
        Attribute::Id(id.to_vec()),
    ])?;
    match found.as_slice() {
        [h] => Ok(*h),
        _ => {
            require_login(s)?;
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::KeyHandleInvalid,
                cryptoki::context::Function::FindObjects,
            ))
        }
    }
}
