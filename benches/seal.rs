//! AES-256-GCM seal and open throughput: `ring` (the engine's AEAD, see engine/src/crypto/aead.rs)
//! against the RustCrypto `aes-gcm` crate, on the block sizes the engine seals (4, 16 and 64 KiB;
//! segment data blocks target 16 KiB). One criterion group per size (`aes-256-gcm/16KiB`), with
//! `seal/ring`, `seal/aes-gcm`, `open/ring`, `open/aes-gcm` in it, so the two crates are
//! reported side by side:
//!
//! ```text
//! cargo bench --bench seal              # everything (~40 s once built)
//! cargo bench --bench seal -- 16KiB     # one size
//! ```
//!
//! Both crates get the same key, a 26-byte AAD shaped like the engine's block AAD, and a buffer
//! with room for the tag, so neither allocates inside the timed loop.
//!
//! - seal: `ring` `seal_in_place_append_tag` vs `aes-gcm` `encrypt_in_place` (both append the tag
//!   to a `Vec`); the buffer is truncated back to the payload before each call, and each call uses
//!   a fresh counter nonce, as the engine does.
//! - open: `ring` `open_in_place` vs `aes-gcm` `decrypt_in_place_detached`. Opening in place turns
//!   the ciphertext into plaintext, so the next iteration would need a fresh copy (a memcpy as
//!   large as the block inside the timed loop). Instead we use that GCM is CTR mode: with a fixed
//!   key and nonce, decrypting `C = P ^ K` yields `P`, and "decrypting" `P` yields `C` again. So the
//!   buffer alternates between `C` and `P`, and each open is given the tag that authenticates what
//!   the buffer holds at that moment (`tag(C)` from sealing `P`, `tag(P)` from sealing `C`).
//!   Only 16 bytes are copied per iteration, and every open must verify, or the bench panics.
//!
//! - `seal/strata-smk`, `seal/strata-cmk`, `open/strata-smk`, `open/strata-cmk`: the engine's own
//!   per-file cipher (`FileCipher`: nonce and AAD construction, one or two layers) on the same
//!   block, to compare the wrapper against the raw AEAD (target: SMK at >= 80% of raw `ring`).
//!   Its seal takes the block by value, so each iteration gets a fresh copy made outside the
//!   timing; its open copies the sealed block out of the (mmapped) file, as reads do.
//!   benches/engine.rs measures the end-to-end SMK vs CMK cost through the account API.

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce as AesGcmNonce, Tag as AesGcmTag};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput};
use rand::{RngCore, SeedableRng};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use strata::crypto::{BlockKind, CipherSuite, FileKind};

const SIZES: [usize; 3] = [4 << 10, 16 << 10, 64 << 10];
const TAG_LEN: usize = 16;
/// Shaped like the engine's block AAD: "STRATA1" | kind | file id | block no | block kind | layer.
const AAD: [u8; 26] = *b"STRATA1\x02\x07\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0\x02\x02";

fn nonce_bytes(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    n
}

struct Ciphers {
    ring: LessSafeKey,
    rc: Aes256Gcm,
}

fn ciphers(key: &[u8; 32]) -> Ciphers {
    let unbound = UnboundKey::new(&AES_256_GCM, key).expect("ring accepts a 32-byte AES-256-GCM key");
    let rc = Aes256Gcm::new_from_slice(key).expect("aes-gcm accepts a 32-byte AES-256-GCM key");
    Ciphers {
        ring: LessSafeKey::new(unbound),
        rc,
    }
}

fn bench_seal(g: &mut BenchmarkGroup<'_, WallTime>, k: &Ciphers, plain: &[u8]) {
    let size = plain.len();

    g.bench_function("seal/ring", |b| {
        let mut buf = Vec::with_capacity(size + TAG_LEN);
        buf.extend_from_slice(plain);
        let mut counter = 0u64;
        b.iter(|| {
            buf.truncate(size);
            counter += 1;
            let nonce = Nonce::assume_unique_for_key(nonce_bytes(counter));
            k.ring
                .seal_in_place_append_tag(nonce, Aad::from(&AAD), &mut buf)
                .expect("ring seal failed");
            black_box(&mut buf);
        });
        assert_eq!(buf.len(), size + TAG_LEN);
    });

    g.bench_function("seal/aes-gcm", |b| {
        let mut buf = Vec::with_capacity(size + TAG_LEN);
        buf.extend_from_slice(plain);
        let mut counter = 0u64;
        b.iter(|| {
            buf.truncate(size);
            counter += 1;
            let nonce = nonce_bytes(counter);
            k.rc.encrypt_in_place(AesGcmNonce::from_slice(&nonce), &AAD, &mut buf)
                .expect("aes-gcm seal failed");
            black_box(&mut buf);
        });
        assert_eq!(buf.len(), size + TAG_LEN);
    });
}

/// `(C, tag(C), tag(P))` for plaintext `P` under the fixed open nonce: see the module comment.
fn alternating_tags(k: &Ciphers, plain: &[u8]) -> (Vec<u8>, [u8; TAG_LEN], [u8; TAG_LEN]) {
    let nonce = nonce_bytes(0);
    let mut ct = plain.to_vec();
    let tag_c =
        k.rc.encrypt_in_place_detached(AesGcmNonce::from_slice(&nonce), &AAD, &mut ct)
            .expect("aes-gcm seal failed");
    let mut again = ct.clone();
    let tag_p =
        k.rc.encrypt_in_place_detached(AesGcmNonce::from_slice(&nonce), &AAD, &mut again)
            .expect("aes-gcm seal failed");
    assert_eq!(
        again, plain,
        "GCM with a fixed key and nonce must be an involution on the data"
    );
    // Cross-check the two crates agree byte for byte (same key, nonce, AAD).
    let mut ring_ct = plain.to_vec();
    k.ring
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&AAD), &mut ring_ct)
        .expect("ring seal failed");
    assert_eq!(
        &ring_ct[..plain.len()],
        &ct[..],
        "ring and aes-gcm ciphertexts differ"
    );
    assert_eq!(
        &ring_ct[plain.len()..],
        tag_c.as_slice(),
        "ring and aes-gcm tags differ"
    );
    (ct, tag_c.into(), tag_p.into())
}

fn bench_open(g: &mut BenchmarkGroup<'_, WallTime>, k: &Ciphers, plain: &[u8]) {
    let size = plain.len();
    let (ct, tag_c, tag_p) = alternating_tags(k, plain);
    let nonce = nonce_bytes(0);

    g.bench_function("open/ring", |b| {
        // Layout as on disk: ciphertext || tag.
        let mut buf = ct.clone();
        buf.extend_from_slice(&tag_c);
        let mut holds_ciphertext = true;
        b.iter(|| {
            let opened = k
                .ring
                .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&AAD), &mut buf)
                .expect("ring open failed to authenticate");
            black_box(opened);
            holds_ciphertext = !holds_ciphertext;
            let next = if holds_ciphertext { &tag_c } else { &tag_p };
            buf[size..].copy_from_slice(next);
        });
    });

    g.bench_function("open/aes-gcm", |b| {
        let mut buf = ct.clone();
        let mut holds_ciphertext = true;
        b.iter(|| {
            let tag = if holds_ciphertext { &tag_c } else { &tag_p };
            k.rc.decrypt_in_place_detached(
                AesGcmNonce::from_slice(&nonce),
                &AAD,
                &mut buf,
                AesGcmTag::from_slice(tag),
            )
            .expect("aes-gcm open failed to authenticate");
            black_box(&mut buf);
            holds_ciphertext = !holds_ciphertext;
        });
    });
}

fn bench_file_cipher(g: &mut BenchmarkGroup<'_, WallTime>, plain: &[u8]) {
    for (label, cmk) in [("strata-smk", false), ("strata-cmk", true)] {
        let suite = CipherSuite::ephemeral(cmk);
        let (fc, _salt) = suite.new_file(FileKind::Segment, 7);
        let mut block_no = 0u64;
        g.bench_function(format!("seal/{label}"), |b| {
            b.iter_batched(
                || {
                    let mut v = Vec::with_capacity(plain.len() + 2 * TAG_LEN);
                    v.extend_from_slice(plain);
                    v
                },
                |v| {
                    block_no += 1;
                    black_box(fc.seal(block_no, BlockKind::Data, v))
                },
                BatchSize::LargeInput,
            )
        });
        let sealed = fc
            .seal(0, BlockKind::Data, plain.to_vec())
            .expect("an ephemeral suite holds its keys");
        g.bench_function(format!("open/{label}"), |b| {
            b.iter(|| {
                let opened = fc
                    .open(0, BlockKind::Data, black_box(&sealed))
                    .expect("keys held");
                assert!(opened.is_some(), "strata open failed to verify");
                black_box(opened)
            })
        });
    }
}

fn bench_seal_open(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let k = ciphers(&key);
    for size in SIZES {
        let mut plain = vec![0u8; size];
        rng.fill_bytes(&mut plain);
        let mut g = c.benchmark_group(format!("aes-256-gcm/{}KiB", size >> 10));
        g.throughput(Throughput::Bytes(size as u64));
        bench_seal(&mut g, &k, &plain);
        bench_open(&mut g, &k, &plain);
        bench_file_cipher(&mut g, &plain);
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_seal_open
}
criterion_main!(benches);
