//! `strata backup policy|now|list|verify` and `strata restore --from BACKUP --to DIR`: periodic
//! backups of the account in --data into --backup-dir (default $STRATA_HOME/backups/<account>).
//! Asks the engine only; see docs/backup.md.

use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_engine::{Account, BackupInfo, BackupPolicy};

use crate::args::Globals;
use crate::commands::account;
use crate::error::CliResult;
use crate::output::Report;

/// `backup policy --interval-hours N --retention-hours M` (400 if invalid).
pub fn policy(g: &Globals, interval_hours: u32, retention_hours: u32) -> CliResult<Report> {
    let p = BackupPolicy::new(interval_hours, retention_hours)?;
    account::open(g)?.set_backup_policy(p)?;
    Ok(Report::new(200)
        .field("intervalHours", p.interval_hours)
        .field("retentionHours", p.retention_hours))
}

/// `backup now [--backup-dir D]`: an online backup; older ones past the retention are removed.
pub fn now(g: &Globals, dir: Option<&Path>) -> CliResult<Report> {
    let a = account::open(g)?;
    let dir = dir.map_or_else(|| a.default_backup_dir(), Path::to_path_buf);
    let b = a.backup_now(&dir)?;
    Ok(Report::new(201)
        .field("id", b.id.clone())
        .field("path", b.path.display().to_string())
        .field("account", b.account.clone())
        .opt_field("kid", b.kid.clone())
        .field("segments", b.segments)
        .field("bytes", b.bytes)
        .field("segmentsCopied", b.segments_copied)
        .field("bytesCopied", b.bytes_copied)
        .field("pruned", b.pruned))
}

fn row(b: BackupInfo) -> Vec<Value> {
    vec![
        Value::from(b.id),
        Value::from(b.created_at),
        Value::from(b.account),
        b.kid.map_or(Value::Null, Value::from),
        Value::from(b.segments),
        Value::from(b.bytes),
        Value::from(b.path.display().to_string()),
    ]
}

/// `backup list [--backup-dir D]`: the backups, oldest first.
pub fn list(g: &Globals, dir: Option<&Path>) -> CliResult<Report> {
    let dir: PathBuf = match dir {
        Some(d) => d.to_path_buf(),
        None => Account::default_backup_dir_at(&g.account_options())?,
    };
    let rows = Account::list_backups(&dir)?.into_iter().map(row).collect();
    Ok(Report::new(200).list(
        "backups",
        vec!["id", "createdAt", "account", "kid", "segments", "bytes", "path"],
        rows,
    ))
}

/// `backup verify BACKUP`: recomputes every checksum; 500.1002 naming the damaged file.
pub fn verify(g: &Globals, backup: &Path) -> CliResult<Report> {
    let r = Account::verify_backup(&g.account_options(), backup)?;
    Ok(Report::new(200)
        .field("id", r.id)
        .field("filesChecked", r.files_checked)
        .field("bytesChecked", r.bytes_checked)
        .field("state", "intact"))
}

/// `restore --from BACKUP --to NEW_DATA_DIR`: into a new (absent or empty) data directory.
pub fn restore(g: &Globals, from: &Path, to: &Path) -> CliResult<Report> {
    let mut opts = g.account_options();
    opts.data_dir = to.to_path_buf();
    let a = Account::restore(from, opts)?;
    let (mode, key_uri) = account::describe(&a.encryption());
    Ok(Report::new(201)
        .field("account", a.name())
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .field("dataDir", to.display().to_string())
        .field("databases", a.list_databases()?))
}
