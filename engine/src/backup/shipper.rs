//! The account's background backup thread (`strata-log-shipper`): under continuous backup it
//! calls `ship_log_now` (then `take_base_if_due`) when it starts and then every few seconds
//! (well inside the 100 s target), and it takes a scheduled periodic backup when one is due; it
//! records the last failure for `backup status`. The thread belongs to the account's supervisor
//! (account/lifecycle.rs): it holds only a weak reference to the account, upgraded into an
//! internal (non-owning) handle for one tick at a time, so it never keeps the account open;
//! closing the account, or `restart_shipper`, stops and joins it. Thread-safe.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::account::{Account, AccountInner};
use crate::error::Result;

/// How often the shipper ships.
pub(crate) const SHIP_EVERY: Duration = Duration::from_secs(10);

/// The name of the thread, its key in the supervisor.
pub(crate) const SHIPPER: &str = "strata-log-shipper";

/// The status of the running shipper (its thread belongs to the supervisor).
pub(crate) struct Shipper {
    last_error: Arc<Mutex<Option<String>>>,
}

impl Shipper {
    /// Starts the thread; `None` if the account is closing (no thread starts any more).
    pub(crate) fn start(inner: &Arc<AccountInner>) -> Result<Option<Shipper>> {
        let last_error = Arc::new(Mutex::new(None));
        let theirs = last_error.clone();
        let weak = Arc::downgrade(inner);
        let started = inner
            .supervisor
            .spawn(SHIPPER, move |signal| run(&weak, &theirs, signal))?;
        Ok(started.then_some(Shipper { last_error }))
    }

    /// Why the last shipping failed, if it did.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

/// Ticks at once, then every `SHIP_EVERY`, until told to stop. The first tick runs even if the
/// stop comes first: it ships what a closed account left unshipped, and takes a due scheduled
/// backup, which a short-lived process (a CLI command) relies on before it closes.
fn run(account: &Weak<AccountInner>, last_error: &Mutex<Option<String>>, signal: &crate::account::Signal) {
    loop {
        let Some(inner) = account.upgrade() else { return };
        let outcome = tick(&Account::internal(inner));
        if let Ok(mut e) = last_error.lock() {
            *e = outcome.err().map(|e| e.to_string());
        }
        if !signal.wait(Some(SHIP_EVERY)) {
            return;
        }
    }
}

/// One tick of the background thread: ship the log and take a base when continuous backup is
/// on, and a scheduled periodic backup when one is due.
fn tick(account: &Account) -> Result<()> {
    if account.continuous_backup()?.is_some() {
        account.ship_log_now()?;
        account.take_base_if_due()?;
    }
    account.take_scheduled_backup_if_due()?;
    Ok(())
}
