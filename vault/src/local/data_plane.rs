//! The local vault's key operations on behalf of a principal: get, list, wrapKey, unwrapKey. Each
//! first lets a due rotation policy create its new version (rotation.rs), then checks the caller
//! through `check_access`, the one gate that consults the vault's active permission model (access
//! policies or roles; 403.4002 if the permission is missing), then the key, and is recorded in the
//! audit log before its result is returned. Wrap also needs the version inside its activation
//! window (see attributes.rs); unwrap does not. Thread-safe.

use zeroize::Zeroizing;

use super::{KeyInfo, LocalVault};
use crate::error::{substatus, Error, Result};
use crate::permission::Permission;
use crate::rbac::{self, PermissionModel};
use crate::{KeyUri, Principal};

impl LocalVault {
    /// The attributes of the key version `uri` names (or of the newest enabled version), as
    /// `caller`, which needs the get permission. 403.4003 if there is no such key.
    pub fn get_key(&self, caller: &Principal, uri: &KeyUri) -> Result<KeyInfo> {
        self.autorotate_for(uri);
        let res = self
            .check_access(caller, Permission::Get, Some(uri.name()))
            .and_then(|()| self.resolve(uri))
            .and_then(|rec| rec.attrs.into_info(&self.name, false));
        let version = match &res {
            Ok(info) => Some(info.version.clone()),
            Err(_) => uri.version().map(str::to_string),
        };
        let caller = caller.to_string();
        self.audited(&caller, "get", Some(uri.name()), version.as_deref(), 200, res)
    }

    /// Wraps `dek` with RSA-OAEP-SHA256 under the key `uri` names: its version, or without one the
    /// newest enabled version, as `caller` (needs wrapKey). Returns the versioned key id that
    /// unwraps it, and the wrapped bytes.
    pub fn wrap_key(&self, caller: &Principal, uri: &KeyUri, dek: &[u8]) -> Result<(KeyUri, Vec<u8>)> {
        self.autorotate_for(uri);
        let res = self
            .check_access(caller, Permission::WrapKey, Some(uri.name()))
            .and_then(|()| self.wrap_unchecked(uri, dek));
        let version = match &res {
            Ok((kid, _)) => kid.version().map(str::to_string),
            Err(_) => uri.version().map(str::to_string),
        };
        let caller = caller.to_string();
        self.audited(&caller, "wrapKey", Some(uri.name()), version.as_deref(), 200, res)
    }

    /// Unwraps bytes made by `wrap_key`, as `caller` (needs unwrapKey). `kid` must name the
    /// version that wrapped them (400 if it has none); 403.4005 if the bytes are damaged or were
    /// wrapped under another key.
    pub fn unwrap_key(&self, caller: &Principal, kid: &KeyUri, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.autorotate_for(kid);
        let res = self
            .check_access(caller, Permission::UnwrapKey, Some(kid.name()))
            .and_then(|()| self.unwrap_unchecked(kid, wrapped));
        let caller = caller.to_string();
        self.audited(&caller, "unwrapKey", Some(kid.name()), kid.version(), 200, res)
    }

    /// Every version of every live key (no deleted ones), sorted by name, then creation, as
    /// `caller`, which needs the list permission on the whole vault (a key-scoped role does not
    /// cover it). The data-plane counterpart of the owner's [`LocalVault::list_keys`].
    pub fn list_keys_as(&self, caller: &Principal) -> Result<Vec<KeyInfo>> {
        self.autorotate_all();
        let res = self
            .check_access(caller, Permission::List, None)
            .and_then(|()| self.list_keys_unaudited())
            .map(|keys| keys.into_iter().filter(|k| !k.deleted).collect());
        let caller = caller.to_string();
        self.audited(&caller, "list", None, None, 200, res)
    }

    /// The one gate of every data-plane call: 403.4002 unless the vault's active permission model
    /// grants `caller` the permission on `key` (`None`: the vault as a whole). Under the
    /// access-policy model role assignments are ignored, and under rbac access policies are.
    fn check_access(&self, caller: &Principal, perm: Permission, key: Option<&str>) -> Result<()> {
        let rules = self.access()?;
        match self.read_meta()?.permission_model {
            PermissionModel::AccessPolicy => rules.check(&self.name, caller, perm),
            PermissionModel::Rbac => rbac::check(&self.name, &rules.role_assignments, caller, perm, key),
        }
    }

    fn wrap_unchecked(&self, uri: &KeyUri, dek: &[u8]) -> Result<(KeyUri, Vec<u8>)> {
        let rec = self.resolve(uri)?;
        super::attributes::check_wrap_window(&rec.attrs, self.now())?;
        let held = rec.held(&self.name);
        let max = held.max_wrap_len();
        if dek.is_empty() || dek.len() > max {
            return Err(Error::BadRequest(format!(
                "a data key of {} bytes cannot be wrapped with RSA-OAEP-256 under a {}-bit key; \
                 it must be 1 to {max} bytes",
                dek.len(),
                rec.attrs.bits
            )));
        }
        let wrapped = self.holder.wrap(&held, dek)?;
        let kid = KeyUri::new(&self.name, &rec.attrs.name, Some(&rec.attrs.version))?;
        Ok((kid, wrapped))
    }

    fn unwrap_unchecked(&self, kid: &KeyUri, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let Some(version) = kid.version() else {
            return Err(Error::BadRequest(format!(
                "unwrapping needs the versioned key id that wrapped the data key \
                 ({kid}/<version>), as returned by wrap; got a key URI without a version"
            )));
        };
        let rec = self.resolve(kid)?;
        self.holder
            .unwrap(&rec.held(&self.name), wrapped)?
            .ok_or_else(|| {
                Error::vault(
                    substatus::KEY_WRAP_FAILED,
                    format!(
                        "unwrapping with version {version} of key {} failed: the wrapped key is \
                     damaged or was wrapped under a different key or version; check that the \
                     key id stored with it is {kid} and restore the wrapped key from a backup",
                        kid.name()
                    ),
                )
            })
    }
}
