//! User-assigned managed identities (`<home>/identities.json`): standalone, reusable principals
//! (`user:<name>`) that accounts may use to call the vault. Created by `strata identity create`,
//! checked when an account or an access policy names one. One writer at a time is assumed.
//! See docs/keys.md#identities.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::principal::{check_user_name, Principal};
use crate::error::{Error, Result};
use strata_base::fs::{create_dir, read_if_exists, write_atomic};

const IDENTITIES_FILE: &str = "identities.json";

/// One user-assigned identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub name: String,
    /// Creation time, unix seconds.
    pub created: u64,
}

/// The user-assigned identities under one home directory.
#[derive(Debug)]
pub struct Identities {
    path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    identities: Vec<UserIdentity>,
}

impl Identities {
    /// The identity store of `home` (`$STRATA_HOME`); nothing is created until the first identity.
    pub fn new(home: &Path) -> Identities {
        Identities {
            path: home.join(IDENTITIES_FILE),
        }
    }

    /// Creates `user:<name>` (409 if it exists; 400 on a bad name).
    pub fn create(&self, name: &str) -> Result<UserIdentity> {
        check_user_name(name)?;
        let mut file = self.load()?;
        if file.identities.iter().any(|i| i.name == name) {
            return Err(Error::Conflict(format!(
                "identity user:{name} already exists; use it, or choose another name"
            )));
        }
        let id = UserIdentity {
            name: name.to_string(),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        file.identities.push(id.clone());
        if let Some(dir) = self.path.parent() {
            create_dir(dir, true)?;
        }
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Internal(format!("encoding identities: {e}")))?;
        write_atomic(&self.path, &json, true)?;
        Ok(id)
    }

    /// Every user-assigned identity, in creation order.
    pub fn list(&self) -> Result<Vec<UserIdentity>> {
        Ok(self.load()?.identities)
    }

    /// 404 unless `p` is a user-assigned identity that exists; other principals always pass
    /// (first-party always exists; a system identity exists while its account does).
    pub fn require(&self, p: &Principal) -> Result<()> {
        let Principal::User(name) = p else {
            return Ok(());
        };
        if self.load()?.identities.iter().any(|i| &i.name == name) {
            return Ok(());
        }
        Err(Error::NotFound(format!(
            "identity user:{name} does not exist; create it with `strata identity create {name}`"
        )))
    }

    fn load(&self) -> Result<File> {
        match read_if_exists(&self.path)? {
            None => Ok(File::default()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::corruption(&self.path, 0, format!("identities.json does not parse: {e}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_require() {
        let dir = tempfile::tempdir().unwrap();
        let ids = Identities::new(&dir.path().join("home"));
        let ops = Principal::User("ops".into());
        assert_eq!(ids.require(&ops).unwrap_err().status(), 404);
        ids.require(&Principal::FirstParty).unwrap();
        ids.create("ops").unwrap();
        ids.require(&ops).unwrap();
        assert_eq!(ids.create("ops").unwrap_err().status(), 409);
        assert_eq!(ids.create("bad name").unwrap_err().status(), 400);
        let names: Vec<_> = ids.list().unwrap().into_iter().map(|i| i.name).collect();
        assert_eq!(names, vec!["ops"]);
    }
}
