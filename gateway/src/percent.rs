//! Percent-encoding as the SDKs use it: decoding the authorization token and path segments they
//! URL-encode, and encoding the script log the service sends URL-encoded in a response header.
//! Owns the byte rules only; must not know which header or segment it is given.

/// `%XX` decoding; `None` for a bad escape or a non-UTF-8 result.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `%XX` encoding of every UTF-8 byte but the ones JavaScript's `encodeURIComponent` keeps
/// (letters, digits and `-_.!~*'()`), as the service encodes `x-ms-documentdb-script-log-results`:
/// the result is visible ASCII, fit for a header, whatever the text held.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_what_encode_uri_component_keeps_and_round_trips() {
        // The service's own example, as its SDK tests compare it.
        assert_eq!(
            percent_encode("The value of x is 1."),
            "The%20value%20of%20x%20is%201."
        );
        assert_eq!(
            percent_encode("a/b?c=d&e\n{\"k\":1} é(!)"),
            "a%2Fb%3Fc%3Dd%26e%0A%7B%22k%22%3A1%7D%20%C3%A9(!)"
        );
        let text = "line 1\nline 2: 100% {\"ok\":true} ü\r\n";
        assert_eq!(percent_decode(&percent_encode(text)).as_deref(), Some(text));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%C3"), None);
    }
}
