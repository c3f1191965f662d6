//! One-pass decoding of a stored item into the caller's type for `read_item`: the stored JSON is
//! deserialized straight into `T`, with the engine's internal `_lsn` left out of the top-level
//! object and `_etag` noted on the way, instead of parsing into a `Value`, removing `_lsn` and
//! rebuilding `T` from that `Value` (a second full pass). Pure: no I/O, no charges.
//!
//! It must not change what a read returns. Whatever it cannot decode (a top-level value that is
//! not an object, a `T` that does not fit, JSON nested past serde_json's recursion limit, bytes
//! that do not parse) makes it answer `None`, and the caller takes the two-pass path, whose
//! statuses (500 for a stored item that does not parse, 400 for a `T` that does not fit) and
//! messages stay the only ones a read reports.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

/// A stored item decoded once: the item as `T` (without `_lsn`), its `_etag` if that is a string,
/// and its `_lsn` if that is an unsigned integer (what `item_lsn` would say).
pub(crate) struct TypedItem<T> {
    pub(crate) item: T,
    pub(crate) etag: Option<String>,
    pub(crate) lsn: Option<u64>,
}

/// `bytes` decoded into `T` in one pass, or `None` when only the two-pass path can tell why not.
pub(crate) fn decode_typed<T: DeserializeOwned>(bytes: &[u8]) -> Option<TypedItem<T>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut seen = Seen::default();
    let item = T::deserialize(ItemDeserializer {
        inner: &mut de,
        seen: &mut seen,
    })
    .ok()?;
    de.end().ok()?;
    Some(TypedItem {
        item,
        etag: seen.etag,
        lsn: seen.lsn,
    })
}

#[derive(Default)]
struct Seen {
    etag: Option<String>,
    lsn: Option<u64>,
}

/// The top level of a stored item: only an object is decoded here (every other request fails,
/// and the caller falls back).
struct ItemDeserializer<'a, 'de> {
    inner: &'a mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
    seen: &'a mut Seen,
}

impl<'de> Deserializer<'de> for ItemDeserializer<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_map(ObjectVisitor {
            visitor,
            seen: self.seen,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    // Any other request gets the object too: a `T` that wants something else rejects it, and
    // the caller falls back.
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
    }
}

/// Hands the top-level object to `T`'s visitor through `Filtered`.
struct ObjectVisitor<'a, V> {
    visitor: V,
    seen: &'a mut Seen,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stored item (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Filtered {
            map,
            seen: self.seen,
            etag_next: false,
        })
    }
}

/// The top-level object's entries without `_lsn` (its value noted), `_etag`'s value noted and
/// passed on.
struct Filtered<'a, A> {
    map: A,
    seen: &'a mut Seen,
    /// The key just handed out was `_etag`: its value is noted before `T` gets it.
    etag_next: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if key.as_str() == "_lsn" {
                self.seen.lsn = self.map.next_value::<Value>()?.as_u64();
                continue;
            }
            self.etag_next = key.as_str() == "_etag";
            return match key {
                Key::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::new(s)),
                Key::Owned(s) => seed.deserialize(StringDeserializer::new(s)),
            }
            .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if !std::mem::take(&mut self.etag_next) {
            return self.map.next_value_seed(seed);
        }
        let v = self.map.next_value::<Value>()?;
        self.seen.etag = v.as_str().map(str::to_string);
        seed.deserialize(v).map_err(serde::de::Error::custom)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A top-level key, borrowed from the stored bytes when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Order {
        id: String,
        total: f64,
        #[serde(rename = "_etag")]
        etag: String,
    }

    #[test]
    fn drops_top_level_lsn_only_and_notes_etag_and_lsn() {
        let stored = br#"{"_etag":"\"e1\"","_l\u0073n":42,"id":"a","sub":{"_lsn":3},"total":1.5}"#;
        let t = decode_typed::<Value>(stored).unwrap();
        assert_eq!(
            t.item,
            json!({"_etag": "\"e1\"", "id": "a", "sub": {"_lsn": 3}, "total": 1.5})
        );
        assert_eq!((t.etag.as_deref(), t.lsn), (Some("\"e1\""), Some(42)));
        // A struct that refuses unknown fields never sees `_lsn`.
        let o = decode_typed::<Order>(br#"{"_etag":"x","_lsn":1,"id":"a","total":2}"#).unwrap();
        assert_eq!(
            o.item,
            Order {
                id: "a".into(),
                total: 2.0,
                etag: "x".into()
            }
        );
        let m = decode_typed::<HashMap<String, Value>>(br#"{"id":"a","_lsn":1}"#).unwrap();
        assert_eq!(m.item, HashMap::from([("id".to_string(), json!("a"))]));
    }

    #[test]
    fn an_etag_that_is_not_a_string_or_an_lsn_that_is_not_a_u64_is_not_noted() {
        let t = decode_typed::<Value>(br#"{"_etag":5,"_lsn":-1,"id":"a"}"#).unwrap();
        assert_eq!(t.item, json!({"_etag": 5, "id": "a"}));
        assert_eq!((t.etag, t.lsn), (None, None));
    }

    #[test]
    fn whatever_it_cannot_decode_is_left_to_the_two_pass_path() {
        for bytes in [
            &br#"[1,2]"#[..],
            br#""id""#,
            br#"{"id":"a"} x"#,
            br#"{"id":"a""#,
            b"\xff",
        ] {
            assert!(decode_typed::<Value>(bytes).is_none(), "{bytes:?}");
        }
        // A type that does not fit: no partial answer.
        assert!(decode_typed::<Order>(br#"{"id":"a","_lsn":1}"#).is_none());
        assert!(decode_typed::<String>(br#"{"id":"a"}"#).is_none());
        assert!(decode_typed::<Option<Order>>(br#"{"id":"a","total":1,"_etag":"e"}"#).is_none());
        // Deeper than serde_json's recursion limit: the two-pass path parses it without one.
        let deep = format!("{{\"id\":\"a\",\"d\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(decode_typed::<Value>(deep.as_bytes()).is_none());
    }
}
