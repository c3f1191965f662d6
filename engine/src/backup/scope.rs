//! What a restore keeps (`--only DB[/CONT]`, repeatable): parsing the scopes, checking that each
//! names a database or container the restored state has (404 otherwise), and purging the rest
//! from the staged account. An empty scope list keeps everything.

use crate::account::Account;
use crate::error::{Error, Result};

/// One `--only` entry: a whole database, or one container of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) database: String,
    pub(crate) container: Option<String>,
}

impl Scope {
    /// `DB` or `DB/CONT`; 400 on an empty part or more than one `/`.
    pub(crate) fn parse(s: &str) -> Result<Scope> {
        let mut parts = s.split('/');
        let (db, cont, rest) = (parts.next(), parts.next(), parts.next());
        match (db, cont, rest) {
            (Some(db), None, None) if !db.is_empty() => Ok(Scope {
                database: db.into(),
                container: None,
            }),
            (Some(db), Some(c), None) if !db.is_empty() && !c.is_empty() => Ok(Scope {
                database: db.into(),
                container: Some(c.into()),
            }),
            _ => Err(Error::BadRequest(format!(
                "restore scope '{s}' is invalid: use DATABASE or DATABASE/CONTAINER"
            ))),
        }
    }

    fn keeps(&self, db: &str, container: &str) -> bool {
        self.database == db && self.container.as_deref().is_none_or(|c| c == container)
    }
}

/// Purges from `account` every container no scope keeps, and every database no scope names.
pub(crate) fn keep_only(account: &Account, scopes: &[Scope]) -> Result<()> {
    if scopes.is_empty() {
        return Ok(());
    }
    {
        let c = account.inner.catalog()?;
        for s in scopes {
            let db = c.database(&s.database).map_err(|_| not_there(s))?;
            if let Some(name) = &s.container {
                if !db.containers.iter().any(|k| &k.name == name) {
                    return Err(not_there(s));
                }
            }
        }
    }
    account.purge_containers(
        |db, cont| !scopes.iter().any(|s| s.keeps(db, cont)),
        |db| !scopes.iter().any(|s| s.database == db),
    )
}

fn not_there(s: &Scope) -> Error {
    let what = match &s.container {
        Some(c) => format!("container '{}/{c}'", s.database),
        None => format!("database '{}'", s.database),
    };
    Error::NotFound(format!(
        "{what} does not exist in the backup at the restore point; nothing was restored"
    ))
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn parses_database_and_container_scopes() {
        assert_eq!(Scope::parse("db").unwrap().container, None);
        assert_eq!(Scope::parse("db/c").unwrap().container.as_deref(), Some("c"));
        for bad in ["", "/", "db/", "/c", "a/b/c"] {
            assert_eq!(Scope::parse(bad).unwrap_err().status(), 400, "{bad:?}");
        }
        let s = Scope::parse("db/c").unwrap();
        assert!(s.keeps("db", "c") && !s.keeps("db", "d") && !s.keeps("x", "c"));
    }
}
