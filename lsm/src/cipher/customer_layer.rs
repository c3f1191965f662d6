//! The customer layer's key slot of one account, shared by the `CipherSuite` and every
//! `FileCipher` of a double-sealed file: off (service-managed), holding the unwrapped customer
//! DEK, or withheld (revoked: the DEK is dropped and zeroized; only a check value remains, to
//! accept back the same key and no other). Per-file customer keys are derived from it once and
//! kept beside it, inside the same state and under the same lock, so withholding it drops them
//! with the DEK and leaves no customer-layer key in memory (only an operation already under way
//! holds its file key until it returns). Also whether
//! single-sealed files are still accepted (an enable-CMK migration in progress). Knows nothing
//! of the vault or of storage. Thread-safe (one `RwLock`). See docs/keys.md#enabling-cmk.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use strata_base::seal::aead::AeadKey;
use strata_base::seal::SALT_LEN;
use strata_base::seal::{derive_key, Dek};

enum State {
    /// Service-managed: files carry one seal layer.
    Off,
    /// Customer-managed, key in memory, with the per-file keys derived from it so far.
    On(Dek, FileKeys),
    /// Customer-managed, key dropped after a failed key check. `check` is a one-way value of the
    /// dropped DEK (HKDF), so that only the same DEK can be put back.
    Withheld { check: Zeroizing<[u8; 32]> },
}

/// Per-file customer-layer keys derived from the held DEK, by salt and HKDF info: each block's
/// seal or open would otherwise run HKDF and AES key expansion again. Lives inside `State::On`,
/// so every transition away from `On` drops it under the state's write lock.
#[derive(Default)]
struct FileKeys(RwLock<HashMap<FileKeyId, Arc<AeadKey>>>);

/// A file's salt and the HKDF info of its layer and kind.
type FileKeyId = ([u8; SALT_LEN], &'static str);

/// At most this many file keys are kept; when full the cache is emptied and refills with the
/// files in use (deleted segments and logs leave stale entries behind until then).
const MAX_FILE_KEYS: usize = 4096;

impl FileKeys {
    fn get(&self, salt: &[u8; SALT_LEN], info: &'static str) -> Option<Arc<AeadKey>> {
        let map = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&(*salt, info)).cloned()
    }

    fn insert(&self, salt: [u8; SALT_LEN], info: &'static str, key: Arc<AeadKey>) {
        let mut map = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_FILE_KEYS {
            map.clear();
        }
        map.insert((salt, info), key);
    }

    fn len(&self) -> usize {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

pub struct CustomerLayer {
    state: RwLock<State>,
    /// Customer-managed but single-sealed files may still exist (see docs/keys.md).
    migrating: AtomicBool,
}

fn check_value(dek: &Dek) -> Zeroizing<[u8; 32]> {
    derive_key(dek.as_bytes(), None, b"strata/v1/customer-check")
}

fn withheld_error() -> Error {
    Error::KeyWithheld(
        "the customer-managed key was withdrawn after a failed key check, so data sealed under it \
         cannot be read or written; restore the key or the access, then run `strata key check`"
            .into(),
    )
}

/// Constant-time comparison with the held DEK, or with the check value of a withheld one.
fn same_key(state: &State, dek: &Dek) -> bool {
    use subtle::ConstantTimeEq;
    match state {
        State::Off => false,
        State::On(held, _) => held.ct_eq(dek.as_bytes()),
        State::Withheld { check } => bool::from(check.as_slice().ct_eq(check_value(dek).as_slice())),
    }
}

fn different_key() -> Error {
    Error::KeyMismatch(
        "the customer key unwraps to a different data key than the one the account was opened with".into(),
    )
}

impl CustomerLayer {
    pub fn new(dek: Option<Dek>) -> CustomerLayer {
        CustomerLayer {
            state: RwLock::new(dek.map_or(State::Off, |d| State::On(d, FileKeys::default()))),
            migrating: AtomicBool::new(false),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every transition replaces the state whole: a panic cannot leave it half-written.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the account is customer-managed (new files are sealed twice).
    pub fn is_on(&self) -> bool {
        !matches!(*self.read(), State::Off)
    }

    /// Whether the customer DEK is in memory.
    pub fn has_key(&self) -> bool {
        matches!(*self.read(), State::On(..))
    }

    /// Refuses with 403.4002 while the key is withheld; otherwise (held, or service-managed) Ok.
    /// Reads ask this before they look at anything in memory: a memtable holds recent writes in
    /// the clear, and it must not answer for data sealed under a key the account no longer has.
    pub fn require_key(&self) -> Result<()> {
        match *self.read() {
            State::Withheld { .. } => Err(withheld_error()),
            State::Off | State::On(..) => Ok(()),
        }
    }

    /// A copy of the DEK (zeroized when dropped), if it is in memory.
    pub fn dek(&self) -> Option<Dek> {
        match &*self.read() {
            State::On(d, _) => Some(d.clone()),
            _ => None,
        }
    }

    /// The AES key of one file, derived from the DEK by HKDF over `salt` and `info` on first
    /// use and kept beside the DEK until it is withheld: 403.4002 while the key is withheld.
    pub fn derive(&self, salt: &[u8], info: &'static str) -> Result<Arc<AeadKey>> {
        let state = self.read();
        let State::On(dek, keys) = &*state else {
            return Err(match *state {
                State::Off => Error::Internal("a customer-layer seal on a service-managed account".into()),
                _ => withheld_error(),
            });
        };
        let salt_key: Option<&[u8; SALT_LEN]> = salt.try_into().ok();
        if let Some(key) = salt_key.and_then(|s| keys.get(s, info)) {
            return Ok(key);
        }
        let okm = derive_key(dek.as_bytes(), Some(salt), info.as_bytes());
        let key = Arc::new(AeadKey::new(&okm));
        if let Some(s) = salt_key {
            // Still under the state's read lock: a withhold waits for it, then drops the cache.
            keys.insert(*s, info, key.clone());
        }
        Ok(key)
    }

    /// How many per-file keys are held (none unless the DEK is): for tests of revocation.
    pub fn cached_file_keys(&self) -> usize {
        match &*self.read() {
            State::On(_, keys) => keys.len(),
            _ => 0,
        }
    }

    /// Turns the layer on with a new DEK (enabling CMK on a service-managed account); from now
    /// on single-sealed files are accepted until `set_migrating(false)`. 409 if it is on.
    pub fn enable(&self, dek: Dek) -> Result<()> {
        let mut state = self.write();
        if !matches!(*state, State::Off) {
            return Err(Error::InvalidState(
                "the account already uses a customer-managed key".into(),
            ));
        }
        self.migrating.store(true, Ordering::SeqCst);
        *state = State::On(dek, FileKeys::default());
        Ok(())
    }

    /// Drops (and zeroizes) the DEK and every file key derived from it, keeping only its check
    /// value. No effect unless it is held.
    pub fn withhold(&self) {
        let mut state = self.write();
        if let State::On(dek, _) = &*state {
            let check = check_value(dek);
            *state = State::Withheld { check };
        }
    }

    /// Whether `dek` is the account's customer DEK, held or withheld.
    pub fn matches(&self, dek: &Dek) -> bool {
        same_key(&self.read(), dek)
    }

    /// Puts the DEK back after a successful key check. 403.4005 if `dek` is not the DEK the
    /// account had.
    pub fn restore(&self, dek: Dek) -> Result<()> {
        let mut state = self.write();
        if !same_key(&state, &dek) {
            return Err(different_key());
        }
        if matches!(*state, State::Withheld { .. }) {
            *state = State::On(dek, FileKeys::default());
        }
        Ok(())
    }

    pub fn set_migrating(&self, on: bool) {
        self.migrating.store(on, Ordering::SeqCst);
    }

    pub fn migrating(&self) -> bool {
        self.migrating.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withhold_drops_the_key_and_only_the_same_key_comes_back() {
        let dek = Dek::generate();
        let layer = CustomerLayer::new(Some(dek.clone()));
        assert!(layer.has_key());
        layer.withhold();
        assert!(!layer.has_key() && layer.is_on() && layer.dek().is_none());
        let e = layer.derive(&[0; 32], "x").err();
        assert!(matches!(e, Some(Error::KeyWithheld(_))), "{e:?}");
        assert!(matches!(layer.require_key(), Err(Error::KeyWithheld(_))));
        assert!(layer.restore(Dek::generate()).is_err());
        assert!(!layer.has_key());
        layer.restore(dek).unwrap();
        assert!(layer.has_key());
        layer.require_key().unwrap();
        CustomerLayer::new(None).require_key().unwrap();
    }

    #[test]
    fn file_keys_are_derived_once_and_dropped_on_withhold() {
        let dek = Dek::generate();
        let layer = CustomerLayer::new(Some(dek.clone()));
        let a = layer.derive(&[1; 32], "x").unwrap();
        let again = layer.derive(&[1; 32], "x").unwrap();
        assert!(Arc::ptr_eq(&a, &again), "the second use is served from the cache");
        layer.derive(&[2; 32], "x").unwrap();
        layer.derive(&[1; 32], "y").unwrap();
        assert_eq!(layer.cached_file_keys(), 3);
        layer.withhold();
        assert_eq!(layer.cached_file_keys(), 0);
        assert!(matches!(layer.derive(&[1; 32], "x"), Err(Error::KeyWithheld(_))));
        layer.restore(dek).unwrap();
        assert_eq!(
            layer.cached_file_keys(),
            0,
            "a restored key starts with no file keys"
        );
        // The same DEK derives the same key: what was sealed before still opens.
        let sealed = {
            let mut buf = b"block".to_vec();
            a.seal_in_place([0; 12], b"aad", &mut buf);
            buf
        };
        let mut buf = sealed.clone();
        assert!(layer
            .derive(&[1; 32], "x")
            .unwrap()
            .open_in_place([0; 12], b"aad", &mut buf));
    }

    #[test]
    fn enable_only_from_off() {
        let layer = CustomerLayer::new(None);
        assert!(!layer.is_on() && !layer.migrating());
        layer.enable(Dek::generate()).unwrap();
        assert!(layer.is_on() && layer.migrating());
        assert_eq!(layer.enable(Dek::generate()).err().map(|e| e.status()), Some(409));
    }
}
