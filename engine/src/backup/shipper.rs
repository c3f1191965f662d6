//! The background log shipper of an account in continuous backup: a thread that calls
//! `ship_log_now` (then `take_base_if_due`) when it starts and then every few seconds (well inside the 100 s target) and records the last failure
//! for `backup status`. It holds only a weak reference to the account, so it never keeps one
//! open; dropping the `Shipper` (the last user handle of the account dropping, or continuous
//! backup turned off) stops and joins it. Thread-safe.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use crate::account::{Account, AccountInner};
use crate::error::{Error, Result};

/// How often the shipper ships.
pub(crate) const SHIP_EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    stop: bool,
    last_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

pub(crate) struct Shipper {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    thread: Option<ThreadId>,
}

impl Shipper {
    pub(crate) fn start(account: Weak<AccountInner>) -> Result<Shipper> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let handle = std::thread::Builder::new()
            .name("strata-log-shipper".into())
            .spawn(move || run(&theirs, &account))
            .map_err(|e| Error::io("starting the log shipper", e))?;
        Ok(Shipper {
            shared,
            thread: Some(handle.thread().id()),
            handle: Some(handle),
        })
    }

    /// Why the last shipping failed, if it did.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.shared.state.lock().ok().and_then(|s| s.last_error.clone())
    }
}

thread_local! {
    /// Set on the shipper's own thread: its borrowed handles are not user handles.
    static ON_SHIPPER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn run(shared: &Shared, account: &Weak<AccountInner>) {
    ON_SHIPPER.with(|f| f.set(true));
    // Ships at once (what a closed account left unshipped), then every `SHIP_EVERY`, and takes a
    // base when one is due. The state lock is held while the account is borrowed, so `release`
    // sees only user handles.
    let Ok(mut guard) = shared.state.lock() else {
        return;
    };
    loop {
        let Some(inner) = account.upgrade() else { return };
        let account = Account::from_inner(inner);
        let outcome = tick(&account);
        drop(account);
        guard.last_error = outcome.err().map(|e| e.to_string());
        let Ok((next, _)) = shared.cv.wait_timeout_while(guard, SHIP_EVERY, |s| !s.stop) else {
            return;
        };
        guard = next;
        if guard.stop {
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

/// Called as a user handle of the account drops: if it is the last one, the shipper is stopped
/// and joined here, so that the account closes (and its locks are released) on this thread,
/// before the drop returns, not later on the shipper's.
pub(crate) fn release(inner: &Arc<AccountInner>) {
    if ON_SHIPPER.with(std::cell::Cell::get) {
        return;
    }
    // Two references at most: this handle, and perhaps the shipper's borrow.
    if Arc::strong_count(inner) > 2 {
        return;
    }
    let Ok(mut slot) = inner.shipper.lock() else {
        return;
    };
    let last = slot.as_ref().is_some_and(|s| {
        s.thread != Some(std::thread::current().id())
            && s.shared
                .state
                .lock()
                .is_ok_and(|_idle| Arc::strong_count(inner) == 1)
    });
    if last {
        let shipper = slot.take();
        drop(slot);
        drop(shipper);
    }
}

impl Drop for Shipper {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.state.lock() {
            s.stop = true;
        }
        self.shared.cv.notify_all();
        // The shipper itself may hold the last reference to the account for a moment: it cannot
        // join itself, and it stops at its next check.
        if self.thread != Some(std::thread::current().id()) {
            if let Some(h) = self.handle.take() {
                let _ = h.join();
            }
        }
    }
}
