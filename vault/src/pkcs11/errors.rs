//! How token failures read to Strata's callers: a `cryptoki` error becomes a vault error with a
//! status and substatus (403.4002 when the token refuses access or is out of reach, 403.4003 when
//! a key object is missing, 403.4005 when an operation itself fails). Messages name the token and
//! the PKCS#11 return value, never key bytes or the PIN.

use cryptoki::error::{Error as CkError, RvError};

use crate::error::{substatus, Error};

/// Whether `e` means the session is gone (token removed or reset, session closed, logged out):
/// worth one reopen-and-login before giving up.
pub(super) fn session_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn,
            _
        )
    )
}

/// `e`, met while doing `what` on token `token`, as a vault error.
pub(super) fn token_error(token: &str, what: &str, e: CkError) -> Error {
    let sub = match &e {
        CkError::Pkcs11(
            RvError::KeyFunctionNotPermitted
            | RvError::PinIncorrect
            | RvError::PinExpired
            | RvError::PinLocked
            | RvError::UserPinNotInitialized
            | RvError::UserNotLoggedIn
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::DeviceRemoved,
            _,
        ) => substatus::KEY_VAULT_ACCESS,
        CkError::Pkcs11(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid, _) => {
            substatus::KEY_NOT_FOUND
        }
        _ => substatus::KEY_WRAP_FAILED,
    };
    Error::vault(sub, format!("PKCS#11 token {token:?}: {what} failed: {e}"))
}

/// `e`, met while reaching the token (listing slots, opening a session, logging in), as a vault
/// error: always 403.4002, the vault being out of reach, whatever the return value.
pub(super) fn unreachable(token: &str, what: &str, e: CkError) -> Error {
    Error::vault(
        substatus::KEY_VAULT_ACCESS,
        format!("PKCS#11 token {token:?} cannot be reached: {what} failed: {e}"),
    )
}
