//! Sync of a container's scripts (stored procedures, triggers, user-defined functions) from the
//! same container of another account, beside its items (sync.rs). A replicated script keeps its
//! `_etag` and `_ts`, as replicated items do, so the same version is recognised on the way
//! back. A script the source has and this side lacks is created; where both have it with
//! different etags, the later `_ts` wins (the greater etag on a tie), the same answer on both
//! sides, so syncing both ways converges. Deletions are not carried (scripts keep no
//! tombstones). Must not touch items.

use super::container::Container;
use super::script_store::ScriptRecord;
use super::{Trigger, UserDefinedFunction};
use crate::error::Result;

/// `Some` for what exists, `None` for a 404.
fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the source's version `(ts, etag)` replaces this side's.
fn theirs_wins(theirs: (u64, &str), mine: Option<(u64, &str)>) -> bool {
    match mine {
        None => true,
        Some(mine) => mine.1 != theirs.1 && theirs > mine,
    }
}

impl Container {
    /// Brings this container's scripts up to `src`'s; how many were created or replaced.
    pub(super) fn sync_scripts_from(&self, src: &Container) -> Result<usize> {
        let mut copied = 0;
        for name in src.list_stored_procedures()? {
            let theirs = src.stored_procedure(&name)?;
            let mine = found(self.stored_procedure(&name))?;
            if theirs_wins(
                (theirs.ts, &theirs.etag),
                mine.as_ref().map(|m| (m.ts, m.etag.as_str())),
            ) {
                self.put_replicated_procedure(theirs)?;
                copied += 1;
            }
        }
        copied += self.sync_records::<Trigger>(src)?;
        copied += self.sync_records::<UserDefinedFunction>(src)?;
        Ok(copied)
    }

    /// The scripts of one kind stored whole (triggers, UDFs): put in place, created or
    /// replaced.
    fn sync_records<T: ScriptRecord + Clone>(&self, src: &Container) -> Result<usize> {
        let mut copied = 0;
        for theirs in src.list_scripts::<T>()? {
            let mine = found(self.read_script::<T>(theirs.id()))?;
            if theirs_wins(theirs.version(), mine.as_ref().map(ScriptRecord::version)) {
                self.put_script(theirs.id(), theirs.body(), None, || theirs.clone())?;
                copied += 1;
            }
        }
        Ok(copied)
    }
}
