//! The PKCS#11 backend against SoftHSM2 (ignored by default: scripts/test.sh runs them with
//! `--ignored` after installing softhsm2; they fail without the module).

use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};

use super::objects;
use super::soft_token::SoftToken;
use super::TokenKeys;
use crate::error::substatus;
use crate::{KeyUri, LocalVault, Principal, VaultProperties};

const DEK: [u8; 32] = [0x5a; 32];

fn token_vault(token: &SoftToken) -> (tempfile::TempDir, LocalVault) {
    let tmp = tempfile::tempdir().unwrap();
    let v = LocalVault::create_in_token(
        &tmp.path().join("v"),
        "hsm",
        &VaultProperties::default_vault(),
        &token.config,
    )
    .unwrap();
    (tmp, v)
}

fn status(e: &crate::Error) -> (u16, u32) {
    (e.status(), e.substatus())
}

/// A session of our own on `token`, and the label and id of `uri`'s version.
fn objects_of(token: &SoftToken, uri: &KeyUri) -> (TokenKeys, Vec<u8>, Vec<u8>) {
    let keys = TokenKeys::open(&token.config).unwrap();
    let version = uri.version().unwrap();
    let label = objects::label(uri.vault(), uri.name(), version);
    (keys, label, objects::id_of(version).unwrap())
}

/// The attributes of the one object of `class` for `uri`'s version, read through a session.
fn object_attrs(
    token: &SoftToken,
    uri: &KeyUri,
    class: ObjectClass,
    want: &[AttributeType],
) -> Vec<Attribute> {
    let (keys, label, id) = objects_of(token, uri);
    keys.with_session("test", |s| {
        let found = objects::find(s, class, &label, &id)?;
        assert_eq!(found.len(), 1, "one {class:?} for {uri}");
        s.get_attributes(found[0], want)
    })
    .unwrap()
}

#[test]
#[ignore = "needs SoftHSM2"]
fn keys_are_made_in_the_token_and_wrap_unwrap_there() {
    let token = SoftToken::create();
    let (tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let me = Principal::FirstParty;
    let (kid, wrapped) = v.wrap_key(&me, &uri.without_version(), &DEK).unwrap();
    assert_eq!(kid, uri);
    assert_eq!(wrapped.len(), 256);
    assert_eq!(&v.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &DEK[..]);
    // A damaged wrapped key is 403.4005, not a token error.
    let mut bad = wrapped.clone();
    bad[7] ^= 1;
    let e = v.unwrap_key(&me, &kid, &bad).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_WRAP_FAILED), "{e}");
    // The record in the vault directory keeps only the 16-byte object id, no key.
    let rec = tmp
        .path()
        .join(format!("v/keys/cmk/{}.key", uri.version().unwrap()));
    let bytes = std::fs::read(rec).unwrap();
    assert!(
        bytes.len() < 400,
        "the record holds no private key: {} bytes",
        bytes.len()
    );
    let cfg = v.token().unwrap().unwrap();
    assert_eq!(
        (&cfg.module, &cfg.token, &cfg.pin_env),
        (&token.config.module, &token.config.token, &token.config.pin_env)
    );
    assert!(cfg.seal_key.is_some(), "the vault has a record seal key");
    // Key backups cannot carry a token's keys.
    assert_eq!(v.backup_key("cmk").unwrap_err().status(), 409);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn the_private_key_is_sensitive_and_cannot_be_read_out() {
    let token = SoftToken::create();
    let (_tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let attrs = object_attrs(
        &token,
        &uri,
        ObjectClass::PRIVATE_KEY,
        &[
            AttributeType::Sensitive,
            AttributeType::Extractable,
            AttributeType::Token,
            AttributeType::NeverExtractable,
            AttributeType::Local,
        ],
    );
    for a in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Token(true),
        Attribute::NeverExtractable(true),
        Attribute::Local(true),
    ] {
        assert!(attrs.contains(&a), "{a:?} in {attrs:?}");
    }
    // C_GetAttributeValue on the secret parts answers CKR_ATTRIBUTE_SENSITIVE (AttributeInfo::
    // Sensitive); CKA_VALUE is never available either.
    let (keys, label, id) = objects_of(&token, &uri);
    let info = keys
        .with_session("test", |s| {
            let h = objects::find(s, ObjectClass::PRIVATE_KEY, &label, &id)?[0];
            s.get_attribute_info(
                h,
                &[
                    AttributeType::Value,
                    AttributeType::PrivateExponent,
                    AttributeType::Prime1,
                    AttributeType::Prime2,
                ],
            )
        })
        .unwrap();
    // An RSA private key has no CKA_VALUE at all (PKCS#11: CKR_ATTRIBUTE_TYPE_INVALID); its
    // secret is the exponent and primes, refused as sensitive.
    assert!(
        matches!(info[0], AttributeInfo::TypeInvalid),
        "CKA_VALUE: {:?}",
        info[0]
    );
    for i in &info[1..] {
        assert!(matches!(i, AttributeInfo::Sensitive), "{info:?}");
    }
    // The vault's record seal key is a secret key: its CKA_VALUE is refused as sensitive.
    let seal_id =
        strata_base::seal::hex::decode(v.token().unwrap().unwrap().seal_key.as_deref().unwrap()).unwrap();
    let seal_info = keys
        .with_session("test", |s| {
            let h = super::seal::find(s, "hsm", &seal_id)?[0];
            s.get_attribute_info(h, &[AttributeType::Value])
        })
        .unwrap();
    assert!(matches!(seal_info[0], AttributeInfo::Sensitive), "{seal_info:?}");
}

#[test]
#[ignore = "needs SoftHSM2"]
fn disabling_switches_the_key_off_in_the_token_itself() {
    let token = SoftToken::create();
    let (_tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let me = Principal::FirstParty;
    let (kid, wrapped) = v.wrap_key(&me, &uri, &DEK).unwrap();
    v.set_enabled("cmk", None, false).unwrap();
    let e = v.unwrap_key(&me, &kid, &wrapped).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    let attrs = object_attrs(&token, &uri, ObjectClass::PRIVATE_KEY, &[AttributeType::Decrypt]);
    assert_eq!(attrs, vec![Attribute::Decrypt(false)]);
    // Even a caller going around the vault's record is refused by the token.
    let (keys, label, id) = objects_of(&token, &uri);
    let e = keys
        .with_session("C_Decrypt", |s| {
            let h = objects::find(s, ObjectClass::PRIVATE_KEY, &label, &id)?[0];
            s.decrypt(&cryptoki::mechanism::Mechanism::RsaX509, h, &wrapped)
        })
        .unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    v.set_enabled("cmk", None, true).unwrap();
    assert_eq!(&v.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &DEK[..]);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn rotate_delete_recover_and_purge_map_onto_token_objects() {
    let token = SoftToken::create();
    let tmp = tempfile::tempdir().unwrap();
    let props = VaultProperties {
        purge_protection: false,
        ..VaultProperties::default_vault()
    };
    let v = LocalVault::create_in_token(&tmp.path().join("v"), "hsm", &props, &token.config).unwrap();
    let me = Principal::FirstParty;
    let first = v.create_key("cmk", 2048).unwrap();
    let second = v.rotate_key("cmk").unwrap();
    let (kid, wrapped) = v.wrap_key(&me, &first.without_version(), &DEK).unwrap();
    assert_eq!(kid, second, "a version-less URI wraps with the newest version");
    v.set_enabled("cmk", Some(first.version().unwrap()), false)
        .unwrap();
    v.delete_key("cmk").unwrap();
    let e = v.unwrap_key(&me, &kid, &wrapped).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_NOT_FOUND), "{e}");
    // Deleted keys are switched off in the token too.
    for uri in [&first, &second] {
        let attrs = object_attrs(&token, uri, ObjectClass::PRIVATE_KEY, &[AttributeType::Decrypt]);
        assert_eq!(attrs, vec![Attribute::Decrypt(false)], "{uri}");
    }
    v.recover_key("cmk").unwrap();
    // Recovery restores each version's own flag.
    for (uri, on) in [(&first, false), (&second, true)] {
        let attrs = object_attrs(&token, uri, ObjectClass::PRIVATE_KEY, &[AttributeType::Decrypt]);
        assert_eq!(attrs, vec![Attribute::Decrypt(on)], "{uri}");
    }
    assert_eq!(&v.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &DEK[..]);
    v.delete_key("cmk").unwrap();
    v.purge_key("cmk").unwrap();
    for uri in [&first, &second] {
        let (keys, label, id) = objects_of(&token, uri);
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            let left = keys
                .with_session("find", |s| objects::find(s, class, &label, &id))
                .unwrap();
            assert!(left.is_empty(), "purge destroyed {class:?} of {uri}");
        }
    }
}

#[test]
#[ignore = "needs SoftHSM2"]
fn a_wrong_token_or_missing_pin_is_refused_and_creates_nothing() {
    let token = SoftToken::create();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let props = VaultProperties::default_vault();
    let mut cfg = token.config.clone();
    cfg.pin_env = "STRATA_TEST_NO_SUCH_PIN".into();
    let e = LocalVault::create_in_token(&dir, "hsm", &props, &cfg).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    assert!(e.to_string().contains("STRATA_TEST_NO_SUCH_PIN"), "{e}");
    let mut cfg = token.config.clone();
    cfg.token = "no-such-token".into();
    let e = LocalVault::create_in_token(&dir, "hsm", &props, &cfg).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    assert!(!dir.exists(), "nothing was written");
    // A 3072-bit key, as the CLI makes by default.
    let v = LocalVault::create_in_token(&dir, "hsm", &props, &token.config).unwrap();
    let uri = v.create_key("big", 3072).unwrap();
    let (_, wrapped) = v.wrap_key(&Principal::FirstParty, &uri, &DEK).unwrap();
    assert_eq!(wrapped.len(), 384);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn concurrent_callers_share_the_session_and_a_lost_login_is_restored() {
    let token = SoftToken::create();
    let (_tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let me = Principal::FirstParty;
    let v = std::sync::Arc::new(v);
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let (v, uri, me) = (v.clone(), uri.clone(), me.clone());
            s.spawn(move || {
                for i in 0..5u8 {
                    let dek = [t, i, 7, 9];
                    let (kid, wrapped) = v.wrap_key(&me, &uri, &dek).unwrap();
                    assert_eq!(&v.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &dek[..]);
                }
            });
        }
    });
    // Another handle logs the whole application out of the token (C_Logout is per application):
    // the vault logs in again on its next call instead of calling the key missing.
    let (kid, wrapped) = v.wrap_key(&me, &uri, &DEK).unwrap();
    let other = TokenKeys::open(&token.config).unwrap();
    other.with_session("logout", |s| s.logout()).unwrap();
    assert_eq!(&v.unwrap_key(&me, &kid, &wrapped).unwrap()[..], &DEK[..]);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn records_are_sealed_by_the_token_and_edits_are_detected() {
    use strata_base::coding::{put_bytes, Reader};
    use strata_base::meta_file;

    use crate::format_version::{VAULT_KEY_MAGIC, VAULT_KEY_VERSION};

    let token = SoftToken::create();
    let (tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let me = Principal::FirstParty;
    let path = tmp
        .path()
        .join(format!("v/keys/cmk/{}.key", uri.version().unwrap()));
    let original = std::fs::read(&path).unwrap();
    let (_, payload) = meta_file::decode(&path, VAULT_KEY_MAGIC, &original).unwrap();
    let mut r = Reader::new(payload);
    let (attrs, material, seal) = (r.bytes().unwrap(), r.bytes().unwrap(), r.bytes().unwrap());
    assert_eq!(seal.len(), 32, "an HMAC-SHA-256 seal");
    let reframe = |attrs: &[u8], seal: Option<&[u8]>| {
        let mut p = Vec::new();
        put_bytes(&mut p, attrs);
        put_bytes(&mut p, material);
        if let Some(s) = seal {
            put_bytes(&mut p, s);
        }
        std::fs::write(&path, meta_file::encode(VAULT_KEY_MAGIC, VAULT_KEY_VERSION, &p)).unwrap();
    };
    // A well-framed edit (valid CRC) of the attributes, keeping the old seal.
    let text = String::from_utf8(attrs.to_vec()).unwrap();
    let edited = text.replace("\"bits\":2048", "\"bits\":4096");
    assert_ne!(edited, text);
    reframe(edited.as_bytes(), Some(seal));
    let e = v.get_key(&me, &uri).unwrap_err();
    assert!(e.is_corruption() && e.to_string().contains("seal"), "{e}");
    // The seal removed.
    reframe(attrs, None);
    let e = v.get_key(&me, &uri).unwrap_err();
    assert!(e.is_corruption() && e.to_string().contains("seal"), "{e}");
    // Put back, it verifies again.
    std::fs::write(&path, &original).unwrap();
    assert_eq!(v.get_key(&me, &uri).unwrap().bits, 2048);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn the_service_key_can_be_kept_encrypted_by_the_token() {
    use crate::ServiceKey;
    use strata_base::seal::Dek;

    let token = SoftToken::create();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("service");
    // A token that refuses the login leaves no service key behind.
    let mut no_pin = token.config.clone();
    no_pin.pin_env = "STRATA_TEST_NO_SUCH_PIN".into();
    let e = ServiceKey::create_in_token(&dir, &no_pin).err().unwrap();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    assert!(!dir.join("smk").exists());

    let a = ServiceKey::create_in_token(&dir, &token.config).unwrap();
    assert!(a.in_token());
    let dek = Dek::generate();
    let (salt, wrapped) = a.wrap_dek(&dek);
    let b = ServiceKey::load(&dir).unwrap();
    assert!(b.in_token());
    assert_eq!(a.key_id(), b.key_id());
    assert!(b.unwrap_dek(&salt, &wrapped).unwrap().ct_eq(dek.as_bytes()));
    // Creating again keeps the same key.
    let c = ServiceKey::create_in_token(&dir, &token.config).unwrap();
    assert_eq!(c.key_id(), a.key_id());
    // The file holds neither the SMK nor the PIN.
    let file = std::fs::read(dir.join("smk")).unwrap();
    let smk = a.raw_for_tests();
    assert!(!file.windows(smk.len()).any(|w| w == smk), "the SMK is on disk");
    let pin = std::env::var(&token.config.pin_env).unwrap();
    assert!(!file.windows(pin.len()).any(|w| w == pin.as_bytes()));
    // A home whose SMK is a plain file is not converted.
    let plain = tmp.path().join("plain");
    ServiceKey::load_or_create(&plain).unwrap();
    let e = ServiceKey::create_in_token(&plain, &token.config).err().unwrap();
    assert_eq!(e.status(), 409, "{e}");
}

#[test]
#[ignore = "needs SoftHSM2"]
fn access_rules_are_sealed_by_the_token_and_edits_are_detected() {
    use strata_base::coding::{put_bytes, Reader};
    use strata_base::meta_file;

    use crate::format_version::{VAULT_ACCESS_MAGIC, VAULT_ACCESS_SEALED_VERSION, VAULT_ACCESS_VERSION};

    let token = SoftToken::create();
    let (tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let ops = Principal::User("ops".into());
    v.set_policy(&ops, &[crate::Permission::Get]).unwrap();
    let path = tmp.path().join("v/access.json");
    let original = std::fs::read(&path).unwrap();
    let (version, payload) = meta_file::decode(&path, VAULT_ACCESS_MAGIC, &original).unwrap();
    assert_eq!(version, VAULT_ACCESS_SEALED_VERSION);
    let mut r = Reader::new(payload);
    let (json, seal) = (r.bytes().unwrap(), r.bytes().unwrap());
    // Granting ops unwrapKey by hand, keeping the seal: refused as corruption.
    let text = String::from_utf8(json.to_vec()).unwrap();
    let granted = text.replacen("\"get\"", "\"get\", \"wrapKey\", \"unwrapKey\"", 2);
    assert_ne!(granted, text);
    let mut p = Vec::new();
    put_bytes(&mut p, granted.as_bytes());
    put_bytes(&mut p, seal);
    std::fs::write(
        &path,
        meta_file::encode(VAULT_ACCESS_MAGIC, VAULT_ACCESS_SEALED_VERSION, &p),
    )
    .unwrap();
    let e = v.wrap_key(&ops, &uri, &DEK).unwrap_err();
    assert!(e.is_corruption() && e.to_string().contains("sealed"), "{e}");
    // Or as an unsealed (version 1) file: refused too.
    std::fs::write(
        &path,
        meta_file::encode(VAULT_ACCESS_MAGIC, VAULT_ACCESS_VERSION, granted.as_bytes()),
    )
    .unwrap();
    assert!(v.policies().unwrap_err().is_corruption());
    std::fs::write(&path, &original).unwrap();
    let e = v.wrap_key(&ops, &uri, &DEK).unwrap_err();
    assert_eq!(status(&e), (403, substatus::KEY_VAULT_ACCESS), "{e}");
    assert_eq!(v.policies().unwrap().len(), 2);
}

#[test]
#[ignore = "needs SoftHSM2"]
fn vault_json_and_rotation_policies_are_sealed_by_the_token() {
    use strata_base::coding::{put_bytes, Reader};
    use strata_base::meta_file;

    use crate::format_version::{
        VAULT_META_SEALED_MAGIC, VAULT_ROTATION_SEALED_MAGIC, VAULT_SEALED_DOC_VERSION,
    };

    let token = SoftToken::create();
    let (tmp, v) = token_vault(&token);
    v.create_key("cmk", 2048).unwrap();
    v.create_key("other", 2048).unwrap();
    v.set_rotation_policy("cmk", Some(30)).unwrap();
    v.set_rotation_policy("other", Some(60)).unwrap();
    // The JSON and its seal of a sealed document, and a reframing of edited JSON with a seal.
    let parts = |path: &std::path::Path, magic: &[u8; 8]| {
        let bytes = std::fs::read(path).unwrap();
        let (version, payload) = meta_file::decode(path, magic, &bytes).unwrap();
        assert_eq!(version, VAULT_SEALED_DOC_VERSION);
        let mut r = Reader::new(payload);
        let (json, seal) = (r.bytes().unwrap().to_vec(), r.bytes().unwrap().to_vec());
        (bytes, String::from_utf8(json).unwrap(), seal)
    };
    let reframe = |magic: &[u8; 8], json: &str, seal: &[u8]| {
        let mut p = Vec::new();
        put_bytes(&mut p, json.as_bytes());
        put_bytes(&mut p, seal);
        meta_file::encode(magic, VAULT_SEALED_DOC_VERSION, &p)
    };

    // rotation.json: an edit under the old seal, a plain file, another key's sealed policy.
    let policy = tmp.path().join("v/keys/cmk/rotation.json");
    let (original, json, seal) = parts(&policy, VAULT_ROTATION_SEALED_MAGIC);
    assert_eq!(json, r#"{"everyDays":30}"#);
    let refused = |bytes: &[u8], why: &str| {
        std::fs::write(&policy, bytes).unwrap();
        let e = v.rotation_policy("cmk").unwrap_err();
        assert!(e.is_corruption(), "{why}: {e}");
    };
    refused(
        &reframe(VAULT_ROTATION_SEALED_MAGIC, r#"{"everyDays":3650}"#, &seal),
        "edited",
    );
    refused(br#"{"everyDays":3650}"#, "plain");
    refused(
        &std::fs::read(tmp.path().join("v/keys/other/rotation.json")).unwrap(),
        "another key's",
    );
    std::fs::write(&policy, &original).unwrap();
    assert_eq!(v.rotation_policy("cmk").unwrap().unwrap().every_days, 30);

    // vault.json: switching the permission model by hand, with the old seal or without one.
    let meta = tmp.path().join("v/vault.json");
    let (original, json, seal) = parts(&meta, VAULT_META_SEALED_MAGIC);
    let edited = json.replace("\"access-policy\"", "\"rbac\"");
    assert_ne!(edited, json, "{json}");
    for (bytes, why) in [
        (reframe(VAULT_META_SEALED_MAGIC, &edited, &seal), "edited"),
        (edited.clone().into_bytes(), "plain"),
    ] {
        std::fs::write(&meta, bytes).unwrap();
        let e = LocalVault::open(&tmp.path().join("v")).unwrap_err();
        assert!(
            e.is_corruption() && e.to_string().contains("sealed"),
            "{why}: {e}"
        );
    }
    std::fs::write(&meta, &original).unwrap();
    let reopened = LocalVault::open(&tmp.path().join("v")).unwrap();
    assert_eq!(reopened.rotation_policy("other").unwrap().unwrap().every_days, 60);
    // A setting changed through the vault is sealed again.
    reopened
        .set_permission_model(crate::PermissionModel::Rbac)
        .unwrap();
    let (_, json, _) = parts(&meta, VAULT_META_SEALED_MAGIC);
    assert!(json.contains("\"rbac\""), "{json}");
    LocalVault::open(&tmp.path().join("v")).unwrap();
}

#[test]
#[ignore = "needs SoftHSM2"]
fn the_audit_log_is_a_chain_sealed_by_the_token() {
    let token = SoftToken::create();
    let (tmp, v) = token_vault(&token);
    let uri = v.create_key("cmk", 2048).unwrap();
    let me = Principal::FirstParty;
    let (kid, wrapped) = v.wrap_key(&me, &uri, &DEK).unwrap();
    v.unwrap_key(&me, &kid, &wrapped).unwrap();
    let all = crate::AuditFilter::default();
    let entries = v.audit_log(&all).unwrap();
    assert!(entries.len() >= 3, "{entries:?}");
    let path = tmp.path().join("v/audit.log");
    let original = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.iter().all(|l| l.contains("\"seal\":\"")), "{original}");
    let refused = |text: String, why: &str| {
        std::fs::write(&path, text).unwrap();
        let e = v.audit_log(&all).unwrap_err();
        assert!(e.is_corruption(), "{why}: {e}");
    };
    // A line removed from the middle, two lines swapped, a line's seal dropped.
    let mut removed = lines.clone();
    removed.remove(1);
    refused(removed.join("\n") + "\n", "removed");
    let mut swapped = lines.clone();
    swapped.swap(0, 1);
    refused(swapped.join("\n") + "\n", "swapped");
    let unsealed: String = lines
        .iter()
        .map(|l| l.split(",\"seal\":").next().unwrap().to_string() + "}\n")
        .collect();
    refused(unsealed, "unsealed");
    // Restored, the chain goes on across a reopen.
    std::fs::write(&path, &original).unwrap();
    let reopened = LocalVault::open(&tmp.path().join("v")).unwrap();
    reopened.unwrap_key(&me, &kid, &wrapped).unwrap();
    assert_eq!(reopened.audit_log(&all).unwrap().len(), entries.len() + 1);
}
