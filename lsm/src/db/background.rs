//! The store's background threads. `strata-flush` writes frozen memtables to L0 segments as soon
//! as they are frozen; `strata-compact` (with `background_compaction`) runs the compactions the
//! strategy says are due after each flush, then any pending re-seal. Two threads, so that a long
//! merge never holds up a flush and, with it, the writers stalled on full memtables. The work
//! itself is in db/maintenance.rs and db/reseal.rs; this file only waits, dispatches, counts the
//! threads at work (for db/idle.rs) and records failures.

use std::sync::Arc;

use super::state::{is_key_refusal, BgState, Shared};
use crate::error::Result;

/// Which thread is asking for work.
#[derive(Clone, Copy)]
enum Role {
    Flush,
    Compact,
}

impl Role {
    fn take(self, g: &mut BgState) -> bool {
        let flag = match self {
            Role::Flush => &mut g.flush_pending,
            Role::Compact => &mut g.compact_pending,
        };
        std::mem::take(flag)
    }
}

impl Shared {
    /// The flush thread: flushes every frozen memtable, then lets the compaction thread look.
    pub(crate) fn flush_loop(self: Arc<Shared>) {
        self.serve(Role::Flush, |s| {
            s.flush_frozen()?;
            s.request_compaction();
            Ok(())
        });
    }

    /// The compaction thread: compacts while a compaction is due, then re-seals what is left.
    pub(crate) fn compaction_loop(self: Arc<Shared>) {
        self.serve(Role::Compact, |s| {
            s.compact_while_due()?;
            s.reseal_while_pending()
        });
    }

    fn request_compaction(&self) {
        if let Ok(mut g) = self.bg.lock() {
            g.compact_pending = true;
        }
        self.bg_cv.notify_all();
    }

    /// Waits for `role`'s flag, runs `work`, until shutdown. A refusal of the customer key leaves
    /// the store as it was: wait to be woken again (the account wakes both threads when the key
    /// comes back). Any other failure is recorded (writers stalled on a flush see it) and ends
    /// the thread; the work itself has already poisoned the store.
    fn serve(&self, role: Role, work: impl Fn(&Shared) -> Result<()>) {
        loop {
            {
                let Ok(mut g) = self.bg.lock() else { return };
                while !role.take(&mut g) && !g.shutdown {
                    g = match self.bg_cv.wait(g) {
                        Ok(g) => g,
                        Err(_) => return,
                    };
                }
                if g.shutdown {
                    return;
                }
                g.running += 1;
            }
            let done = work(self);
            if let Ok(mut g) = self.bg.lock() {
                g.running -= 1;
            }
            self.bg_cv.notify_all();
            match done {
                Ok(()) => {}
                Err(e) if is_key_refusal(&e) => {}
                Err(e) => {
                    self.set_poison(&e);
                    if let Ok(mut g) = self.bg.lock() {
                        g.error.get_or_insert_with(|| e.to_string());
                    }
                    self.bg_cv.notify_all();
                    return;
                }
            }
        }
    }
}
