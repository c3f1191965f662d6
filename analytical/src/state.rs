//! The store's state file `STATE`: mode, TTL, applied LSN, live file list and schema, sealed with
//! AES-256-GCM under a key derived from the analytical key, both through `strata_base::seal` (this
//! module owns the layout, not the cipher or the KDF). The single source of truth for which
//! Parquet files are live. Layout (see docs/analytical.md):
//! `state := magic "STRAST01" (8) | nonce (12) | AES-256-GCM(json) with AAD = magic (ciphertext | tag 16)`

use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use strata_base::seal::{AeadKey, NONCE_LEN, TAG_LEN};

use crate::error::{AnalyticalError, Result};
use crate::fsutil;
use crate::key::AnalyticalKey;
use crate::schema::Schema;
use crate::ttl::AnalyticalTtl;

pub(crate) const STATE_FILE: &str = "STATE";
const MAGIC: &[u8; 8] = b"STRAST01";
const FORMAT_VERSION: u32 = 1;

/// One live data file: its name under `data/` and the SHA-256 of its bytes (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataFile {
    pub name: String,
    pub sha256: String,
}

impl DataFile {
    pub(crate) fn new(name: String, digest: &[u8; 32]) -> Self {
        DataFile {
            name,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The digest as bytes; `None` if the hex text is malformed.
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        if self.sha256.len() != 64 {
            return None;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(self.sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub version: u32,
    pub ttl: AnalyticalTtl,
    pub applied_lsn: u64,
    /// Sequence number of the next data file.
    pub next_file: u64,
    /// Live data files, oldest first.
    pub files: Vec<DataFile>,
    pub schema: Schema,
}

impl State {
    pub(crate) fn new(ttl: AnalyticalTtl, schema: Schema) -> Self {
        State {
            version: FORMAT_VERSION,
            ttl,
            applied_lsn: 0,
            next_file: 1,
            files: Vec::new(),
            schema,
        }
    }

    pub(crate) fn save(&self, path: &Path, key: &AnalyticalKey) -> Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: format!("cannot encode state: {e}"),
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let out = seal(&AeadKey::new(&key.state_key()), nonce, json);
        fsutil::write_bytes_atomic(path, &out)
    }

    pub(crate) fn load(path: &Path, key: &AnalyticalKey) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| AnalyticalError::io(path, e))?;
        let corrupt = |detail: &str| AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: detail.into(),
        };
        let json = match open(&AeadKey::new(&key.state_key()), &bytes) {
            Ok(json) => json,
            Err(OpenError::NotAStateFile) => {
                return Err(corrupt(
                    "not a strata analytical state file (bad magic or too short)",
                ))
            }
            Err(OpenError::Unauthentic) => {
                return Err(AnalyticalError::Decrypt {
                    file: path.to_path_buf(),
                })
            }
        };
        let mut state: State =
            serde_json::from_slice(&json).map_err(|e| corrupt(&format!("state does not parse: {e}")))?;
        if state.version != FORMAT_VERSION {
            return Err(corrupt(&format!(
                "unsupported state format version {}",
                state.version
            )));
        }
        state.schema.reindex();
        Ok(state)
    }
}

/// Why sealed state bytes did not open.
#[derive(Debug, PartialEq, Eq)]
enum OpenError {
    /// Bad magic, or too short to hold a nonce and a tag.
    NotAStateFile,
    /// The tag does not authenticate: wrong key, or altered bytes.
    Unauthentic,
}

/// `magic | nonce | AES-256-GCM(json, aad = magic)`. The caller supplies a fresh random nonce.
fn seal(state_key: &AeadKey, nonce: [u8; NONCE_LEN], mut json: Vec<u8>) -> Vec<u8> {
    state_key.seal_in_place(nonce, MAGIC, &mut json);
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + json.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&json);
    out
}

/// The inverse of [`seal`]: the JSON plaintext.
fn open(state_key: &AeadKey, bytes: &[u8]) -> std::result::Result<Vec<u8>, OpenError> {
    if bytes.len() < MAGIC.len() + NONCE_LEN + TAG_LEN || !bytes.starts_with(MAGIC) {
        return Err(OpenError::NotAStateFile);
    }
    let (nonce, sealed) = bytes[MAGIC.len()..].split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::NotAStateFile)?;
    let mut buf = sealed.to_vec();
    if state_key.open_in_place(nonce, MAGIC, &mut buf) {
        Ok(buf)
    } else {
        Err(OpenError::Unauthentic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_base::seal::hex;

    /// A state file written by the code before the seal moved to strata_base::seal (the `aes-gcm`
    /// and `hkdf` crates), under the analytical key 00 01 .. 1f. Pins the on-disk format: it must
    /// keep opening, and sealing its plaintext under its nonce must give the same bytes.
    const OLD_STATE_FILE_HEX: &str = concat!(
        "535452415354303145dae2b6d1abe6528f7e92fa7f564fb1abdb8dace3e37e16ab69bb463f4e632c3c34dfc6",
        "d4407e77e3cb6d62f72380b4ac07995632764db193f06e61ad893b8dbfcba73d4d38fe4b56ee3d942bb5d0ae",
        "d7ae02273b21a00fb1b4b22ab6fb07075a2f8c1bd53cbd74822c39ae88287a468eaedc688c7244716779f5ca",
        "795fbd0defb9aba9a0db6768ba03bab83957f30da17d65264d10084279cb5670fbf704a863c9dc131a41c9b5",
        "491f5e37dd4a565a743c6eccf5b099f935d048332dd9c0dfe534ee106d8d6cb110779978fab113fbcaa9a7a2",
        "881068d84e71011104a412fa7eca74c5c08daf7ab820d4ef66c57ec93befeb31f03c51c5a9f0118a6f69e2be",
        "fa6e1ce7de8b2843f25649c2e936dc3eebec3cec5e94a3cfabfa897431217912091a9fff63575ae0edfbc240",
        "1ccaf326655db2418f90dd12773a451cbda13d2c4579faf780cd9989747b906c5c33e80598d7d42fe0c30219",
        "a69464bd72e02df716fc25eb96d07eae6256193f5face9dee92864964b2c70f1a946353c04b295cbb32bb8ee",
        "63bda7b98cd18258da2915d7a3e98eb4f50cc946771fdfbcec4851b72361ca7fd474b29f545341ec61dec446",
        "24ff0a38a0b6b41b94601f09a020763d56b546e2d44a453e71702606182306be394d099d48bd80935e01d882",
        "eddfb0c232760e6c446720bf54a5298c506b4826c0b22c1339725bf012397ada384a1c44e1c702597939907a",
        "80aa84ba59953d4d56e8d4026e9349ceafcf51d7420c35bb96996e25ac216a37ff72895dde161378f2ec4577",
        "d94030fc88a02eab9532a6c44986daaa183a6751e30afb413e9ca9c4c3b01d5cf7ef8e77b9d65c80b895cd46",
        "01001c49a93a52b7b4ea95d1184924987e4841e855677cc328f31cf0c640a9e73c189eb02881e796d56c8885",
        "7090b6cb18fdd4a2933bd01cfaddfdf794541f24708253781763c509eff4dba4b5e097c38e7fc7d8319b2296",
        "33829b46481b29eaa5b9c2512f96d44b382ca06a8a86b4266acaf1dea10f5eae973b",
    );
    /// The JSON plaintext of `OLD_STATE_FILE_HEX`.
    const OLD_STATE_JSON: &str = "{\"version\":1,\"ttl\":{\"Seconds\":3600},\"applied_lsn\":42,\"next_file\":3,\"files\":[{\"name\":\"0000000000000001.parquet\",\"sha256\":\"abababababababababababababababababababababababababababababababab\"},{\"name\":\"0000000000000002.parquet\",\"sha256\":\"0101010101010101010101010101010101010101010101010101010101010101\"}],\"schema\":{\"mode\":\"FullFidelity\",\"columns\":[{\"name\":\"n.int64\",\"path\":\"n\",\"kind\":\"Int64\"},{\"name\":\"x.b.bool\",\"path\":\"x.b\",\"kind\":\"Bool\"},{\"name\":\"x.f.float64\",\"path\":\"x.f\",\"kind\":\"Float64\"}],\"paths\":{\"n\":{\"name\":\"n\",\"object\":false,\"kinds\":[\"Int64\"]},\"x\":{\"name\":\"x\",\"object\":true,\"kinds\":[]},\"x.b\":{\"name\":\"x.b\",\"object\":false,\"kinds\":[\"Bool\"]},\"x.f\":{\"name\":\"x.f\",\"object\":false,\"kinds\":[\"Float64\"]}}}}";

    fn fixture_key() -> AnalyticalKey {
        AnalyticalKey::from_bytes(core::array::from_fn(|i| i as u8))
    }

    fn fixture_bytes() -> Vec<u8> {
        hex::decode(OLD_STATE_FILE_HEX).expect("fixture hex")
    }

    #[test]
    fn opens_a_state_file_written_by_the_old_seal() {
        let key = AeadKey::new(&fixture_key().state_key());
        let json = open(&key, &fixture_bytes()).expect("old state file opens");
        assert_eq!(json, OLD_STATE_JSON.as_bytes());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STATE_FILE);
        std::fs::write(&path, fixture_bytes()).expect("write fixture");
        let state = State::load(&path, &fixture_key()).expect("State::load of the old file");
        assert_eq!(state.applied_lsn, 42);
        assert_eq!(state.next_file, 3);
        assert_eq!(state.ttl, AnalyticalTtl::Seconds(3600));
        assert_eq!(state.files.len(), 2);
        assert_eq!(state.files[0].digest(), Some([0xab; 32]));
        assert_eq!(serde_json::to_string(&state).expect("encode"), OLD_STATE_JSON);
    }

    #[test]
    fn seals_byte_for_byte_like_the_old_seal() {
        let old = fixture_bytes();
        let nonce: [u8; NONCE_LEN] = old[MAGIC.len()..MAGIC.len() + NONCE_LEN]
            .try_into()
            .expect("nonce");
        let key = AeadKey::new(&fixture_key().state_key());
        assert_eq!(seal(&key, nonce, OLD_STATE_JSON.as_bytes().to_vec()), old);
    }

    #[test]
    fn wrong_key_altered_bytes_and_bad_magic_are_told_apart() {
        let key = AeadKey::new(&fixture_key().state_key());
        let other = AeadKey::new(&AnalyticalKey::from_bytes([9; 32]).state_key());
        assert_eq!(open(&other, &fixture_bytes()), Err(OpenError::Unauthentic));
        let mut flipped = fixture_bytes();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(open(&key, &flipped), Err(OpenError::Unauthentic));
        let mut bad_magic = fixture_bytes();
        bad_magic[0] = b'X';
        assert_eq!(open(&key, &bad_magic), Err(OpenError::NotAStateFile));
        assert_eq!(
            open(&key, &fixture_bytes()[..MAGIC.len() + NONCE_LEN + TAG_LEN - 1]),
            Err(OpenError::NotAStateFile)
        );
    }
}
