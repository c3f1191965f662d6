//! Key custody behind a vault: the `KeyHolder` trait says where a vault's RSA key pairs are made
//! and where their private halves are used. The vault's bookkeeping (versions, attributes,
//! enable/disable, soft delete, audit, access rules: `local.rs`) is the same for every holder and
//! keeps, per key version, only the opaque `material` a holder hands back at generation: a PKCS#8
//! key for the file holder (`local/file_keys.rs`), a token object reference for the PKCS#11 holder
//! (`pkcs11/`). A holder must never return private key material other than its own `material`,
//! and must never put key bytes in an error message. Implementations are thread-safe.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::Result;

/// RSA-OAEP-SHA256's per-message overhead, `2 * hLen + 2` bytes with hLen = 32.
const OAEP_OVERHEAD: usize = 2 * 32 + 2;

/// One key version as a holder sees it: its record file (for corruption errors), identity, size
/// and the material the holder made for it.
pub(crate) struct HeldKey<'a> {
    pub path: &'a Path,
    pub vault: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub bits: usize,
    pub material: &'a [u8],
}

impl HeldKey<'_> {
    /// The largest data key RSA-OAEP-SHA256 wraps under this key: `k - 2*hLen - 2` bytes.
    pub fn max_wrap_len(&self) -> usize {
        (self.bits / 8).saturating_sub(OAEP_OVERHEAD)
    }
}

/// Where a vault's key pairs live.
pub(crate) trait KeyHolder: Send + Sync {
    /// Makes a new `bits`-bit RSA key pair for version `version` of key `name` in vault `vault`;
    /// returns the material the vault stores in that version's record (wiped when dropped).
    fn generate(&self, vault: &str, name: &str, version: &str, bits: usize) -> Result<Zeroizing<Vec<u8>>>;

    /// Encrypts `dek` with RSA-OAEP (SHA-256, MGF1-SHA-256, no label) under the public half.
    fn wrap(&self, key: &HeldKey<'_>, dek: &[u8]) -> Result<Vec<u8>>;

    /// Decrypts `wrapped` with the private half. `Ok(None)` when the bytes do not decrypt under
    /// this key (damaged, or wrapped under another key): the vault words that as 403.4005.
    fn unwrap(&self, key: &HeldKey<'_>, wrapped: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>>;

    /// Mirrors the version's enabled flag into the holder, where it can hold one (a token
    /// refuses to use a key whose usage attributes are off).
    fn set_usable(&self, key: &HeldKey<'_>, usable: bool) -> Result<()>;

    /// Destroys the key pair for good (purge). A key pair that is already gone is not an error.
    fn destroy(&self, key: &HeldKey<'_>) -> Result<()>;

    /// The seal of a version record's `payload` (attributes and material), for holders that
    /// authenticate the vault's records; `None` if records are not sealed.
    fn seal(&self, vault: &str, payload: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Whether `seal` (absent: `None`) is right for `payload`: a sealing holder needs its seal,
    /// a non-sealing one needs none.
    fn verify(&self, vault: &str, payload: &[u8], seal: Option<&[u8]>) -> Result<bool>;

    /// Whether the material is the private key itself, so that key backups may carry it.
    fn exportable(&self) -> bool;
}

/// Seals a vault's own files (key records, access rules) with its key holder, each in a named
/// context so that one file's seal never verifies another kind of file. A holder that does not
/// seal (the file holder) makes every seal `None` and accepts only unsealed files.
#[derive(Clone, Copy)]
pub(crate) struct Sealer<'a> {
    holder: Option<&'a dyn KeyHolder>,
    vault: &'a str,
}

impl<'a> Sealer<'a> {
    /// Seals with `holder` on behalf of vault `vault`.
    pub fn of(holder: &'a dyn KeyHolder, vault: &'a str) -> Sealer<'a> {
        Sealer {
            holder: Some(holder),
            vault,
        }
    }

    /// No sealing (unit tests of the file formats).
    #[cfg(test)]
    pub fn none() -> Sealer<'static> {
        Sealer {
            holder: None,
            vault: "",
        }
    }

    /// The seal of `bytes` in `context`, or `None` if the holder does not seal.
    pub fn seal(&self, context: &str, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.holder {
            Some(h) => h.seal(self.vault, &Zeroizing::new(framed(context, bytes))),
            None => Ok(None),
        }
    }

    /// Whether `seal` (absent: `None`) is right for `bytes` in `context`.
    pub fn verify(&self, context: &str, bytes: &[u8], seal: Option<&[u8]>) -> Result<bool> {
        match self.holder {
            Some(h) => h.verify(self.vault, &Zeroizing::new(framed(context, bytes)), seal),
            None => Ok(seal.is_none()),
        }
    }
}

/// `context | 0x00 | bytes`: what a seal covers.
fn framed(context: &str, bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(context.len() + 1 + bytes.len());
    v.extend_from_slice(context.as_bytes());
    v.push(0);
    v.extend_from_slice(bytes);
    v
}
