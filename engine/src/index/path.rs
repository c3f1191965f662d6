//! Paths of an indexing policy and of a document: the `/name/[]/?` syntax of included and
//! excluded paths (with quoted segments for special characters), the segments a document's
//! values sit at, and the canonical form stored in index keys. Pure syntax: it knows nothing of
//! keys or storage.

use crate::error::{Error, Result};

/// One step from a value to a value inside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Seg {
    /// A property of an object.
    Name(String),
    /// Any element of an array (`[]`).
    Array,
}

/// The canonical text of a document path (`/"tags"/[]/"name"`): names always quoted (as JSON
/// strings), so no name can alias `[]` or another path. This is what index keys hold.
pub(crate) fn canonical(segs: &[Seg]) -> String {
    let mut out = Vec::new();
    for s in segs {
        push_canonical(&mut out, s);
    }
    // JSON strings written from `str`s are UTF-8: the lossy branch is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends one segment's part of `canonical` to `out`: `/` and the name as a JSON string (what
/// `Value::String` displays as), or `/[]`. Lets a walk keep its path's text as it goes.
pub(crate) fn push_canonical(out: &mut Vec<u8>, seg: &Seg) {
    out.push(b'/');
    match seg {
        Seg::Name(n) => {
            // Writing a `str` as JSON into a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut *out, n.as_str());
        }
        Seg::Array => out.extend_from_slice(b"[]"),
    }
}

/// What a policy path ends with: `?` (the scalar value at the path) or `*` (the path and
/// everything under it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    Scalar,
    Any,
}

/// A parsed included or excluded path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathPattern {
    pub(crate) segs: Vec<Seg>,
    pub(crate) tail: Tail,
}

impl PathPattern {
    /// Parses `/a/b/?`, `/a/*`, `/tags/[]/?`, `/"quoted/name"/?`, `/*`. Each segment is a name
    /// (any characters but `/`, `"`, and not `?`, `*` or `[]` alone), `[]`, or a quoted name with
    /// JSON escapes; the last is `?` or `*`.
    pub(crate) fn parse(text: &str) -> Result<PathPattern> {
        let bad = |why: &str| {
            Error::BadRequest(format!(
                "index path '{text}' is not valid: {why}; write paths like /*, /name/?, /a/b/*, \
                 /tags/[]/? or /\"special name\"/?"
            ))
        };
        let segs = split_segments(text).map_err(|why| bad(&why))?;
        let (last, body) = segs.split_last().ok_or_else(|| bad("it is empty"))?;
        let tail = match last {
            Raw::Plain(s) if s == "?" => Tail::Scalar,
            Raw::Plain(s) if s == "*" => Tail::Any,
            _ => return Err(bad("it must end with /? or /*")),
        };
        let mut out = Vec::with_capacity(body.len());
        for s in body {
            out.push(match s {
                Raw::Quoted(n) => Seg::Name(n.clone()),
                Raw::Plain(s) if s == "[]" => Seg::Array,
                Raw::Plain(s) if s == "?" || s == "*" => return Err(bad("? and * may only end a path")),
                Raw::Plain(s) if s.contains(['[', ']']) => {
                    return Err(bad("a segment with [ or ] must be quoted, or be [] alone"))
                }
                Raw::Plain(s) => Seg::Name(s.clone()),
            });
        }
        if out.is_empty() && tail == Tail::Scalar {
            return Err(bad("/? names no property; use /* for the whole document"));
        }
        Ok(PathPattern { segs: out, tail })
    }

    /// Whether the pattern covers the value at `path`, which is a scalar or not.
    pub(crate) fn matches(&self, path: &[Seg], scalar: bool) -> bool {
        match self.tail {
            Tail::Scalar => scalar && path == self.segs.as_slice(),
            Tail::Any => path.starts_with(&self.segs),
        }
    }

    /// How precise the pattern is: more segments first, then `?` over `*`.
    pub(crate) fn precision(&self) -> (usize, u8) {
        (self.segs.len(), u8::from(self.tail == Tail::Scalar))
    }
}

/// Parses a composite index path (`/a/b`, no `?` or `*`).
pub(crate) fn parse_plain_path(text: &str) -> Result<Vec<Seg>> {
    let bad = |why: &str| {
        Error::BadRequest(format!(
            "composite index path '{text}' is not valid: {why}; write paths like /name or /a/b"
        ))
    };
    let segs = split_segments(text).map_err(|why| bad(&why))?;
    if segs.is_empty() {
        return Err(bad("it is empty"));
    }
    segs.into_iter()
        .map(|s| match s {
            Raw::Quoted(n) => Ok(Seg::Name(n)),
            Raw::Plain(s) if s == "?" || s == "*" || s.contains(['[', ']']) => {
                Err(bad("composite paths name one property: no ?, * or []"))
            }
            Raw::Plain(s) => Ok(Seg::Name(s)),
        })
        .collect()
}

enum Raw {
    Plain(String),
    Quoted(String),
}

/// Splits `/a/"b/c"/d` into its segments.
fn split_segments(text: &str) -> std::result::Result<Vec<Raw>, String> {
    let Some(mut rest) = text.strip_prefix('/') else {
        return Err("it must start with /".into());
    };
    let mut out = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('"') {
            // A quoted segment: find its closing quote (not escaped), decode it as a JSON string.
            let mut end = None;
            let mut escaped = false;
            for (i, ch) in after.char_indices() {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let end = end.ok_or("a quoted segment is not closed")?;
            let literal = &rest[..end + 2];
            let name: String = serde_json::from_str(literal)
                .map_err(|_| format!("the quoted segment {literal} has a bad escape"))?;
            out.push(Raw::Quoted(name));
            rest = &after[end + 1..];
            match rest.strip_prefix('/') {
                Some(r) => rest = r,
                None if rest.is_empty() => return Ok(out),
                None => return Err("a quoted segment must be followed by / or end the path".into()),
            }
        } else {
            let (seg, next) = match rest.find('/') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            if seg.is_empty() {
                return Err("it has an empty segment".into());
            }
            if seg.contains('"') {
                return Err("a quote may only open a whole segment".into());
            }
            out.push(Raw::Plain(seg.to_string()));
            match next {
                Some(r) => rest = r,
                None => return Ok(out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Seg {
        Seg::Name(s.into())
    }

    #[test]
    fn parses_the_usual_forms() {
        let p = PathPattern::parse("/*").unwrap();
        assert_eq!((p.segs.len(), p.tail), (0, Tail::Any));
        let p = PathPattern::parse("/tags/[]/?").unwrap();
        assert_eq!(p.segs, vec![n("tags"), Seg::Array]);
        assert_eq!(p.tail, Tail::Scalar);
        let p = PathPattern::parse("/\"a/b\"/\"x\\\"y\"/*").unwrap();
        assert_eq!(p.segs, vec![n("a/b"), n("x\"y")]);
        assert_eq!(PathPattern::parse("/\"[]\"/?").unwrap().segs, vec![n("[]")]);
        for bad in [
            "", "a/?", "/", "/?", "/a", "/a//?", "/a/*/b/?", "/\"a/?", "/a\"b/?", "/x[0]/?",
        ] {
            let e = PathPattern::parse(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
        assert_eq!(parse_plain_path("/a/b").unwrap(), vec![n("a"), n("b")]);
        assert!(parse_plain_path("/a/?").is_err());
        assert!(parse_plain_path("/a/[]").is_err());
    }

    #[test]
    fn matching_and_precision() {
        let star = PathPattern::parse("/*").unwrap();
        let a_scalar = PathPattern::parse("/a/?").unwrap();
        let a_any = PathPattern::parse("/a/*").unwrap();
        assert!(star.matches(&[n("x")], true));
        assert!(a_scalar.matches(&[n("a")], true));
        assert!(!a_scalar.matches(&[n("a")], false));
        assert!(!a_scalar.matches(&[n("a"), n("b")], true));
        assert!(a_any.matches(&[n("a"), n("b")], true));
        assert!(a_any.matches(&[n("a")], false));
        assert!(a_scalar.precision() > a_any.precision());
        assert!(a_any.precision() > star.precision());
        assert_eq!(canonical(&[n("a"), Seg::Array, n("[]")]), "/\"a\"/[]/\"[]\"");
    }
}
