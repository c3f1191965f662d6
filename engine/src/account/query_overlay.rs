//! A query that sees writes not yet committed: a stored procedure's queries read the partition
//! as the execution has left it so far (its own creates, replaces and deletes over what is
//! stored), as the managed service's scripts do. The overlay is the execution's view of the keys
//! it has touched, merged over the store's scan in key order; the query then runs as a full scan
//! of that merged partition (its index entries for those writes do not exist yet). Owns the
//! merge; must not stage, store or evaluate anything.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;

use crate::error::Result;

/// Keys an execution has touched: the stored bytes it would leave under each (`None`: deleted).
pub(crate) type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The store's `(key, bytes)` pairs from `start` on, in key order, with every key the overlay
/// holds under `prefix` from `start` on replaced by the overlay's bytes, or dropped when the
/// overlay deleted it.
pub(crate) fn merged<'a>(
    store: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a,
    overlay: &'a Overlay,
    prefix: Vec<u8>,
    start: &[u8],
) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a {
    let ours = overlay
        .range::<[u8], _>((Bound::Included(start), Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(&prefix))
        .peekable();
    Merge {
        store: store.peekable(),
        ours,
    }
}

struct Merge<S: Iterator, O: Iterator> {
    store: Peekable<S>,
    ours: Peekable<O>,
}

impl<'a, S, O> Iterator for Merge<S, O>
where
    S: Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>,
    O: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
{
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.store.peek(), self.ours.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) | (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(Ok((stored, _))), Some((ours, _))) => stored.as_slice().cmp(ours.as_slice()),
            };
            match order {
                Ordering::Less => return self.store.next(),
                // The overlay's version of the key replaces the stored one.
                Ordering::Equal => drop(self.store.next()),
                Ordering::Greater => {}
            }
            let (k, v) = self.ours.next()?;
            if let Some(bytes) = v {
                return Some(Ok((k.clone(), bytes.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(keys: &[&str]) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> {
        keys.iter()
            .map(|k| Ok((k.as_bytes().to_vec(), format!("stored {k}").into_bytes())))
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn keys_and_values(it: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>) -> Vec<String> {
        it.map(|r| {
            let (k, v) = r.unwrap();
            format!(
                "{}={}",
                String::from_utf8(k).unwrap(),
                String::from_utf8(v).unwrap()
            )
        })
        .collect()
    }

    #[test]
    fn the_overlay_replaces_adds_and_deletes_within_its_prefix() {
        let mut o = Overlay::new();
        o.insert(b"p/a".to_vec(), Some(b"new a".to_vec())); // replaced
        o.insert(b"p/b".to_vec(), None); // deleted
        o.insert(b"p/bb".to_vec(), Some(b"created bb".to_vec())); // created between two
        o.insert(b"p/z".to_vec(), Some(b"created z".to_vec())); // created after the last
        o.insert(b"q/x".to_vec(), Some(b"elsewhere".to_vec())); // outside the prefix
        let got = keys_and_values(merged(store(&["p/a", "p/b", "p/c"]), &o, b"p/".to_vec(), b"p/"));
        assert_eq!(
            got,
            ["p/a=new a", "p/bb=created bb", "p/c=stored p/c", "p/z=created z"]
        );
        // From a position: only what follows it, on both sides.
        let got = keys_and_values(merged(store(&["p/c"]), &o, b"p/".to_vec(), b"p/bc"));
        assert_eq!(got, ["p/c=stored p/c", "p/z=created z"]);
        // An empty store: the overlay's live keys alone.
        let got = keys_and_values(merged(store(&[]), &o, b"p/".to_vec(), b"p/"));
        assert_eq!(got, ["p/a=new a", "p/bb=created bb", "p/z=created z"]);
    }

    #[test]
    fn a_store_error_is_passed_on() {
        let o = Overlay::new();
        let failing = vec![Err(crate::error::Error::Internal("damaged".into()))].into_iter();
        let mut it = merged(failing, &o, b"p/".to_vec(), b"p/");
        assert!(it.next().unwrap().is_err());
    }
}
