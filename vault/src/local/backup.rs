//! Key backup and restore: a key with all its versions and attributes, sealed under a key derived
//! from the vault's per-tenant secret (`tenant.key`, 32 random bytes, mode 0600), so only a vault
//! holding the same tenant's secret can restore it. Thread-safe (writer lock). Layout below; what
//! protects a backup is in docs/keys.md, "Key backup".
//!
//! ```text
//! blob   := magic "STRVBAK1" | format: u32 = 1 | tenant: bytes | salt: [32] | nonce: [12] | sealed
//! key    := HKDF-SHA256(ikm = tenant secret, salt, info = "strata/v1/vault-key-backup")
//! sealed := AES-256-GCM(key, nonce, aad = magic | format | tenant, plain)
//! plain  := name: bytes | count: u32 | (attributes: bytes | pkcs8_der: bytes) * count
//! ```

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use super::{Attributes, KeyRecord, LocalVault, Place, ALLOWED_BITS, KTY_RSA, OWNER};
use crate::error::{substatus, Error, Result};
use crate::key_uri::{check_key_name, check_version, KeyUri};
use strata_base::coding::{put_bytes, put_u32, Reader};
use strata_base::fs::{create_dir, read_if_exists, sync_dir, write_atomic};
use strata_base::seal::aead::{AeadKey, NONCE_LEN};
use strata_base::seal::derive_key;

const MAGIC: &[u8; 8] = b"STRVBAK1";
const FORMAT: u32 = 1;
const SALT_LEN: usize = 32;
const INFO: &[u8] = b"strata/v1/vault-key-backup";
/// The vault's per-tenant secret, beside vault.json.
pub(super) const TENANT_SECRET_FILE: &str = "tenant.key";

impl LocalVault {
    /// The tenant secret, created (random, mode 0600) on first use.
    fn tenant_secret(&self) -> Result<Zeroizing<[u8; 32]>> {
        let path = self.dir.join(TENANT_SECRET_FILE);
        if let Some(bytes) = read_if_exists(&path)? {
            let bytes = Zeroizing::new(bytes);
            if bytes.len() != 32 {
                return Err(Error::corruption(&path, 0, "the tenant secret is not 32 bytes"));
            }
            // Straight into the wiped buffer: no plain array copy of the secret on the stack.
            let mut secret = Zeroizing::new([0u8; 32]);
            secret.copy_from_slice(&bytes);
            return Ok(secret);
        }
        let mut s = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut s[..]);
        write_atomic(&path, &s[..], true)?;
        Ok(s)
    }

    /// Gives this vault the tenant secret of `peer`, a vault of the same tenant, so that each can
    /// restore the other's backups. 403.4002 if the tenants differ; 409 if this vault already
    /// has a different secret (its earlier backups would become unreadable here).
    pub fn share_tenant_secret(&self, peer: &LocalVault) -> Result<()> {
        if !peer.tenant_id.eq_ignore_ascii_case(&self.tenant_id) {
            return Err(tenant_error(&peer.tenant_id, self));
        }
        let theirs = peer.tenant_secret()?;
        let _w = self.lock();
        let path = self.dir.join(TENANT_SECRET_FILE);
        match read_if_exists(&path)?.map(Zeroizing::new) {
            None => Ok(write_atomic(&path, &theirs[..], true)?),
            Some(mine) if bool::from(subtle::ConstantTimeEq::ct_eq(&mine[..], &theirs[..])) => Ok(()),
            Some(_) => Err(Error::Conflict(format!(
                "vault {} already has its own tenant secret; backups made with it would no longer \
                 restore here, so it is not replaced",
                self.name
            ))),
        }
    }

    /// A protected backup of key `name` (live), all versions and attributes. 404 if there is no
    /// such key; 409 if it is deleted.
    pub fn backup_key(&self, name: &str) -> Result<Vec<u8>> {
        let res = self.backup_unaudited(name);
        self.audited(OWNER, "backup", Some(name), None, 200, res)
    }

    fn backup_unaudited(&self, name: &str) -> Result<Vec<u8>> {
        check_key_name(name).map_err(Error::BadRequest)?;
        self.require_exportable("backed up")?;
        let secret = self.tenant_secret()?;
        let _w = self.lock();
        self.require_live_for_update(name)?;
        let versions = self.versions(Place::Live, name)?;
        let mut plain = Zeroizing::new(Vec::new());
        put_bytes(&mut plain, name.as_bytes());
        put_u32(&mut plain, versions.len() as u32);
        for rec in &versions {
            let attrs = serde_json::to_vec(&rec.attrs)
                .map_err(|e| Error::Internal(format!("encoding key attributes: {e}")))?;
            put_bytes(&mut plain, &attrs);
            put_bytes(&mut plain, &rec.material);
        }
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let mut blob = header(&self.tenant_id);
        let aad = blob.clone();
        blob.extend_from_slice(&salt);
        blob.extend_from_slice(&nonce);
        let mut sealed = Vec::with_capacity(plain.len() + 16);
        sealed.extend_from_slice(&plain);
        derive(&secret, &salt).seal_in_place(nonce, &aad, &mut sealed);
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// Restores a key from `backup_key`'s blob under its original name and versions. 403.4002 if
    /// the backup is of another tenant; 400 if it is damaged or this vault lacks the tenant's
    /// secret; 409 if a key of that name exists (live or deleted). Returns the key's URI.
    pub fn restore_key(&self, blob: &[u8]) -> Result<KeyUri> {
        let res = self.restore_unaudited(blob);
        let name = res.as_ref().ok().map(|u| u.name().to_string());
        self.audited(OWNER, "restore", name.as_deref(), None, 201, res)
    }

    fn restore_unaudited(&self, blob: &[u8]) -> Result<KeyUri> {
        self.require_exportable("restored from a backup")?;
        let damaged = || Error::BadRequest("the key backup is damaged or not a Strata key backup".into());
        let mut r = Reader::new(blob);
        if r.take(8) != Some(&MAGIC[..]) || r.u32() != Some(FORMAT) {
            return Err(damaged());
        }
        let tenant = r
            .bytes()
            .and_then(|t| std::str::from_utf8(t).ok())
            .ok_or_else(damaged)?;
        if !tenant.eq_ignore_ascii_case(&self.tenant_id) {
            return Err(tenant_error(tenant, self));
        }
        let aad_len = r.position();
        let salt: [u8; SALT_LEN] = r.array().ok_or_else(damaged)?;
        let nonce: [u8; NONCE_LEN] = r.array().ok_or_else(damaged)?;
        let mut plain = Zeroizing::new(r.take(r.remaining()).ok_or_else(damaged)?.to_vec());
        let secret = self.tenant_secret()?;
        if !derive(&secret, &salt).open_in_place(nonce, &blob[..aad_len], &mut plain) {
            return Err(Error::BadRequest(format!(
                "the key backup does not decrypt with vault {}'s tenant secret: it is damaged, or \
                 this vault does not share the secret of tenant {tenant} (see `strata vault \
                 create --tenant`)",
                self.name
            )));
        }
        let mut p = Reader::new(&plain);
        let name = p
            .bytes()
            .and_then(|n| std::str::from_utf8(n).ok())
            .ok_or_else(damaged)?;
        check_key_name(name).map_err(|_| damaged())?;
        let count = p.u32().ok_or_else(damaged)?;
        let mut records = Vec::new();
        for _ in 0..count {
            let attrs = p.bytes().ok_or_else(damaged)?;
            let der = p.bytes().ok_or_else(damaged)?;
            let attrs: Attributes = serde_json::from_slice(attrs).map_err(|_| damaged())?;
            let valid = attrs.name == name
                && check_version(&attrs.version).is_ok()
                && attrs.kty == KTY_RSA
                && ALLOWED_BITS.contains(&attrs.bits);
            if !valid {
                return Err(damaged());
            }
            let rec = KeyRecord {
                path: self.version_path(Place::Live, name, &attrs.version),
                attrs,
                material: Zeroizing::new(der.to_vec()),
            };
            super::file_keys::private_key(&rec.held(&self.name)).map_err(|_| damaged())?;
            records.push(rec);
        }
        if !p.is_empty() || records.is_empty() {
            return Err(damaged());
        }
        let _w = self.lock();
        self.check_no_case_clash(name)?;
        if self.key_exists(Place::Live, name)? || self.key_exists(Place::Deleted, name)? {
            return Err(Error::Conflict(format!(
                "a key named {name} exists already in vault {} (live or deleted); restore only \
                 replaces nothing: delete and purge it first, or restore into another vault",
                self.name
            )));
        }
        let kdir = self.key_dir(Place::Live, name);
        create_dir(&kdir, true)?;
        for rec in &records {
            self.write_record(rec)?;
        }
        sync_dir(&kdir)?;
        sync_dir(&self.place_dir(Place::Live))?;
        KeyUri::new(&self.name, name, None)
    }
}

impl LocalVault {
    /// 409 for a vault whose private keys cannot leave their holder (a PKCS#11 token).
    fn require_exportable(&self, what: &str) -> Result<()> {
        if self.holder.exportable() {
            return Ok(());
        }
        Err(Error::Conflict(format!(
            "the keys of vault {} live in a PKCS#11 token and are not extractable, so they \
             cannot be {what}; back up the token with its vendor's tools",
            self.name
        )))
    }
}

fn header(tenant: &str) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    put_u32(&mut h, FORMAT);
    put_bytes(&mut h, tenant.as_bytes());
    h
}

fn derive(secret: &[u8; 32], salt: &[u8; SALT_LEN]) -> AeadKey {
    AeadKey::new(&derive_key(secret, Some(salt), INFO))
}

fn tenant_error(tenant: &str, vault: &LocalVault) -> Error {
    Error::vault(
        substatus::KEY_VAULT_ACCESS,
        format!(
            "the key backup belongs to tenant {tenant}, but vault {} is in tenant {}; a key \
             backup restores only into a vault of its own tenant",
            vault.name, vault.tenant_id
        ),
    )
}
