//! Per-file ciphers: the only thing storage sees of the key hierarchy. `CipherSuite` holds the
//! layer data keys of one account; for each file it derives, by HKDF-SHA256 over the file's random
//! salt, one AES-256-GCM key per layer, and seals blocks with a nonce made of the block number
//! and an AAD that binds file kind, file id, block number, block kind and layer.
//! The customer layer's key lives in a shared slot (`customer_layer.rs`) that can be switched on
//! (enable CMK) or withheld (revocation); per-file customer keys are derived there once and dropped
//! there at withhold.
//! A file's own layer count comes from its header. Also counts the time and bytes its files spend
//! sealing and opening (`CryptoStats`, for the benchmark). Thread-safe. See docs/keys.md ("per-file
//! keys, nonces, AAD").
//!
//! ```text
//! file key   = HKDF-SHA256(ikm = layer DEK, salt = file salt[32], info = "strata/v1/" layer "/" kind)
//! nonce      = 0u32 | block_no: u64                       (little-endian; unique per file key)
//! aad        = "STRATA1" | file_kind: u8 | file_id: u64 | block_no: u64 | block_kind: u8 | layer: u8
//! sealed     = outer( inner(plain) )    inner = customer layer (CMK only), outer = service layer
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::RngCore;

use super::customer_layer::CustomerLayer;
use crate::error::{Error, Result};
use strata_base::seal::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use strata_base::seal::{derive_key, Dek, SALT_LEN};

/// The kinds of file that carry sealed blocks. The discriminant goes into the AAD and the HKDF info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FileKind {
    Wal = 1,
    Segment = 2,
    Manifest = 3,
    /// A query's spilled results (the engine's `account/query_spill.rs`): the rest of a result
    /// computed whole, read back a page at a time.
    QuerySpill = 4,
    /// A sorted run of an ORDER BY sorted outside memory (the engine's `account/sort_runs.rs`):
    /// written while the query reads, merged and deleted before it answers.
    QuerySortRun = 5,
}

/// The kinds of block inside a file, bound into the AAD so a block cannot stand in for another kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BlockKind {
    WalRecord = 1,
    Data = 2,
    Index = 3,
    Filter = 4,
    Manifest = 5,
    /// A chunk of spilled query results that more chunks follow.
    SpillChunk = 6,
    /// The last chunk of spilled query results: a file that ends without one was cut short.
    SpillFinal = 7,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Layer {
    Customer = 1,
    Service = 2,
}

/// The unwrapped layer keys of one account. Dropping it zeroizes them.
pub struct CipherSuite {
    service: Dek,
    customer: Arc<CustomerLayer>,
    counters: Arc<CryptoCounters>,
}

/// Time and bytes spent sealing and opening blocks under one suite (every file of an account),
/// since it was made. Counted with relaxed atomics: two clock reads per block, a few tens of
/// nanoseconds against the microseconds of the AEAD.
#[derive(Default)]
struct CryptoCounters {
    seal_nanos: AtomicU64,
    sealed_bytes: AtomicU64,
    open_nanos: AtomicU64,
    opened_bytes: AtomicU64,
}

/// What a suite's files spent sealing and opening blocks (all layers, key derivation included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CryptoStats {
    pub seal_nanos: u64,
    pub sealed_bytes: u64,
    pub open_nanos: u64,
    pub opened_bytes: u64,
}

impl CryptoCounters {
    fn add(nanos: &AtomicU64, bytes: &AtomicU64, since: Instant, n: usize) {
        let spent = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        nanos.fetch_add(spent, Ordering::Relaxed);
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CipherSuite(layers: {}, <redacted>)", self.layers())
    }
}

impl CipherSuite {
    pub fn new(service: Dek, customer: Option<Dek>) -> CipherSuite {
        CipherSuite {
            service,
            customer: Arc::new(CustomerLayer::new(customer)),
            counters: Arc::default(),
        }
    }

    /// A suite with this suite's service layer and a customer layer of its own under
    /// `customer` (a container with its own customer key: the account's service layer outside,
    /// the container's key inside). Its own counters and key slot: withholding one suite's
    /// customer key leaves the other's alone.
    pub fn sibling(&self, customer: Dek) -> CipherSuite {
        CipherSuite::new(self.service.clone(), Some(customer))
    }

    /// Time and bytes its files have spent sealing and opening blocks so far.
    pub fn crypto_stats(&self) -> CryptoStats {
        let c = &self.counters;
        CryptoStats {
            seal_nanos: c.seal_nanos.load(Ordering::Relaxed),
            sealed_bytes: c.sealed_bytes.load(Ordering::Relaxed),
            open_nanos: c.open_nanos.load(Ordering::Relaxed),
            opened_bytes: c.opened_bytes.load(Ordering::Relaxed),
        }
    }

    /// A suite with fresh random keys: one layer, or two with `customer_layer`. For tests and
    /// benchmarks of the raw key-value store; accounts get their keys from the keyring.
    pub fn ephemeral(customer_layer: bool) -> CipherSuite {
        CipherSuite::new(Dek::generate(), customer_layer.then(Dek::generate))
    }

    /// A copy of the customer-layer DEK (CMK mode, while not withheld), for re-wrapping it.
    pub fn customer_dek(&self) -> Option<Dek> {
        self.customer.dek()
    }

    /// The customer layer's key slot: enable, withhold, restore (the account's key lifecycle).
    pub fn customer_layer(&self) -> &CustomerLayer {
        &self.customer
    }

    /// Whether the customer-layer DEK is in memory (false for service-managed accounts and while
    /// a customer-managed account is revoked). Test-visible: it shows that revocation drops it.
    pub fn has_customer_key(&self) -> bool {
        self.customer.has_key()
    }

    /// The seal layers of new files: 1 in service-managed mode, 2 with a customer-managed key.
    pub fn layers(&self) -> u8 {
        if self.customer.is_on() {
            2
        } else {
            1
        }
    }

    /// The layer counts an existing file may carry: the account's, and also 1 while an
    /// enable-CMK migration may still have single-sealed files.
    pub(crate) fn readable_layers(&self) -> &'static [u8] {
        match (self.customer.is_on(), self.customer.migrating()) {
            (false, _) => &[1],
            (true, false) => &[2],
            (true, true) => &[1, 2],
        }
    }

    fn metadata_key(&self, label: &str) -> ring::hmac::Key {
        let okm = derive_key(
            self.service.as_bytes(),
            None,
            format!("strata/v1/metadata-mac/{label}").as_bytes(),
        );
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, okm.as_ref())
    }

    /// HMAC-SHA256 over plaintext metadata (the catalog), keyed from the service-layer DEK: the
    /// metadata stays readable, as the contract allows, but cannot be altered undetected.
    pub fn metadata_tag(&self, label: &str, bytes: &[u8]) -> Vec<u8> {
        ring::hmac::sign(&self.metadata_key(label), bytes)
            .as_ref()
            .to_vec()
    }

    /// Constant-time check of a `metadata_tag`.
    pub fn verify_metadata_tag(&self, label: &str, bytes: &[u8], tag: &[u8]) -> bool {
        ring::hmac::verify(&self.metadata_key(label), bytes, tag).is_ok()
    }

    fn metadata_seal_key(&self, label: &str, salt: &[u8]) -> AeadKey {
        let okm = derive_key(
            self.service.as_bytes(),
            Some(salt),
            format!("strata/v1/metadata-seal/{label}").as_bytes(),
        );
        AeadKey::new(&okm)
    }

    /// Seals a small metadata value under the service layer: `salt[32] | AES-256-GCM(plain)`.
    /// Each seal draws a fresh salt, hence a fresh key, so the fixed nonce is never reused.
    pub fn seal_metadata(&self, label: &str, plain: &[u8]) -> Vec<u8> {
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let mut buf = plain.to_vec();
        self.metadata_seal_key(label, &salt)
            .seal_in_place([0u8; NONCE_LEN], label.as_bytes(), &mut buf);
        let mut out = salt.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// Opens a `seal_metadata` value; `None` if it does not authenticate.
    pub fn open_metadata(&self, label: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < SALT_LEN + TAG_LEN {
            return None;
        }
        let (salt, body) = sealed.split_at(SALT_LEN);
        let mut buf = body.to_vec();
        self.metadata_seal_key(label, salt)
            .open_in_place([0u8; NONCE_LEN], label.as_bytes(), &mut buf)
            .then_some(buf)
    }

    /// A cipher for a new file, with a fresh random salt to store in the file's header, sealed
    /// with the account's current number of layers (`FileCipher::layers`).
    pub fn new_file(&self, kind: FileKind, file_id: u64) -> (FileCipher, [u8; SALT_LEN]) {
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        (self.cipher(kind, file_id, &salt, self.customer.is_on()), salt)
    }

    /// The cipher of an existing file, from the salt and layer count in its header. Readers check
    /// the count against `readable_layers` when they decode the header (500.1002 naming the
    /// file); a count that slips past that is a 500 internal error here.
    pub fn file(
        &self,
        kind: FileKind,
        file_id: u64,
        salt: &[u8; SALT_LEN],
        layers: u8,
    ) -> Result<FileCipher> {
        if !self.readable_layers().contains(&layers) {
            return Err(Error::Internal(format!(
                "{kind:?} {file_id}: {layers} seal layer(s) not readable by this account"
            )));
        }
        Ok(self.cipher(kind, file_id, salt, layers == 2))
    }

    fn cipher(&self, kind: FileKind, file_id: u64, salt: &[u8; SALT_LEN], customer: bool) -> FileCipher {
        let okm = derive_key(
            self.service.as_bytes(),
            Some(salt),
            info(Layer::Service, kind).as_bytes(),
        );
        FileCipher {
            kind,
            file_id,
            salt: *salt,
            service: AeadKey::new(&okm),
            customer: customer.then(|| self.customer.clone()),
            counters: self.counters.clone(),
        }
    }
}

/// The HKDF info of a layer's file key: `strata/v1/<layer>/<kind>`.
fn info(layer: Layer, kind: FileKind) -> &'static str {
    match (layer, kind) {
        (Layer::Customer, FileKind::Wal) => "strata/v1/customer/wal",
        (Layer::Customer, FileKind::Segment) => "strata/v1/customer/segment",
        (Layer::Customer, FileKind::Manifest) => "strata/v1/customer/manifest",
        (Layer::Customer, FileKind::QuerySpill) => "strata/v1/customer/query-spill",
        (Layer::Customer, FileKind::QuerySortRun) => "strata/v1/customer/query-sort-run",
        (Layer::Service, FileKind::Wal) => "strata/v1/service/wal",
        (Layer::Service, FileKind::Segment) => "strata/v1/service/segment",
        (Layer::Service, FileKind::Manifest) => "strata/v1/service/manifest",
        (Layer::Service, FileKind::QuerySpill) => "strata/v1/service/query-spill",
        (Layer::Service, FileKind::QuerySortRun) => "strata/v1/service/query-sort-run",
    }
}

/// Seals and opens the blocks of one file. Layers are applied inner (customer) first. The
/// customer layer's file key is fetched from the shared slot (derived there once, dropped there
/// at withhold) on every call and dropped after it, so an open file holds no customer-layer key
/// of its own.
pub struct FileCipher {
    kind: FileKind,
    file_id: u64,
    salt: [u8; SALT_LEN],
    service: AeadKey,
    customer: Option<Arc<CustomerLayer>>,
    counters: Arc<CryptoCounters>,
}

impl std::fmt::Debug for FileCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FileCipher({:?} {}, service: <redacted>",
            self.kind, self.file_id
        )?;
        if self.customer.is_some() {
            f.write_str(", customer: <redacted>")?;
        }
        f.write_str(")")
    }
}

impl FileCipher {
    fn nonce(block_no: u64) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        n[4..].copy_from_slice(&block_no.to_le_bytes());
        n
    }

    fn aad(&self, block_no: u64, block: BlockKind, layer: Layer) -> [u8; 26] {
        let mut a = [0u8; 26];
        a[..7].copy_from_slice(b"STRATA1");
        a[7] = self.kind as u8;
        a[8..16].copy_from_slice(&self.file_id.to_le_bytes());
        a[16..24].copy_from_slice(&block_no.to_le_bytes());
        a[24] = block as u8;
        a[25] = layer as u8;
        a
    }

    /// The number of seal layers of this file (what its header records).
    pub fn layers(&self) -> u8 {
        if self.customer.is_some() {
            2
        } else {
            1
        }
    }

    fn customer_key(&self) -> Result<Option<Arc<AeadKey>>> {
        self.customer
            .as_ref()
            .map(|c| c.derive(&self.salt, info(Layer::Customer, self.kind)))
            .transpose()
    }

    /// Seals `plain` in place as block `block_no` of this file (the tags are appended; no copy of
    /// the block is made). Each block number must be sealed at most once per file: writers number
    /// blocks (or records) sequentially and never rewrite a file. 403.4002 if the file is sealed
    /// twice and the customer key is withheld (the account is revoked).
    pub fn seal(&self, block_no: u64, block: BlockKind, plain: Vec<u8>) -> Result<Vec<u8>> {
        let started = Instant::now();
        let mut buf = plain;
        buf.reserve_exact(TAG_LEN * usize::from(self.layers()));
        if let Some(key) = self.customer_key()? {
            key.seal_in_place(
                Self::nonce(block_no),
                &self.aad(block_no, block, Layer::Customer),
                &mut buf,
            );
        }
        self.service.seal_in_place(
            Self::nonce(block_no),
            &self.aad(block_no, block, Layer::Service),
            &mut buf,
        );
        let c = &self.counters;
        CryptoCounters::add(&c.seal_nanos, &c.sealed_bytes, started, buf.len());
        Ok(buf)
    }

    /// Opens a sealed block. `Ok(None)` if any layer fails to authenticate; 403.4002 if the
    /// customer key is withheld.
    pub fn open(&self, block_no: u64, block: BlockKind, sealed: &[u8]) -> Result<Option<Vec<u8>>> {
        self.open_owned(block_no, block, sealed.to_vec())
    }

    /// `open` of a block the caller owns: every layer is opened in `sealed` itself (the tags
    /// are truncated), so no copy of the block is made; a segment reader hands over the buffer
    /// it read the block into.
    pub fn open_owned(&self, block_no: u64, block: BlockKind, sealed: Vec<u8>) -> Result<Option<Vec<u8>>> {
        let started = Instant::now();
        let len = sealed.len();
        let opened = self.open_layers(block_no, block, sealed)?;
        let c = &self.counters;
        CryptoCounters::add(&c.open_nanos, &c.opened_bytes, started, len);
        Ok(opened)
    }

    fn open_layers(&self, block_no: u64, block: BlockKind, mut buf: Vec<u8>) -> Result<Option<Vec<u8>>> {
        let customer = self.customer_key()?;
        let nonce = Self::nonce(block_no);
        if !self
            .service
            .open_in_place(nonce, &self.aad(block_no, block, Layer::Service), &mut buf)
        {
            return Ok(None);
        }
        if let Some(key) = customer {
            if !key.open_in_place(nonce, &self.aad(block_no, block, Layer::Customer), &mut buf) {
                return Ok(None);
            }
        }
        Ok(Some(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_are_counted_per_suite() {
        let suite = CipherSuite::ephemeral(true);
        let other = CipherSuite::ephemeral(false);
        let (fc, _salt) = suite.new_file(FileKind::Segment, 1);
        assert_eq!(suite.crypto_stats(), CryptoStats::default());
        let sealed = fc.seal(0, BlockKind::Data, vec![7u8; 1000]).unwrap();
        let s = suite.crypto_stats();
        assert_eq!(s.sealed_bytes, sealed.len() as u64);
        assert!(s.seal_nanos > 0);
        assert_eq!((s.open_nanos, s.opened_bytes), (0, 0));
        fc.open(0, BlockKind::Data, &sealed).unwrap().unwrap();
        let s = suite.crypto_stats();
        assert_eq!(s.opened_bytes, sealed.len() as u64);
        assert!(s.open_nanos > 0);
        assert_eq!(
            other.crypto_stats(),
            CryptoStats::default(),
            "another suite counts apart"
        );
    }

    #[test]
    fn round_trip_both_modes_and_overhead() {
        for cmk in [false, true] {
            let suite = CipherSuite::ephemeral(cmk);
            let (fc, _salt) = suite.new_file(FileKind::Segment, 7);
            let sealed = fc.seal(3, BlockKind::Data, b"hello block".to_vec()).unwrap();
            assert_eq!(sealed.len(), 11 + TAG_LEN * suite.layers() as usize);
            assert!(!sealed.windows(5).any(|w| w == b"hello"));
            assert_eq!(
                fc.open(3, BlockKind::Data, &sealed).unwrap().as_deref(),
                Some(&b"hello block"[..])
            );
        }
    }

    fn file(suite: &CipherSuite, kind: FileKind, id: u64, salt: &[u8; SALT_LEN]) -> FileCipher {
        suite.file(kind, id, salt, suite.layers()).unwrap()
    }

    fn opens(fc: &FileCipher, no: u64, kind: BlockKind, sealed: &[u8]) -> bool {
        fc.open(no, kind, sealed).unwrap().is_some()
    }

    #[test]
    fn aad_binds_block_number_kind_file_and_salt() {
        let suite = CipherSuite::ephemeral(true);
        let (fc, salt) = suite.new_file(FileKind::Segment, 7);
        let sealed = fc.seal(3, BlockKind::Data, b"payload".to_vec()).unwrap();
        assert!(!opens(&fc, 4, BlockKind::Data, &sealed), "moved block");
        assert!(!opens(&fc, 3, BlockKind::Index, &sealed), "other block kind");
        let other_id = file(&suite, FileKind::Segment, 8, &salt);
        assert!(!opens(&other_id, 3, BlockKind::Data, &sealed), "other file id");
        let other_kind = file(&suite, FileKind::Wal, 7, &salt);
        assert!(
            !opens(&other_kind, 3, BlockKind::Data, &sealed),
            "other file kind"
        );
        let (other_salt, _) = suite.new_file(FileKind::Segment, 7);
        assert!(!opens(&other_salt, 3, BlockKind::Data, &sealed), "other salt");
        let same = file(&suite, FileKind::Segment, 7, &salt);
        assert!(opens(&same, 3, BlockKind::Data, &sealed));
    }

    #[test]
    fn every_flipped_bit_fails_to_open() {
        let suite = CipherSuite::ephemeral(false);
        let (fc, _) = suite.new_file(FileKind::Wal, 1);
        let sealed = fc.seal(0, BlockKind::WalRecord, b"abc".to_vec()).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(!opens(&fc, 0, BlockKind::WalRecord, &bad), "flip at {i}");
        }
    }

    #[test]
    fn opening_in_the_callers_buffer_equals_opening_a_copy() {
        for two_layers in [false, true] {
            let suite = CipherSuite::ephemeral(two_layers);
            let (fc, _) = suite.new_file(FileKind::Segment, 2);
            let plain: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
            let sealed = fc.seal(5, BlockKind::Data, plain.clone()).unwrap();
            let owned = fc.open_owned(5, BlockKind::Data, sealed.clone()).unwrap();
            assert_eq!(owned.as_deref(), Some(&plain[..]), "layers: {two_layers}");
            assert_eq!(owned, fc.open(5, BlockKind::Data, &sealed).unwrap());
            // Both opens are counted, with the sealed length.
            assert_eq!(suite.crypto_stats().opened_bytes, 2 * sealed.len() as u64);
            for i in [0, sealed.len() / 2, sealed.len() - 1] {
                let mut bad = sealed.clone();
                bad[i] ^= 0x80;
                assert_eq!(
                    fc.open_owned(5, BlockKind::Data, bad).unwrap(),
                    None,
                    "flip at {i}"
                );
            }
            assert_eq!(
                fc.open_owned(6, BlockKind::Data, sealed).unwrap(),
                None,
                "moved block"
            );
        }
    }

    #[test]
    fn customer_layer_is_required_to_open() {
        let service = Dek::generate();
        let two = CipherSuite::new(service.clone(), Some(Dek::generate()));
        let one = CipherSuite::new(service, None);
        let (fc, salt) = two.new_file(FileKind::Segment, 1);
        let sealed = fc.seal(0, BlockKind::Data, b"secret".to_vec()).unwrap();
        // The service layer alone peels only the outer seal: what is left is still ciphertext.
        let peeled = one
            .cipher(FileKind::Segment, 1, &salt, false)
            .open(0, BlockKind::Data, &sealed)
            .unwrap()
            .unwrap();
        assert!(!peeled.windows(6).any(|w| w == b"secret"));
        assert_ne!(peeled, b"secret");
        // A service-managed account does not read a double-sealed file.
        assert!(one.file(FileKind::Segment, 1, &salt, 2).is_err());
        // Another customer key cannot open it.
        let other = CipherSuite::new(two.service.clone(), Some(Dek::generate()));
        assert!(!opens(
            &file(&other, FileKind::Segment, 1, &salt),
            0,
            BlockKind::Data,
            &sealed
        ));
    }

    #[test]
    fn withheld_customer_key_refuses_and_enable_switches_new_files() {
        let suite = CipherSuite::ephemeral(false);
        let (old, old_salt) = suite.new_file(FileKind::Segment, 1);
        let single = old.seal(0, BlockKind::Data, b"before".to_vec()).unwrap();
        suite.customer_layer().enable(Dek::generate()).unwrap();
        let (new, _) = suite.new_file(FileKind::Segment, 2);
        assert_eq!((old.layers(), new.layers()), (1, 2));
        let double = new.seal(0, BlockKind::Data, b"after".to_vec()).unwrap();
        // While migrating both kinds of file are readable.
        assert!(opens(
            &suite.file(FileKind::Segment, 1, &old_salt, 1).unwrap(),
            0,
            BlockKind::Data,
            &single
        ));
        suite.customer_layer().set_migrating(false);
        assert!(suite.file(FileKind::Segment, 1, &old_salt, 1).is_err());
        suite.customer_layer().withhold();
        assert!(!suite.has_customer_key());
        assert!(new.open(0, BlockKind::Data, &double).is_err());
        assert!(new.seal(1, BlockKind::Data, vec![1]).is_err());
    }
}
