//! Secrets do not leak through the types a caller can reach: `Debug` of a `CipherSuite` and of
//! a `FileCipher` is redacted, `Debug` of a `LocalVault` and of its key listing shows no key
//! material, and the errors of failed unwraps (damaged, truncated, foreign or unversioned input)
//! carry neither the data key nor any piece of the vault's private-key files, in `Display` or
//! `Debug`. The unwrapped key comes back in a zeroizing container. (`Dek`'s `ZeroizeOnDrop` is
//! crate-private and is asserted inside the engine; see docs/reliability.md.)

use crate::common;

use std::path::Path;

use strata::crypto::FileKind;
use strata::{substatus, CipherSuite, Error, KeyUri, LocalVault, Principal};

/// Every encoding of every `window`-byte piece of `secret` a message could plausibly carry:
/// lower and upper hex, and Rust's `Debug` of a byte slice (`[1, 2, 3]`).
fn encodings(secret: &[u8], window: usize) -> Vec<String> {
    let mut out = Vec::new();
    for w in secret.windows(window) {
        let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
        out.push(hex.to_uppercase());
        out.push(hex);
        out.push(format!("{w:?}").trim_matches(['[', ']']).to_string());
    }
    out
}

/// Standard base64 of `bytes` (no dependency for it in the test crate).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    s
}

/// Asserts `text` holds no encoding of any 12-byte piece of `secret`, nor a 24-character piece of
/// its base64 (at each of the three alignments).
fn assert_no_leak(text: &str, secret: &[u8], what: &str) {
    for e in encodings(secret, 12) {
        assert!(!text.contains(&e), "{what}: leaks {e:?} in {text:?}");
    }
    for shift in 0..3.min(secret.len()) {
        let b = base64(&secret[shift..]);
        let chars: Vec<char> = b.chars().collect();
        for w in chars.windows(24).step_by(4) {
            let piece: String = w.iter().collect();
            assert!(!text.contains(&piece), "{what}: leaks base64 {piece:?}");
        }
    }
}

/// The longest run of hex digits in `s`.
fn longest_hex_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

fn vault_files(dir: &Path) -> Vec<Vec<u8>> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("audit"))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn cipher_suite_and_file_cipher_debug_are_redacted() {
    for customer_layer in [false, true] {
        let suite = CipherSuite::ephemeral(customer_layer);
        for text in [format!("{suite:?}"), format!("{suite:#?}")] {
            assert!(text.contains("redacted"), "{text}");
            assert!(text.len() < 80, "suspiciously long: {text}");
            assert!(longest_hex_run(&text) < 8, "{text}");
            assert!(!text.contains('['), "looks like a byte array: {text}");
        }
        let (fc, salt) = suite.new_file(FileKind::Wal, 7);
        let text = format!("{fc:?}");
        assert!(text.contains("redacted"), "{text}");
        assert!(longest_hex_run(&text) < 8, "{text}");
        // The salt is public; the keys are not: nothing but the redaction marker and kind/id.
        assert_no_leak(&text, &salt, "FileCipher Debug vs its salt");
        let layers = text.matches("redacted").count();
        assert_eq!(layers, if customer_layer { 2 } else { 1 }, "{text}");
    }
}

/// What is wrong, the key id and bytes given to unwrap, the expected (status, substatus).
type UnwrapCase = (&'static str, KeyUri, Vec<u8>, (u16, u32));

#[test]
fn vault_debug_and_errors_carry_no_key_material() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = LocalVault::open(&tmp.path().join("vault")).unwrap();
    let uri = vault.create_key("secret-key", 2048).unwrap();
    let other = vault.create_key("other-key", 2048).unwrap();
    let key_files = vault_files(vault.dir());
    assert!(
        key_files.iter().any(|f| f.len() > 1000),
        "no private-key file found to compare with"
    );

    let debug = format!("{vault:?} {vault:#?} {:?}", vault.list_keys().unwrap());
    for f in &key_files {
        assert_no_leak(&debug, f, "vault Debug");
    }
    assert!(!debug.contains("PRIVATE"), "{debug}");

    // A distinctive data key, wrapped and unwrapped as the first party (granted by default).
    let dek: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let caller = Principal::FirstParty;
    let (kid, wrapped) = vault.wrap_key(&caller, &uri, &dek).unwrap();
    assert_no_leak(&format!("{kid:?} {kid}"), &dek, "the key id");
    let plain = vault.unwrap_key(&caller, &kid, &wrapped).unwrap();
    assert_eq!(plain.as_slice(), dek.as_slice());
    let ty = std::any::type_name_of_val(&plain);
    assert!(
        ty.contains("Zeroizing"),
        "unwrap returns {ty}, which is not zeroized on drop"
    );

    let mut flipped = wrapped.clone();
    flipped[100] ^= 1;
    let (_, wrapped_other) = vault.wrap_key(&caller, &other, &dek).unwrap();
    let unversioned = KeyUri::parse(&uri.without_version().to_string()).unwrap();
    let cases: Vec<UnwrapCase> = vec![
        (
            "one bit flipped",
            kid.clone(),
            flipped,
            (403, substatus::KEY_WRAP_FAILED),
        ),
        (
            "truncated",
            kid.clone(),
            wrapped[..wrapped.len() - 1].to_vec(),
            (403, substatus::KEY_WRAP_FAILED),
        ),
        (
            "empty",
            kid.clone(),
            Vec::new(),
            (403, substatus::KEY_WRAP_FAILED),
        ),
        (
            "wrapped under another key",
            kid.clone(),
            wrapped_other,
            (403, substatus::KEY_WRAP_FAILED),
        ),
        ("unversioned key id", unversioned, wrapped.clone(), (400, 0)),
    ];
    for (what, kid, bytes, want) in cases {
        let e: Error = match vault.unwrap_key(&caller, &kid, &bytes) {
            Ok(_) => panic!("{what}: unwrapped"),
            Err(e) => strata::Error::from(e),
        };
        assert_eq!((e.status(), e.substatus()), want, "{what}: {e}");
        let text = format!("{e} {e:?}");
        assert_no_leak(&text, &dek, what);
        assert_no_leak(&text, &bytes, what);
        for f in &key_files {
            assert_no_leak(&text, f, what);
        }
        assert!(longest_hex_run(&text) <= 32, "{what}: a long hex run in {text}");
        eprintln!("{what}: {e}");
    }

    // A refused caller learns nothing either.
    let stranger = Principal::User("stranger".into());
    let e = vault.unwrap_key(&stranger, &kid, &wrapped).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert_no_leak(&format!("{e} {e:?}"), &dek, "refused caller");
}
