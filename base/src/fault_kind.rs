//! What the I/O seam (`faults.rs`) counts and what a fault does: the kinds of file call, and the
//! kinds of injected fault with the error each one returns. Plain values shared by the seam, the
//! fault plan and the power-loss recorder; no state, no I/O.

use std::io;

/// The kind of I/O call, as the fault plan counts and fails them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Write,
    Sync,
    SyncDir,
    Rename,
    Read,
}

/// What an injected fault does to the call it hits. (Only a fault plan constructs one.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(any(test, feature = "fault-injection")), allow(dead_code))]
pub enum FaultKind {
    /// The call fails with EIO; nothing is done.
    Eio,
    /// A create, write, fsync or rename fails with ENOSPC; nothing is done.
    Enospc,
    /// A write stores the first half of its bytes, then fails.
    ShortWrite,
    /// An fsync (file or directory) reports failure (EIO) without making anything durable.
    FsyncFail,
}

impl FaultKind {
    /// Every kind, for sweeps.
    #[cfg(any(test, feature = "fault-injection"))]
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Eio,
        FaultKind::Enospc,
        FaultKind::ShortWrite,
        FaultKind::FsyncFail,
    ];

    /// Whether a fault of this kind can hit a call of kind `op` (only those calls are counted).
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn applies_to(self, op: Op) -> bool {
        match self {
            FaultKind::Eio => true,
            FaultKind::Enospc => op != Op::Read,
            FaultKind::ShortWrite => op == Op::Write,
            FaultKind::FsyncFail => matches!(op, Op::Sync | Op::SyncDir),
        }
    }

    pub(crate) fn error(self) -> io::Error {
        // Linux (and macOS) errno values: EIO = 5, ENOSPC = 28.
        match self {
            FaultKind::Enospc => io::Error::from_raw_os_error(28),
            FaultKind::ShortWrite => io::Error::new(io::ErrorKind::WriteZero, "injected short write"),
            FaultKind::Eio | FaultKind::FsyncFail => io::Error::from_raw_os_error(5),
        }
    }
}
