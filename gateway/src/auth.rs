//! Master-key authentication, as the vendor's SDKs sign requests: the `authorization` header is
//! the URL-encoded `type=master&ver=1.0&sig=BASE64`, where the signature is HMAC-SHA256, under the
//! base64-decoded account key, of `verb\nresourcetype\nresourcelink\nx-ms-date\ndate\n` (verb,
//! type and dates lowercased; the link as sent, names not lowercased). Owns the check only: the
//! keys come from the engine (sealed in the catalog), the resource type and link from `route`.
//! It must not say why a check failed to the client (the caller answers a bare 401), must compare
//! in constant time (ring's `hmac::verify`), and must bound the request date's skew so a captured
//! request cannot be replayed later.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use ring::hmac;
use strata_engine::AccessKeys;

use crate::percent::percent_decode;

/// How far a request's `x-ms-date` may be from the server's clock (the service allows 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The most bytes of an `authorization` header worth looking at (a master token is about 80).
const MAX_AUTH_HEADER: usize = 1024;

/// Why a request was refused. Logged by the server at most; never sent to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    MissingHeader,
    Malformed,
    /// Resource tokens and AAD tokens are not supported.
    UnsupportedTokenType,
    MissingDate,
    BadDate,
    ClockSkew,
    BadSignature,
}

/// What a signature covers.
pub struct SignedRequest<'a> {
    pub verb: &'a str,
    pub resource_type: &'a str,
    pub resource_link: &'a str,
    /// `x-ms-date`, as sent.
    pub x_ms_date: &'a str,
    /// `date`, as sent (SDKs leave it empty and send `x-ms-date`).
    pub date: &'a str,
}

/// The text an SDK signs.
pub fn string_to_sign(r: &SignedRequest<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n",
        r.verb.to_ascii_lowercase(),
        r.resource_type.to_ascii_lowercase(),
        r.resource_link,
        r.x_ms_date.to_ascii_lowercase(),
        r.date.to_ascii_lowercase()
    )
}

/// The `authorization` header value (before URL encoding) for `key` (raw bytes): what a client
/// sends; used by the tests and the benchmark's client.
pub fn master_token(key: &[u8], r: &SignedRequest<'_>) -> String {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key),
        string_to_sign(r).as_bytes(),
    );
    format!(
        "type=master&ver=1.0&sig={}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// Checks the `authorization` header (as received, URL-encoded or not) against both keys,
/// and the request date against `now`.
pub fn verify(
    keys: &AccessKeys,
    header: Option<&str>,
    r: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<(), AuthFailure> {
    let header = header.ok_or(AuthFailure::MissingHeader)?;
    if header.len() > MAX_AUTH_HEADER {
        return Err(AuthFailure::Malformed);
    }
    let decoded = percent_decode(header).ok_or(AuthFailure::Malformed)?;
    let (mut kind, mut version, mut sig) = (None, None, None);
    for part in decoded.split('&') {
        let (name, value) = part.split_once('=').ok_or(AuthFailure::Malformed)?;
        let slot = match name {
            "type" => &mut kind,
            "ver" => &mut version,
            "sig" => &mut sig,
            _ => return Err(AuthFailure::Malformed),
        };
        if slot.replace(value).is_some() {
            return Err(AuthFailure::Malformed);
        }
    }
    match (kind, version) {
        (Some("master"), Some("1.0")) => {}
        (Some(_), Some(_)) => return Err(AuthFailure::UnsupportedTokenType),
        _ => return Err(AuthFailure::Malformed),
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig.ok_or(AuthFailure::Malformed)?)
        .map_err(|_| AuthFailure::Malformed)?;
    check_date(r, now)?;
    let text = string_to_sign(r);
    // Both keys are tried, always, so the time taken does not tell which one a request used.
    let primary = hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, keys.primary.as_ref()),
        text.as_bytes(),
        &sig,
    );
    let secondary = hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, keys.secondary.as_ref()),
        text.as_bytes(),
        &sig,
    );
    if primary.is_ok() | secondary.is_ok() {
        Ok(())
    } else {
        Err(AuthFailure::BadSignature)
    }
}

/// The request's date (`x-ms-date`, else `date`), within `MAX_CLOCK_SKEW` of `now`.
fn check_date(r: &SignedRequest<'_>, now: SystemTime) -> Result<(), AuthFailure> {
    let raw = if r.x_ms_date.is_empty() {
        r.date
    } else {
        r.x_ms_date
    };
    if raw.is_empty() {
        return Err(AuthFailure::MissingDate);
    }
    let at = httpdate::parse_http_date(raw).map_err(|_| AuthFailure::BadDate)?;
    let skew = match at.duration_since(now) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(AuthFailure::ClockSkew);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    // The worked example of the vendor's REST reference ("Access control on Cosmos DB
    // resources"): GET of database `ToDoList` with this (published, sample) key.
    const DOC_KEY: &str =
        "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==";
    const DOC_DATE: &str = "Thu, 27 Apr 2017 00:51:12 GMT";
    const DOC_TOKEN: &str =
        "type%3dmaster%26ver%3d1.0%26sig%3dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2bc%2bc%3d";

    fn doc_request() -> SignedRequest<'static> {
        SignedRequest {
            verb: "GET",
            resource_type: "dbs",
            resource_link: "dbs/ToDoList",
            x_ms_date: DOC_DATE,
            date: "",
        }
    }

    fn doc_keys() -> AccessKeys {
        let raw = base64::engine::general_purpose::STANDARD.decode(DOC_KEY).unwrap();
        let mut primary = Zeroizing::new([0u8; 64]);
        primary.copy_from_slice(&raw);
        AccessKeys {
            primary,
            secondary: Zeroizing::new([7u8; 64]),
        }
    }

    fn doc_now() -> SystemTime {
        httpdate::parse_http_date(DOC_DATE).unwrap() + Duration::from_secs(60)
    }

    #[test]
    fn signs_the_vendor_docs_example() {
        let raw = base64::engine::general_purpose::STANDARD.decode(DOC_KEY).unwrap();
        assert_eq!(
            master_token(&raw, &doc_request()),
            percent_decode(DOC_TOKEN).unwrap()
        );
        assert_eq!(
            string_to_sign(&doc_request()),
            "get\ndbs\ndbs/ToDoList\nthu, 27 apr 2017 00:51:12 gmt\n\n"
        );
    }

    #[test]
    fn accepts_the_vendor_docs_example_with_either_key() {
        let keys = doc_keys();
        assert_eq!(verify(&keys, Some(DOC_TOKEN), &doc_request(), doc_now()), Ok(()));
        let swapped = AccessKeys {
            primary: Zeroizing::new([9u8; 64]),
            secondary: keys.primary.clone(),
        };
        assert_eq!(
            verify(&swapped, Some(DOC_TOKEN), &doc_request(), doc_now()),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_signature_over_anything_else() {
        let keys = doc_keys();
        let now = doc_now();
        let other_link = SignedRequest {
            resource_link: "dbs/todolist",
            ..doc_request()
        };
        let other_verb = SignedRequest {
            verb: "DELETE",
            ..doc_request()
        };
        let other_type = SignedRequest {
            resource_type: "colls",
            ..doc_request()
        };
        for r in [other_link, other_verb, other_type] {
            assert_eq!(
                verify(&keys, Some(DOC_TOKEN), &r, now),
                Err(AuthFailure::BadSignature)
            );
        }
        let wrong_keys = AccessKeys {
            primary: Zeroizing::new([1u8; 64]),
            secondary: Zeroizing::new([2u8; 64]),
        };
        assert_eq!(
            verify(&wrong_keys, Some(DOC_TOKEN), &doc_request(), now),
            Err(AuthFailure::BadSignature)
        );
    }

    #[test]
    fn refuses_stale_and_future_dates() {
        let keys = doc_keys();
        let signed = httpdate::parse_http_date(DOC_DATE).unwrap();
        for now in [
            signed + MAX_CLOCK_SKEW + Duration::from_secs(1),
            signed - MAX_CLOCK_SKEW - Duration::from_secs(1),
        ] {
            assert_eq!(
                verify(&keys, Some(DOC_TOKEN), &doc_request(), now),
                Err(AuthFailure::ClockSkew)
            );
        }
        assert_eq!(
            verify(&keys, Some(DOC_TOKEN), &doc_request(), signed + MAX_CLOCK_SKEW),
            Ok(())
        );
        let no_date = SignedRequest {
            x_ms_date: "",
            ..doc_request()
        };
        assert_eq!(
            verify(&keys, Some(DOC_TOKEN), &no_date, signed),
            Err(AuthFailure::MissingDate)
        );
        let bad_date = SignedRequest {
            x_ms_date: "yesterday",
            ..doc_request()
        };
        assert_eq!(
            verify(&keys, Some(DOC_TOKEN), &bad_date, signed),
            Err(AuthFailure::BadDate)
        );
    }

    #[test]
    fn refuses_malformed_and_foreign_tokens() {
        let keys = doc_keys();
        let now = doc_now();
        for header in [
            "",
            "type=master",
            "type=master&ver=1.0",
            "type=master&ver=1.0&sig=%zz",
            "type=master&ver=1.0&sig=not base64!",
            "type=master&ver=1.0&sig=a&sig=b",
            "type=master&ver=1.0&sig=c09P&extra=1",
        ] {
            assert_eq!(
                verify(&keys, Some(header), &doc_request(), now),
                Err(AuthFailure::Malformed),
                "{header}"
            );
        }
        assert_eq!(
            verify(&keys, Some("type=resource&ver=1.0&sig=abc"), &doc_request(), now),
            Err(AuthFailure::UnsupportedTokenType)
        );
        assert_eq!(
            verify(&keys, None, &doc_request(), now),
            Err(AuthFailure::MissingHeader)
        );
        let long = format!("type=master&ver=1.0&sig={}", "A".repeat(2000));
        assert_eq!(
            verify(&keys, Some(&long), &doc_request(), now),
            Err(AuthFailure::Malformed)
        );
    }
}
