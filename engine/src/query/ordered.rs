//! ORDER BY streamed in index order: which queries qualify (one sort key that is an indexed path
//! of the item, no GROUP BY, DISTINCT or aggregate, and no index lookup on another path), the
//! exact order of the documents that share one encoded index value (the index keeps numbers as
//! f64 and strings by their first 512 bytes, so one entry value may stand for several values),
//! and the cursor a page resumes from: (phase, item key, exact sort value). Pure: storage walks
//! the index (account/ordered.rs) and seals the cursor into a token (account/query.rs); this file
//! never reads storage and never decides a charge.

use std::cmp::Ordering;
use std::rc::Rc;

use serde_json::Value;

use super::eval::Env;
use super::exec::Prepared;
use super::plan::OrderScan;
use super::value::{order, Val};

impl OrderScan {
    /// The phases of a page walk, in result order.
    pub(crate) fn phases(&self) -> Vec<Phase> {
        match (&self.within, self.descending) {
            (Some(_), _) => vec![Phase::Indexed],
            (None, false) => vec![Phase::Undefined, Phase::Indexed],
            (None, true) => vec![Phase::Indexed, Phase::Undefined],
        }
    }
}

/// The two parts of an ordered result: the items whose sort key is undefined (they sort before
/// every value, so first ascending and last descending), read in key order; and the items with
/// a value, read in index order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Undefined,
    Indexed,
}

/// Where an ordered page resumes: at the item `key` in `phase`, whose sort value was `value`
/// (`None` in the undefined phase). The next page starts at this item inclusive (the `Pager`
/// skips the results of it already returned) or, if it changed or went away, at whatever
/// follows it in the order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cursor {
    pub(crate) phase: Phase,
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<Value>,
}

impl Cursor {
    /// `phase: u8 (0 undefined, 1 indexed) | key_len: u32 BE | key | compact JSON of the value`:
    /// the bytes the `Pager` records as a position (it compares them for equality only).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![match self.phase {
            Phase::Undefined => 0,
            Phase::Indexed => 1,
        }];
        out.extend_from_slice(&u32::try_from(self.key.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&self.key);
        if let Some(v) = &self.value {
            out.extend_from_slice(v.to_string().as_bytes());
        }
        out
    }

    /// `None` for bytes that are not a cursor.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Cursor> {
        let (&phase, rest) = bytes.split_first()?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let key = rest.get(4..4usize.checked_add(len)?)?.to_vec();
        let json = rest.get(4 + len..)?;
        match phase {
            0 if json.is_empty() => Some(Cursor {
                phase: Phase::Undefined,
                key,
                value: None,
            }),
            1 => Some(Cursor {
                phase: Phase::Indexed,
                key,
                value: Some(serde_json::from_slice(json).ok()?),
            }),
            _ => None,
        }
    }
}

impl Prepared {
    /// True if the query may stream in index order: FROM, one ORDER BY key, and neither GROUP
    /// BY, DISTINCT nor an aggregate. (The planner then checks the key and the index.)
    pub(crate) fn streams_ordered(&self) -> bool {
        let q = &self.query;
        q.from.is_some()
            && q.order_by.len() == 1
            && q.group_by.is_empty()
            && !q.select.distinct
            && !self.aggregated
    }

    /// The (single) sort key of a document, as ORDER BY evaluates it on the FROM binding.
    pub(crate) fn sort_value(&self, doc: &Rc<Value>) -> Val {
        let (alias, o) = (self.query.from.as_ref()?, self.query.order_by.first()?);
        let env = Env {
            params: &self.params,
            now: self.now,
            aggs: None,
            udfs: self.udfs.as_deref(),
        };
        env.eval(&o.expr, &vec![(alias.clone(), doc.clone())])
    }
}

/// The result order of two items of an ordered query, given their sort values and keys: by
/// value (reversed for DESC), then by item key ascending in both directions, as the in-memory
/// stable sort of a key-order scan gives.
pub(crate) fn sorted_cmp(a: (&Val, &[u8]), b: (&Val, &[u8]), descending: bool) -> Ordering {
    let by_value = order(a.0, b.0);
    let by_value = if descending { by_value.reverse() } else { by_value };
    by_value.then_with(|| a.1.cmp(b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_round_trip_and_refuse_other_bytes() {
        for c in [
            Cursor {
                phase: Phase::Undefined,
                key: vec![1, 0, 0, 0, 3, 0xff],
                value: None,
            },
            Cursor {
                phase: Phase::Indexed,
                key: vec![],
                value: Some(json!({"a": [1, "x"]})),
            },
            Cursor {
                phase: Phase::Indexed,
                key: b"k".to_vec(),
                value: Some(json!(null)),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for bad in [
            &b""[..],
            &[2, 0, 0, 0, 0][..],
            &[0, 0, 0, 0, 1][..],
            &[0, 0, 0, 0, 0, b'1'][..],
            &[1, 0, 0, 0, 0, b'{'][..],
            &[1, 0xff, 0xff, 0xff, 0xff][..],
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_order_is_by_value_then_key_ascending_in_both_directions() {
        let (one, two) = (Some(json!(1)), Some(json!(2)));
        assert_eq!(sorted_cmp((&one, b"b"), (&two, b"a"), false), Ordering::Less);
        assert_eq!(sorted_cmp((&one, b"b"), (&two, b"a"), true), Ordering::Greater);
        assert_eq!(sorted_cmp((&one, b"a"), (&one, b"b"), true), Ordering::Less);
        assert_eq!(
            sorted_cmp((&None, b"z"), (&Some(json!(null)), b"a"), false),
            Ordering::Less
        );
        let p = Prepared::new("SELECT * FROM c ORDER BY c.a.b DESC", &[]).unwrap();
        assert!(p.streams_ordered());
        assert_eq!(p.sort_value(&Rc::new(json!({"a": {"b": 4}}))), Some(json!(4)));
        assert_eq!(p.sort_value(&Rc::new(json!({"a": [{"b": 4}]}))), None);
        for sql in [
            "SELECT * FROM c ORDER BY c.a, c.b",
            "SELECT DISTINCT c.a FROM c ORDER BY c.a",
            "SELECT * FROM c",
            "SELECT VALUE 1 ORDER BY 1",
        ] {
            let streams = Prepared::new(sql, &[]).map(|p| p.streams_ordered());
            assert!(!streams.unwrap_or(false), "{sql}");
        }
    }
}
