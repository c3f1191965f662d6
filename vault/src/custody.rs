//! Key custody on disk: a file or directory that holds key material must be private to its
//! owner, as ssh requires of a private key. `require_private` refuses (403.4002, naming the path,
//! its mode and the `chmod` that fixes it) when group or others have any access to it. It reads
//! metadata only: it never changes a mode (the owner decides) and never reads key bytes. Unix
//! only; elsewhere file modes do not exist and nothing is checked. See docs/keys.md.

use std::path::Path;

use crate::error::{substatus, Error, Result};

/// Refuses `path` (`what` names it in the message: "the service key file", "the key vault
/// directory") if group or others have any access to it.
pub(crate) fn require_private(path: &Path, what: &str) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io_path("reading the mode of", path, e))?;
    if let Some(mode) = strata_base::fs::shared_mode(&meta) {
        let private = if meta.is_dir() { "700" } else { "600" };
        return Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "{what} {} is accessible by group or others (mode {mode:04o}); key material must \
                 be private to its owner, as ssh requires of private keys: run `chmod {private} {}` \
                 and retry",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn only_owner_only_modes_pass() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("k");
        std::fs::write(&file, b"x").unwrap();
        for ok in [0o600, 0o400, 0o700] {
            chmod(&file, ok);
            require_private(&file, "the key").unwrap();
        }
        for bad in [0o640, 0o604, 0o644, 0o620, 0o601, 0o666] {
            chmod(&file, bad);
            let e = require_private(&file, "the key").unwrap_err();
            assert_eq!((e.status(), e.substatus()), (403, substatus::KEY_VAULT_ACCESS));
            let msg = e.to_string();
            assert!(msg.contains(&format!("mode {bad:04o}")), "{msg}");
            assert!(msg.contains("chmod 600"), "{msg}");
        }
        let dir = tmp.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o750);
        let e = require_private(&dir, "the key vault directory").unwrap_err();
        assert!(e.to_string().contains("chmod 700"), "{e}");
        chmod(&dir, 0o700);
        require_private(&dir, "the key vault directory").unwrap();
        assert_eq!(
            require_private(&tmp.path().join("absent"), "x")
                .unwrap_err()
                .status(),
            500
        );
    }
}
