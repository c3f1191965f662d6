//! `Container::execute_stored_procedure`: runs a stored procedure on one partition-key value in
//! the sandbox (strata-script) and commits everything it wrote atomically, or nothing. The
//! execution reads and stages without locks (procedure_host.rs); the commit then locks every
//! item the execution read or wrote, checks that none changed since it was read (by etag), and
//! writes all staged writes in ONE write batch. When one did change, the execution is run again
//! from the start (its writes were never stored), up to `CONFLICT_ATTEMPTS` times. A throw, a
//! budget or memory overrun, or a fatal error leaves no trace: no item, index entry or
//! change-feed record. Must not store anything before the script has returned.

use std::time::Duration;

use serde_json::Value;
use strata_lsm::WriteBatch;
use strata_script::{run_procedure, Limits, Procedure, ScriptError};

use subtle::ConstantTimeEq;

use super::container::{Container, Resolved};
use super::procedure::StoredProcedure;
use super::procedure_host::ProcedureHost;
use crate::document::PartitionKey;
use crate::error::{Error, Result};
use crate::metering::{script_charge, summed_charge};

/// Executions of one call before a conflict with other writers is reported (409).
pub(super) const CONFLICT_ATTEMPTS: usize = 3;

/// What a stored procedure's execution answered.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcedureResponse {
    /// 200.
    pub status_code: u16,
    /// Everything the execution did: its reads, queries and writes as those operations are
    /// charged, plus its JavaScript time (docs/scripts.md, "Charges").
    pub request_charge: f64,
    /// What the script passed to `getResponse().setBody()` (`null` if nothing).
    pub body: Value,
    /// Time spent running JavaScript, host calls excluded.
    pub script_time: Duration,
    /// What the script wrote with `console.log` (and `info`, `warn`, `error`, `debug`), one
    /// line per call, when `ProcedureOptions::enable_script_logging` asked for it; at most
    /// `strata_script::MAX_LOG_BYTES`, cut there and marked. Never stored anywhere.
    pub log: Option<String>,
}

/// How to run a stored procedure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcedureOptions {
    /// Time, memory and operation budgets (default 5 s, 32 MiB, 1,000 operations).
    pub limits: Limits,
    /// Return the script's console output in `ProcedureResponse::log` (the managed service's
    /// `enableScriptLogging`); without it, console calls are accepted and dropped.
    pub enable_script_logging: bool,
    /// Run only if the procedure's etag is this one (`If-Match`): else 412 and nothing runs,
    /// so a caller never executes a body other than the one it read.
    pub if_match: Option<String>,
}

impl Container {
    /// Runs stored procedure `name` on partition `pk` with `args` (its parameters, in order)
    /// under the default options (limits of 5 s, 32 MiB, 1,000 operations; no script log).
    pub fn execute_stored_procedure(
        &self,
        name: &str,
        pk: impl Into<PartitionKey>,
        args: &[Value],
    ) -> Result<ProcedureResponse> {
        self.execute_stored_procedure_with(name, pk, args, ProcedureOptions::default())
    }

    /// `execute_stored_procedure` with `options` (its limits, and whether to return the
    /// script's log; a failed execution returns its error only, with no log). 404 for a missing procedure or container,
    /// 400.3703 when the script throws (with its message), 400.3702 over the memory cap,
    /// 408.3701 over the time budget, 403 while the customer key is revoked, 409 when other
    /// writers kept changing the items it read, 412 when `options.if_match` is not the
    /// procedure's etag; in every failure nothing is written.
    pub fn execute_stored_procedure_with(
        &self,
        name: &str,
        pk: impl Into<PartitionKey>,
        args: &[Value],
        options: ProcedureOptions,
    ) -> Result<ProcedureResponse> {
        let pk = pk.into();
        self.retrying(|| {
            for _ in 0..CONFLICT_ATTEMPTS {
                if let Some(done) = self.execute_once(name, &pk, args, &options)? {
                    return Ok(done);
                }
            }
            Err(Error::Conflict(format!(
                "stored procedure '{name}': other writers changed the items it read during each of \
                 {CONFLICT_ATTEMPTS} executions; nothing was written: retry later"
            )))
        })
    }

    /// One execution; `None` when an item it read changed before it could commit.
    fn execute_once(
        &self,
        name: &str,
        pk: &PartitionKey,
        args: &[Value],
        options: &ProcedureOptions,
    ) -> Result<Option<ProcedureResponse>> {
        let sp = self.stored_procedure(name)?;
        check_procedure_etag(&sp, options.if_match.as_deref())?;
        let r = self.resolve()?;
        // A procedure runs in one partition: a full key, as an item is addressed by.
        r.pk.check_full(pk)?;
        let (alt_link, now_ms) = self.script_site();
        let procedure = Procedure {
            body: &sp.body,
            self_link: &format!("{alt_link}/"),
            alt_link: &alt_link,
            now_ms,
            log: options.enable_script_logging,
        };
        let mut host = ProcedureHost::new(self, &r, pk);
        let outcome = run_procedure(&procedure, args, &mut host, options.limits);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => return Err(self.script_failed(&r, &mut host, e)),
        };
        let cpu = script_charge(outcome.script_time);
        let Some(charge) = commit(self, &r, host, cpu)? else {
            return Ok(None);
        };
        Ok(Some(ProcedureResponse {
            status_code: 200,
            request_charge: charge,
            body: outcome.body,
            script_time: outcome.script_time,
            log: outcome.log,
        }))
    }
}

impl Container {
    /// What a script sees of where it runs: the collection's alt link and the moment (Unix
    /// milliseconds, from the account's wall clock).
    pub(super) fn script_site(&self) -> (String, f64) {
        (
            format!("dbs/{}/colls/{}", self.database_name(), self.name()),
            self.inner.opts.wall_clock.now_secs() as f64 * 1000.0,
        )
    }

    /// The error of an execution whose script failed with `e`: the engine's own error when the
    /// host stopped it (a revoked key, 429, …), else the script's, charged with the reads it
    /// made (drawn now) and its queries (drawn already). Nothing is written.
    pub(super) fn script_failed(&self, r: &Resolved, host: &mut ProcedureHost<'_>, e: ScriptError) -> Error {
        if let (ScriptError::Host(_), Some(original)) = (&e, host.fatal.take()) {
            return original;
        }
        let reads = summed_charge(host.reads.iter().copied());
        let charge = summed_charge([reads, summed_charge(host.queried.iter().copied())]);
        if let Err(refused) = self.charge(r, reads) {
            return refused;
        }
        Error::Script(e).with_charge(charge)
    }
}

/// 412 unless `want` (when given) is `sp`'s etag, compared in constant time.
fn check_procedure_etag(sp: &StoredProcedure, want: Option<&str>) -> Result<()> {
    let Some(want) = want else {
        return Ok(());
    };
    if bool::from(want.as_bytes().ct_eq(sp.etag.as_bytes())) {
        return Ok(());
    }
    Err(Error::PreconditionFailed(format!(
        "stored procedure '{}' has etag {}, not {want}: it was replaced since you read it; \
         read it again and retry",
        sp.id, sp.etag
    )))
}

/// Locks what the execution touched, checks it is unchanged, draws the charge and writes the
/// staged writes in one batch: the total charge, or `None` (nothing written) on a conflict.
pub(super) fn commit(c: &Container, r: &Resolved, host: ProcedureHost<'_>, cpu: f64) -> Result<Option<f64>> {
    let _guards = c.inner.item_locks(host.observed.keys().map(Vec::as_slice))?;
    for (key, seen) in &host.observed {
        let now = c
            .current(key)?
            .and_then(|cur| cur.item.get("_etag").and_then(Value::as_str).map(str::to_string));
        if now != *seen {
            return Ok(None);
        }
    }
    let drawn = summed_charge(host.queried.iter().copied());
    let to_draw = summed_charge(
        host.reads
            .iter()
            .copied()
            .chain(host.staged.iter().map(|s| s.charge))
            .chain([cpu]),
    );
    // The key may have been revoked while the script ran.
    c.inner.require_key_access()?;
    c.charge(r, to_draw)?;
    let mut batch = WriteBatch::new();
    for s in &host.staged {
        s.add_to(&mut batch, r.id)?;
    }
    if !batch.is_empty() {
        c.inner
            .store_for(r.id)?
            .write(batch, c.inner.default_durability())?;
    }
    Ok(Some(summed_charge([drawn, to_draw])))
}
