//! The local vault's audit log (`<vault>/audit.log`): one JSON line per vault operation, appended
//! and fsynced before the operation's result is returned, never rewritten. Each line carries a
//! CRC32 of its other fields, so a flipped byte is reported when the log is read. In a token
//! vault each line also carries the token's seal of its entry chained to the previous line's
//! seal, so a line edited, inserted or removed outside Strata is reported too (removing the last
//! lines is not: nothing records how many there were). Appends are serialised within a process
//! by the caller (the vault's audit mutex) and across processes by an exclusive lock on the file
//! while the previous seal is read and the line written. See docs/keys.md#audit-log.
//!
//! ```text
//! line  := JSON {"time", "caller", "operation", "key", "version", "status", "subStatus", "crc32", "seal"?} "\n"
//! crc32 := CRC32 (hex, 8 chars) of the line's JSON without the crc32 and seal fields, fields in this order
//! seal  := hex( token seal, context "strata/v1/audit", of  previous line's seal (hex, "" for the first) | 0x00 | entry JSON )
//! ```

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::key_holder::Sealer;
use strata_base::seal::hex;

pub(crate) const AUDIT_FILE: &str = "audit.log";
/// What an audit line's seal covers besides its entry.
const AUDIT_SEAL_CONTEXT: &str = "strata/v1/audit";
/// How far back from the end an append looks for the previous line (lines are far shorter).
const TAIL_BYTES: i64 = 8 * 1024;

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
    /// Token vaults only: the chained seal (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seal: Option<String>,
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

fn entry_json(entry: &AuditEntry) -> Result<Vec<u8>> {
    serde_json::to_vec(entry).map_err(|e| Error::Internal(format!("encoding an audit entry: {e}")))
}

fn checksum(entry: &AuditEntry) -> Result<String> {
    Ok(format!("{:08x}", crc32fast::hash(&entry_json(entry)?)))
}

/// What a line's seal covers: the previous line's seal, then its entry.
fn chained(previous: &str, entry: &AuditEntry) -> Result<Vec<u8>> {
    let mut v = previous.as_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(&entry_json(entry)?);
    Ok(v)
}

/// The seal of the last whole line in `tail` (the end of the log), `""` when there is none.
fn last_seal(tail: &[u8]) -> String {
    tail.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<Line>(l).ok())
        .next_back()
        .and_then(|l| l.seal)
        .unwrap_or_default()
}

/// Appends one entry and fsyncs it, sealed in the chain if `sealer` seals. If the file does not
/// end in a newline (a torn append), a newline is written first so the damaged line stays
/// damaged and the new one stays whole.
pub(crate) fn append(dir: &Path, entry: AuditEntry, sealer: &Sealer<'_>) -> Result<()> {
    let path = dir.join(AUDIT_FILE);
    let crc32 = checksum(&entry)?;
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
    // Held until the file is dropped: another process's append cannot chain from the same line.
    f.lock()
        .map_err(|e| Error::io_path("locking the vault audit log", &path, e))?;
    let len = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io_path("seeking in", &path, e))?;
    let mut tail = Vec::new();
    if len > 0 {
        let back = TAIL_BYTES.min(i64::try_from(len).unwrap_or(TAIL_BYTES));
        f.seek(SeekFrom::End(-back))
            .and_then(|_| f.read_to_end(&mut tail))
            .map_err(|e| Error::io_path("reading", &path, e))?;
    }
    let seal = sealer
        .seal(AUDIT_SEAL_CONTEXT, &chained(&last_seal(&tail), &entry)?)?
        .map(|s| hex::encode(&s));
    let mut line = serde_json::to_vec(&Line { entry, crc32, seal })
        .map_err(|e| Error::Internal(format!("encoding an audit entry: {e}")))?;
    line.push(b'\n');
    if tail.last().is_some_and(|b| *b != b'\n') {
        line.insert(0, b'\n');
    }
    f.write_all(&line)
        .and_then(|()| f.sync_data())
        .map_err(|e| Error::io_path("appending to the vault audit log", &path, e))
}

/// Reads every entry matching `filter`, oldest first. Any line that does not parse, whose
/// checksum does not match, or (token vaults) whose seal does not continue the chain, is
/// reported as corruption with its byte offset.
pub(crate) fn read(dir: &Path, filter: &AuditFilter, sealer: &Sealer<'_>) -> Result<Vec<AuditEntry>> {
    let path: PathBuf = dir.join(AUDIT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io_path("reading", &path, e)),
    };
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut previous = String::new();
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
        let seal = match line.seal.as_deref().map(hex::decode) {
            None => None,
            Some(Some(bytes)) => Some(bytes),
            Some(None) => return Err(Error::corruption(&path, at, "an audit line's seal is not hex")),
        };
        if !sealer.verify(
            AUDIT_SEAL_CONTEXT,
            &chained(&previous, &line.entry)?,
            seal.as_deref(),
        )? {
            return Err(Error::corruption(
                &path,
                at,
                "an audit line is not sealed in the vault's chain: a line was altered, inserted \
                 or removed outside Strata",
            ));
        }
        previous = line.seal.unwrap_or_default();
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
        assert!(read(dir.path(), &AuditFilter::default(), &Sealer::none())
            .unwrap()
            .is_empty());
        let a = entry("wrapKey", "k1", "v1", 1_000_000);
        let b = entry("unwrapKey", "k2", "v2", 2_000_000);
        append(dir.path(), a.clone(), &Sealer::none()).unwrap();
        append(dir.path(), b.clone(), &Sealer::none()).unwrap();
        assert_eq!(
            read(dir.path(), &AuditFilter::default(), &Sealer::none()).unwrap(),
            vec![a.clone(), b.clone()]
        );
        let f = |key: Option<&str>, version: Option<&str>, since: Option<u64>| AuditFilter {
            key: key.map(str::to_string),
            version: version.map(str::to_string),
            since,
        };
        assert_eq!(
            read(dir.path(), &f(Some("k1"), None, None), &Sealer::none()).unwrap(),
            vec![a.clone()]
        );
        assert_eq!(
            read(dir.path(), &f(None, Some("v2"), None), &Sealer::none()).unwrap(),
            vec![b.clone()]
        );
        assert_eq!(
            read(dir.path(), &f(None, None, Some(1500)), &Sealer::none()).unwrap(),
            vec![b]
        );
        assert!(
            read(dir.path(), &f(Some("k1"), Some("v2"), None), &Sealer::none())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        append(
            dir.path(),
            entry("wrapKey", "cmk", "0123", 1_700_000_000_000),
            &Sealer::none(),
        )
        .unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            let e = read(dir.path(), &AuditFilter::default(), &Sealer::none());
            assert!(e.as_ref().is_err_and(|e| e.is_corruption()), "flip at {i}");
        }
        // A torn tail is reported, and a later append does not merge into it.
        std::fs::write(&path, &good[..good.len() - 5]).unwrap();
        assert!(read(dir.path(), &AuditFilter::default(), &Sealer::none())
            .unwrap_err()
            .is_corruption());
        append(dir.path(), entry("get", "cmk", "0123", 1), &Sealer::none()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().nth(1).unwrap().contains("\"get\""));
    }
}
