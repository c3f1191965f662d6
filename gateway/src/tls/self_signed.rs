//! The default identity: a self-signed ECDSA P-256 certificate for `localhost`, `127.0.0.1`,
//! `::1` and the `--addr` host, made with rcgen on first start and kept, with its private key,
//! in the catalog's sealed settings (`Account::gateway_tls_identity`), never in a file. Reused
//! while it covers the address and has more than `SELF_SIGNED_RENEW_BEFORE` left; otherwise
//! replaced (clients then trust the new certificate). Owns the slot's byte layout.
//!
//! ```text
//! stored := version: u8 (1) | not_after: i64 (Unix seconds) | names_len: u16 | names (UTF-8,
//!           '\n' between names) | cert_len: u32 | certificate (DER) | private key (PKCS#8 DER)
//! ```
//! Little-endian.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use rustls_pki_types::CertificateDer;
use strata_engine::Account;
use zeroize::Zeroizing;

use super::error::TlsError;
use super::identity::{KeyFormat, TlsIdentity};

/// How long a new self-signed certificate is valid.
pub const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// A stored certificate with less than this left is replaced at start.
pub const SELF_SIGNED_RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);
/// A new certificate's start, this far before now (clients whose clock is a little behind).
const BACKDATE: Duration = Duration::from_secs(3600);
const VERSION: u8 = 1;
/// Names every self-signed certificate covers.
const ALWAYS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The account's self-signed identity for serving on `addr` at `now`: the stored one if it
/// covers `addr`'s host and is not near its end, else a new one (stored, sealed, before it is
/// returned).
pub fn self_signed_identity(
    account: &Account,
    addr: SocketAddr,
    now: SystemTime,
) -> Result<TlsIdentity, TlsError> {
    let mut names: Vec<String> = ALWAYS.iter().map(|n| n.to_string()).collect();
    let host = addr.ip();
    if !host.is_unspecified() && !names.contains(&host.to_string()) {
        names.push(host.to_string());
    }
    let now_secs = unix_secs(now);
    if let Some(bytes) = account.gateway_tls_identity()? {
        let stored = Stored::decode(&bytes)?;
        let covers = names.iter().all(|n| stored.names.contains(n));
        if covers && stored.not_after - now_secs > SELF_SIGNED_RENEW_BEFORE.as_secs() as i64 {
            return Ok(stored.into_identity());
        }
        // Keep the names it covered, so serving on an earlier address does not replace it again.
        for n in &stored.names {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let fresh = generate(names, now)?;
    account.set_gateway_tls_identity(&fresh.encode())?;
    Ok(fresh.into_identity())
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn generate(names: Vec<String>, now: SystemTime) -> Result<Stored, TlsError> {
    let gen_err = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(gen_err)?;
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(gen_err)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "strata serve (self-signed)");
    let start = time::OffsetDateTime::from(now - BACKDATE);
    let end = time::OffsetDateTime::from(now + SELF_SIGNED_VALIDITY);
    params.not_before = start;
    params.not_after = end;
    let cert = params.self_signed(&key).map_err(gen_err)?;
    Ok(Stored {
        not_after: end.unix_timestamp(),
        names,
        cert: cert.der().to_vec(),
        // rcgen's KeyPair keeps its own copy of the key, which it does not wipe when dropped.
        key: Zeroizing::new(key.serialize_der()),
    })
}

/// The slot's contents, decoded.
struct Stored {
    not_after: i64,
    names: Vec<String>,
    cert: Vec<u8>,
    key: Zeroizing<Vec<u8>>,
}

impl Stored {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let names = self.names.join("\n");
        let mut out = Zeroizing::new(Vec::with_capacity(
            1 + 8 + 2 + names.len() + 4 + self.cert.len() + self.key.len(),
        ));
        out.push(VERSION);
        out.extend_from_slice(&self.not_after.to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(names.as_bytes());
        out.extend_from_slice(&(self.cert.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.cert);
        out.extend_from_slice(&self.key);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Stored, TlsError> {
        let bad = |what: &str| TlsError::Stored(what.to_string());
        let mut rest = bytes;
        let mut take = |n: usize| -> Result<&[u8], TlsError> {
            if rest.len() < n {
                return Err(bad("it is truncated"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let version = take(1)?[0];
        if version != VERSION {
            return Err(TlsError::Stored(format!("unknown version {version}")));
        }
        let not_after = i64::from_le_bytes(take(8)?.try_into().map_err(|_| bad("bad date"))?);
        let names_len = u16::from_le_bytes(take(2)?.try_into().map_err(|_| bad("bad length"))?);
        let names = std::str::from_utf8(take(names_len as usize)?)
            .map_err(|_| bad("its names are not UTF-8"))?
            .split('\n')
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        let cert_len = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("bad length"))?);
        let cert = take(cert_len as usize)?.to_vec();
        let key = Zeroizing::new(rest.to_vec());
        if key.is_empty() {
            return Err(bad("it holds no key"));
        }
        Ok(Stored {
            not_after,
            names,
            cert,
            key,
        })
    }

    fn into_identity(self) -> TlsIdentity {
        TlsIdentity::new(vec![CertificateDer::from(self.cert)], self.key, KeyFormat::Pkcs8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_engine::{AccountOptions, Encryption};

    fn account(dir: &std::path::Path) -> Account {
        let opts = AccountOptions::new(dir.join("data"), dir.join("home"));
        Account::create(opts, "acct", Encryption::ServiceManaged).unwrap()
    }

    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn made_once_kept_sealed_and_replaced_for_a_new_host_or_near_its_end() {
        let tmp = tempfile::tempdir().unwrap();
        let a = account(tmp.path());
        let local: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let now = SystemTime::now();
        let first = self_signed_identity(&a, local, now).unwrap();
        let config = first.server_config().unwrap();
        assert_eq!(format!("{config:?}"), "TlsConfig(<redacted>)");
        assert!(format!("{first:?}").contains("<key redacted>"));
        let again = self_signed_identity(&a, "[::1]:0".parse().unwrap(), now).unwrap();
        assert_eq!(first.certificate_sha256(), again.certificate_sha256(), "reused");
        assert_eq!(first.key_der().secret_der(), again.key_der().secret_der());

        // Another host: a new certificate covering it and the earlier names.
        let lan: SocketAddr = "10.1.2.3:443".parse().unwrap();
        let wider = self_signed_identity(&a, lan, now).unwrap();
        assert_ne!(first.certificate_sha256(), wider.certificate_sha256());
        let stored = Stored::decode(&a.gateway_tls_identity().unwrap().unwrap()).unwrap();
        assert_eq!(stored.names, ["localhost", "127.0.0.1", "::1", "10.1.2.3"]);
        let days = (stored.not_after - unix_secs(now)) / 86_400;
        assert_eq!(days, 365);
        assert_eq!(
            self_signed_identity(&a, local, now).unwrap().certificate_sha256(),
            wider.certificate_sha256(),
            "the loopback names are still covered"
        );

        // Less than 30 days left: renewed.
        let late = now + SELF_SIGNED_VALIDITY - SELF_SIGNED_RENEW_BEFORE + Duration::from_secs(60);
        let renewed = self_signed_identity(&a, lan, late).unwrap();
        assert_ne!(renewed.certificate_sha256(), wider.certificate_sha256());
        a.close().unwrap();

        // No file of the data directory holds a private key made here.
        let mut files = Vec::new();
        files_under(&tmp.path().join("data"), &mut files);
        assert!(!files.is_empty());
        for id in [&first, &wider, &renewed] {
            let key = id.key_der().secret_der().to_vec();
            assert!(key.len() > 32);
            for f in &files {
                let bytes = std::fs::read(f).unwrap();
                let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
                assert!(!bytes.windows(key.len()).any(|w| w == key.as_slice()), "{f:?}");
                assert!(!String::from_utf8_lossy(&bytes).contains(&hex), "{f:?}");
            }
        }
    }

    #[test]
    fn a_damaged_or_newer_slot_is_an_error_not_a_silent_replacement() {
        assert!(matches!(Stored::decode(&[]), Err(TlsError::Stored(_))));
        assert!(matches!(Stored::decode(&[2, 0, 0]), Err(TlsError::Stored(_))));
        let mut truncated = vec![VERSION];
        truncated.extend_from_slice(&0i64.to_le_bytes());
        truncated.extend_from_slice(&100u16.to_le_bytes());
        assert!(matches!(Stored::decode(&truncated), Err(TlsError::Stored(_))));
    }
}
