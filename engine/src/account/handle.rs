//! `Account`: one data directory, its catalog, its unwrapped data keys and its key-value store.
//! Create or open, then reach databases and containers through cheap handles. Send + Sync.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::database::Database;
use super::keys::{create_keys, open_keys};
use crate::catalog::{validate_name, Catalog, DatabaseEntry};
use crate::db::{Db, DirLock};
use crate::error::{Error, Result};
use crate::options::{AccountOptions, Durability};

/// How the account's data is encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// One seal layer under the service-managed key (the default).
    ServiceManaged,
    /// Two seal layers: inside, a data key wrapped by this customer key in the vault.
    CustomerManaged { key_uri: String },
}

/// Number of stripes of the per-item lock that makes check-then-write operations atomic.
const ITEM_LOCK_STRIPES: usize = 64;

pub(crate) struct AccountInner {
    pub(crate) opts: AccountOptions,
    pub(crate) data_dir: PathBuf,
    pub(crate) encryption: Encryption,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) db: Db,
    pub(crate) item_locks: Vec<Mutex<()>>,
    _lock: DirLock,
}

impl AccountInner {
    pub(crate) fn catalog(&self) -> Result<MutexGuard<'_, Catalog>> {
        self.catalog
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while editing the catalog".into()))
    }

    /// Edits the catalog and writes it durably before the change becomes visible.
    pub(crate) fn edit_catalog<T>(&self, f: impl FnOnce(&mut Catalog) -> Result<T>) -> Result<T> {
        let mut guard = self.catalog()?;
        let mut next = guard.clone();
        let out = f(&mut next)?;
        next.write(&self.data_dir)?;
        *guard = next;
        Ok(out)
    }

    pub(crate) fn item_lock(&self, key: &[u8]) -> Result<MutexGuard<'_, ()>> {
        let i = crc32fast::hash(key) as usize % self.item_locks.len().max(1);
        self.item_locks
            .get(i)
            .ok_or_else(|| Error::Internal("item lock stripe out of range".into()))?
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while writing an item".into()))
    }

    pub(crate) fn is_cmk(&self) -> bool {
        matches!(self.encryption, Encryption::CustomerManaged { .. })
    }

    pub(crate) fn default_durability(&self) -> Durability {
        self.opts.durability
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An open account. Cloning is cheap (shared state); the store closes when the last clone drops.
#[derive(Clone)]
pub struct Account {
    pub(crate) inner: Arc<AccountInner>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({}, {})", self.name(), self.inner.data_dir.display())
    }
}

fn lsm_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("lsm")
}

impl Account {
    /// Creates a new account in `opts.data_dir` (409 if one exists there).
    pub fn create(opts: AccountOptions, name: &str, encryption: Encryption) -> Result<Account> {
        validate_name("account", name)?;
        let data_dir = opts.data_dir.clone();
        crate::util::fs::create_dir(&data_dir, false)?;
        let lock = DirLock::acquire(&data_dir)?;
        if Catalog::read(&data_dir)?.is_some() {
            return Err(Error::Conflict(format!(
                "an account already exists in {}; open it, or choose another --data directory",
                data_dir.display()
            )));
        }
        // No catalog means no account ever existed here; anything an interrupted create left
        // behind (a keyring, a store sealed under its keys) holds no acknowledged data.
        let lsm = lsm_dir(&data_dir);
        if lsm.exists() {
            std::fs::remove_dir_all(&lsm)
                .map_err(|e| Error::io_path("clearing an interrupted create at", &lsm, e))?;
        }
        let key_uri = match &encryption {
            Encryption::ServiceManaged => None,
            Encryption::CustomerManaged { key_uri } => Some(key_uri.as_str()),
        };
        let suite = create_keys(&opts, &data_dir, key_uri)?;
        let db = Db::open(&lsm_dir(&data_dir), opts.db_options(), Arc::new(suite))?;
        let catalog = Catalog {
            account: name.to_string(),
            created: now_secs(),
            encryption: if key_uri.is_some() {
                "customer-managed"
            } else {
                "service-managed"
            }
            .into(),
            key_uri: key_uri.map(str::to_string),
            databases: Vec::new(),
            next_container_id: 1,
        };
        // The catalog is written last: it is what makes the account exist.
        catalog.write(&data_dir)?;
        Ok(Self::assemble(opts, encryption, catalog, db, lock))
    }

    /// Opens the account in `opts.data_dir`: 404 if there is none, 423 if another process has
    /// it open, 403.x if a key holder refuses.
    pub fn open(opts: AccountOptions) -> Result<Account> {
        let data_dir = opts.data_dir.clone();
        if !data_dir.is_dir() {
            return Err(Error::NotFound(format!(
                "no account at {}: the directory does not exist; create one with `strata init`",
                data_dir.display()
            )));
        }
        let lock = DirLock::acquire(&data_dir)?;
        let catalog = Catalog::read(&data_dir)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            ))
        })?;
        let encryption = match &catalog.key_uri {
            Some(uri) => Encryption::CustomerManaged { key_uri: uri.clone() },
            None => Encryption::ServiceManaged,
        };
        let suite = open_keys(&opts, &data_dir)?;
        let db = Db::open(&lsm_dir(&data_dir), opts.db_options(), Arc::new(suite))?;
        Ok(Self::assemble(opts, encryption, catalog, db, lock))
    }

    fn assemble(
        opts: AccountOptions,
        encryption: Encryption,
        catalog: Catalog,
        db: Db,
        lock: DirLock,
    ) -> Account {
        Account {
            inner: Arc::new(AccountInner {
                data_dir: opts.data_dir.clone(),
                opts,
                encryption,
                catalog: Mutex::new(catalog),
                db,
                item_locks: (0..ITEM_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
                _lock: lock,
            }),
        }
    }

    pub fn name(&self) -> String {
        self.inner
            .catalog()
            .map(|c| c.account.clone())
            .unwrap_or_default()
    }

    pub fn encryption(&self) -> Encryption {
        self.inner.encryption.clone()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    /// 409 if it exists, 400 for a bad name.
    pub fn create_database(&self, name: &str) -> Result<Database> {
        validate_name("database", name)?;
        self.inner.edit_catalog(|c| {
            if c.databases.iter().any(|d| d.name == name) {
                return Err(Error::Conflict(format!("database '{name}' already exists")));
            }
            c.databases.push(DatabaseEntry {
                name: name.to_string(),
                created: now_secs(),
                containers: Vec::new(),
            });
            Ok(())
        })?;
        Ok(self.database(name))
    }

    /// A handle; operations through it answer 404 if the database does not exist.
    pub fn database(&self, name: &str) -> Database {
        Database::new(self.inner.clone(), name)
    }

    pub fn list_databases(&self) -> Result<Vec<String>> {
        Ok(self
            .inner
            .catalog()?
            .databases
            .iter()
            .map(|d| d.name.clone())
            .collect())
    }

    /// Writes the memtable to a segment file.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()
    }

    /// Flushes and compacts everything into one sorted run.
    pub fn compact(&self) -> Result<()> {
        self.inner.db.compact()
    }

    /// The underlying key-value store (stats, recovery report).
    pub fn store(&self) -> &Db {
        &self.inner.db
    }
}
