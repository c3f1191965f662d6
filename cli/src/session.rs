//! `--stats`: the accounts a command opened, kept until it ends so that their request-unit
//! metrics (kept by the engine per open account) can be summed and printed as the session's
//! total on stderr. Holds handles only; no storage logic.

use std::sync::Mutex;

use strata_engine::Account;

/// The accounts opened by this process's command while `--stats` is on.
static OPENED: Mutex<Vec<Account>> = Mutex::new(Vec::new());

/// Remembers an account the command opened.
pub fn remember(account: &Account) {
    if let Ok(mut v) = OPENED.lock() {
        v.push(account.clone());
    }
}

/// Totals over every remembered account: (RU, operations charged, 429s).
pub fn totals() -> (f64, u64, u64) {
    let Ok(mut v) = OPENED.lock() else {
        return (0.0, 0, 0);
    };
    let mut out = (0.0, 0, 0);
    let mut seen = std::collections::HashSet::new();
    for account in v.iter() {
        // A command may open one account more than once; count each data directory once.
        if !seen.insert(account.data_dir().to_path_buf()) {
            continue;
        }
        for (_, _, m) in account.metrics().unwrap_or_default() {
            out.0 += m.total_ru;
            out.1 += m.operations;
            out.2 += m.throttled;
        }
    }
    v.clear();
    out
}

/// `session: 12.34 RU, 5 operations, 0 throttled (429)`.
pub fn line() -> String {
    let (ru, ops, throttled) = totals();
    format!("session: {ru:.2} RU, {ops} operations, {throttled} throttled (429)")
}
