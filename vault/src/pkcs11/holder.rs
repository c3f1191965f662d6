//! `KeyHolder` for a PKCS#11 token: key pairs generated in the token; unwrap is C_Decrypt with the
//! private half inside the token, CKM_RSA_PKCS_OAEP with SHA-256 and MGF1-SHA-256, or, on a token
//! that refuses OAEP with SHA-256 (SoftHSM2 2.6 knows only SHA-1), CKM_RSA_X_509 in the token and
//! the OAEP padding removed here (oaep.rs). Wrap is RSA-OAEP-SHA-256 in software with the public
//! key read from the token (public values only), so it is the same on every token; it is refused
//! when the token has the version switched off (CKA_ENCRYPT false). The record keeps only the
//! CKA_ID. Thread-safe (session.rs).

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use rand::rngs::OsRng;
use rsa::{BigUint, Oaep, RsaPublicKey};
use sha2::Sha256;
use std::sync::atomic::Ordering;
use zeroize::Zeroizing;

use super::objects::{self, id_of};
use super::session::{require_login, TokenKeys};
use crate::error::{substatus, Error, Result};
use crate::key_holder::{HeldKey, KeyHolder};

fn oaep() -> Mechanism<'static> {
    Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    ))
}

impl TokenKeys {
    /// The one object of `class` for `key`. The outer result is the token's (a lost session is
    /// retried by the caller); the inner one is 403.4003 if the token has no such object and
    /// 403.4002 naming the label if it has several (someone else made objects with our label).
    fn object(
        &self,
        session: &Session,
        key: &HeldKey<'_>,
        class: ObjectClass,
    ) -> cryptoki::error::Result<Result<ObjectHandle>> {
        let label = objects::label(key.vault, key.name, key.version);
        let found = objects::find(session, class, &label, key.material)?;
        Ok(match found.as_slice() {
            [one] => Ok(*one),
            [] => {
                require_login(session)?;
                Err(Error::vault(
                    substatus::KEY_NOT_FOUND,
                    format!(
                        "PKCS#11 token {:?} has no {} for version {} of key {} (label {}); the \
                         token object was removed outside Strata",
                        self.cfg.token,
                        class_name(class),
                        key.version,
                        key.name,
                        String::from_utf8_lossy(&label)
                    ),
                ))
            }
            _ => Err(Error::vault(
                substatus::KEY_VAULT_ACCESS,
                format!(
                    "PKCS#11 token {:?} has {} objects labelled {}; remove the ones Strata did not make",
                    self.cfg.token,
                    found.len(),
                    String::from_utf8_lossy(&label)
                ),
            )),
        })
    }

    /// Runs `op` with the handle of `key`'s object of `class`, re-finding it after a lost session.
    fn with_object<T>(
        &self,
        what: &str,
        key: &HeldKey<'_>,
        class: ObjectClass,
        op: impl Fn(&Session, ObjectHandle) -> cryptoki::error::Result<T>,
    ) -> Result<T> {
        // The lookup is inside the retried closure so a new session finds its own handles.
        self.with_session(what, |s| match self.object(s, key, class)? {
            Ok(h) => op(s, h).map(Ok),
            Err(missing) => Ok(Err(missing)),
        })?
    }
}

/// Return values meaning the input is not a ciphertext of this key (403.4005, not a token fault).
fn not_a_wrapping(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::EncryptedDataInvalid
            | RvError::EncryptedDataLenRange
            | RvError::DataInvalid
            | RvError::DataLenRange
    )
}

fn class_name(class: ObjectClass) -> &'static str {
    if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else {
        "public key"
    }
}

impl KeyHolder for TokenKeys {
    fn generate(&self, vault: &str, name: &str, version: &str, bits: usize) -> Result<Zeroizing<Vec<u8>>> {
        let id =
            id_of(version).ok_or_else(|| Error::Internal(format!("version {version} is not hexadecimal")))?;
        let label = objects::label(vault, name, version);
        self.with_session("generating an RSA key pair", |s| {
            objects::generate(s, &label, &id, bits)
        })?;
        Ok(Zeroizing::new(id))
    }

    fn wrap(&self, key: &HeldKey<'_>, dek: &[u8]) -> Result<Vec<u8>> {
        let want = [
            AttributeType::Modulus,
            AttributeType::PublicExponent,
            AttributeType::Encrypt,
        ];
        let attrs = self.with_object("reading the public key", key, ObjectClass::PUBLIC_KEY, |s, h| {
            s.get_attributes(h, &want)
        })?;
        let (mut n, mut e, mut usable) = (None, None, false);
        for a in attrs {
            match a {
                Attribute::Modulus(v) => n = Some(BigUint::from_bytes_be(&v)),
                Attribute::PublicExponent(v) => e = Some(BigUint::from_bytes_be(&v)),
                Attribute::Encrypt(on) => usable = on,
                _ => {}
            }
        }
        if !usable {
            return Err(Error::vault(
                substatus::KEY_VAULT_ACCESS,
                format!(
                    "version {} of key {} is switched off in PKCS#11 token {:?} (CKA_ENCRYPT is \
                     false); enable it with `strata vault key enable {} --version {}`",
                    key.version, key.name, self.cfg.token, key.name, key.version
                ),
            ));
        }
        let bad = |why: String| {
            Error::vault(
                substatus::KEY_WRAP_FAILED,
                format!(
                    "the public key of version {} of key {} in token {:?} is not usable: {why}",
                    key.version, key.name, self.cfg.token
                ),
            )
        };
        let (Some(n), Some(e)) = (n, e) else {
            return Err(bad("the token did not return its modulus and exponent".into()));
        };
        let public = RsaPublicKey::new(n, e).map_err(|e| bad(e.to_string()))?;
        if rsa::traits::PublicKeyParts::size(&public) * 8 != key.bits {
            return Err(bad(format!("it is not {} bits", key.bits)));
        }
        public
            .encrypt(&mut OsRng, Oaep::new::<Sha256>(), dek)
            .map_err(|e| bad(e.to_string()))
    }

    fn unwrap(&self, key: &HeldKey<'_>, wrapped: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let k = key.bits / 8;
        if wrapped.len() != k {
            return Ok(None);
        }
        if !self.raw_only.load(Ordering::Relaxed) {
            let res = self.with_object(
                "unwrapping (C_Decrypt, RSA-OAEP)",
                key,
                ObjectClass::PRIVATE_KEY,
                |s, h| {
                    match s.decrypt(&oaep(), h, wrapped) {
                        Ok(plain) => Ok(Ok(Some(Zeroizing::new(plain)))),
                        Err(CkError::Pkcs11(rv, _)) if not_a_wrapping(rv) => Ok(Ok(None)),
                        // The token cannot do OAEP with SHA-256: raw RSA from now on.
                        Err(CkError::Pkcs11(
                            RvError::MechanismParamInvalid
                            | RvError::ArgumentsBad
                            | RvError::MechanismInvalid,
                            _,
                        )) => Ok(Err(())),
                        Err(e) => Err(e),
                    }
                },
            )?;
            match res {
                Ok(plain) => return Ok(plain),
                Err(()) => self.raw_only.store(true, Ordering::Relaxed),
            }
        }
        let em = self.with_object(
            "unwrapping (C_Decrypt, raw RSA)",
            key,
            ObjectClass::PRIVATE_KEY,
            |s, h| match s.decrypt(&Mechanism::RsaX509, h, wrapped) {
                Ok(em) => Ok(Some(Zeroizing::new(em))),
                Err(CkError::Pkcs11(rv, _)) if not_a_wrapping(rv) => Ok(None),
                Err(e) => Err(e),
            },
        )?;
        Ok(em.and_then(|em| super::oaep::decode(&em, k)))
    }

    fn set_usable(&self, key: &HeldKey<'_>, usable: bool) -> Result<()> {
        self.with_object(
            "switching decryption on or off",
            key,
            ObjectClass::PRIVATE_KEY,
            |s, h| s.update_attributes(h, &[Attribute::Decrypt(usable)]),
        )?;
        self.with_object(
            "switching encryption on or off",
            key,
            ObjectClass::PUBLIC_KEY,
            |s, h| s.update_attributes(h, &[Attribute::Encrypt(usable)]),
        )
    }

    fn destroy(&self, key: &HeldKey<'_>) -> Result<()> {
        let label = objects::label(key.vault, key.name, key.version);
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            self.with_session("destroying a key object", |s| {
                for h in objects::find(s, class, &label, key.material)? {
                    s.destroy_object(h)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn seal(&self, vault: &str, payload: &[u8]) -> Result<Option<Vec<u8>>> {
        self.seal_of(vault, payload).map(Some)
    }

    fn verify(&self, vault: &str, payload: &[u8], seal: Option<&[u8]>) -> Result<bool> {
        match seal {
            Some(tag) => self.seal_matches(vault, payload, tag),
            None => Ok(false),
        }
    }

    fn exportable(&self) -> bool {
        false
    }
}
