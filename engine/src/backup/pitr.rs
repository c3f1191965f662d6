//! `Account::restore_to_point`: point-in-time restore from a continuous backup into a new data
//! directory. Checks the moment against the window (the log's start or the tier, whichever is
//! later, up to `latestRestorableTimestamp`), picks the newest base consistent at or before it,
//! proves the keys (under a customer key as the named user-assigned identity, with the key
//! version that sealed the base), stages the base plus the shipped WAL files from the base's log
//! number, and opens the staging copy replaying only records committed at or before the
//! moment. Never writes into the backup directory. See docs/backup.md#point-in-time-restore.

use std::path::{Path, PathBuf};

use super::continuous::earliest;
use super::copy::copy_range;
use super::layout::{log_dir, LOG_FILE};
use super::log_manifest::{LogManifest, ShippedWal};
use super::restore::{catalog_copy, refuse_non_empty, restore_staged, stage, Finish};
use super::retention::scan;
use super::scope::Scope;
use super::verify::verified;
use crate::account::{open_service, unwrap_customer, Account};
use crate::error::{Error, Result};
use crate::options::AccountOptions;
use strata_base::fs::{create_dir, sync_dir};
use strata_lsm::files::wal_file_name;
use strata_lsm::CipherSuite;
use strata_vault::{Identities, Principal};

/// What to restore: the moment, the identity the restored account calls the vault as, and
/// optionally only some databases or containers (`DB` or `DB/CONT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PointInTimeRestore {
    /// Unix milliseconds: every write committed at or before it is restored, none after.
    pub at_ms: u64,
    /// Required under a customer key (a user-assigned identity; it becomes the restored
    /// account's default identity). Optional otherwise.
    pub identity: Option<Principal>,
    pub only: Vec<String>,
}

impl Account {
    /// Restores the continuous backup in `backup_dir` as of `req.at_ms` into `opts.data_dir`
    /// (409 unless absent or empty) and opens it. 400 for a moment outside the restore window or
    /// a customer-key restore without a user-assigned identity; 404 for an unknown identity or
    /// scope, or a directory without continuous backup; 403.x if the key version that sealed the
    /// data is disabled or the identity may not unwrap; 500.1002 if a file is damaged. Nothing is
    /// left at the target on failure.
    pub fn restore_to_point(
        backup_dir: &Path,
        opts: AccountOptions,
        req: &PointInTimeRestore,
    ) -> Result<Account> {
        restore_point(backup_dir, opts, req, None)
    }
}

/// `restore_to_point`; with `own_identity`, the restore is a scratch copy the account that owns
/// the backup makes of itself (undelete.rs): it calls the vault as that account's own default
/// identity, whatever its kind, instead of a user-assigned identity named by the request.
pub(crate) fn restore_point(
    backup_dir: &Path,
    opts: AccountOptions,
    req: &PointInTimeRestore,
    own_identity: Option<&Principal>,
) -> Result<Account> {
    refuse_non_empty(&opts.data_dir)?;
    let scopes = req
        .only
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let log = log_dir(backup_dir);
    let log_path = log.join(LOG_FILE);
    let listed = LogManifest::read(&log_path, None)?.ok_or_else(|| {
        Error::NotFound(format!(
            "{} holds no continuous backup (no log/LOG); turn it on with `strata backup policy --continuous 7|30`",
            backup_dir.display()
        ))
    })?;
    let base = newest_base(backup_dir, &listed, req.at_ms)?;
    let (manifest, service) = verified(&opts, &base)?;
    let m = LogManifest::read(&log_path, Some(&CipherSuite::new(service.clone(), None)))?
        .ok_or_else(|| Error::corruption(&log_path, 0, "the shipped log's manifest is missing"))?;
    check_window(&m, req.at_ms, opts.wall_clock.now_millis())?;
    let base_log = match (manifest.pinned_ms, manifest.log_number) {
        (Some(t), Some(n)) if t <= req.at_ms && n >= m.start_log_number && manifest.account == m.account => n,
        _ => {
            return Err(Error::corruption(
                &base,
                0,
                "the base backup does not match the shipped log",
            ))
        }
    };

    let catalog = catalog_copy(&base, service)?;
    let identity = match own_identity {
        Some(p) => Some(p.clone()),
        None => restore_identity(&opts, catalog.key_uri.is_some(), req.identity.as_ref())?,
    };
    let (ring, _) = open_service(&opts, &base)?;
    // Unwrapped only to prove access; the DEK is dropped (zeroized) at once.
    unwrap_customer(
        &opts,
        &base,
        &ring,
        identity.as_ref().unwrap_or(&catalog.identity()?),
    )?;

    let wals: Vec<ShippedWal> = m.wals.iter().filter(|w| w.id >= base_log).cloned().collect();
    let finish = Finish {
        until_ms: Some(req.at_ms),
        identity: identity.as_ref(),
        only: &scopes,
    };
    restore_staged(
        opts,
        |staging| {
            stage(staging, &base, &manifest)?;
            stage_wals(staging, &log, &wals)
        },
        &finish,
    )
}

/// The newest base backup (by its listing) consistent at or before `at_ms` that the log
/// continues; 400 if there is none (the moment is before the log started).
fn newest_base(backup_dir: &Path, log: &LogManifest, at_ms: u64) -> Result<PathBuf> {
    scan(backup_dir)?
        .into_iter()
        .filter_map(|(id, m)| m.ok().map(|m| (id, m)))
        .filter(|(_, m)| m.account == log.account && m.log_number.is_some_and(|n| n >= log.start_log_number))
        .filter_map(|(id, m)| Some((m.pinned_ms.filter(|t| *t <= at_ms)?, id)))
        .max()
        .map(|(_, id)| backup_dir.join(id))
        .ok_or_else(|| before_start(log, at_ms))
}

/// 400 unless `earliest <= at_ms <= latest`.
fn check_window(m: &LogManifest, at_ms: u64, now_ms: u64) -> Result<()> {
    let first = earliest(m, now_ms);
    if at_ms < first {
        return Err(if at_ms < m.start_ms {
            before_start(m, at_ms)
        } else {
            Error::BadRequest(format!(
                "restore point {at_ms} is older than the {}-day continuous backup window: the earliest \
                 restorable moment is {first} (Unix ms); nothing was restored",
                m.tier_days
            ))
        });
    }
    if at_ms > m.through_ms {
        return Err(Error::BadRequest(format!(
            "restore point {at_ms} is after the latest restorable moment {} (latestRestorableTimestamp, \
             Unix ms): later writes are not shipped yet; choose an earlier moment or retry after the \
             next shipment; nothing was restored",
            m.through_ms
        )));
    }
    Ok(())
}

fn before_start(m: &LogManifest, at_ms: u64) -> Error {
    Error::BadRequest(format!(
        "restore point {at_ms} is before continuous backup of account '{}' started ({} Unix ms): \
         there is no state to restore from before then; nothing was restored",
        m.account, m.start_ms
    ))
}

/// The identity the restored account will call the vault as: under a customer key it must be
/// named and user-assigned (400 otherwise; 404 if it does not exist).
fn restore_identity(
    opts: &AccountOptions,
    cmk: bool,
    named: Option<&Principal>,
) -> Result<Option<Principal>> {
    match named {
        Some(p @ Principal::User(_)) => {
            Identities::new(&opts.home).require(p)?;
            Ok(Some(p.clone()))
        }
        Some(other) if cmk => Err(Error::BadRequest(format!(
            "a point-in-time restore of a customer-managed-key account needs a user-assigned identity \
             (--identity user:NAME), not '{other}': the source's system-assigned identity cannot be \
             carried over; nothing was restored"
        ))),
        None if cmk => Err(Error::BadRequest(
            "a point-in-time restore of a customer-managed-key account must name a user-assigned \
             identity (--identity user:NAME) that may unwrap the key; it becomes the restored \
             account's default identity; nothing was restored"
                .into(),
        )),
        Some(other) => Ok(Some(other.clone())),
        None => Ok(None),
    }
}

/// Copies the shipped prefix of each WAL into `staging/lsm/wal/`, checking its hash.
fn stage_wals(staging: &Path, log: &Path, wals: &[ShippedWal]) -> Result<()> {
    let dir = staging.join("lsm").join("wal");
    create_dir(&dir, false)?;
    super::progress::plan(wals.iter().map(|w| w.size).sum());
    for w in wals {
        let from = log.join(wal_file_name(w.id));
        let (sha, size) = copy_range(&from, &dir.join(wal_file_name(w.id)), 0, w.size)?;
        super::progress::advance(size);
        if sha != w.sha256 || size != w.size {
            return Err(Error::corruption(
                &from,
                0,
                "shipped WAL file's SHA-256 differs from the log manifest: the file was damaged or altered",
            ));
        }
    }
    Ok(sync_dir(&dir)?)
}
