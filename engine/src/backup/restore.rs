//! `Account::restore`: a backup into a new data directory. Verifies the backup, then proves the
//! keys work (service key from the home; under a customer key, an unwrap through the vault as the
//! backup's default identity: the backup-time key version must be enabled and the identity
//! allowed) before writing anything, stages the files in a hidden sibling directory, opens the
//! staged account once, and renames it into place: a failure leaves no target behind. The
//! staging steps are shared with point-in-time restore (pitr.rs).

use std::path::{Path, PathBuf};

use super::copy::copy_file;
use super::layout::{pool_name, pool_of, CATALOG_COPY, KEYRING_COPY, MANIFEST_COPY};
use super::manifest::BackupManifest;
use super::progress;
use super::scope::{keep_only, Scope};
use super::verify::verified;
use crate::account::{open_service, unwrap_customer, Account, KEYRING_FILE};
use crate::catalog::{Catalog, CATALOG_FILE};
use crate::error::{Error, Result};
use crate::options::AccountOptions;
use strata_base::fs::{create_dir, sync_dir};
use strata_lsm::files::segment_file_name;
use strata_lsm::files::MANIFEST_FILE;
use strata_vault::Principal;
use {strata_base::seal::Dek, strata_lsm::CipherSuite};

impl Account {
    /// Restores the backup folder `backup` into `opts.data_dir`, which must not exist or be
    /// empty (409 otherwise), and opens it. 500.1002 if the backup is damaged; 403.x (with the
    /// vault's substatus) if the customer key version that sealed it is disabled, deleted, or
    /// not unwrappable by the backup's identity. Nothing is left at the target on failure.
    pub fn restore(backup: &Path, opts: AccountOptions) -> Result<Account> {
        refuse_non_empty(&opts.data_dir)?;
        let (manifest, service) = verified(&opts, backup)?;
        let (ring, _) = open_service(&opts, backup)?;
        let catalog = catalog_copy(backup, service)?;
        // Unwrapped only to prove access; the DEK is dropped (zeroized) at once.
        unwrap_customer(&opts, backup, &ring, &catalog.identity()?)?;
        restore_staged(
            opts,
            |staging| stage(staging, backup, &manifest),
            &Finish::default(),
        )
    }
}

/// How a staged restore is finished: replay limit, the new default identity, what to keep.
#[derive(Default)]
pub(crate) struct Finish<'a> {
    pub(crate) until_ms: Option<u64>,
    pub(crate) identity: Option<&'a Principal>,
    pub(crate) only: &'a [Scope],
}

/// The authenticated catalog copy of a backup folder.
pub(crate) fn catalog_copy(backup: &Path, service: Dek) -> Result<Catalog> {
    Catalog::read(backup, &CipherSuite::new(service, None))?
        .ok_or_else(|| Error::corruption(&backup.join(CATALOG_COPY), 0, "the catalog copy is missing"))
}

/// The directory holding `dir` (`.` for a bare name).
fn parent_of(dir: &Path) -> PathBuf {
    dir.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `<parent>/.<name>.<tag>`: a hidden sibling of `dir`, on the same file system, so that a
/// rename into place is atomic.
pub(crate) fn hidden_sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    parent_of(dir).join(format!(".{name}.{tag}"))
}

/// Fills a hidden staging sibling of `opts.data_dir` with `fill`, opens it once (checking every
/// segment, replaying the WAL up to `finish.until_ms`), gives it a new account id, its new
/// identity and scope, then renames it into place and opens it. On any failure the staging
/// directory is removed: nothing half-restored remains.
pub(crate) fn restore_staged(
    opts: AccountOptions,
    fill: impl FnOnce(&Path) -> Result<()>,
    finish: &Finish<'_>,
) -> Result<Account> {
    let target = opts.data_dir.clone();
    let parent = parent_of(&target);
    create_dir(&parent, false)?;
    let staging = hidden_sibling(&target, &format!("restoring-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io_path("clearing", &staging, e))?;
    }
    let mut at = opts.clone();
    at.data_dir = staging.clone();
    let staged = fill(&staging)
        .and_then(|()| settle_catalog(&at, finish.identity))
        .and_then(|()| {
            let restored = Account::open_with(at, finish.until_ms)?;
            // A restored account is a new account: its own id, so that it and its source are
            // two sides to `sync` (their checkpoints of other sources carry over).
            restored.inner.edit_catalog(|c| {
                c.account_id = Some(crate::catalog::new_account_id());
                Ok(())
            })?;
            keep_only(&restored, finish.only)
        });
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if target.exists() {
        std::fs::remove_dir(&target).map_err(|e| Error::io_path("replacing the empty", &target, e))?;
    }
    if let Err(e) = strata_base::faults::rename(&staging, &target) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(Error::io_path("renaming the restored account into", &target, e));
    }
    sync_dir(&parent)?;
    Account::open(opts)
}

/// Rewrites the staged catalog before it is opened: continuous backup off (the restored account
/// must not ship into its source's backup directory) and, if given, the new default identity.
fn settle_catalog(at: &AccountOptions, identity: Option<&Principal>) -> Result<()> {
    let dir = &at.data_dir;
    let (_, service) = open_service(at, dir)?;
    let suite = CipherSuite::new(service, None);
    let mut catalog = Catalog::read(dir, &suite)?
        .ok_or_else(|| Error::corruption(&dir.join(CATALOG_FILE), 0, "the restored catalog is missing"))?;
    catalog.continuous_backup = None;
    if let Some(p) = identity {
        catalog.default_identity = Some(p.to_string());
    }
    catalog.write(dir, &suite)
}

/// 409 unless `target` is absent or an empty directory.
pub(crate) fn refuse_non_empty(target: &Path) -> Result<()> {
    let non_empty = match std::fs::read_dir(target) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) => true,
    };
    if non_empty {
        return Err(Error::Conflict(format!(
            "restore target {} is not an empty directory; restore into a new data directory",
            target.display()
        )));
    }
    Ok(())
}

/// Copies the backup's files into the data-directory layout under `dir`, checking each copy's
/// hash against the manifest (the backup may change after it was verified).
pub(crate) fn stage(dir: &Path, backup: &Path, m: &BackupManifest) -> Result<()> {
    let lsm = dir.join("lsm");
    let seg = lsm.join("seg");
    create_dir(&seg, false)?;
    let pool = pool_of(backup);
    let mut plan: Vec<(PathBuf, PathBuf, &str)> = Vec::new();
    for f in &m.files {
        let to = match f.name.as_str() {
            CATALOG_COPY => dir.join(CATALOG_FILE),
            KEYRING_COPY => dir.join(KEYRING_FILE),
            MANIFEST_COPY => lsm.join(MANIFEST_FILE),
            other => {
                return Err(Error::corruption(
                    &backup.join(other),
                    0,
                    "the backup manifest names an unknown file",
                ))
            }
        };
        plan.push((backup.join(&f.name), to, &f.sha256));
    }
    for s in &m.segments {
        plan.push((
            pool.join(pool_name(&s.sha256)),
            seg.join(segment_file_name(s.id)),
            &s.sha256,
        ));
    }
    progress::plan(
        m.files
            .iter()
            .map(|f| f.size)
            .chain(m.segments.iter().map(|s| s.size))
            .sum(),
    );
    for (from, to, sha) in plan {
        let (got, copied) = copy_file(&from, &to)?;
        progress::advance(copied);
        if got != sha {
            return Err(Error::corruption(
                &from,
                0,
                "backup file changed while it was restored",
            ));
        }
    }
    sync_dir(&seg)?;
    sync_dir(&lsm)?;
    Ok(sync_dir(dir)?)
}
