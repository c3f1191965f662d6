//! The seal reference of `strata bench`: raw AES-256-GCM (`ring`) and the engine's `FileCipher`
//! with one layer (SMK) and two (CMK), sealing 16 KiB blocks for a fixed time. CPU only; it must
//! not touch the bench's accounts or files.

use std::time::{Duration, Instant};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use strata_engine::crypto::{BlockKind, FileKind};
use strata_engine::CipherSuite;

use super::data::Rng;
use super::SEED;

/// The block size the engine seals segment data in.
const BLOCK: usize = 16 * 1024;

/// Throughput in MiB/s of raw `ring` AES-256-GCM and of the engine's file cipher (one and two
/// layers), sealing 16 KiB blocks.
pub(super) struct Seal {
    pub raw: f64,
    pub smk: f64,
    pub cmk: f64,
}

pub(super) fn seal_reference(budget: Duration) -> Seal {
    let mut key_bytes = [0u8; 32];
    let mut rng = Rng::new(SEED);
    for b in key_bytes.iter_mut() {
        *b = rng.next() as u8;
    }
    let raw = match UnboundKey::new(&AES_256_GCM, &key_bytes) {
        Ok(k) => {
            let key = LessSafeKey::new(k);
            let mut buf = vec![0x5a_u8; BLOCK];
            let mut counter = 0u64;
            throughput(budget, || {
                buf.truncate(BLOCK);
                counter += 1;
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&counter.to_be_bytes());
                // Sealing a buffer of this size cannot fail.
                let _ = key.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from([0u8; 26]),
                    &mut buf,
                );
            })
        }
        Err(_) => 0.0,
    };
    let file = |layers: bool| {
        let (cipher, _salt) = CipherSuite::ephemeral(layers).new_file(FileKind::Segment, 1);
        let mut buf = vec![0x5a_u8; BLOCK];
        let mut block_no = 0u64;
        throughput(budget, || {
            buf.truncate(BLOCK);
            block_no += 1;
            // An ephemeral suite always holds its keys, so the seal is never refused.
            if let Ok(sealed) = cipher.seal(block_no, BlockKind::Data, std::mem::take(&mut buf)) {
                buf = sealed;
            }
        })
    };
    Seal {
        raw,
        smk: file(false),
        cmk: file(true),
    }
}

/// MiB/s of `f` sealing one `BLOCK` per call, run for about `budget`.
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
