//! An account's lifecycle: who keeps it open, and who owns its background threads.
//!
//! - `Lifetime` is the token every user handle (`Account`, `Database`, `Container` and their
//!   clones) shares. Its `Drop` — the last user handle going — closes the account on the
//!   dropping thread: the supervisor stops and joins every background thread, the session's
//!   metrics are persisted, then the last reference to the state drops, closing the store and
//!   releasing the data-directory lock before the drop returns. `Account::close` does the same
//!   and returns the errors.
//! - `Supervisor` (one per account, in `AccountInner`) owns every background thread of the
//!   account (the index rebuild thread, the log shipper): each gets a `Signal` to wait on, and
//!   is stopped and joined by name or all at once. Threads never hold the token: they hold a
//!   `Weak<AccountInner>` and upgrade it for one step at a time, through `AccountRef::Internal`
//!   when they need a handle, so they can never be the ones to close the account (nor have to
//!   join themselves).
//!
//! The store's own flush and compaction threads belong to `Db`, which stops them when it drops
//! (after the account's threads are joined). See docs/lifecycle.md.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::handle::AccountInner;
use crate::error::{Error, Result};

/// How a handle reaches the account's state. Dereferences to `AccountInner`; cloning keeps the
/// kind, so every handle made from a user handle is a user handle and every handle a background
/// thread makes is internal.
#[derive(Clone)]
pub(crate) enum AccountRef {
    /// A user handle's: shares the token; the last one to drop closes the account.
    Owner(Arc<Lifetime>),
    /// A background thread's, for one step: keeps the state alive, never the account open.
    Internal(Arc<AccountInner>),
}

impl std::ops::Deref for AccountRef {
    type Target = AccountInner;

    fn deref(&self) -> &AccountInner {
        self.arc()
    }
}

impl AccountRef {
    /// A new account's first user handle: the token of its lifetime.
    pub(crate) fn owner(inner: Arc<AccountInner>) -> AccountRef {
        AccountRef::Owner(Arc::new(Lifetime { inner }))
    }

    pub(crate) fn arc(&self) -> &Arc<AccountInner> {
        match self {
            AccountRef::Owner(life) => &life.inner,
            AccountRef::Internal(inner) => inner,
        }
    }

    /// Whether two references reach the same open account.
    pub(crate) fn same_account(&self, other: &AccountRef) -> bool {
        Arc::ptr_eq(self.arc(), other.arc())
    }

    /// Closes the account if this was the last user handle, returning what went wrong; otherwise
    /// only lets this reference go (the account stays open for the other handles).
    pub(crate) fn close(self) -> Result<()> {
        match self {
            // Of concurrent last closes, exactly one gets the token (and the errors).
            AccountRef::Owner(life) => Arc::into_inner(life).map_or(Ok(()), Lifetime::close),
            AccountRef::Internal(_) => Ok(()),
        }
    }
}

/// The token of an open account, shared by its user handles (see the module comment).
pub(crate) struct Lifetime {
    inner: Arc<AccountInner>,
}

impl Lifetime {
    fn close(self) -> Result<()> {
        let result = self.inner.shut_down();
        drop(self); // the state, its store and its directory lock go here
        result
    }
}

impl Drop for Lifetime {
    /// Best effort: errors are dropped (`Account::close` returns them). `inner` is dropped after
    /// this body, once no background thread holds the state any more.
    fn drop(&mut self) {
        let _ = self.inner.shut_down();
    }
}

/// What a background thread waits on: a stop, a wake-up, or its timeout.
#[derive(Default)]
pub(crate) struct Signal {
    state: Mutex<Flags>,
    cv: Condvar,
}

#[derive(Default)]
struct Flags {
    stop: bool,
    woken: bool,
}

impl Signal {
    /// Waits until woken or until `timeout` has passed (`None`: until woken). False once the
    /// thread is told to stop: it then returns at once.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let Ok(mut flags) = self.state.lock() else {
            return false;
        };
        loop {
            if flags.stop {
                return false;
            }
            if flags.woken {
                flags.woken = false;
                return true;
            }
            flags = match deadline {
                None => match self.cv.wait(flags) {
                    Ok(f) => f,
                    Err(_) => return false,
                },
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return true;
                    }
                    match self.cv.wait_timeout(flags, d - now) {
                        Ok((f, _)) => f,
                        Err(_) => return false,
                    }
                }
            };
        }
    }

    /// Whether the thread was told to stop.
    pub(crate) fn stopping(&self) -> bool {
        self.state.lock().map_or(true, |f| f.stop)
    }

    fn wake(&self) {
        if let Ok(mut f) = self.state.lock() {
            f.woken = true;
        }
        self.cv.notify_all();
    }

    fn stop(&self) {
        if let Ok(mut f) = self.state.lock() {
            f.stop = true;
        }
        self.cv.notify_all();
    }
}

struct Worker {
    name: &'static str,
    signal: Arc<Signal>,
    handle: JoinHandle<()>,
}

#[derive(Default)]
struct Workers {
    /// Set by `shutdown`: no thread starts any more.
    closed: bool,
    running: Vec<Worker>,
}

/// Owns the account's background threads (see the module comment).
#[derive(Default)]
pub(crate) struct Supervisor {
    workers: Mutex<Workers>,
}

impl Supervisor {
    fn workers(&self) -> Result<std::sync::MutexGuard<'_, Workers>> {
        self.workers
            .lock()
            .map_err(|_| Error::Poisoned("a thread panicked while holding the account's thread list".into()))
    }

    /// Starts the thread `name` running `body` with its signal, unless one of that name runs
    /// or the account is closing. Whether it started.
    pub(crate) fn spawn(
        &self,
        name: &'static str,
        body: impl FnOnce(&Signal) + Send + 'static,
    ) -> Result<bool> {
        let mut workers = self.workers()?;
        if workers.closed || workers.running.iter().any(|w| w.name == name) {
            return Ok(false);
        }
        let signal = Arc::new(Signal::default());
        let theirs = signal.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&theirs))
            .map_err(|e| Error::io(format!("starting the {name} thread"), e))?;
        workers.running.push(Worker { name, signal, handle });
        Ok(true)
    }

    /// Asks the thread `name` to look for work now.
    pub(crate) fn wake(&self, name: &str) {
        if let Ok(workers) = self.workers.lock() {
            for w in workers.running.iter().filter(|w| w.name == name) {
                w.signal.wake();
            }
        }
    }

    /// Stops the thread `name`, if it runs, and waits for it to end.
    pub(crate) fn stop(&self, name: &str) -> Result<()> {
        let mut workers = self.workers()?;
        let (stopping, kept) = std::mem::take(&mut workers.running)
            .into_iter()
            .partition(|w| w.name == name);
        workers.running = kept;
        drop(workers); // the thread may use the supervisor until it ends
        join(stopping)
    }

    /// Stops every thread and waits for them; none starts afterwards. Idempotent.
    pub(crate) fn shutdown(&self) -> Result<()> {
        let mut workers = self.workers()?;
        workers.closed = true;
        let stopping = std::mem::take(&mut workers.running);
        drop(workers);
        join(stopping)
    }
}

/// Signals every worker first (they stop together), then joins them. A worker is never joined
/// from its own thread: none holds a user handle, so none can be closing the account.
fn join(workers: Vec<Worker>) -> Result<()> {
    for w in &workers {
        w.signal.stop();
    }
    let me = std::thread::current().id();
    let mut panicked = Vec::new();
    for w in workers {
        if w.handle.thread().id() == me {
            continue;
        }
        if w.handle.join().is_err() {
            panicked.push(w.name);
        }
    }
    if panicked.is_empty() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "background thread(s) {} panicked",
            panicked.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_wakes_times_out_and_stops() {
        let s = Signal::default();
        assert!(s.wait(Some(Duration::ZERO)));
        s.wake();
        assert!(s.wait(None)); // the wake-up was kept
        assert!(!s.stopping());
        s.stop();
        assert!(!s.wait(None));
        assert!(s.stopping());
    }

    #[test]
    fn the_supervisor_stops_and_joins_its_threads() {
        let sup = Supervisor::default();
        let (tx, rx) = std::sync::mpsc::channel();
        assert!(sup
            .spawn("t-a", move |sig| {
                while sig.wait(None) {}
                let _ = tx.send("a stopped");
            })
            .unwrap());
        assert!(!sup.spawn("t-a", |_| {}).unwrap(), "one thread of a name");
        assert!(sup.spawn("t-b", |sig| while sig.wait(None) {}).unwrap());
        sup.stop("t-a").unwrap();
        assert_eq!(rx.try_recv().unwrap(), "a stopped", "stop joins");
        sup.shutdown().unwrap();
        assert!(sup.workers().unwrap().running.is_empty());
        assert!(
            !sup.spawn("t-c", |_| {}).unwrap(),
            "nothing starts after shutdown"
        );
    }
}
