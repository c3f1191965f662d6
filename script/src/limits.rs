//! The limits of one script execution: time, memory, operations. Owns the defaults; must not
//! enforce them (sandbox.rs does).

use std::time::Duration;

/// What one execution may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time from start to end, host calls included: past it the script is stopped
    /// (408).
    pub time: Duration,
    /// Bytes the JavaScript heap may hold (QuickJS's own accounting): past it allocation fails
    /// and the script is stopped (400).
    pub memory: usize,
    /// Deepest native stack the interpreter may use (deep recursion throws a RangeError).
    pub stack: usize,
    /// Document operations one execution may make. Once reached, or once 80% of `time` has
    /// passed, the collection answers `false` ("not accepted") and does not run the operation,
    /// so a well-written script returns what it did and is called again for the rest.
    pub max_operations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(5),
            memory: 32 << 20,
            stack: 512 << 10,
            max_operations: 1000,
        }
    }
}

impl Limits {
    /// Whether a new operation is still accepted after `ops` operations and `elapsed` time.
    pub fn accepts(&self, ops: usize, elapsed: Duration) -> bool {
        ops < self.max_operations && elapsed < self.time.mul_f64(0.8)
    }
}
