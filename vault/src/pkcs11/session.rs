//! `TokenKeys`: one logged-in read-write session on the configured token, shared by a vault's
//! calls under a mutex (a PKCS#11 session is not safe for concurrent use). The PIN is read from
//! the configured environment variable at open and whenever the session has to be re-established,
//! held in a zeroizing `AuthPin` only for the C_Login call, and never stored. Thread-safe.

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

use cryptoki::context::Function;
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::config::Pkcs11Config;
use super::errors::{session_lost, token_error, unreachable};
use super::module;
use crate::error::{substatus, Error, Result};

/// The key pairs of a vault, in one PKCS#11 token.
pub(crate) struct TokenKeys {
    pub(crate) cfg: Pkcs11Config,
    ctx: Pkcs11,
    slot: Slot,
    session: Mutex<Session>,
    /// The token refused CKM_RSA_PKCS_OAEP with SHA-256 once: unwrap with CKM_RSA_X_509.
    pub(super) raw_only: AtomicBool,
}

impl TokenKeys {
    /// Loads the module, finds the token by label and logs in as its user with the PIN from the
    /// configured environment variable. 403.4002 when any of that fails, saying which.
    pub(crate) fn open(cfg: &Pkcs11Config) -> Result<TokenKeys> {
        let ctx = module::load(&cfg.module)?;
        let slot = find_slot(&ctx, cfg)?;
        let session = login(&ctx, slot, cfg)?;
        Ok(TokenKeys {
            cfg: cfg.clone(),
            ctx,
            slot,
            session: Mutex::new(session),
            raw_only: AtomicBool::new(false),
        })
    }

    /// Runs `op` on the session; if the session was lost (token reset, logged out), opens a new
    /// one, logs in again and runs `op` once more. Errors are worded as `what` failing.
    pub(super) fn with_session<T>(
        &self,
        what: &str,
        mut op: impl FnMut(&Session) -> cryptoki::error::Result<T>,
    ) -> Result<T> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        match op(&session) {
            Ok(v) => Ok(v),
            Err(e) if session_lost(&e) => {
                *session = login(&self.ctx, self.slot, &self.cfg)?;
                op(&session).map_err(|e| token_error(&self.cfg.token, what, e))
            }
            Err(e) => Err(token_error(&self.cfg.token, what, e)),
        }
    }
}

/// `CKR_USER_NOT_LOGGED_IN` unless `session` is a user session. Private objects are invisible to
/// a session that lost its login (another handle of this process logged the application out),
/// so a lookup that finds nothing asks this before calling the object missing; the error makes
/// `with_session` log in again and retry.
pub(super) fn require_login(session: &Session) -> cryptoki::error::Result<()> {
    match session.get_session_info()?.session_state() {
        SessionState::RwUser | SessionState::RoUser => Ok(()),
        _ => Err(CkError::Pkcs11(RvError::UserNotLoggedIn, Function::FindObjects)),
    }
}

/// The slot holding the token labelled `cfg.token` (403.4002 if none, or more than one).
fn find_slot(ctx: &Pkcs11, cfg: &Pkcs11Config) -> Result<Slot> {
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| unreachable(&cfg.token, "listing the slots", e))?;
    let mut found = Vec::new();
    // A slot that cannot be read (another process is initialising its token, say) is not a
    // reason to fail when ours is readable; it is reported only if ours is not found.
    let mut unreadable = None;
    for slot in slots {
        match ctx.get_token_info(slot) {
            Ok(info) if info.label().trim_end() == cfg.token => found.push(slot),
            Ok(_) => {}
            Err(e) => unreadable = Some(e),
        }
    }
    match (found.as_slice(), unreadable) {
        ([slot], _) => Ok(*slot),
        ([], Some(e)) => Err(unreachable(&cfg.token, "reading the token information", e)),
        ([], None) => Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "no initialised token labelled {:?} in PKCS#11 module {}; check that the token \
                 is present (for SoftHSM2: `softhsm2-util --show-slots`)",
                cfg.token,
                cfg.module.display()
            ),
        )),
        (_, _) => Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "{} tokens are labelled {:?} in PKCS#11 module {}; relabel all but one",
                found.len(),
                cfg.token,
                cfg.module.display()
            ),
        )),
    }
}

/// A new read-write session on `slot`, logged in as the user.
fn login(ctx: &Pkcs11, slot: Slot, cfg: &Pkcs11Config) -> Result<Session> {
    let session = ctx
        .open_rw_session(slot)
        .map_err(|e| unreachable(&cfg.token, "opening a session", e))?;
    let pin = read_pin(cfg)?;
    match session.login(UserType::User, Some(&pin)) {
        // Login is per application: another vault handle of this process logged in already.
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "token {:?} refused the PIN in ${}; set ${} to the token's user PIN",
                cfg.token, cfg.pin_env, cfg.pin_env
            ),
        )),
        Err(e) => Err(unreachable(&cfg.token, "logging in", e)),
    }
}

/// The user PIN from the configured environment variable (403.4002 if unset or empty). The
/// `String` the environment gives is moved, not copied, into the zeroizing `AuthPin`.
fn read_pin(cfg: &Pkcs11Config) -> Result<AuthPin> {
    match std::env::var(&cfg.pin_env) {
        Ok(pin) if !pin.is_empty() => Ok(AuthPin::new(pin)),
        _ => Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "the PIN of PKCS#11 token {:?} is read from the environment variable ${}, which \
                 is not set; export it before running strata (the PIN is never taken on the \
                 command line or written to disk)",
                cfg.token, cfg.pin_env
            ),
        )),
    }
}
