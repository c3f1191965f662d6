//! Containers with their own customer key (docs/keys.md#per-container-customer-keys). Each has
//! its own LSM store, `DATA/containers/<id>/` (its own WAL, MANIFEST and segments), sealed by
//! the account's service layer outside and by a customer layer whose DEK (random, 256 bits) is
//! wrapped by the container's own vault key and kept in KEYRING's per-container entry.
//!
//! Owns the table of those stores and their state (open, or refused by the vault with its
//! substatus), making one at container create, opening them at account open (and removing
//! what an interrupted create or purge left), and removing one at purge. `store_for` asks it
//! first. Must not: write a raw key anywhere, hand out a store whose key is refused, or hold
//! an account-wide key space (those stay in the account's store). The key checks and rotation
//! of these keys are `container_key_check.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::handle::AccountInner;
use super::keys::{open_vault, read_keyring, wrap_verified, KEYRING_FILE};
use super::ttl::{db_options, TtlTable};
use crate::catalog::Catalog;
use crate::error::{substatus, Error, Result};
use crate::keyring::{ContainerKeyEntry, Keyring};
use crate::options::AccountOptions;
use strata_base::seal::{hex, Dek};
use strata_lsm::db::Db;
use strata_lsm::CipherSuite;
use strata_vault::{KeyUri, Principal};

/// The directory under the data directory that holds the containers' own stores.
pub(crate) const CONTAINERS_DIR: &str = "containers";

/// `DATA/containers/<id>/`: the store of container `id`.
pub(crate) fn own_store_dir(data_dir: &Path, id: u32) -> PathBuf {
    data_dir.join(CONTAINERS_DIR).join(id.to_string())
}

/// Why a container's key is not usable: the vault's substatus and message.
#[derive(Clone, Debug)]
pub(crate) struct Refusal {
    pub(crate) substatus: u32,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn of(e: &Error) -> Refusal {
        Refusal {
            substatus: match e.substatus() {
                0 => substatus::KEY_WRAP_FAILED,
                s => s,
            },
            message: e.to_string(),
        }
    }

    fn error(&self, id: u32) -> Error {
        Error::vault(
            self.substatus,
            format!(
                "the customer-managed key of this container (id {id}) is not available, so its \
                 data cannot be read or written ({}); restore the key or the access, then run \
                 `strata key check`",
                self.message
            ),
        )
    }
}

/// One container's own store.
pub(crate) struct OwnStore {
    /// The key URI the container was created with (as configured; may be version-less).
    pub(crate) key_uri: String,
    /// The versioned key id that wraps its DEK now.
    pub(crate) kid: String,
    /// The store and its suite, once the key has unwrapped (at open, or at a later check).
    pub(crate) open: Option<(Arc<Db>, Arc<CipherSuite>)>,
    /// Set while the vault refuses the key: the store answers 403 with this substatus.
    pub(crate) refused: Option<Refusal>,
}

/// The containers with their own store, by container id. Thread-safe (one `RwLock`). Lock
/// order: the catalog's lock before this one, never the other way round.
#[derive(Default)]
pub(crate) struct OwnStores {
    map: RwLock<HashMap<u32, OwnStore>>,
}

fn poisoned() -> Error {
    Error::Poisoned("a thread panicked while updating the containers' own stores".into())
}

impl OwnStores {
    pub(crate) fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, HashMap<u32, OwnStore>>> {
        self.map.read().map_err(|_| poisoned())
    }

    pub(crate) fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, HashMap<u32, OwnStore>>> {
        self.map.write().map_err(|_| poisoned())
    }

    /// Whether any container has its own key.
    pub(crate) fn any(&self) -> bool {
        self.map.read().is_ok_and(|m| !m.is_empty())
    }

    /// Whether container `id` has its own key.
    pub(crate) fn has(&self, id: u32) -> bool {
        self.map.read().is_ok_and(|m| m.contains_key(&id))
    }

    /// The store of container `id` if it has its own: `Ok(None)` if it does not, 403 with the
    /// vault's substatus while its key is refused.
    pub(crate) fn store(&self, id: u32) -> Result<Option<Arc<Db>>> {
        let map = self.read()?;
        let Some(own) = map.get(&id) else {
            return Ok(None);
        };
        if let Some(r) = &own.refused {
            return Err(r.error(id));
        }
        match &own.open {
            Some((db, _)) => Ok(Some(db.clone())),
            None => Err(Refusal {
                substatus: substatus::KEY_VAULT_ACCESS,
                message: "its key has not been unwrapped yet".into(),
            }
            .error(id)),
        }
    }

    /// The keys that seal container `id`'s files: its own store's suite (the account's service
    /// layer and its own customer layer), `Ok(None)` if it uses the account's, 403 while its
    /// key is refused. What a query writes of its results (spills, sort runs) is sealed under
    /// these, so it is no more readable than the container's store.
    pub(crate) fn suite(&self, id: u32) -> Result<Option<Arc<CipherSuite>>> {
        self.store(id)?;
        Ok(self
            .read()?
            .get(&id)
            .and_then(|s| s.open.as_ref().map(|(_, suite)| suite.clone())))
    }

    /// Whether container `id` has its own store and it cannot be used now (its key refused).
    pub(crate) fn unavailable(&self, id: u32) -> bool {
        self.map.read().map_or(true, |m| {
            m.get(&id)
                .is_some_and(|s| s.refused.is_some() || s.open.is_none())
        })
    }

    /// Every open own store, for account-wide work (sync, flush, compaction).
    pub(crate) fn open_stores(&self) -> Result<Vec<Arc<Db>>> {
        Ok(self
            .read()?
            .values()
            .filter_map(|s| s.open.as_ref().map(|(db, _)| db.clone()))
            .collect())
    }

    /// Runs `f` on every own store that can be used now; then, if some container's key is
    /// refused, answers its 403 (the others were done: one revoked container does not stop
    /// account-wide maintenance of the rest, nor is it skipped silently).
    pub(crate) fn each_usable(&self, mut f: impl FnMut(&Db) -> Result<()>) -> Result<()> {
        let ids: Vec<u32> = self.read()?.keys().copied().collect();
        let mut refused = None;
        for id in ids {
            match self.store(id) {
                Ok(Some(db)) => f(&db)?,
                Ok(None) => {}
                Err(e) => {
                    refused.get_or_insert(e);
                }
            }
        }
        refused.map_or(Ok(()), Err)
    }
}

/// Unwraps container `entry`'s DEK through its vault as `caller` (the account's identity).
pub(crate) fn unwrap_container_dek(
    opts: &AccountOptions,
    data_dir: &Path,
    entry: &ContainerKeyEntry,
    caller: &Principal,
) -> Result<Dek> {
    let wrapped = entry.wrapped(&data_dir.join(KEYRING_FILE))?;
    let kid = KeyUri::parse(&entry.kid)?;
    let vault = open_vault(opts, &kid)?;
    let plain = vault.unwrap_key(caller, &kid, &wrapped)?;
    Dek::from_slice(&plain).ok_or_else(|| {
        Error::vault(
            substatus::KEY_WRAP_FAILED,
            "the unwrapped container data key is not 256 bits",
        )
    })
}

/// Opens (creating if needed) container `id`'s store under the account's service layer and
/// `dek` as its customer layer.
pub(crate) fn open_own_db(
    opts: &AccountOptions,
    ttl_table: &TtlTable,
    account_suite: &CipherSuite,
    id: u32,
    dek: Dek,
) -> Result<(Arc<Db>, Arc<CipherSuite>)> {
    let suite = Arc::new(account_suite.sibling(dek));
    let dir = own_store_dir(&opts.data_dir, id);
    let db = Db::open(&dir, db_options(opts, ttl_table), suite.clone())?;
    Ok((Arc::new(db), suite))
}

/// Removes `dir` and everything in it, durably (the parent directory is synced). Absent is fine.
fn remove_dir_durably(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io_path("removing a container's store at", dir, e)),
    }
    match dir.parent() {
        Some(parent) => Ok(strata_base::fs::sync_dir(parent)?),
        None => Ok(()),
    }
}

/// The ids of the store directories under `DATA/containers/` (names that are not ids are left
/// alone).
fn store_dir_ids(data_dir: &Path) -> Result<Vec<u32>> {
    let dir = data_dir.join(CONTAINERS_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io_path("listing", &dir, e)),
    };
    Ok(entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect())
}

/// At account open, before anything else reads the stores: removes what an interrupted create
/// or purge left, i.e. every KEYRING entry and every `containers/<id>/` directory whose id the
/// catalog does not list as a container (ids are never reused, so nothing live is lost), and
/// returns the keyring as it then is.
pub(crate) fn remove_orphans(data_dir: &Path, ring: Keyring, catalog: &Catalog) -> Result<Keyring> {
    let listed: std::collections::HashSet<u32> = catalog
        .databases
        .iter()
        .flat_map(|d| d.containers.iter().map(|c| c.id))
        .collect();
    for id in store_dir_ids(data_dir)? {
        if !listed.contains(&id) {
            remove_dir_durably(&own_store_dir(data_dir, id))?;
        }
    }
    if ring.containers.iter().all(|e| listed.contains(&e.container_id)) {
        return Ok(ring);
    }
    let mut next = ring;
    next.containers.retain(|e| listed.contains(&e.container_id));
    next.write(&data_dir.join(KEYRING_FILE))?;
    Ok(next)
}

/// At account open: every container with its own key gets its entry; its store is opened if
/// its key unwraps, and stays unopened (answering 403 with the vault's substatus) if the vault
/// refuses it, while the other containers open.
pub(crate) fn open_own_stores(
    opts: &AccountOptions,
    ring: &Keyring,
    caller: &Principal,
    account_suite: &CipherSuite,
    ttl_table: &TtlTable,
) -> Result<OwnStores> {
    let stores = OwnStores::default();
    {
        let mut map = stores.write()?;
        for entry in &ring.containers {
            let id = entry.container_id;
            let (open, refused) = match unwrap_container_dek(opts, &opts.data_dir, entry, caller) {
                Ok(dek) => (Some(open_own_db(opts, ttl_table, account_suite, id, dek)?), None),
                Err(e) => (None, Some(Refusal::of(&e))),
            };
            map.insert(
                id,
                OwnStore {
                    key_uri: entry.key_uri.clone(),
                    kid: entry.kid.clone(),
                    open,
                    refused,
                },
            );
        }
    }
    Ok(stores)
}

/// A container store made by `create_own_store`, not yet in the table: it goes in once the
/// catalog lists the container.
pub(crate) struct NewOwnStore {
    id: u32,
    store: OwnStore,
}

impl AccountInner {
    /// 400 naming the containers with their own key, for the account-wide operations that
    /// only know the account's store (`what`, e.g. "backups"): they would leave those
    /// containers' data out, and must not do so silently.
    pub(crate) fn refuse_with_own_keys(&self, what: &str) -> Result<()> {
        let names: Vec<String> = self.own_key_containers()?.into_iter().map(|(_, n)| n).collect();
        if names.is_empty() {
            return Ok(());
        }
        Err(Error::BadRequest(format!(
            "{what} of accounts with per-container customer keys are not built yet: {} keep their \
             data in stores of their own, which {what} would leave out (docs/keys.md, \
             \"Per-container customer keys\")",
            names.join(", ")
        )))
    }

    /// `(id, "DB/CONT")` of every container with its own key, in catalog order.
    pub(crate) fn own_key_containers(&self) -> Result<Vec<(u32, String)>> {
        let ids: std::collections::HashSet<u32> = self.own_stores.read()?.keys().copied().collect();
        Ok(self
            .catalog()?
            .databases
            .iter()
            .flat_map(|d| {
                d.containers
                    .iter()
                    .filter(|c| ids.contains(&c.id))
                    .map(move |c| (c.id, format!("{}/{}", d.name, c.name)))
            })
            .collect())
    }

    /// Makes container `id`'s own store, before the catalog lists it (the caller holds the
    /// catalog lock, as every KEYRING writer does). In this order: a fresh DEK wrapped by
    /// `key_uri` as `caller` (wrapped and unwrapped once, compared), the KEYRING entry, the
    /// store directory with its empty WAL and MANIFEST. The catalog entry, written by the
    /// caller, is what makes the container exist: a crash before it leaves an orphan entry and
    /// directory, which the next open removes (`remove_orphans`).
    pub(crate) fn create_own_store(&self, catalog: &Catalog, id: u32, key_uri: &str) -> Result<NewOwnStore> {
        let uri = KeyUri::parse(key_uri)?;
        let caller = catalog.identity()?;
        let vault = open_vault(&self.opts, &uri)?;
        let dek = Dek::generate();
        let (kid, wrapped) = wrap_verified(vault.as_ref(), &caller, &uri, &dek)?;
        // What an earlier, failed create of the same (never catalogued) id left goes first.
        let dir = own_store_dir(&self.data_dir, id);
        remove_dir_durably(&dir)?;
        let mut ring = read_keyring(&self.data_dir)?;
        ring.containers.retain(|e| e.container_id != id);
        ring.containers.push(ContainerKeyEntry {
            container_id: id,
            key_uri: uri.to_string(),
            kid: kid.to_string(),
            wrapped_dek: hex::encode(&wrapped),
        });
        ring.write(&self.data_dir.join(KEYRING_FILE))?;
        strata_base::fs::create_dir(&self.data_dir.join(CONTAINERS_DIR), false)?;
        let open = open_own_db(&self.opts, &self.ttl_table, &self.suite, id, dek)?;
        strata_base::fs::sync_dir(&self.data_dir.join(CONTAINERS_DIR))?;
        Ok(NewOwnStore {
            id,
            store: OwnStore {
                key_uri: uri.to_string(),
                kid: kid.to_string(),
                open: Some(open),
                refused: None,
            },
        })
    }

    /// Puts a store made by `create_own_store` in the table, once the catalog lists its
    /// container, and makes sure its key is checked in the background from now on.
    pub(crate) fn install_own_store(self: &Arc<Self>, made: NewOwnStore) -> Result<()> {
        self.own_stores.write()?.insert(made.id, made.store);
        super::key_watch::start(self)
    }

    /// Removes container `id`'s own store, if it has one or left one: out of the table (it
    /// closes when the last operation using it ends), its directory deleted durably, then its
    /// KEYRING entry. A crash in between leaves an entry of a container the catalog does not
    /// list, which the next open removes. Whether the container had its own store.
    pub(crate) fn remove_own_store(&self, id: u32) -> Result<bool> {
        let had = self.own_stores.write()?.remove(&id).is_some();
        let dir = own_store_dir(&self.data_dir, id);
        let existed = dir.exists();
        remove_dir_durably(&dir)?;
        // Under the catalog lock, like every KEYRING writer.
        let _catalog = self.catalog()?;
        let ring = read_keyring(&self.data_dir)?;
        let listed = ring.containers.iter().any(|e| e.container_id == id);
        if listed {
            let mut next = ring;
            next.containers.retain(|e| e.container_id != id);
            next.write(&self.data_dir.join(KEYRING_FILE))?;
        }
        Ok(had || existed || listed)
    }
}
