//! Key checks and the revoked state of a customer-managed-key account: `check_key` (and, once
//! `key_check_interval` has passed, the background thread of `key_watch.rs` or the next
//! data-plane call, whichever comes first) asks the vault to unwrap the customer DEK again as the
//! default identity; on failure every data-plane call fails with 403
//! and the vault's substatus until a check succeeds. Entering the revoked state withdraws the
//! customer DEK from memory (zeroized) and empties the block cache; only a successful check puts
//! the same DEK back. Thread-safe (one mutex). See docs/keys.md#key-checks.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::container_key_check::ContainerKeyStatus;
use super::enable_cmk::MigrationStatus;
use super::handle::{now_secs, Account, AccountInner};
use super::keys::{open_vault, read_keyring, unwrap_customer, KEYRING_FILE};
use crate::error::{substatus, Error, Result};
use crate::keyring::Keyring;
use strata_vault::KeyUri;

/// Why the account is revoked.
#[derive(Clone, Debug)]
struct Revocation {
    substatus: u32,
    message: String,
}

/// The key-check state of one open account.
pub(crate) struct KeyState {
    inner: Mutex<State>,
}

struct State {
    last_check: Instant,
    last_check_unix: u64,
    revoked: Option<Revocation>,
}

impl KeyState {
    /// A state just checked (the account's open unwrapped the key).
    pub(crate) fn new() -> KeyState {
        KeyState {
            inner: Mutex::new(State {
                last_check: Instant::now(),
                last_check_unix: now_secs(),
                revoked: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What `strata key status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    /// "service-managed" or "customer-managed".
    pub encryption: String,
    /// The configured key URI (CMK).
    pub key_uri: Option<String>,
    /// The versioned key id that wraps the customer DEK (CMK).
    pub kid: Option<String>,
    /// The principal the account calls the vault as.
    pub identity: String,
    /// "active", or "revoked" after a failed key check.
    pub state: String,
    /// The substatus of the failed check (4002, 4003, 4005) while revoked, else 0.
    pub sub_status: u32,
    /// What the failed check said, while revoked.
    pub message: Option<String>,
    /// Unix time (seconds) of the last key check (the open counts as one).
    pub last_check: u64,
    /// Whether the unwrapped customer DEK is in memory (false while revoked, and for
    /// service-managed accounts).
    pub key_in_memory: bool,
    /// How much of the data is sealed twice (customer-managed accounts; see `Account::enable_cmk`).
    pub migration: Option<MigrationStatus>,
    /// The containers with their own customer key, each with its state (a revoked container
    /// leaves the account `active`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerKeyStatus>,
}

impl AccountInner {
    /// Gate of every data-plane call: runs a key check when one is due, then fails with 403 and
    /// the recorded substatus while the account is revoked.
    pub(crate) fn require_key_access(&self) -> Result<()> {
        if !self.is_cmk() && !self.own_stores.any() {
            return Ok(());
        }
        let mut state = self.key_state.lock();
        if state.last_check.elapsed() >= self.opts.key_check_interval {
            self.check_locked(&mut state);
        }
        match &state.revoked {
            None => Ok(()),
            Some(r) => Err(revoked_error(r)),
        }
    }

    /// The background thread's step (`key_watch.rs`): runs a key check if `key_check_interval`
    /// has passed since the last one (a check by a call or by `check_key` counts), and returns
    /// how long until the next is due.
    pub(crate) fn check_key_if_due(&self) -> Duration {
        let interval = self.opts.key_check_interval;
        let mut state = self.key_state.lock();
        let since = state.last_check.elapsed();
        if since < interval {
            return interval - since;
        }
        self.check_locked(&mut state);
        interval
    }

    /// Unwraps the customer DEK through the vault and records the outcome in `state`. When that
    /// works and the configured key URI is version-less, moves the account to the key's newest
    /// enabled version if it has a newer one (a rotation). A failed move leaves the account on
    /// its current version, which still works; the failure is in the vault's audit log.
    fn check_locked(&self, state: &mut State) {
        // The containers with their own key are checked each on its own: one revoked container
        // leaves the account and the other containers working.
        self.check_own_keys();
        if !self.is_cmk() {
            state.last_check = Instant::now();
            state.last_check_unix = now_secs();
            return;
        }
        let outcome = self.unwrap_again();
        match &outcome {
            Ok(()) => {
                // Maintenance paused while the key was withdrawn may resume.
                self.db.wake_background();
                // Not an error of the check: the current version unwraps, so access is intact.
                let _ = self.follow_newest_version();
            }
            Err(_) => {
                // Revoked: nothing sealed under the customer key may stay readable in memory.
                self.suite.customer_layer().withhold();
                self.db.drop_cached_blocks();
            }
        }
        state.last_check = Instant::now();
        state.last_check_unix = now_secs();
        state.revoked = outcome.err().map(|e| Revocation {
            substatus: match e.substatus() {
                0 => substatus::KEY_WRAP_FAILED,
                s => s,
            },
            message: e.to_string(),
        });
    }

    /// Unwraps the customer DEK as the default identity and puts it back in memory if it was
    /// withdrawn; 403.4005 if it is not the DEK the account was opened with.
    fn unwrap_again(&self) -> Result<()> {
        let identity = self.catalog()?.identity()?;
        let dek = unwrap_customer(
            &self.opts,
            &self.data_dir,
            &read_keyring(&self.data_dir)?,
            &identity,
        )?
        .ok_or_else(|| {
            Error::corruption(
                &self.data_dir.join(KEYRING_FILE),
                0,
                "the keyring holds no customer key",
            )
        })?;
        Ok(self.suite.customer_layer().restore(dek)?)
    }
}

impl AccountInner {
    /// Rotates to the newest enabled version of a version-less key URI if it is not the one in
    /// use. `Ok(true)` if it rotated.
    fn follow_newest_version(&self) -> Result<bool> {
        let path = self.data_dir.join(KEYRING_FILE);
        let Some(current) = Keyring::read(&path)?.and_then(|r| r.customer) else {
            return Ok(false);
        };
        let uri = KeyUri::parse(&current.key_uri)?;
        if uri.version().is_some() {
            return Ok(false);
        }
        let identity = self.catalog()?.identity()?;
        let newest = open_vault(&self.opts, &uri)?.get_key(&identity, &uri)?;
        if newest.uri.to_string() == current.kid {
            return Ok(false);
        }
        self.rotate_customer_key(None).map(|_| true)
    }
}

fn revoked_error(r: &Revocation) -> Error {
    Error::vault(
        r.substatus,
        format!(
            "the account's customer-managed key is not available, so its data cannot be read or \
             written ({}); restore the key or the access, then run `strata key check`",
            r.message
        ),
    )
}

impl Account {
    /// Checks now that the account can still unwrap its customer key. On failure the account
    /// enters the revoked state and the vault's 403 is returned; on success a revoked account is
    /// restored. A service-managed account has nothing to check.
    pub fn check_key(&self) -> Result<KeyStatus> {
        if self.inner.is_cmk() || self.inner.own_stores.any() {
            let mut state = self.inner.key_state.lock();
            self.inner.check_locked(&mut state);
            if let Some(r) = &state.revoked {
                return Err(revoked_error(r));
            }
        }
        self.key_status()
    }

    /// The key state without checking. For an account migrating to its customer key, records
    /// the migration's completion once every file is sealed twice.
    pub fn key_status(&self) -> Result<KeyStatus> {
        self.key_status_settling(true)
    }

    /// `key_status`; with `settle` false the migration's completion is reported but not yet
    /// recorded in KEYRING (the next `key_status` or open records it).
    pub(crate) fn key_status_settling(&self, settle: bool) -> Result<KeyStatus> {
        let migration = if settle {
            self.inner.settle_migration()?
        } else {
            self.inner.migration_progress()?
        };
        let (key_uri, identity, cmk) = {
            let c = self.inner.catalog()?;
            (c.key_uri.clone(), c.identity()?, c.encryption.clone())
        };
        let kid = if self.inner.is_cmk() {
            let path = self.inner.data_dir.join(KEYRING_FILE);
            Keyring::read(&path)?.and_then(|r| r.customer).map(|c| c.kid)
        } else {
            None
        };
        let containers = self.inner.own_key_statuses()?;
        let state = self.inner.key_state.lock();
        Ok(KeyStatus {
            encryption: cmk,
            key_uri,
            kid,
            identity: identity.to_string(),
            state: if state.revoked.is_some() {
                "revoked"
            } else {
                "active"
            }
            .to_string(),
            sub_status: state.revoked.as_ref().map_or(0, |r| r.substatus),
            message: state.revoked.as_ref().map(|r| r.message.clone()),
            last_check: state.last_check_unix,
            key_in_memory: self.inner.suite.has_customer_key(),
            migration,
            containers,
        })
    }
}
