//! The token objects of one key version and how they are found: each version is an RSA key pair
//! made in the token with C_GenerateKeyPair, both halves persistent (CKA_TOKEN) and carrying
//!
//! ```text
//! CKA_LABEL := "strata/" vault "/" key "/" version        (readable in any token browser)
//! CKA_ID    := the 16 bytes whose hex is the version       (what the vault's record keeps)
//! ```
//!
//! The private half is CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, and may only decrypt;
//! the public half may only encrypt. Enabled maps onto CKA_DECRYPT / CKA_ENCRYPT.

use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::types::Ulong;

/// RSA public exponent 65537.
const PUBLIC_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// The label of version `version` of key `name` in vault `vault`.
pub(super) fn label(vault: &str, name: &str, version: &str) -> Vec<u8> {
    format!("strata/{vault}/{name}/{version}").into_bytes()
}

/// The CKA_ID of a version: its 32 hex characters as 16 bytes (`None` if not hex).
pub(super) fn id_of(version: &str) -> Option<Vec<u8>> {
    if !version.len().is_multiple_of(2) {
        return None;
    }
    (0..version.len())
        .step_by(2)
        .map(|i| version.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// Generates the key pair of one version in the token; returns (public, private).
pub(super) fn generate(
    session: &Session,
    label: &[u8],
    id: &[u8],
    bits: usize,
) -> cryptoki::error::Result<(ObjectHandle, ObjectHandle)> {
    let public = [
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::ModulusBits(Ulong::from(bits as u64)),
        Attribute::PublicExponent(PUBLIC_EXPONENT.to_vec()),
        Attribute::Encrypt(true),
        Attribute::Verify(false),
        Attribute::Wrap(false),
        Attribute::Label(label.to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    let private = [
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Decrypt(true),
        Attribute::Sign(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        // OAEP inside the token, or raw RSA for tokens without SHA-256 OAEP (see holder.rs).
        Attribute::AllowedMechanisms(vec![MechanismType::RSA_PKCS_OAEP, MechanismType::RSA_X_509]),
        Attribute::Label(label.to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
}

/// The objects of class `class` with this label and id (normally one; none once destroyed).
pub(super) fn find(
    session: &Session,
    class: ObjectClass,
    label: &[u8],
    id: &[u8],
) -> cryptoki::error::Result<Vec<ObjectHandle>> {
    session.find_objects(&[
        Attribute::Class(class),
        Attribute::Token(true),
        Attribute::Label(label.to_vec()),
        Attribute::Id(id.to_vec()),
    ])
}

/// What a secret key is for: HMAC (sign/verify) or encryption (encrypt/decrypt), nothing else.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SecretUse {
    Mac,
    Encrypt,
}

/// The template of a persistent secret key of `len` bytes: private, sensitive, not extractable,
/// allowed only `usage` (never wrap, unwrap or derive).
pub(super) fn secret_key_template(
    key_type: KeyType,
    len: u64,
    usage: SecretUse,
    label: &[u8],
    id: &[u8],
) -> Vec<Attribute> {
    let mac = usage == SecretUse::Mac;
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(key_type),
        Attribute::ValueLen(Ulong::from(len)),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(mac),
        Attribute::Verify(mac),
        Attribute::Encrypt(!mac),
        Attribute::Decrypt(!mac),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label.to_vec()),
        Attribute::Id(id.to_vec()),
    ]
}
