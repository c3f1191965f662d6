//! Activation (nbf) and expiration (exp) of key versions: setting them, and the window rule.
//! A version wraps only inside `[nbf, exp)`; unwrap is allowed outside it (what was wrapped
//! inside the window stays readable), as in a cloud key vault. Thread-safe (writer lock).

use super::{Attributes, KeyInfo, LocalVault, Place, OWNER};
use crate::error::{substatus, Error, Result};
use crate::key_uri::{check_key_name, check_version};

impl LocalVault {
    /// Sets the activation (`nbf`) and/or expiration (`exp`) time, unix seconds, of one version
    /// of a key (its newest version if `version` is `None`); `Some(0)` removes that bound.
    /// 400 if neither is given or the window would be empty; 404 if there is no such key or
    /// version; 409 if the key is deleted.
    pub fn set_attributes(
        &self,
        name: &str,
        version: Option<&str>,
        nbf: Option<u64>,
        exp: Option<u64>,
    ) -> Result<KeyInfo> {
        let res = self.set_attributes_unaudited(name, version, nbf, exp);
        let v = match &res {
            Ok(info) => Some(info.version.clone()),
            Err(_) => version.map(str::to_string),
        };
        self.audited(OWNER, "setAttributes", Some(name), v.as_deref(), 200, res)
    }

    fn set_attributes_unaudited(
        &self,
        name: &str,
        version: Option<&str>,
        nbf: Option<u64>,
        exp: Option<u64>,
    ) -> Result<KeyInfo> {
        check_key_name(name).map_err(Error::BadRequest)?;
        if let Some(v) = version {
            check_version(v).map_err(Error::BadRequest)?;
        }
        if nbf.is_none() && exp.is_none() {
            return Err(Error::BadRequest(
                "nothing to set; give --nbf UNIXTIME and/or --exp UNIXTIME (0 removes a bound)".into(),
            ));
        }
        let _w = self.lock();
        self.require_live_for_update(name)?;
        let mut rec = match version {
            Some(v) => self
                .read_record(&self.version_path(Place::Live, name, v), name, v)?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "version {v} of key {name} not found in vault {}; list the versions with \
                     `strata vault key list`",
                        self.name
                    ))
                })?,
            None => self
                .versions(Place::Live, name)?
                .into_iter()
                .reduce(|a, b| if b.newer_than(&a) { b } else { a })
                .ok_or_else(|| Error::NotFound(format!("key {name} has no versions")))?,
        };
        if let Some(n) = nbf {
            rec.attrs.nbf = (n != 0).then_some(n);
        }
        if let Some(e) = exp {
            rec.attrs.exp = (e != 0).then_some(e);
        }
        if let (Some(n), Some(e)) = (rec.attrs.nbf, rec.attrs.exp) {
            if n >= e {
                return Err(Error::BadRequest(format!(
                    "the activation time {n} is not before the expiration time {e}; the key \
                     version would never be usable"
                )));
            }
        }
        self.write_record(&rec)?;
        rec.attrs.into_info(&self.name, false)
    }
}

/// 403.4002 naming the window if `now` is before `nbf` or at/after `exp`; `None` inside it.
pub(super) fn outside_window(attrs: &Attributes, now: u64) -> Option<Error> {
    let window = format!(
        "[{}, {})",
        attrs.nbf.map_or("-".to_string(), |n| n.to_string()),
        attrs.exp.map_or("-".to_string(), |e| e.to_string())
    );
    let why = match (attrs.nbf, attrs.exp) {
        (Some(n), _) if now < n => format!("is not active until {n}"),
        (_, Some(e)) if now >= e => format!("expired at {e}"),
        _ => return None,
    };
    Some(Error::vault(
        substatus::KEY_VAULT_ACCESS,
        format!(
            "version {} of key {} {why} (usable for wrap in {window}, unix seconds; now is {now}); \
             change the window with `strata vault key set-attributes {} --version {}` or rotate \
             to a new version",
            attrs.version, attrs.name, attrs.name, attrs.version
        ),
    ))
}

/// Checks the window of a version about to wrap, at `now` (unix seconds, the vault's clock).
pub(super) fn check_wrap_window(attrs: &Attributes, now: u64) -> Result<()> {
    outside_window(attrs, now).map_or(Ok(()), Err)
}
