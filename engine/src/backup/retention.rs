//! Retention: after each backup, backups older than the policy's retention are removed (never
//! the one just taken), then the pool files no remaining backup references. Deciding (`expired`,
//! pure) is separate from doing (`prune`). Callers hold the backup dir's LOCK.

use std::collections::HashSet;
use std::path::Path;

use super::layout::{BACKUP_FILE, TMP_PREFIX};
use super::manifest::BackupManifest;
use super::pool::collect_garbage;
use crate::error::{Error, Result};

/// Ids of the backups (id, created_at) older than `retention_secs` at `now`, except `keep`.
pub(crate) fn expired(backups: &[(String, u64)], now: u64, retention_secs: u64, keep: &str) -> Vec<String> {
    backups
        .iter()
        .filter(|(id, created)| id != keep && now.saturating_sub(*created) > retention_secs)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Every backup folder in `backup_dir` with its manifest (CRC-checked, not authenticated), or
/// the error reading it. Folders being written (`.tmp-*`) are skipped.
pub(crate) fn scan(backup_dir: &Path) -> Result<Vec<(String, Result<BackupManifest>)>> {
    let entries = match std::fs::read_dir(backup_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io_path("listing", backup_dir, e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with(TMP_PREFIX) || !path.join(BACKUP_FILE).is_file() {
            continue;
        }
        out.push((name, BackupManifest::read(&path.join(BACKUP_FILE), None)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Removes expired backups and unreferenced pool files; returns the ids removed. If any
/// manifest cannot be read, its folder is kept and the pool is left alone (it may need them).
pub(crate) fn prune(backup_dir: &Path, now: u64, retention_secs: u64, keep: &str) -> Result<Vec<String>> {
    let all = scan(backup_dir)?;
    let dated: Vec<(String, u64)> = all
        .iter()
        .filter_map(|(id, m)| m.as_ref().ok().map(|m| (id.clone(), m.created_at)))
        .collect();
    let gone = expired(&dated, now, retention_secs, keep);
    remove_interrupted(backup_dir)?;
    for id in &gone {
        let path = backup_dir.join(id);
        std::fs::remove_dir_all(&path).map_err(|e| Error::io_path("removing expired backup", &path, e))?;
    }
    if all.iter().all(|(_, m)| m.is_ok()) {
        let referenced: HashSet<String> = all
            .iter()
            .filter(|(id, _)| !gone.contains(id))
            .filter_map(|(_, m)| m.as_ref().ok())
            .flat_map(|m| m.segments.iter().map(|s| s.sha256.clone()))
            .collect();
        collect_garbage(backup_dir, &referenced)?;
    }
    Ok(gone)
}

/// Removes folders of backups that were interrupted (`.tmp-*`): the caller holds the LOCK and has
/// already renamed its own folder into place, so no other backup is writing one.
fn remove_interrupted(backup_dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(backup_dir).map_err(|e| Error::io_path("listing", backup_dir, e))?;
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(TMP_PREFIX) && e.path().is_dir() {
            std::fs::remove_dir_all(e.path())
                .map_err(|err| Error::io_path("removing an interrupted backup", &e.path(), err))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::layout::{pool_dir, pool_file};
    use super::super::manifest::SegmentEntry;
    use super::*;
    use strata_lsm::CipherSuite;

    fn backup(dir: &Path, id: &str, created_at: u64, shas: &[&str]) {
        let m = BackupManifest {
            backup_id: id.into(),
            created_at,
            account: "acct".into(),
            encryption: "service-managed".into(),
            kid: None,
            files: Vec::new(),
            segments: shas
                .iter()
                .map(|s| SegmentEntry {
                    id: 1,
                    size: 1,
                    sha256: (*s).into(),
                })
                .collect(),
            pinned_ms: None,
            log_number: None,
        };
        std::fs::create_dir_all(dir.join(id)).unwrap();
        let bytes = m.encode(&CipherSuite::ephemeral(false)).unwrap();
        std::fs::write(dir.join(id).join(BACKUP_FILE), bytes).unwrap();
        for sha in shas {
            std::fs::write(pool_file(dir, sha), b"x").unwrap();
        }
    }

    #[test]
    fn prune_removes_expired_backups_their_unshared_segments_and_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(pool_dir(dir)).unwrap();
        backup(dir, "a", 0, &["s1", "s2"]);
        backup(dir, "b", 5000, &["s2", "s3"]);
        backup(dir, "c", 9000, &["s3", "s4"]);
        std::fs::create_dir_all(dir.join(".tmp-x")).unwrap();
        std::fs::write(pool_dir(dir).join(".tmp-s9"), b"x").unwrap();
        std::fs::write(pool_file(dir, "orphan"), b"x").unwrap();

        let gone = prune(dir, 10_000, 4000, "c").unwrap();
        assert_eq!(gone, vec!["a".to_string(), "b".to_string()]);
        let pool: HashSet<String> = std::fs::read_dir(pool_dir(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(pool, ["s3.seg", "s4.seg"].iter().map(|s| s.to_string()).collect());
        assert!(!dir.join(".tmp-x").exists() && !dir.join("a").exists() && dir.join("c").exists());

        // An unreadable manifest keeps its folder and stops garbage collection.
        backup(dir, "d", 9500, &["s5"]);
        std::fs::write(pool_file(dir, "orphan2"), b"x").unwrap();
        std::fs::write(dir.join("d").join(BACKUP_FILE), b"garbage").unwrap();
        assert!(prune(dir, 10_000, 4000, "c").unwrap().is_empty());
        assert!(pool_file(dir, "orphan2").exists() && dir.join("d").exists());
    }

    #[test]
    fn only_older_than_retention_and_never_the_new_one() {
        let b = |id: &str, t| (id.to_string(), t);
        let all = [b("a", 0), b("b", 100), b("c", 1000), b("d", 1100)];
        assert_eq!(expired(&all, 1100, 500, "d"), vec!["a", "b"]);
        assert_eq!(expired(&all, 1100, 1100, "d"), Vec::<String>::new());
        assert_eq!(expired(&all, 10_000, 10, "d"), vec!["a", "b", "c"]);
    }
}
