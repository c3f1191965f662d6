//! The file key holder: the local vault's own custody, where a key version's material is its
//! private key as PKCS#8 DER inside the version's record file (mode 0600) and wrap/unwrap run in
//! this process with the `rsa` crate. Generates keys with the OS RNG; never logs or formats key
//! bytes. Stateless and thread-safe.

use rand::rngs::OsRng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{ALLOWED_BITS, FRAME_HEADER_LEN};
use crate::error::{substatus, Error, Result};
use crate::key_holder::{HeldKey, KeyHolder};

/// Keys held as PKCS#8 files by the vault itself.
pub(crate) struct FileKeys;

impl KeyHolder for FileKeys {
    fn generate(&self, _vault: &str, _name: &str, _version: &str, bits: usize) -> Result<Zeroizing<Vec<u8>>> {
        check_bits(bits)?;
        let key = RsaPrivateKey::new(&mut OsRng, bits)
            .map_err(|e| Error::Internal(format!("generating a {bits}-bit RSA key failed: {e}")))?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| Error::Internal(format!("encoding a new RSA key as PKCS#8 failed: {e}")))?;
        Ok(Zeroizing::new(der.as_bytes().to_vec()))
    }

    fn wrap(&self, key: &HeldKey<'_>, dek: &[u8]) -> Result<Vec<u8>> {
        let public = private_key(key)?.to_public_key();
        public
            .encrypt(&mut OsRng, Oaep::new::<Sha256>(), dek)
            .map_err(|e| {
                Error::vault(
                    substatus::KEY_WRAP_FAILED,
                    format!(
                        "wrapping with version {} of key {} failed: {e}",
                        key.version, key.name
                    ),
                )
            })
    }

    fn unwrap(&self, key: &HeldKey<'_>, wrapped: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let private = private_key(key)?;
        Ok(private
            .decrypt_blinded(&mut OsRng, Oaep::new::<Sha256>(), wrapped)
            .ok()
            .map(Zeroizing::new))
    }

    fn set_usable(&self, _key: &HeldKey<'_>, _usable: bool) -> Result<()> {
        // The record's enabled flag is the only place a file-held key is switched off.
        Ok(())
    }

    fn destroy(&self, _key: &HeldKey<'_>) -> Result<()> {
        // The material lives in the record file, which purge removes.
        Ok(())
    }

    fn seal(&self, _vault: &str, _payload: &[u8]) -> Result<Option<Vec<u8>>> {
        // The record holds the private key itself; its protection is the file mode.
        Ok(None)
    }

    fn verify(&self, _vault: &str, _payload: &[u8], seal: Option<&[u8]>) -> Result<bool> {
        Ok(seal.is_none())
    }

    fn exportable(&self) -> bool {
        true
    }
}

/// 400 unless `bits` is 2048, 3072 or 4096.
pub(crate) fn check_bits(bits: usize) -> Result<()> {
    if ALLOWED_BITS.contains(&bits) {
        return Ok(());
    }
    Err(Error::BadRequest(format!(
        "RSA key size {bits} is not supported; use 2048, 3072 or 4096 bits"
    )))
}

/// The private key of a file-held version, checked against its recorded size (a corruption
/// error naming the record file otherwise).
pub(super) fn private_key(key: &HeldKey<'_>) -> Result<RsaPrivateKey> {
    let private = RsaPrivateKey::from_pkcs8_der(key.material).map_err(|_| {
        Error::corruption(
            key.path,
            FRAME_HEADER_LEN,
            "the private key is not a valid PKCS#8 RSA key",
        )
    })?;
    if private.size() * 8 != key.bits {
        return Err(Error::corruption(
            key.path,
            FRAME_HEADER_LEN,
            format!(
                "the private key has {} bits but its attributes say {}",
                private.size() * 8,
                key.bits
            ),
        ));
    }
    Ok(private)
}
