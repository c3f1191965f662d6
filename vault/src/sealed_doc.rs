//! A vault's own JSON documents (`vault.json`, a key's `rotation.json`) as they are kept on disk:
//! plain JSON in a vault whose key holder seals nothing (key files, unchanged from before), and
//! in a token vault the JSON followed by the token's seal of it in a named context, so that a
//! document edited, or swapped for another vault's or another key's, outside Strata is refused.
//! Knows the framing and the check only; the caller owns the JSON and its meaning.
//!
//! ```text
//! sealed := meta_file(magic, version 1, json: bytes | seal: bytes)   (token vaults)
//! plain  := JSON                                                      (file vaults)
//! ```
//!
//! A sealed document can still be rolled back to an older sealed copy of itself (the token keeps
//! no version counter); docs/keys.md says so.

use std::path::Path;

use crate::error::{Error, Result};
use crate::format_version::VAULT_SEALED_DOC_VERSION;
use crate::key_holder::Sealer;
use strata_base::coding::{put_bytes, Reader};
use strata_base::fs::{read_if_exists, write_atomic};
use strata_base::meta_file;

/// One kind of sealed document: its magic and the context its seal is made in.
pub(crate) struct DocKind<'a> {
    pub magic: &'static [u8; 8],
    /// Binds the seal to the document's kind and owner (e.g. `strata/v1/rotation/<key>`).
    pub context: &'a str,
    /// What the document is, for errors (`vault.json`, `the rotation policy of key k`).
    pub what: &'a str,
}

/// The document's bytes as stored: its JSON and, when sealed, the seal. A file that is neither
/// framed as `kind` nor JSON is corruption.
pub(crate) fn split(path: &Path, kind: &DocKind<'_>, bytes: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    if !bytes.starts_with(kind.magic) {
        return Ok((bytes.to_vec(), None));
    }
    let (version, payload) = meta_file::decode(path, kind.magic, bytes)?;
    if version != VAULT_SEALED_DOC_VERSION {
        return Err(Error::corruption(
            path,
            8,
            format!("{}: unsupported format version {version}", kind.what),
        ));
    }
    let (json, seal) =
        unpack(payload).map_err(|why| Error::corruption(path, 20, format!("{}: {why}", kind.what)))?;
    Ok((json.to_vec(), Some(seal.to_vec())))
}

/// The payload of a sealed frame, `json: bytes | seal: bytes` (also access.json's version 2).
pub(crate) fn pack(json: &[u8], seal: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(json.len() + seal.len() + 8);
    put_bytes(&mut payload, json);
    put_bytes(&mut payload, seal);
    payload
}

/// The JSON and the seal of a sealed frame's payload, or why it is damaged.
pub(crate) fn unpack(payload: &[u8]) -> std::result::Result<(&[u8], &[u8]), &'static str> {
    let mut r = Reader::new(payload);
    let json = r.bytes().ok_or("truncated")?;
    let seal = r.bytes().ok_or("truncated seal")?;
    if !r.is_empty() {
        return Err("trailing bytes after the seal");
    }
    Ok((json, seal))
}

/// Checks what `split` gave against `sealer`: a token vault needs its seal, a file vault none.
pub(crate) fn verify(
    path: &Path,
    kind: &DocKind<'_>,
    json: &[u8],
    seal: Option<&[u8]>,
    sealer: &Sealer<'_>,
) -> Result<()> {
    if sealer.verify(kind.context, json, seal)? {
        return Ok(());
    }
    Err(Error::corruption(
        path,
        0,
        format!(
            "{} is not sealed as this vault seals it: the file was changed or replaced outside \
             Strata; restore it from a backup",
            kind.what
        ),
    ))
}

/// Reads and checks the document at `path`; `None` if there is none.
pub(crate) fn read(path: &Path, kind: &DocKind<'_>, sealer: &Sealer<'_>) -> Result<Option<Vec<u8>>> {
    let Some(bytes) = read_if_exists(path)? else {
        return Ok(None);
    };
    let (json, seal) = split(path, kind, &bytes)?;
    verify(path, kind, &json, seal.as_deref(), sealer)?;
    Ok(Some(json))
}

/// Replaces the document at `path` atomically (mode 0600): sealed if `sealer` seals, else the
/// plain JSON.
pub(crate) fn write(path: &Path, kind: &DocKind<'_>, sealer: &Sealer<'_>, json: &[u8]) -> Result<()> {
    match sealer.seal(kind.context, json)? {
        None => Ok(write_atomic(path, json, true)?),
        Some(seal) => {
            let mut payload = Vec::with_capacity(json.len() + seal.len() + 8);
            put_bytes(&mut payload, json);
            put_bytes(&mut payload, &seal);
            Ok(meta_file::write(
                path,
                kind.magic,
                VAULT_SEALED_DOC_VERSION,
                &payload,
                true,
            )?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: DocKind<'static> = DocKind {
        magic: b"STRVTST1",
        context: "strata/v1/test",
        what: "the test document",
    };

    #[test]
    fn a_file_vault_keeps_plain_json_and_refuses_a_framed_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        write(&path, &KIND, &Sealer::none(), br#"{"a":1}"#).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), br#"{"a":1}"#);
        assert_eq!(
            read(&path, &KIND, &Sealer::none()).unwrap().unwrap(),
            br#"{"a":1}"#
        );
        // A framed document claims a seal, which a file vault never makes.
        let mut payload = Vec::new();
        put_bytes(&mut payload, br#"{"a":1}"#);
        put_bytes(&mut payload, b"seal");
        meta_file::write(&path, KIND.magic, VAULT_SEALED_DOC_VERSION, &payload, true).unwrap();
        assert!(read(&path, &KIND, &Sealer::none()).is_err());
        assert_eq!(
            read(&dir.path().join("none"), &KIND, &Sealer::none()).unwrap(),
            None
        );
    }

    #[test]
    fn damaged_frames_are_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        let mut payload = Vec::new();
        put_bytes(&mut payload, br#"{"a":1}"#);
        let framed = meta_file::encode(KIND.magic, VAULT_SEALED_DOC_VERSION, &payload);
        assert!(split(&path, &KIND, &framed).is_err(), "no seal");
        let other = meta_file::encode(KIND.magic, 9, &payload);
        assert!(split(&path, &KIND, &other).is_err(), "unknown version");
        let mut flipped = framed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(split(&path, &KIND, &flipped).is_err(), "crc");
    }
}
