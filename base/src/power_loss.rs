//! Power-loss simulation for the I/O seam (`faults.rs`): a recorder covering one directory
//! remembers, for every file touched through the seam, how much of it an fsync made durable and
//! whether its directory entry (a create or a rename) was made durable by an fsync of its
//! directory. `cut` makes every later seam call under the directory fail (the power is off: no
//! byte more reaches the disk); `apply` then turns the directory into what a machine that lost
//! power would find: unsynced tails truncated, files whose creation was never made durable
//! removed, renames never made durable undone. A test reopens the store on that and checks that
//! every write acknowledged as durable is there. Compiled only for tests and the
//! `fault-injection` feature. Thread-safe.
//!
//! Not modelled: removals (`remove_file`, `set_len` are outside the seam, and a removal that
//! comes back after power loss would only resurrect an orphan), partial sector writes, and
//! reordering of data within a synced prefix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::fault_kind::{FaultKind, Op};

/// Every recorder in force. Short critical sections; a poisoned lock records nothing.
static RECORDERS: Mutex<Vec<Arc<Recorder>>> = Mutex::new(Vec::new());

/// What the disk is known to hold of one file.
#[derive(Clone, Debug, Default)]
struct FileState {
    /// Bytes an fsync made durable (for a file that existed before recording began: its length
    /// then, until a sync says more).
    durable_len: u64,
    /// Created (or renamed into place) since the last fsync of its directory.
    entry_pending: bool,
    /// For a rename not yet made durable: what the target held before (`None`: nothing).
    replaced: Option<Option<Vec<u8>>>,
    /// For such a rename: its source (a directory renamed is moved back there).
    renamed_from: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, FileState>,
    cut: bool,
    /// Seam calls seen before the cut.
    calls: u64,
    /// The power goes off at this call (counting from 1): it and every later call fail.
    cut_at: Option<u64>,
    /// The call the cut hit (`"<op> <path>"`).
    cut_call: Option<String>,
}

/// One recorder: every seam call under `root`.
#[derive(Debug)]
pub struct Recorder {
    root: PathBuf,
    state: Mutex<State>,
}

/// Keeps a recorder in force; dropping it stops recording (and ends the power cut).
#[must_use = "recording stops when the guard is dropped"]
pub struct PowerGuard(Arc<Recorder>);

impl std::ops::Deref for PowerGuard {
    type Target = Recorder;
    fn deref(&self) -> &Recorder {
        &self.0
    }
}

impl Drop for PowerGuard {
    fn drop(&mut self) {
        if let Ok(mut all) = RECORDERS.lock() {
            all.retain(|r| !Arc::ptr_eq(r, &self.0));
        }
    }
}

/// Starts recording every seam call under `root`; with `cut_at = Some(n)` the power goes off at
/// the n-th call (it fails with EIO, and so does every later one).
pub fn record(root: &Path, cut_at: Option<u64>) -> PowerGuard {
    let r = Arc::new(Recorder {
        root: root.to_path_buf(),
        state: Mutex::new(State {
            cut_at,
            ..State::default()
        }),
    });
    if let Ok(mut all) = RECORDERS.lock() {
        all.push(r.clone());
    }
    PowerGuard(r)
}

fn len_of(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

impl Recorder {
    /// Seam calls seen (the one the power cut hit included).
    pub fn calls(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.calls)
    }

    /// The call the power cut hit, once it has.
    pub fn cut_call(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.cut_call.clone())
    }

    /// Turns the directory into what survives the power loss. Call after the cut, once the
    /// store is closed (its threads joined).
    pub fn apply(&self) -> std::io::Result<()> {
        let files = match self.state.lock() {
            Ok(s) => s.files.clone(),
            Err(_) => return Err(std::io::Error::other("power-loss recorder poisoned")),
        };
        // Directories renamed without a durable entry go back first: the files recorded under
        // them are known by their paths before the rename.
        for (path, f) in &files {
            if let (Some(_), Some(from), true) = (&f.replaced, &f.renamed_from, path.is_dir()) {
                if !from.exists() {
                    std::fs::rename(path, from)?;
                }
            }
        }
        for (path, f) in files {
            if path.is_dir() {
                continue;
            }
            if let Some(old) = f.replaced {
                // A rename never made durable: the target is what it was.
                match old {
                    Some(bytes) => std::fs::write(&path, bytes)?,
                    None => remove_if_present(&path)?,
                }
                continue;
            }
            if f.entry_pending {
                remove_if_present(&path)?;
                continue;
            }
            if path.exists() && len_of(&path) > f.durable_len {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(f.durable_len)?;
            }
        }
        Ok(())
    }

    /// Before the call: counts it, cuts the power if due; `Some` fails it.
    fn before(&self, op: Op, path: &Path, to: Option<&Path>) -> Option<FaultKind> {
        let mut s = self.state.lock().ok()?;
        if s.cut {
            return Some(FaultKind::Eio);
        }
        s.calls += 1;
        if s.cut_at == Some(s.calls) {
            s.cut = true;
            s.cut_call = Some(format!("{op:?} {}", path.display()));
            return Some(FaultKind::Eio);
        }
        // First touch of a file: one that exists was there before recording began, and what is
        // on disk now is durable (the test synced everything before it started recording); one
        // that a create makes is new, and so is its directory entry.
        for p in std::iter::once(path).chain(to) {
            if !s.files.contains_key(p) {
                let exists = p.is_file();
                if !exists && op != Op::Create {
                    continue;
                }
                s.files.insert(
                    p.to_path_buf(),
                    FileState {
                        durable_len: if exists { len_of(p) } else { 0 },
                        entry_pending: !exists,
                        replaced: None,
                        renamed_from: None,
                    },
                );
            }
        }
        if let (Op::Rename, Some(to)) = (op, to) {
            // Keep what the target held, in case the rename does not survive.
            let old = std::fs::read(to).ok();
            let st = s.files.entry(to.to_path_buf()).or_default();
            if st.replaced.is_none() {
                st.replaced = Some(old);
                st.renamed_from = Some(path.to_path_buf());
            }
        }
        None
    }

    /// After a successful call: what it made durable, or not.
    fn after(&self, op: Op, path: &Path, to: Option<&Path>) {
        let Ok(mut s) = self.state.lock() else { return };
        match op {
            Op::Create => {
                // Created or truncated: nothing of the new content is durable yet.
                s.files.entry(path.to_path_buf()).or_default().durable_len = 0;
            }
            Op::Sync => {
                let len = len_of(path);
                s.files.entry(path.to_path_buf()).or_default().durable_len = len;
            }
            Op::SyncDir => {
                for (p, st) in s.files.iter_mut() {
                    if p.parent() == Some(path) {
                        st.entry_pending = false;
                        st.replaced = None;
                        st.renamed_from = None;
                    }
                }
            }
            Op::Rename => {
                if let Some(to) = to {
                    let from = s.files.remove(path).unwrap_or_default();
                    let st = s.files.entry(to.to_path_buf()).or_default();
                    // The content that moved is as durable as it was under its old name.
                    st.durable_len = from.durable_len;
                    st.entry_pending = false;
                }
            }
            Op::Write | Op::Read => {}
        }
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn covering(path: &Path) -> Vec<Arc<Recorder>> {
    RECORDERS.lock().map_or_else(
        |_| Vec::new(),
        |all| {
            all.iter()
                .filter(|r| path.starts_with(&r.root))
                .cloned()
                .collect()
        },
    )
}

/// Before a seam call on `path` (`to`: a rename's target): the fault to inject if the power is
/// off under a recorder.
pub fn before(op: Op, path: &Path, to: Option<&Path>) -> Option<FaultKind> {
    let mut hit = None;
    for r in covering(path) {
        hit = hit.or(r.before(op, path, to));
    }
    hit
}

/// After a successful seam call.
pub fn after(op: Op, path: &Path, to: Option<&Path>) {
    for r in covering(path) {
        r.after(op, path, to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults;
    use crate::fs::{create_file, write_atomic};

    #[test]
    fn unsynced_bytes_unsynced_entries_and_undurable_renames_are_lost() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("old"), b"old content").unwrap();
        std::fs::write(d.join("target"), b"v1").unwrap();
        let rec = record(d, None);
        // A new file, synced, whose entry is made durable: survives whole.
        let a = d.join("a");
        let mut f = create_file(&a, false).unwrap();
        faults::write_all(&mut f, b"durable", &a).unwrap();
        faults::sync_all(&f, &a).unwrap();
        crate::fs::sync_dir(d).unwrap();
        faults::write_all(&mut f, b" and not", &a).unwrap();
        // An old file appended to without a sync: back to its old length.
        let old = d.join("old");
        let mut h = std::fs::OpenOptions::new().append(true).open(&old).unwrap();
        faults::write_all(&mut h, b" more", &old).unwrap();
        // An atomic replacement (file synced, renamed, directory synced): the new content.
        write_atomic(&d.join("target"), b"v2", false).unwrap();
        // A new file, synced, but its directory never synced after: gone.
        let b = d.join("b");
        let g = create_file(&b, false).unwrap();
        faults::sync_all(&g, &b).unwrap();
        // Another whose directory sync is cut off: the old content.
        // Counted by the new recorder: create, write, sync, rename, then the directory sync.
        let cut_rec = record(d, Some(5));
        let r = write_atomic(&d.join("target"), b"v3", false);
        assert!(r.is_err(), "the directory sync is refused once the power is off");
        assert!(cut_rec.cut_call().unwrap().starts_with("SyncDir"));
        drop((f, g, h));
        cut_rec.apply().unwrap();
        rec.apply().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"durable");
        assert!(!b.exists());
        assert_eq!(std::fs::read(&old).unwrap(), b"old content");
        assert_eq!(std::fs::read(d.join("target")).unwrap(), b"v2");
    }
}
