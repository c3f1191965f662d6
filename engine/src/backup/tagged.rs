//! Authenticated JSON metadata files of a backup directory (the backup manifest, the shipped
//! log's LOG): a metadata frame whose payload is an HMAC-SHA256 tag, keyed from the service DEK
//! under a per-file label, then the JSON. Encoding and checking only; no I/O policy.
//! See docs/format.md#backup-manifest.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use strata_base::meta_file;
use strata_lsm::CipherSuite;

const TAG_LEN: usize = 32;

/// The frame of `value` under `magic`/`version`, tagged under `label`.
pub(crate) fn encode<T: Serialize>(
    value: &T,
    suite: &CipherSuite,
    label: &str,
    (magic, version): (&[u8; 8], u32),
) -> Result<Vec<u8>> {
    let json = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Internal(format!("serialising backup metadata: {e}")))?;
    let mut payload = suite.metadata_tag(label, &json);
    payload.extend_from_slice(&json);
    Ok(meta_file::encode(magic, version, &payload))
}

/// Reads `path`; `Ok(None)` if it does not exist. With `suite` the tag is checked; without one
/// (listing) only the frame's CRC. `what` names the file in errors.
pub(crate) fn read<T: DeserializeOwned>(
    path: &Path,
    suite: Option<&CipherSuite>,
    label: &str,
    (magic, version): (&[u8; 8], u32),
    what: &str,
) -> Result<Option<T>> {
    let Some((got, payload)) = meta_file::read(path, magic)? else {
        return Ok(None);
    };
    if got != version {
        return Err(Error::corruption(
            path,
            8,
            format!("unsupported {what} version {got}"),
        ));
    }
    if payload.len() < TAG_LEN {
        return Err(Error::corruption(
            path,
            20,
            format!("{what} shorter than its tag"),
        ));
    }
    let (tag, json) = payload.split_at(TAG_LEN);
    if let Some(suite) = suite {
        if !suite.verify_metadata_tag(label, json, tag) {
            return Err(Error::corruption(
                path,
                20,
                format!("{what} fails authentication: it was altered, or belongs to another account's keys"),
            ));
        }
    }
    serde_json::from_slice(json)
        .map(Some)
        .map_err(|e| Error::corruption(path, 20 + TAG_LEN as u64, format!("{what} does not parse: {e}")))
}
