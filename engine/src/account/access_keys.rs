//! The account's two access keys (primary and secondary), the shared secrets that clients of the
//! REST gateway (`strata serve`, crate strata-gateway) sign their requests with. Owns their
//! generation (64 random bytes each, from the OS) and their storage: in the catalog's sealed
//! settings, under the service layer, never in the clear in the data directory. Does not check
//! signatures (the gateway does) and does not know the wire format of a key (base64 is the
//! gateway's business). See docs/gateway.md, "Access keys".

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::handle::Account;
use crate::error::{Error, Result};

/// Length of one access key in bytes (as the managed service's keys: 64 bytes, 88 in base64).
pub const ACCESS_KEY_LEN: usize = 64;

/// Which of the two keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKeyKind {
    Primary,
    Secondary,
}

/// The two keys as the catalog keeps them (hex, inside the sealed settings). Zeroized on drop;
/// `Debug` never shows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeyPair {
    primary: String,
    secondary: String,
}

impl std::fmt::Debug for AccessKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeyPair(<redacted>)")
    }
}

/// The account's access keys, in memory only for as long as the caller holds them.
pub struct AccessKeys {
    pub primary: Zeroizing<[u8; ACCESS_KEY_LEN]>,
    pub secondary: Zeroizing<[u8; ACCESS_KEY_LEN]>,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeys(<redacted>)")
    }
}

fn fresh_key_hex() -> String {
    let mut key = Zeroizing::new([0u8; ACCESS_KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    strata_base::seal::hex::encode(key.as_ref())
}

fn decode(hex: &str) -> Result<Zeroizing<[u8; ACCESS_KEY_LEN]>> {
    let bytes = Zeroizing::new(
        strata_base::seal::hex::decode(hex)
            .ok_or_else(|| Error::Internal("the catalog's access key is not hex".into()))?,
    );
    let mut key = Zeroizing::new([0u8; ACCESS_KEY_LEN]);
    if bytes.len() != ACCESS_KEY_LEN {
        return Err(Error::Internal(format!(
            "the catalog's access key is {} bytes, not {ACCESS_KEY_LEN}",
            bytes.len()
        )));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

impl AccessKeyPair {
    fn fresh() -> AccessKeyPair {
        AccessKeyPair {
            primary: fresh_key_hex(),
            secondary: fresh_key_hex(),
        }
    }

    fn keys(&self) -> Result<AccessKeys> {
        Ok(AccessKeys {
            primary: decode(&self.primary)?,
            secondary: decode(&self.secondary)?,
        })
    }
}

impl Account {
    /// The account's access keys; the first call generates both and records them, sealed, in
    /// the catalog (durably, before they are returned). Works while the customer key is revoked:
    /// the keys are sealed under the service layer, and every data operation still checks the
    /// customer key.
    pub fn access_keys(&self) -> Result<AccessKeys> {
        self.inner.edit_catalog(|c| {
            let pair = c.access_keys.get_or_insert_with(AccessKeyPair::fresh);
            pair.keys()
        })
    }

    /// Replaces one access key with a fresh random one (the other stays valid, so clients can
    /// move to it first) and returns both.
    pub fn regenerate_access_key(&self, which: AccessKeyKind) -> Result<AccessKeys> {
        self.inner.edit_catalog(|c| {
            let pair = c.access_keys.get_or_insert_with(AccessKeyPair::fresh);
            match which {
                AccessKeyKind::Primary => pair.primary = fresh_key_hex(),
                AccessKeyKind::Secondary => pair.secondary = fresh_key_hex(),
            }
            pair.keys()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Encryption;
    use crate::options::AccountOptions;

    fn open(dir: &std::path::Path) -> Account {
        let opts = AccountOptions::new(dir.join("data"), dir.join("home"));
        if dir.join("data").exists() {
            Account::open(opts).unwrap()
        } else {
            Account::create(opts, "acct", Encryption::ServiceManaged).unwrap()
        }
    }

    #[test]
    fn keys_are_generated_once_kept_sealed_and_survive_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let a = open(tmp.path());
        let first = a.access_keys().unwrap();
        assert_ne!(first.primary[..], first.secondary[..]);
        assert_ne!(first.primary[..], [0u8; ACCESS_KEY_LEN][..]);
        a.close().unwrap();

        let catalog = std::fs::read(tmp.path().join("data").join(crate::catalog::CATALOG_FILE)).unwrap();
        for key in [&first.primary, &first.secondary] {
            let hex = strata_base::seal::hex::encode(key.as_ref());
            let text = String::from_utf8_lossy(&catalog);
            assert!(
                !text.contains(&hex),
                "an access key is in the catalog in the clear"
            );
            assert!(!catalog.windows(ACCESS_KEY_LEN).any(|w| w == key.as_ref()));
        }

        let a = open(tmp.path());
        let again = a.access_keys().unwrap();
        assert_eq!(first.primary[..], again.primary[..]);
        assert_eq!(first.secondary[..], again.secondary[..]);
    }

    #[test]
    fn regenerating_one_key_keeps_the_other() {
        let tmp = tempfile::tempdir().unwrap();
        let a = open(tmp.path());
        let before = a.access_keys().unwrap();
        let after = a.regenerate_access_key(AccessKeyKind::Secondary).unwrap();
        assert_eq!(before.primary[..], after.primary[..]);
        assert_ne!(before.secondary[..], after.secondary[..]);
        let later = a.regenerate_access_key(AccessKeyKind::Primary).unwrap();
        assert_ne!(after.primary[..], later.primary[..]);
        assert_eq!(after.secondary[..], later.secondary[..]);
        assert_eq!(format!("{later:?}"), "AccessKeys(<redacted>)");
    }
}
