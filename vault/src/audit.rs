//! The local vault's audit log (`<vault>/audit.log`): one JSON line per vault operation, appended
//! and fsynced before the operation's result is returned, never rewritten. Each line carries a
//! CRC32 of its other fields, so a flipped byte is reported when the log is read. Appends are
//! serialised by the caller (the vault's audit mutex). See docs/keys.md#audit-log.
//!
//! ```text
//! line  := JSON {"time", "caller", "operation", "key", "version", "status", "subStatus", "crc32"} "\n"
//! crc32 := CRC32 (hex, 8 chars) of the line's JSON without the crc32 field, fields in this order
//! ```

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) const AUDIT_FILE: &str = "audit.log";

/// One vault operation as recorded in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Unix time in milliseconds.
    pub time: u64,
    /// The calling principal (`first-party`, `system:<account>`, `user:<name>`), or `owner` for
    /// the vault owner's management operations (key create/enable/disable/delete/recover, policy).
    pub caller: String,
    /// create, list, get, wrapKey, unwrapKey, enable, disable, delete, recover, setPolicy,
    /// removePolicy.
    pub operation: String,
    /// The key operated on; the principal for policy operations; absent for list.
    pub key: Option<String>,
    /// The key version used (resolved for version-less requests), when one was.
    pub version: Option<String>,
    /// HTTP-style status of the result: 200/201 on success, else the error's status.
    pub status: u16,
    /// The error's substatus (e.g. 4002), 0 on success.
    pub sub_status: u32,
}

/// The on-disk line: the entry plus its checksum.
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: AuditEntry,
    crc32: String,
}

/// What `strata vault audit` filters by; `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub key: Option<String>,
    pub version: Option<String>,
    /// Only entries at or after this unix time, in seconds.
    pub since: Option<u64>,
}

impl AuditFilter {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.key.as_ref().is_none_or(|k| e.key.as_ref() == Some(k))
            && self
                .version
                .as_ref()
                .is_none_or(|v| e.version.as_ref() == Some(v))
            && self.since.is_none_or(|s| e.time >= s.saturating_mul(1000))
    }
}

fn checksum(entry: &AuditEntry) -> Result<String> {
    let json =
        serde_json::to_vec(entry).map_err(|e| Error::Internal(format!("encoding an audit entry: {e}")))?;
    Ok(format!("{:08x}", crc32fast::hash(&json)))
}

/// Appends one entry and fsyncs it. If the file does not end in a newline (a torn append), a
/// newline is written first so the damaged line stays damaged and the new one stays whole.
pub(crate) fn append(dir: &Path, entry: AuditEntry) -> Result<()> {
    let path = dir.join(AUDIT_FILE);
    let crc32 = checksum(&entry)?;
    let mut line = serde_json::to_vec(&Line { entry, crc32 })
        .map_err(|e| Error::Internal(format!("encoding an audit entry: {e}")))?;
    line.push(b'\n');
    let mut opts = OpenOptions::new();
    opts.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&path)
        .map_err(|e| Error::io_path("opening the vault audit log", &path, e))?;
    let len = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io_path("seeking in", &path, e))?;
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::End(-1))
            .and_then(|_| f.read_exact(&mut last))
            .map_err(|e| Error::io_path("reading", &path, e))?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    f.write_all(&line)
        .and_then(|()| f.sync_data())
        .map_err(|e| Error::io_path("appending to the vault audit log", &path, e))
}

/// Reads every entry matching `filter`, oldest first. Any line that does not parse or whose
/// checksum does not match is reported as corruption with its byte offset.
pub(crate) fn read(dir: &Path, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let path: PathBuf = dir.join(AUDIT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io_path("reading", &path, e)),
    };
    let mut out = Vec::new();
    let mut offset = 0u64;
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let at = offset;
        offset += raw.len() as u64;
        let Some(text) = raw.strip_suffix(b"\n") else {
            return Err(Error::corruption(
                &path,
                at,
                "the last audit line is incomplete (a torn append)",
            ));
        };
        let line: Line = serde_json::from_slice(text)
            .map_err(|e| Error::corruption(&path, at, format!("an audit line does not parse: {e}")))?;
        if checksum(&line.entry)? != line.crc32 {
            return Err(Error::corruption(
                &path,
                at,
                "an audit line fails its checksum: it was altered or damaged",
            ));
        }
        if filter.matches(&line.entry) {
            out.push(line.entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: &str, key: &str, version: &str, time: u64) -> AuditEntry {
        AuditEntry {
            time,
            caller: "first-party".into(),
            operation: op.into(),
            key: Some(key.into()),
            version: Some(version.into()),
            status: 200,
            sub_status: 0,
        }
    }

    #[test]
    fn append_read_filter() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path(), &AuditFilter::default()).unwrap().is_empty());
        let a = entry("wrapKey", "k1", "v1", 1_000_000);
        let b = entry("unwrapKey", "k2", "v2", 2_000_000);
        append(dir.path(), a.clone()).unwrap();
        append(dir.path(), b.clone()).unwrap();
        assert_eq!(
            read(dir.path(), &AuditFilter::default()).unwrap(),
            vec![a.clone(), b.clone()]
        );
        let f = |key: Option<&str>, version: Option<&str>, since: Option<u64>| AuditFilter {
            key: key.map(str::to_string),
            version: version.map(str::to_string),
            since,
        };
        assert_eq!(
            read(dir.path(), &f(Some("k1"), None, None)).unwrap(),
            vec![a.clone()]
        );
        assert_eq!(
            read(dir.path(), &f(None, Some("v2"), None)).unwrap(),
            vec![b.clone()]
        );
        assert_eq!(read(dir.path(), &f(None, None, Some(1500))).unwrap(), vec![b]);
        assert!(read(dir.path(), &f(Some("k1"), Some("v2"), None))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), entry("wrapKey", "cmk", "0123", 1_700_000_000_000)).unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            let e = read(dir.path(), &AuditFilter::default());
            assert!(e.as_ref().is_err_and(|e| e.is_corruption()), "flip at {i}");
        }
        // A torn tail is reported, and a later append does not merge into it.
        std::fs::write(&path, &good[..good.len() - 5]).unwrap();
        assert!(read(dir.path(), &AuditFilter::default())
            .unwrap_err()
            .is_corruption());
        append(dir.path(), entry("get", "cmk", "0123", 1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().nth(1).unwrap().contains("\"get\""));
    }
}
