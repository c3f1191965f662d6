//! The background key check of a customer-managed-key account: one thread, `strata-key-check`,
//! owned by the account's supervisor, started when the account opens customer-managed (or
//! `enable_cmk` makes it so) and stopped and joined when the account closes, before its store
//! does. It runs the same check as `Account::check_key` whenever `key_check_interval` has passed
//! since the last one, so an idle process notices a revoked key without any data-plane call.
//! It only schedules checks: what a check does (and what revocation withdraws) is
//! `key_check.rs`. See docs/keys.md#key-checks and docs/lifecycle.md.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::handle::AccountInner;
use super::lifecycle::Signal;
use crate::error::Result;

/// The thread's name in the supervisor.
const KEY_CHECKER: &str = "strata-key-check";

/// Starts the key-check thread of a customer-managed account, or of one with a container that
/// has its own customer key (no effect on other accounts, or if it runs already).
pub(crate) fn start(inner: &Arc<AccountInner>) -> Result<()> {
    if !inner.is_cmk() && !inner.own_stores.any() {
        return Ok(());
    }
    let weak = Arc::downgrade(inner);
    let first = inner.opts.key_check_interval;
    inner
        .supervisor
        .spawn(KEY_CHECKER, move |signal| check_loop(&weak, signal, first))?;
    Ok(())
}

/// Waits until the next check is due, runs it, and again, until the supervisor stops the
/// thread. The thread holds the account's state only for one check at a time (a weak
/// reference otherwise), so it never keeps a closed account's state alive; its end is the
/// supervisor's stop and join, not the reference going.
fn check_loop(weak: &Weak<AccountInner>, signal: &Signal, first: Duration) {
    let mut wait = first;
    while signal.wait(Some(wait)) {
        let Some(inner) = weak.upgrade() else { return };
        wait = inner.check_key_if_due();
    }
}
