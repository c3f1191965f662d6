//! `Account`: one data directory, its catalog, its unwrapped data keys and its key-value store.
//! Create or open, then reach databases and containers through cheap handles. Send + Sync. The
//! account closes when its last user handle drops, or at `close` (see `lifecycle.rs`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::container_keys::{open_own_stores, remove_orphans, OwnStores};
use super::database::{Database, DatabaseOptions};
use super::index::Indexer;
use super::key_check::KeyState;
use super::keys::{create_keys, open_service, unwrap_customer};
use super::lifecycle::{AccountRef, Supervisor};
use super::lsn::LsnTable;
use super::spill_registry::{SpillLimits, Spills};
use super::ttl::{db_options, TtlTable};
use crate::catalog::{validate_name, Catalog, DatabaseEntry};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use crate::metering::{validate_throughput, Metrics, Throttles};
use crate::options::{AccountOptions, Durability};
use strata_lsm::db::{Db, DbStats, DirLock, RecoveryReport};
use strata_lsm::CipherSuite;
use strata_vault::{Identities, Principal};

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
    /// Owns the account's background threads (the index rebuild thread, the log shipper); they
    /// are stopped and joined before the store closes (see `lifecycle.rs`).
    pub(crate) supervisor: Supervisor,
    /// Set once the closing work (`shut_down`) has run.
    shut: AtomicBool,
    /// The background shipper's status, while it runs (its thread belongs to `supervisor`).
    pub(crate) shipper: Mutex<Option<crate::backup::Shipper>>,
    /// Serialises log shipments of this process (the shipper and explicit calls); `log/LOCK`
    /// serialises processes.
    pub(crate) ship_lock: Mutex<()>,
    /// Serialises this process's backups (explicit and scheduled); `BACKUPS/LOCK` serialises
    /// processes.
    pub(crate) backup_lock: Mutex<()>,
    pub(crate) opts: AccountOptions,
    pub(crate) data_dir: PathBuf,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) db: Arc<Db>,
    /// The account's keys, for authenticating the catalog (storage has its own reference).
    pub(crate) suite: Arc<CipherSuite>,
    pub(crate) item_locks: Vec<Mutex<()>>,
    /// Key checks and the revoked state (CMK accounts).
    pub(crate) key_state: KeyState,
    /// Token buckets of the provisioned throughput, created lazily from the catalog.
    pub(crate) throttles: Throttles,
    /// Container id -> `defaultTtl`, mirrored from the catalog on every change; the store's
    /// compaction filter reads it.
    pub(crate) ttl_table: TtlTable,
    /// Per-container LSN allocation for the change feed.
    pub(crate) lsns: LsnTable,
    /// Container id -> the Unix second of its last TTL sweep (see `feed.rs`).
    pub(crate) ttl_swept: Mutex<std::collections::HashMap<u32, u64>>,
    /// RU, operations and 429s per container since the account was opened.
    pub(crate) metrics: Metrics,
    /// Compiled indexing policies (see `index.rs`; the rebuild thread is `supervisor`'s).
    pub(crate) indexer: Indexer,
    /// Sealed spills of query results paged from a file (`spill_registry.rs`); those of earlier
    /// sessions are removed when the account opens.
    pub(crate) spills: Spills,
    /// The stores of containers with their own customer key (`container_keys.rs`); they close
    /// with the account, before the directory is unlocked.
    pub(crate) own_stores: OwnStores,
    /// Declared after `db`: the directory is unlocked once the store is closed (the handles
    /// `store_for` gives out live within one operation on this account, so `db` holds the last
    /// one when the account drops).
    _lock: DirLock,
}

impl Drop for AccountInner {
    /// Normally `shut_down` has run already (the last user handle's token did it); this covers
    /// an account that failed to open. Then `db` drops (its own threads stop, the WAL is synced)
    /// and the directory lock goes.
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

impl AccountInner {
    /// The closing work, before the state drops: stops and joins every background thread, adds
    /// the session's request-unit counts to the containers' lifetime counts (refused e.g. while
    /// the customer key is revoked), makes every acknowledged write durable and deletes the
    /// query spills. Runs once; every step is tried, and the first error is returned.
    pub(crate) fn shut_down(&self) -> Result<()> {
        let threads = self.supervisor.shutdown();
        if self.shut.swap(true, Ordering::SeqCst) {
            return threads;
        }
        let metrics = self.persist_metrics();
        let sync = self.sync_stores();
        let spills = self.spills.clear();
        threads.and(metrics).and(sync).and(spills)
    }

    pub(crate) fn catalog(&self) -> Result<MutexGuard<'_, Catalog>> {
        self.catalog
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while editing the catalog".into()))
    }

    /// Edits the catalog and, if that changed it, writes it durably before the change becomes
    /// visible.
    pub(crate) fn edit_catalog<T>(&self, f: impl FnOnce(&mut Catalog) -> Result<T>) -> Result<T> {
        let mut guard = self.catalog()?;
        let mut next = guard.clone();
        let out = f(&mut next)?;
        if next != *guard {
            next.write(&self.data_dir, &self.suite)?;
            *guard = next;
            let mut table = self
                .ttl_table
                .write()
                .map_err(|_| Error::Poisoned("a thread panicked while updating TTL settings".into()))?;
            *table = guard.default_ttls();
        }
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

    /// The lock stripes of all `keys`, taken in ascending stripe order (each once), so two
    /// multi-item writers cannot deadlock and single-item writers, which hold one stripe at a
    /// time, cannot either.
    pub(crate) fn item_locks<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> Result<Vec<MutexGuard<'_, ()>>> {
        let n = self.item_locks.len().max(1);
        let stripes: std::collections::BTreeSet<usize> = keys
            .into_iter()
            .map(|k| crc32fast::hash(k) as usize % n)
            .collect();
        stripes
            .into_iter()
            .map(|i| {
                self.item_locks
                    .get(i)
                    .ok_or_else(|| Error::Internal("item lock stripe out of range".into()))?
                    .lock()
                    .map_err(|_| Error::Poisoned("a thread panicked while writing an item".into()))
            })
            .collect()
    }

    /// The store that holds the per-container key spaces of container `container_id`
    /// (`KeySpace::per_container`): every item, feed, index, script, conflict, checkpoint and
    /// metrics key of that container is read and written through it, never through `db`
    /// directly. A container with its own customer key answers its own store (403 while that
    /// key is refused; docs/keys.md, "Per-container customer keys"), every other the account's.
    /// Account-wide work (the catalog's store-level calls, backups, log shipping, reseal, key
    /// checks) keeps using `db`.
    ///
    /// An owned handle, not a borrow: a container's own store can be created and closed while
    /// the account is open, so the caller keeps the handle for as long as it reads (an iterator
    /// borrows it).
    pub(crate) fn store_for(&self, container_id: u32) -> Result<Arc<Db>> {
        match self.own_stores.store(container_id)? {
            Some(own) => Ok(own),
            None => Ok(Arc::clone(&self.db)),
        }
    }

    /// The keys that seal what container `container_id`'s operations write outside its store
    /// (query spills and sort runs): its own store's suite if it has its own key, else the
    /// account's. 403 while its own key is refused.
    pub(crate) fn suite_for(&self, container_id: u32) -> Result<Arc<CipherSuite>> {
        Ok(self
            .own_stores
            .suite(container_id)?
            .unwrap_or_else(|| Arc::clone(&self.suite)))
    }

    /// Makes every acknowledged write of every store of the account durable (one fsync of each
    /// store's log). Every store is tried; the first error is returned.
    pub(crate) fn sync_stores(&self) -> Result<()> {
        let mut result = self.db.sync().map_err(Error::from);
        for own in self.own_stores.open_stores()? {
            result = result.and(own.sync().map_err(Error::from));
        }
        result
    }

    /// `store_for` the container a key belongs to, read from the key itself (its key space and
    /// container id). 500 for a key of no per-container space: such a key has no store.
    pub(crate) fn store_for_key(&self, key: &[u8]) -> Result<Arc<Db>> {
        let container_id = KeySpace::of(key)
            .filter(|space| space.per_container())
            .and_then(|space| space.container_of(key))
            .ok_or_else(|| Error::Internal("a key of no container's key space".into()))?;
        self.store_for(container_id)
    }

    /// Whether container `container_id`'s data is sealed under a customer key: its operations
    /// bear the CMK surcharge and its items follow the CMK item rules. A container with its own
    /// key, whatever the account's encryption; any container of a customer-managed account.
    pub(crate) fn container_cmk(&self, container_id: u32) -> bool {
        self.own_stores.has(container_id) || self.is_cmk()
    }

    /// Customer-managed: created so, or since `enable_cmk` (revoked or not).
    pub(crate) fn is_cmk(&self) -> bool {
        self.suite.layers() == 2
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

/// An open account. Cloning is cheap (shared state). The account closes when its last user
/// handle (`Account`, `Database` or `Container`) drops, on the dropping thread: background
/// threads are stopped and joined, and the data directory is unlocked before the drop returns.
/// `close` does the same and reports errors.
#[derive(Clone)]
pub struct Account {
    pub(crate) inner: AccountRef,
}

impl Account {
    /// A background thread's non-owning handle, for one step of its work (see `lifecycle.rs`).
    pub(crate) fn internal(inner: Arc<AccountInner>) -> Account {
        Account {
            inner: AccountRef::Internal(inner),
        }
    }

    /// Closes the account if this is its last user handle: stops and joins the background
    /// threads, adds the session's request-unit counts to the lifetime counts, makes every
    /// acknowledged write durable, deletes the query spills (tokens that named them recompute
    /// after a reopen), closes the store and unlocks the data directory, returning
    /// the first error (dropping the last handle does the same, best effort). If other handles
    /// (clones, databases, containers) remain, only this one is released and the account stays
    /// open until the last of them goes.
    pub fn close(self) -> Result<()> {
        self.inner.close()
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({}, {})", self.name(), self.inner.data_dir.display())
    }
}

fn lsm_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("lsm")
}

/// Whether a store under `data_dir` holds any data: a segment file, or a WAL longer than its
/// header (a WAL that holds at least one record), in the account's store or in a container's
/// own (`containers/<id>/`).
fn store_holds_data(data_dir: &std::path::Path) -> Result<bool> {
    let mut stores = vec![lsm_dir(data_dir)];
    let own = data_dir.join(super::container_keys::CONTAINERS_DIR);
    match std::fs::read_dir(&own) {
        Ok(entries) => stores.extend(entries.flatten().map(|e| e.path())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io_path("listing", &own, e)),
    }
    for store in stores {
        if one_store_holds_data(&store)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn one_store_holds_data(lsm: &std::path::Path) -> Result<bool> {
    for (sub, holds) in [("seg", 0u64), ("wal", strata_lsm::files::WAL_HEADER_LEN)] {
        let dir = lsm.join(sub);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io_path("listing", &dir, e)),
        };
        for e in entries.flatten() {
            let len = e
                .metadata()
                .map_err(|err| Error::io_path("reading", &e.path(), err))?
                .len();
            if len > holds {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

impl Account {
    /// Creates a new account in `opts.data_dir` (409 if one exists there) whose default
    /// identity is the first-party identity.
    pub fn create(opts: AccountOptions, name: &str, encryption: Encryption) -> Result<Account> {
        Self::create_with_identity(opts, name, encryption, Principal::FirstParty)
    }

    /// Creates a new account that calls the vault as `identity` (`Principal::System` must name
    /// this account; a user-assigned identity must exist: 404 otherwise).
    pub fn create_with_identity(
        opts: AccountOptions,
        name: &str,
        encryption: Encryption,
        identity: Principal,
    ) -> Result<Account> {
        validate_name("account", name)?;
        opts.validate()?;
        super::identity::check_own_system_identity(name, &identity)?;
        Identities::new(&opts.home).require(&identity)?;
        let data_dir = opts.data_dir.clone();
        strata_base::fs::create_dir(&data_dir, false)?;
        let lock = DirLock::acquire(&data_dir)?;
        if Catalog::exists(&data_dir) {
            return Err(Error::Conflict(format!(
                "an account already exists in {}; open it, or choose another --data directory",
                data_dir.display()
            )));
        }
        // No catalog and an empty store: a create was interrupted before its catalog was
        // written, and what it left (a keyring, an empty store) holds no data. A store that does
        // hold data has lost its catalog: refuse rather than wipe it.
        if store_holds_data(&data_dir)? {
            return Err(Error::corruption(
                &data_dir.join(crate::catalog::CATALOG_FILE),
                0,
                "the account's CATALOG is missing but its store holds data; restore CATALOG from a \
                 backup, or use another --data directory",
            ));
        }
        for leftover in [
            lsm_dir(&data_dir),
            data_dir.join(super::container_keys::CONTAINERS_DIR),
        ] {
            if leftover.exists() {
                std::fs::remove_dir_all(&leftover)
                    .map_err(|e| Error::io_path("clearing an interrupted create at", &leftover, e))?;
            }
        }
        let key_uri = match &encryption {
            Encryption::ServiceManaged => None,
            Encryption::CustomerManaged { key_uri } => Some(key_uri.as_str()),
        };
        let suite = Arc::new(create_keys(&opts, &data_dir, key_uri, &identity)?);
        let ttl_table = TtlTable::default();
        let db = Db::open(&lsm_dir(&data_dir), db_options(&opts, &ttl_table), suite.clone())?;
        let catalog = Catalog::new(
            name,
            if key_uri.is_some() {
                "customer-managed"
            } else {
                "service-managed"
            },
            key_uri.map(str::to_string),
            Some(identity.to_string()),
        );
        // The catalog is written last: it is what makes the account exist.
        catalog.write(&data_dir, &suite)?;
        Self::assemble(opts, catalog, (db, ttl_table, OwnStores::default()), suite, lock)
    }

    /// Opens the account in `opts.data_dir`: 404 if there is none, 423 if another process has
    /// it open, 403.x if a key holder refuses.
    pub fn open(opts: AccountOptions) -> Result<Account> {
        let account = Self::open_with(opts, None)?;
        account.start_shipper()?;
        Ok(account)
    }

    /// Opens the account, replaying only the WAL records committed at or before `until_ms`
    /// when given (point-in-time restore of a staged copy). Starts no background shipper.
    pub(crate) fn open_with(opts: AccountOptions, until_ms: Option<u64>) -> Result<Account> {
        opts.validate()?;
        let data_dir = opts.data_dir.clone();
        if !data_dir.is_dir() {
            return Err(Error::NotFound(format!(
                "no account at {}: the directory does not exist; create one with `strata init`",
                data_dir.display()
            )));
        }
        let lock = DirLock::acquire(&data_dir)?;
        if !Catalog::exists(&data_dir) {
            if store_holds_data(&data_dir)? {
                return Err(Error::corruption(
                    &data_dir.join(crate::catalog::CATALOG_FILE),
                    0,
                    "the account's CATALOG is missing but its store holds data; restore CATALOG from a backup",
                ));
            }
            return Err(Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            )));
        }
        // The service layer authenticates the catalog, which names the identity that unwraps
        // the customer layer.
        let (ring, service) = open_service(&opts, &data_dir)?;
        let catalog =
            Catalog::read(&data_dir, &CipherSuite::new(service.clone(), None))?.ok_or_else(|| {
                Error::NotFound(format!(
                    "no account at {}; create one with `strata init`",
                    data_dir.display()
                ))
            })?;
        let identity = catalog.identity()?;
        let customer = unwrap_customer(&opts, &data_dir, &ring, &identity)?;
        let suite = Arc::new(CipherSuite::new(service, customer));
        // An enable-CMK migration not yet complete: single-sealed files are still expected.
        suite.customer_layer().set_migrating(ring.resealing);
        let ttl_table: TtlTable = Arc::new(RwLock::new(catalog.default_ttls()));
        let db_opts = strata_lsm::db::DbOptions {
            replay_until_ms: until_ms,
            // Continuous backup: WAL files wait for the shipper (ship.rs) before they go.
            retain_wals: catalog.continuous_backup.is_some(),
            ..db_options(&opts, &ttl_table)
        };
        let db = Db::open(&lsm_dir(&data_dir), db_opts, suite.clone())?;
        // Containers with their own key: what an interrupted create or purge left goes, then
        // each store opens (or waits for its key, if the vault refuses it).
        let ring = remove_orphans(&data_dir, ring, &catalog)?;
        let own = open_own_stores(&opts, &ring, &identity, &suite, &ttl_table)?;
        let account = Self::assemble(opts, catalog, (db, ttl_table, own), suite, lock)?;
        account.inner.repair_catalog()?;
        account.inner.settle_migration()?;
        // A purge a crash interrupted (its containers already out of the catalog) is finished
        // now; while the customer key is withheld its keys cannot be read, so it waits.
        if account.inner.require_key_access().is_ok() {
            account.inner.resume_purges()?;
        }
        Ok(account)
    }

    /// The name of the account in `opts.data_dir`, read from its authenticated catalog with
    /// the service key only: works while the customer key is unavailable, and takes no lock.
    pub fn name_at(opts: &AccountOptions) -> Result<String> {
        let data_dir = &opts.data_dir;
        if !Catalog::exists(data_dir) {
            return Err(Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            )));
        }
        let (_, service) = open_service(opts, data_dir)?;
        let catalog = Catalog::read(data_dir, &CipherSuite::new(service, None))?;
        catalog.map(|c| c.account).ok_or_else(|| {
            Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            ))
        })
    }

    fn assemble(
        opts: AccountOptions,
        catalog: Catalog,
        (db, ttl_table, own_stores): (Db, TtlTable, OwnStores),
        suite: Arc<CipherSuite>,
        lock: DirLock,
    ) -> Result<Account> {
        let limits = SpillLimits {
            sort_memory_bytes: opts.sort_memory_bytes.max(1),
            ..SpillLimits::default()
        };
        let limits = match opts.query_spills {
            true => limits,
            false => limits.no_spills(),
        };
        let spills = Spills::open(&opts.data_dir, limits)?;
        let inner = Arc::new(AccountInner {
            supervisor: Supervisor::default(),
            shut: AtomicBool::new(false),
            shipper: Mutex::new(None),
            ship_lock: Mutex::new(()),
            backup_lock: Mutex::new(()),
            data_dir: opts.data_dir.clone(),
            throttles: Throttles::new(opts.clock.clone()),
            opts,
            catalog: Mutex::new(catalog),
            db: Arc::new(db),
            suite,
            item_locks: (0..ITEM_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            key_state: KeyState::new(),
            ttl_table,
            lsns: LsnTable::default(),
            ttl_swept: Mutex::default(),
            metrics: Metrics::default(),
            indexer: Indexer::new(),
            spills,
            own_stores,
            _lock: lock,
        });
        // Indexes left unfinished (a policy change, a catalog from before indexing) are
        // rebuilt in the background from now on.
        Indexer::start(&inner)?;
        // A customer key is checked again every `key_check_interval`, idle or not.
        super::key_watch::start(&inner)?;
        Ok(Account {
            inner: AccountRef::owner(inner),
        })
    }

    pub fn name(&self) -> String {
        self.inner
            .catalog()
            .map(|c| c.account.clone())
            .unwrap_or_default()
    }

    /// The identity the account calls the vault as.
    pub fn default_identity(&self) -> Result<Principal> {
        self.inner.catalog()?.identity()
    }

    /// The encryption mode and, for CMK, the key URI as configured (changed by a rotation with
    /// another key URI, or set by `enable_cmk`).
    pub fn encryption(&self) -> Encryption {
        match self.inner.catalog().map(|c| c.key_uri.clone()) {
            Ok(Some(key_uri)) => Encryption::CustomerManaged { key_uri },
            _ => Encryption::ServiceManaged,
        }
    }

    /// Whether the unwrapped customer-layer DEK is in memory: true for an active customer-managed
    /// account, false for a service-managed one and while revoked (the key is dropped and
    /// zeroized on revocation and comes back only through a successful key check). Test-visible,
    /// for checking that revocation really withdraws the key.
    pub fn has_unwrapped_customer_key(&self) -> bool {
        self.inner.suite.has_customer_key()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    /// 409 if it exists, 400 for a bad name, 403 while the customer key is revoked.
    pub fn create_database(&self, name: &str) -> Result<Database> {
        self.create_database_with(name, DatabaseOptions::default())
    }

    /// As `create_database`, with throughput shared by its containers (400 unless at least
    /// 400 RU/s in steps of 100).
    pub fn create_database_with(&self, name: &str, opts: DatabaseOptions) -> Result<Database> {
        validate_name("database", name)?;
        validate_throughput(opts.throughput)?;
        // Databases, containers and their settings are the data plane's, as in the managed
        // service: a revoked account changes none of them.
        self.inner.require_key_access()?;
        self.inner.edit_catalog(|c| {
            if c.databases.iter().any(|d| d.name == name) {
                return Err(Error::Conflict(format!("database '{name}' already exists")));
            }
            c.databases.push(DatabaseEntry {
                name: name.to_string(),
                containers: Vec::new(),
                throughput: opts.throughput,
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

    /// Makes every write acknowledged so far durable (one fsync of the log), e.g. at the end of
    /// a bulk load written with `Durability::Buffered`. 503 if the store is poisoned.
    pub fn sync(&self) -> Result<()> {
        self.inner.sync_stores()
    }

    /// Writes the memtables (the account's store's and those of the containers with their own
    /// key) to segment files.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        self.inner.own_stores.each_usable(|own| Ok(own.flush()?))
    }

    /// Flushes and compacts everything into one sorted run (one per store: the account's, and
    /// each of the containers with their own key).
    pub fn compact(&self) -> Result<()> {
        self.inner.db.compact()?;
        self.inner.own_stores.each_usable(|own| Ok(own.compact()?))
    }

    /// Flushes, then waits up to `timeout` until no background flush or compaction is pending
    /// or running, so the files on disk are the ones the store keeps (what `strata bench`
    /// measures as the settled size). `Ok(false)` if the time ran out first; 503 if the store is
    /// poisoned. Nothing is read or written under the customer key by the wait itself.
    /// Containers with their own store (docs/keys.md#per-container-customer-keys) settle too,
    /// each within what is left of `timeout`; one whose key is withheld answers its 403 after
    /// the others settled.
    pub fn settle(&self, timeout: Duration) -> Result<bool> {
        let deadline = std::time::Instant::now() + timeout;
        self.inner.db.flush()?;
        let mut idle = self.inner.db.wait_idle(timeout)?;
        self.inner.own_stores.each_usable(|own| {
            own.flush()?;
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            idle &= own.wait_idle(left)?;
            Ok(())
        })?;
        Ok(idle)
    }

    /// Sizes and counters of the underlying key-value store (segments and bytes per level,
    /// memtable size, block-cache counters). No item data, so it answers while the customer key
    /// is revoked. The store itself is not handed out: every read of it goes through the
    /// account's key check (docs/keys.md#key-checks). The account's store only: a container
    /// with its own store (docs/keys.md#per-container-customer-keys) is not counted here.
    pub fn store_stats(&self) -> Result<DbStats> {
        Ok(self.inner.db.stats()?)
    }

    /// What the last open's recovery did (WAL records replayed, a torn tail, orphans removed).
    pub fn recovery_report(&self) -> RecoveryReport {
        self.inner.db.recovery_report().clone()
    }
}
