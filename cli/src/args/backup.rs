//! `strata backup policy|status|now|list|verify|restore-deleted` and `strata restore`: their
//! flags, and which backup call each combination of flags means. Arguments only; the backups are
//! `commands::backup`'s.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::shared::Globals;
use crate::commands::backup;
use crate::error::{CliError, CliResult};
use crate::output::Report;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Set the periodic policy (interval 1-24 h, retention from twice the interval to 720 h), or
    /// turn on continuous backup with point-in-time restore over 7 or 30 days.
    #[command(
        after_help = "Examples:\n  strata backup policy --interval-hours 4 --retention-hours 48\n  \
                            strata backup policy --continuous 7 --backup-dir /mnt/backups/acct"
    )]
    Policy {
        /// Periodic backups (the default mode; needs --interval-hours and --retention-hours).
        #[arg(long, conflicts_with = "continuous")]
        periodic: bool,
        #[arg(
            long,
            value_name = "N",
            required_unless_present = "continuous",
            conflicts_with = "continuous"
        )]
        interval_hours: Option<u32>,
        #[arg(
            long,
            value_name = "M",
            required_unless_present = "continuous",
            conflicts_with = "continuous"
        )]
        retention_hours: Option<u32>,
        /// Continuous backup: the tier, 7 or 30 days of point-in-time restore.
        #[arg(long, value_name = "7|30")]
        continuous: Option<u32>,
        /// Where continuous backup ships the log [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR", requires = "continuous")]
        backup_dir: Option<PathBuf>,
        /// Take periodic backups into DIR on the interval, while the account is open (a
        /// long-running application; one-shot commands take one when due as they run).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["continuous", "no_schedule"])]
        schedule: Option<PathBuf>,
        /// Stop the scheduled periodic backups.
        #[arg(long, conflicts_with = "continuous")]
        no_schedule: bool,
    },
    /// Show continuous backup: the tier and the restore window (earliest and latest restorable
    /// timestamps); ships the log first.
    #[command(after_help = "Example:\n  strata backup status")]
    Status,
    /// Take a backup now (online); removes backups older than the retention.
    #[command(after_help = "Example:\n  strata backup now --backup-dir /mnt/backups/acct")]
    Now {
        /// Where backups go [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
    /// List the backups, oldest first.
    #[command(after_help = "Example:\n  strata backup list --output table")]
    List {
        /// Where backups are [default: $STRATA_HOME/backups/<account>].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
    /// Recompute every checksum of one backup and authenticate its manifest.
    #[command(after_help = "Example:\n  strata backup verify /mnt/backups/acct/0001764165000000")]
    Verify {
        /// The backup folder.
        backup: PathBuf,
    },
    /// Bring a deleted database or container back into this account, as it was at a moment
    /// of its continuous backup (409 if it exists now).
    #[command(
        after_help = "Example:\n  strata backup restore-deleted sales/orders --at 2026-11-26T17:30:00Z"
    )]
    RestoreDeleted {
        /// DB or DB/CONT.
        #[arg(value_name = "DB[/CONT]")]
        scope: String,
        /// Unix milliseconds, or RFC 3339 in UTC (2026-11-26T17:30:00Z).
        #[arg(long, value_name = "TIMESTAMP")]
        at: String,
        /// The continuous backup's directory [default: the one the policy names].
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
    },
}

impl BackupCommand {
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match self {
            BackupCommand::Policy {
                continuous: Some(days),
                backup_dir,
                ..
            } => backup::continuous(g, *days, backup_dir.as_deref()),
            BackupCommand::Policy {
                interval_hours: Some(interval_hours),
                retention_hours: Some(retention_hours),
                schedule,
                no_schedule,
                ..
            } => {
                let schedule = match (schedule, no_schedule) {
                    (Some(dir), _) => Some(Some(dir.as_path())),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                backup::policy(g, *interval_hours, *retention_hours, schedule)
            }
            BackupCommand::Policy { .. } => Err(CliError::bad_input(
                "give --interval-hours N and --retention-hours M, or --continuous 7|30",
            )),
            BackupCommand::Status => backup::status(g),
            BackupCommand::Now { backup_dir } => backup::now(g, backup_dir.as_deref()),
            BackupCommand::List { backup_dir } => backup::list(g, backup_dir.as_deref()),
            BackupCommand::Verify { backup: path } => backup::verify(g, path),
            BackupCommand::RestoreDeleted {
                scope,
                at,
                backup_dir,
            } => backup::restore_deleted(g, scope, at, backup_dir.as_deref()),
        }
    }
}

#[derive(Args, Debug)]
pub struct RestoreCommand {
    /// The backup folder (as `strata backup list` prints it); with --at, the backup directory.
    #[arg(long, value_name = "BACKUP")]
    from: PathBuf,
    /// The new data directory.
    #[arg(long, value_name = "NEW_DATA_DIR")]
    to: PathBuf,
    /// Point-in-time restore: the state as of this moment (Unix milliseconds, or RFC 3339 UTC
    /// such as 2026-11-26T17:30:00Z), within the continuous backup's window.
    #[arg(long, value_name = "TIMESTAMP")]
    at: Option<String>,
    /// The identity the restored account calls the vault as (user:NAME; required with a
    /// customer-managed key).
    #[arg(long, value_name = "user:NAME", requires = "at")]
    identity: Option<String>,
    /// Restore only this database or container (repeatable).
    #[arg(long, value_name = "DB[/CONT]", requires = "at")]
    only: Vec<String>,
}

impl RestoreCommand {
    /// A whole backup, or with --at a moment of a continuous one.
    pub fn run(&self, g: &Globals) -> CliResult<Report> {
        match &self.at {
            None => backup::restore(g, &self.from, &self.to),
            Some(at) => backup::restore_at(g, &self.from, &self.to, at, self.identity.as_deref(), &self.only),
        }
    }
}
