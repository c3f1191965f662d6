//! One key version's record file, `keys/<name>/<version>.key`: framing (magic, format version,
//! CRC), the attributes, the key holder's material and, for a holder that seals records (a
//! PKCS#11 token), the holder's seal over both. Reading checks all of it and that the file holds
//! the version its path names; writing is atomic, mode 0600, in zeroized buffers. See the layout
//! in local.rs and docs/format.md#local-vault.

use std::path::Path;

use zeroize::Zeroizing;

use super::{Attributes, KeyRecord, LocalVault, ALLOWED_BITS, FRAME_HEADER_LEN, KTY_RSA};
use crate::error::{Error, Result};
use crate::format_version::{VAULT_KEY_MAGIC as KEY_MAGIC, VAULT_KEY_VERSION as KEY_FORMAT_VERSION};
use strata_base::coding::{put_bytes, Reader};
use strata_base::fs::{read_if_exists, write_atomic};
use strata_base::meta_file;

/// What a key record's seal covers besides its attributes and material (key_holder.rs, `Sealer`).
const RECORD_SEAL_CONTEXT: &str = "strata/v1/key-record";

impl LocalVault {
    /// Reads one key file; `Ok(None)` if it does not exist. Checks the frame, the format
    /// version, the seal (or its absence) with the vault's key holder, and that the file holds
    /// the key version its path says.
    pub(super) fn read_record(&self, path: &Path, name: &str, version: &str) -> Result<Option<KeyRecord>> {
        let Some(bytes) = read_if_exists(path)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let (format, payload) = meta_file::decode(path, KEY_MAGIC, &bytes)?;
        if format != KEY_FORMAT_VERSION {
            return Err(Error::corruption(
                path,
                8,
                format!(
                    "unsupported key file format version {format} (this build reads version \
                     {KEY_FORMAT_VERSION})"
                ),
            ));
        }
        let mut r = Reader::new(payload);
        let attrs = r
            .bytes()
            .ok_or_else(|| Error::corruption(path, FRAME_HEADER_LEN, "key attributes truncated"))?;
        let material_at = FRAME_HEADER_LEN + r.position() as u64;
        let material = r
            .bytes()
            .ok_or_else(|| Error::corruption(path, material_at, "key material truncated"))?;
        let sealed_len = r.position();
        let seal_at = FRAME_HEADER_LEN + sealed_len as u64;
        let seal = if r.is_empty() {
            None
        } else {
            Some(
                r.bytes()
                    .ok_or_else(|| Error::corruption(path, seal_at, "record seal truncated"))?,
            )
        };
        if !r.is_empty() {
            let at = FRAME_HEADER_LEN + r.position() as u64;
            return Err(Error::corruption(path, at, "trailing bytes after the key record"));
        }
        let sealed = payload.get(..sealed_len).unwrap_or_default();
        if !self.sealer().verify(RECORD_SEAL_CONTEXT, sealed, seal)? {
            return Err(Error::corruption(
                path,
                seal_at,
                if seal.is_some() {
                    "the record's seal does not match: it was changed outside Strata or belongs \
                     to another vault"
                } else {
                    "the record has no seal, and this vault's records must be sealed by its token"
                },
            ));
        }
        let attrs: Attributes = serde_json::from_slice(attrs).map_err(|e| {
            Error::corruption(
                path,
                FRAME_HEADER_LEN,
                format!("key attributes are not valid: {e}"),
            )
        })?;
        if attrs.name != name || attrs.version != version {
            return Err(Error::corruption(
                path,
                FRAME_HEADER_LEN,
                format!(
                    "the file holds version {} of key {}, not version {version} of key {name}",
                    attrs.version, attrs.name
                ),
            ));
        }
        if attrs.kty != KTY_RSA || !ALLOWED_BITS.contains(&attrs.bits) {
            return Err(Error::corruption(
                path,
                FRAME_HEADER_LEN,
                format!("unsupported key type {} with {} bits", attrs.kty, attrs.bits),
            ));
        }
        Ok(Some(KeyRecord {
            path: path.to_path_buf(),
            attrs,
            material: Zeroizing::new(material.to_vec()),
        }))
    }

    /// Writes one key file atomically with mode 0600, sealed if the key holder seals records.
    /// Every buffer holding key material is sized up front (no reallocation leaves copies
    /// behind) and zeroized when dropped.
    pub(super) fn write_record(&self, rec: &KeyRecord) -> Result<()> {
        let attrs = serde_json::to_vec(&rec.attrs)
            .map_err(|e| Error::Internal(format!("encoding key attributes: {e}")))?;
        let mut payload = Zeroizing::new(Vec::with_capacity(8 + attrs.len() + rec.material.len() + 36));
        put_bytes(&mut payload, &attrs);
        put_bytes(&mut payload, &rec.material);
        if let Some(seal) = self.sealer().seal(RECORD_SEAL_CONTEXT, &payload)? {
            put_bytes(&mut payload, &seal);
        }
        // meta_file::write would drop its framed copy without zeroizing it; frame here instead.
        let framed = Zeroizing::new(meta_file::encode(KEY_MAGIC, KEY_FORMAT_VERSION, &payload));
        Ok(write_atomic(&rec.path, &framed, true)?)
    }
}
