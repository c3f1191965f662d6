//! Sync of a container's scripts (stored procedures, triggers, user-defined functions) from the
//! same container of another account, beside its items (sync.rs). A replicated script keeps its
//! `_etag` and `_ts`, as replicated items do, so the same version is recognised on the way
//! back. Each side's latest version of a name is its live script or its tombstone (a deletion,
//! script_tombstone.rs), whichever is later; the source's replaces this side's when it differs
//! and is later (`_ts`, then the greater etag on a tie), the same answer on both sides, so
//! syncing both ways converges: a live version is created or replaces, a tombstone deletes (and
//! is kept, so the deletion travels on). Must not touch items.

use super::container::Container;
use super::procedure::KIND_PROCEDURE;
use super::script_store::ScriptRecord;
use super::script_tombstone::Tombstone;
use super::{Trigger, UserDefinedFunction};
use crate::error::Result;

/// What one direction of a script sync wrote here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ScriptSync {
    /// Scripts created or replaced.
    pub(super) copied: usize,
    /// Scripts deleted (a live one replaced by the source's tombstone).
    pub(super) deleted: usize,
}

/// `Some` for what exists, `None` for a 404.
fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

impl Container {
    /// Brings this container's scripts up to `src`'s, deletions included.
    pub(super) fn sync_scripts_from(&self, src: &Container) -> Result<ScriptSync> {
        let mut done = ScriptSync::default();
        for name in src.list_stored_procedures()? {
            let theirs = src.stored_procedure(&name)?;
            let mine = found(self.stored_procedure(&name))?;
            let live = mine.as_ref().map(|m| (m.ts, m.etag.as_str()));
            if self.theirs_win(KIND_PROCEDURE, &name, (theirs.ts, &theirs.etag), live)? {
                self.put_replicated_procedure(theirs)?;
                done.copied += 1;
            }
        }
        for t in src.tombstones(KIND_PROCEDURE)? {
            let mine = found(self.stored_procedure(&t.id))?;
            let live = mine.as_ref().map(|m| (m.ts, m.etag.as_str()));
            if self.theirs_win(KIND_PROCEDURE, &t.id, t.version(), live)? {
                self.remove_replicated_procedure(&t)?;
                done.deleted += usize::from(mine.is_some());
            }
        }
        self.sync_records::<Trigger>(src, &mut done)?;
        self.sync_records::<UserDefinedFunction>(src, &mut done)?;
        Ok(done)
    }

    /// The scripts of one kind stored whole (triggers, UDFs): put in place, created or
    /// replaced, or deleted.
    fn sync_records<T: ScriptRecord + Clone>(&self, src: &Container, done: &mut ScriptSync) -> Result<()> {
        for theirs in src.list_scripts::<T>()? {
            let mine = found(self.read_script::<T>(theirs.id()))?;
            if self.theirs_win(
                T::KIND,
                theirs.id(),
                theirs.version(),
                mine.as_ref().map(T::version),
            )? {
                self.put_script(theirs.id(), theirs.body(), None, || theirs.clone())?;
                done.copied += 1;
            }
        }
        for t in src.tombstones(T::KIND)? {
            let mine = found(self.read_script::<T>(&t.id))?;
            if self.theirs_win(T::KIND, &t.id, t.version(), mine.as_ref().map(T::version))? {
                self.remove_script::<T>(&t, false)?;
                done.deleted += usize::from(mine.is_some());
            }
        }
        Ok(())
    }

    /// Whether the source's version `theirs` (`(_ts, _etag)`, live or a tombstone) of script
    /// `name` replaces this side's latest: its live version `live` or its tombstone.
    fn theirs_win(
        &self,
        kind: u8,
        name: &str,
        theirs: (u64, &str),
        live: Option<(u64, &str)>,
    ) -> Result<bool> {
        let dead = self.tombstone(kind, name)?;
        let mine = live
            .into_iter()
            .chain(dead.as_ref().map(Tombstone::version))
            .max();
        Ok(match mine {
            None => true,
            Some(mine) => mine.1 != theirs.1 && theirs > mine,
        })
    }
}
