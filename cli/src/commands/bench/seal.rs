//! The seal reference of `strata bench`: raw AES-256-GCM with `ring` (what the engine uses) and
//! with RustCrypto's `aes-gcm`, sealing and opening 16 KiB blocks, and the engine's `FileCipher`
//! with one layer (SMK) and two (CMK), each for a fixed time. CPU only; it must not touch the
//! bench's accounts or files.

use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes256Gcm;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use strata_engine::crypto::{BlockKind, FileKind};
use strata_engine::CipherSuite;

use super::data::Rng;
use super::SEED;

/// The block size the engine seals segment data in.
const BLOCK: usize = 16 * 1024;
/// The engine's AAD length (file kind, id, block number, block kind, layer).
const AAD: [u8; 26] = [0u8; 26];

/// Throughput in MiB/s of one implementation, sealing and opening `BLOCK`-sized blocks.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Rate {
    pub seal: f64,
    pub open: f64,
}

/// The reference figures of one run.
pub(super) struct Seal {
    /// Raw AES-256-GCM with `ring`.
    pub raw: Rate,
    /// Raw AES-256-GCM with `aes-gcm` (RustCrypto).
    pub rust_crypto: Rate,
    /// The engine's file cipher, one layer and two.
    pub smk: Rate,
    pub cmk: Rate,
}

pub(super) fn seal_reference(budget: Duration) -> Seal {
    let mut key_bytes = [0u8; 32];
    let mut rng = Rng::new(SEED);
    for b in key_bytes.iter_mut() {
        *b = rng.next() as u8;
    }
    Seal {
        raw: ring_rate(&key_bytes, budget),
        rust_crypto: rust_crypto_rate(&key_bytes, budget),
        smk: file_rate(false, budget),
        cmk: file_rate(true, budget),
    }
}

fn nonce_bytes(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

fn ring_rate(key_bytes: &[u8; 32], budget: Duration) -> Rate {
    let Ok(k) = UnboundKey::new(&AES_256_GCM, key_bytes) else {
        return Rate::default();
    };
    let key = LessSafeKey::new(k);
    let mut buf = vec![0x5a_u8; BLOCK];
    let mut counter = 0u64;
    let seal = throughput(budget, || {
        buf.truncate(BLOCK);
        counter += 1;
        // Sealing a buffer of this size cannot fail.
        let _ = key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes(counter)),
            Aad::from(AAD),
            &mut buf,
        );
    });
    // One sealed block, opened again and again (a copy each time, as the engine opens).
    let mut sealed = vec![0x5a_u8; BLOCK];
    let _ = key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes(0)),
        Aad::from(AAD),
        &mut sealed,
    );
    let open = throughput(budget, || {
        let mut b = sealed.clone();
        let ok = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce_bytes(0)),
                Aad::from(AAD),
                &mut b,
            )
            .is_ok();
        debug_assert!(ok);
    });
    Rate { seal, open }
}

fn rust_crypto_rate(key_bytes: &[u8; 32], budget: Duration) -> Rate {
    let Ok(cipher) = Aes256Gcm::new_from_slice(key_bytes) else {
        return Rate::default();
    };
    let mut buf = vec![0x5a_u8; BLOCK];
    let mut counter = 0u64;
    let seal = throughput(budget, || {
        buf.truncate(BLOCK);
        counter += 1;
        // A Vec buffer grows to take the tag, so this cannot fail.
        let _ = cipher.encrypt_in_place((&nonce_bytes(counter)).into(), &AAD, &mut buf);
    });
    let mut sealed = vec![0x5a_u8; BLOCK];
    let _ = cipher.encrypt_in_place((&nonce_bytes(0)).into(), &AAD, &mut sealed);
    let open = throughput(budget, || {
        let mut b = sealed.clone();
        let ok = cipher
            .decrypt_in_place((&nonce_bytes(0)).into(), &AAD, &mut b)
            .is_ok();
        debug_assert!(ok);
    });
    Rate { seal, open }
}

fn file_rate(customer_layer: bool, budget: Duration) -> Rate {
    let (cipher, _salt) = CipherSuite::ephemeral(customer_layer).new_file(FileKind::Segment, 1);
    let mut buf = vec![0x5a_u8; BLOCK];
    let mut block_no = 0u64;
    let seal = throughput(budget, || {
        buf.truncate(BLOCK);
        block_no += 1;
        // An ephemeral suite always holds its keys, so the seal is never refused.
        if let Ok(sealed) = cipher.seal(block_no, BlockKind::Data, std::mem::take(&mut buf)) {
            buf = sealed;
        }
    });
    let Ok(sealed) = cipher.seal(0, BlockKind::Data, vec![0x5a_u8; BLOCK]) else {
        return Rate { seal, open: 0.0 };
    };
    let open = throughput(budget, || {
        let ok = matches!(cipher.open(0, BlockKind::Data, &sealed), Ok(Some(_)));
        debug_assert!(ok);
    });
    Rate { seal, open }
}

/// MiB/s of `f` handling one `BLOCK` per call, run for about `budget`.
fn throughput(budget: Duration, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < budget || n == 0 {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    (n as f64 * BLOCK as f64) / (1024.0 * 1024.0) / t.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rate_is_measured() {
        let s = seal_reference(Duration::from_millis(5));
        for (what, r) in [
            ("ring", s.raw),
            ("aes-gcm", s.rust_crypto),
            ("smk", s.smk),
            ("cmk", s.cmk),
        ] {
            assert!(r.seal > 0.0 && r.open > 0.0, "{what}: {r:?}");
        }
    }
}
