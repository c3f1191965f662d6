//! `strata backup policy|now|list|verify|status|restore-deleted` and `strata restore --from BACKUP --to DIR
//! [--at TIMESTAMP]`: periodic and continuous backups of the account in --data into
//! --backup-dir (default $STRATA_HOME/backups/<account>), and restores from them. Asks the
//! engine only; see docs/backup.md.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use serde_json::Value;
use strata_engine::{
    observe_progress, Account, BackupInfo, BackupPolicy, ContinuousPolicy, ContinuousStatus,
    PointInTimeRestore, Principal, Progress,
};

use crate::args::Globals;
use crate::commands::account;
use crate::error::{CliError, CliResult};
use crate::output::Report;

/// `backup policy --interval-hours N --retention-hours M [--schedule DIR | --no-schedule]`
/// (400 if invalid). `schedule`: `Some(Some(dir))` schedules, `Some(None)` unschedules.
pub fn policy(
    g: &Globals,
    interval_hours: u32,
    retention_hours: u32,
    schedule: Option<Option<&Path>>,
) -> CliResult<Report> {
    let p = BackupPolicy::new(interval_hours, retention_hours)?;
    let a = account::open(g)?;
    a.set_backup_policy(p)?;
    if let Some(dir) = schedule {
        a.set_backup_schedule(dir)?;
    }
    Ok(Report::new(200)
        .field("intervalHours", p.interval_hours)
        .field("retentionHours", p.retention_hours)
        .opt_field(
            "scheduleDir",
            a.backup_schedule()?.map(|d| d.display().to_string()),
        ))
}

/// `backup policy --continuous 7|30 [--backup-dir D]`: continuous backup on (or its tier
/// changed); a warning when the tier is lowered.
pub fn continuous(g: &Globals, days: u32, dir: Option<&Path>) -> CliResult<Report> {
    let p = ContinuousPolicy::new(days, dir.map(Path::to_path_buf))?;
    let a = account::open(g)?;
    let warning = a.set_continuous_backup(p)?;
    let status = a.continuous_status()?;
    Ok(window(Report::new(200).field("mode", "continuous"), status).opt_field("warning", warning))
}

/// `backup status`: ships the log, then shows the continuous backup's window (or that it is off).
pub fn status(g: &Globals) -> CliResult<Report> {
    let a = account::open(g)?;
    if a.continuous_backup()?.is_some() {
        a.ship_log_now()?;
    }
    let p = a.backup_policy()?;
    let report = Report::new(200)
        .field("intervalHours", p.interval_hours)
        .field("retentionHours", p.retention_hours)
        .opt_field(
            "scheduleDir",
            a.backup_schedule()?.map(|d| d.display().to_string()),
        );
    match a.continuous_status()? {
        Some(s) => Ok(window(report.field("continuous", "on"), Some(s))),
        None => Ok(report.field("continuous", "off")),
    }
}

fn window(report: Report, status: Option<ContinuousStatus>) -> Report {
    let Some(s) = status else { return report };
    report
        .field("tierDays", s.tier_days)
        .field("backupDir", s.backup_dir.display().to_string())
        .field("earliestRestorableTimestamp", s.earliest_restorable_timestamp)
        .field("latestRestorableTimestamp", s.latest_restorable_timestamp)
        .opt_field("lastError", s.last_error)
}

/// `backup now [--backup-dir D]`: an online backup; older ones past the retention are removed.
pub fn now(g: &Globals, dir: Option<&Path>) -> CliResult<Report> {
    let a = account::open(g)?;
    let dir = dir.map_or_else(|| a.default_backup_dir(), Path::to_path_buf);
    let b = with_bar("backing up", || a.backup_now(&dir))?;
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
        b.consistent_at_ms.map_or(Value::Null, Value::from),
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
    let report = Report::new(200).list(
        "backups",
        vec![
            "id",
            "createdAt",
            "consistentAtMs",
            "account",
            "kid",
            "segments",
            "bytes",
            "path",
        ],
        rows,
    );
    Ok(window(
        report,
        Account::restore_window(&g.account_options(), &dir)?,
    ))
}

/// `backup verify BACKUP`: recomputes every checksum; 500.1002 naming the damaged file.
pub fn verify(g: &Globals, backup: &Path) -> CliResult<Report> {
    let r = with_bar("verifying", || {
        Account::verify_backup(&g.account_options(), backup)
    })?;
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
    let a = with_bar("restoring", || Account::restore(from, opts))?;
    let (mode, key_uri) = account::describe(&a.encryption());
    Ok(Report::new(201)
        .field("account", a.name())
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .field("dataDir", to.display().to_string())
        .field("databases", a.list_databases()?))
}

/// `restore --from BACKUP_DIR --to NEW_DATA_DIR --at TIMESTAMP [--identity user:NAME]
/// [--only DB[/CONT]]...`: point-in-time restore from a continuous backup.
pub fn restore_at(
    g: &Globals,
    from: &Path,
    to: &Path,
    at: &str,
    identity: Option<&str>,
    only: &[String],
) -> CliResult<Report> {
    let mut opts = g.account_options();
    opts.data_dir = to.to_path_buf();
    let req = PointInTimeRestore {
        at_ms: parse_timestamp(at)?,
        identity: identity.map(|s| Principal::parse(s, None)).transpose()?,
        only: only.to_vec(),
    };
    let a = with_bar("restoring", || Account::restore_to_point(from, opts, &req))?;
    let (mode, key_uri) = account::describe(&a.encryption());
    Ok(Report::new(201)
        .field("account", a.name())
        .field("restoredAt", req.at_ms)
        .field("encryption", mode)
        .opt_field("keyUri", key_uri)
        .field("defaultIdentity", a.default_identity()?.to_string())
        .field("dataDir", to.display().to_string())
        .field("databases", a.list_databases()?))
}

/// `backup restore-deleted DB[/CONT] --at TIMESTAMP [--backup-dir D]`: brings a deleted
/// database or container back into this account as it was at that moment.
pub fn restore_deleted(g: &Globals, scope: &str, at: &str, dir: Option<&Path>) -> CliResult<Report> {
    let at_ms = parse_timestamp(at)?;
    let a = account::open(g)?;
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => a
            .continuous_status()?
            .map(|s| s.backup_dir)
            .ok_or_else(|| {
                CliError::new(
                    400,
                    0,
                    "continuous backup is off for this account: give --backup-dir with the directory of its continuous backup",
                )
            })?,
    };
    let r = with_bar("restoring", || a.restore_deleted(&dir, at_ms, scope))?;
    Ok(Report::new(201)
        .field("restoredAt", at_ms)
        .field("containers", r.containers)
        .field("items", r.items))
}

/// Runs `f` (a backup, verify or restore call) with a progress bar of its bytes on stderr when
/// stderr is a terminal; otherwise just runs it.
fn with_bar<T>(label: &str, f: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return f();
    }
    let progress = Arc::new(Progress::default());
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{label} {{wide_bar}} {{bytes}}/{{total_bytes}}"))
    {
        bar.set_style(style);
    }
    let done = AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_length(progress.total_bytes());
                bar.set_position(progress.done_bytes());
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = observe_progress(&progress, f);
        done.store(true, Ordering::Relaxed);
        out
    });
    bar.finish_and_clear();
    out
}

/// Unix milliseconds (digits only), or RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
fn parse_timestamp(s: &str) -> CliResult<u64> {
    let bad = || {
        CliError::bad_input(format!(
            "--at '{s}' is not a timestamp: give Unix milliseconds (1795714200000) or RFC 3339 in UTC \
             (2026-11-26T17:30:00Z)"
        ))
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let body = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix('z'))
        .ok_or_else(bad)?;
    let (date, time) = body.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let num = |p: &str| p.parse::<u64>().map_err(|_| bad());
    let d: Vec<&str> = date.split('-').collect();
    let (secs, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<&str> = secs.split(':').collect();
    let ([y, mo, da], [h, mi, se]) = (d.as_slice(), t.as_slice()) else {
        return Err(bad());
    };
    let (y, mo, da, h, mi, se) = (num(y)?, num(mo)?, num(da)?, num(h)?, num(mi)?, num(se)?);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || h > 23
        || mi > 59
        || se > 59
    {
        return Err(bad());
    }
    let ms = match frac.len() {
        0 => 0,
        1..=3 if frac.bytes().all(|b| b.is_ascii_digit()) => num(frac)? * 10u64.pow(3 - frac.len() as u32),
        _ => return Err(bad()),
    };
    Ok(((days_from_civil(y, mo, da) * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), y >= 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn timestamps_in_milliseconds_or_rfc3339_utc() {
        assert_eq!(parse_timestamp("1795714200000").unwrap(), 1_795_714_200_000);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_timestamp("2026-11-26T17:30:00Z").unwrap(),
            1_795_714_200_000
        );
        assert_eq!(
            parse_timestamp("2000-03-01T00:00:00.5Z").unwrap(),
            951_868_800_500
        );
        for bad in [
            "",
            "yesterday",
            "2026-11-26T17:30:00",
            "2026-13-01T00:00:00Z",
            "2026-11-26T17:30:00.1234Z",
            "-5",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }
}
