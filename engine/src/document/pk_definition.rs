//! A container's partition-key definition: one path (kind `Hash`) or two to three (`MultiHash`,
//! a hierarchical key). Owns the paths' syntax, taking an item's key from its paths, and checking
//! that a key given to address an item (all levels) or to scope a query or feed (a prefix of
//! them) fits the container. Must not know how keys are laid out in the store (key.rs does).

use serde_json::Value;

use super::partition_key::{PartitionKey, MAX_LEVELS};
use crate::error::{Error, Result};

/// How a container's items are partitioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKeyKind {
    /// One path; keys are single values.
    Hash,
    /// Two or three paths; keys are hierarchical, one value per path.
    MultiHash,
}

impl PartitionKeyKind {
    /// The managed service's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionKeyKind::Hash => "Hash",
            PartitionKeyKind::MultiHash => "MultiHash",
        }
    }
}

/// The paths a container's partition key is read from, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionKeyDefinition {
    paths: Vec<String>,
    segments: Vec<Vec<String>>,
}

impl PartitionKeyDefinition {
    /// One path makes a `Hash` key, two or three a `MultiHash` one. 400 for no path, more than
    /// three, a malformed one, or a path given twice or inside another (an item could not then
    /// hold independent values for both).
    pub fn new<S: AsRef<str>>(paths: &[S]) -> Result<PartitionKeyDefinition> {
        if paths.is_empty() || paths.len() > MAX_LEVELS {
            return Err(Error::BadRequest(format!(
                "a partition key has 1 to {MAX_LEVELS} paths, not {}; e.g. /tenant, or /tenant /user /session \
                 for a hierarchical key",
                paths.len()
            )));
        }
        let segments = paths
            .iter()
            .map(|p| validate_partition_key_path(p.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        for (i, a) in segments.iter().enumerate() {
            for b in &segments[i + 1..] {
                let n = a.len().min(b.len());
                if a[..n] == b[..n] {
                    return Err(Error::BadRequest(format!(
                        "partition key paths /{} and /{} overlap; each level needs its own property",
                        a.join("/"),
                        b.join("/")
                    )));
                }
            }
        }
        Ok(PartitionKeyDefinition {
            paths: paths.iter().map(|p| p.as_ref().to_string()).collect(),
            segments,
        })
    }

    /// The paths, e.g. `["/tenant", "/user"]`.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn kind(&self) -> PartitionKeyKind {
        if self.paths.len() > 1 {
            PartitionKeyKind::MultiHash
        } else {
            PartitionKeyKind::Hash
        }
    }

    /// Each path's segments (`/a/b` is `["a", "b"]`).
    pub(crate) fn segments(&self) -> &[Vec<String>] {
        &self.segments
    }

    /// The item's key: its value at the path, or for a hierarchical key the value at each path,
    /// with the none component for a path the item lacks (as the managed service does).
    pub fn extract(&self, item: &Value) -> Result<PartitionKey> {
        match self.segments.as_slice() {
            [one] => PartitionKey::extract(item, one),
            many => PartitionKey::hierarchical(
                many.iter()
                    .map(|path| PartitionKey::extract(item, path))
                    .collect::<Result<Vec<_>>>()?,
            ),
        }
    }

    /// Checks a key given to address one item: a single value for a `Hash` container, all the
    /// levels of a `MultiHash` one (400 otherwise).
    pub(crate) fn check_full(&self, pk: &PartitionKey) -> Result<()> {
        self.check(pk, false)
    }

    /// Checks a key given to scope a query or change feed: as `check_full`, or a prefix of the
    /// levels of a hierarchical key. For a hierarchical container a single value is the
    /// one-level prefix (`["t1"]`, as clients send it, reads as the value `"t1"`); the key
    /// returned is the one to scope by.
    pub(crate) fn scope(&self, pk: &PartitionKey) -> Result<PartitionKey> {
        let pk = match (pk, self.kind()) {
            (PartitionKey::Hierarchical(_), _) | (_, PartitionKeyKind::Hash) => pk.clone(),
            (one, PartitionKeyKind::MultiHash) => PartitionKey::Hierarchical(vec![one.clone()]),
        };
        self.check(&pk, true)?;
        Ok(pk)
    }

    fn check(&self, pk: &PartitionKey, prefix_ok: bool) -> Result<()> {
        let n = self.paths.len();
        // The variant is public: a key built without `PartitionKey::hierarchical` is checked
        // here as that would have checked it.
        if let PartitionKey::Hierarchical(levels) = pk {
            if levels.is_empty() || levels.iter().any(|l| matches!(l, PartitionKey::Hierarchical(_))) {
                return Err(Error::BadRequest(
                    "a hierarchical partition key has at least one level, each a string, number, \
                     boolean, null or none"
                        .into(),
                ));
            }
        }
        match (pk, self.kind()) {
            (PartitionKey::Hierarchical(_), PartitionKeyKind::Hash) => Err(Error::BadRequest(format!(
                "the partition key {pk} has levels, but the container is partitioned on the single path {}; \
                 give one value",
                self.paths[0]
            ))),
            (PartitionKey::Hierarchical(levels), PartitionKeyKind::MultiHash)
                if levels.len() == n || (prefix_ok && levels.len() < n) =>
            {
                Ok(())
            }
            (_, PartitionKeyKind::MultiHash) => {
                Err(Error::BadRequest(format!(
                "the partition key {pk} has {} level(s), but the container's hierarchical key has {n} ({}); \
                 give {}a JSON array of one value per path, e.g. {}",
                pk.levels().len(),
                self.paths.join(", "),
                if prefix_ok { "the first levels or all, as " } else { "all levels, as " },
                example(n)
            )))
            }
            (_, PartitionKeyKind::Hash) => Ok(()),
        }
    }

    /// The key a query's WHERE clause pins, given the value it pins at each path (as one of its
    /// top-level AND terms). A single path: its value. A hierarchical key: the longest run of
    /// pinned levels from the first, so `c.tenant = 't1'` alone scopes the query to the prefix
    /// `["t1"]` (a key range, docs/format.md); a level pinned after an unpinned one narrows
    /// nothing. The scope is only ever a superset of the matches: every item the clause admits
    /// has those values at those paths, so its key lies in the range, and the clause is still
    /// evaluated on each item read.
    pub(crate) fn pinned(
        &self,
        mut value_at: impl FnMut(&[String]) -> Option<Value>,
    ) -> Option<PartitionKey> {
        let levels: Vec<PartitionKey> = self
            .segments
            .iter()
            .map_while(|path| value_at(path).and_then(|v| PartitionKey::from_json(&v).ok()))
            .collect();
        match self.kind() {
            PartitionKeyKind::Hash => levels.into_iter().next(),
            PartitionKeyKind::MultiHash if levels.is_empty() => None,
            PartitionKeyKind::MultiHash => PartitionKey::hierarchical(levels).ok(),
        }
    }
}

fn example(n: usize) -> &'static str {
    match n {
        2 => r#"["t1","u1"]"#,
        _ => r#"["t1","u1","s1"]"#,
    }
}

/// A partition-key path: `/name` or `/a/b`, segments non-empty and without spaces or quotes.
pub(crate) fn validate_partition_key_path(path: &str) -> Result<Vec<String>> {
    let bad = || {
        Error::BadRequest(format!(
            "partition key path '{path}' is invalid: use a path such as /tenant or /address/city"
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    let segments: Vec<String> = rest.split('/').map(str::to_string).collect();
    if segments.iter().any(|s| {
        s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c.is_control())
    }) {
        return Err(bad());
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(validate_partition_key_path("/tenant").unwrap(), vec!["tenant"]);
        assert_eq!(validate_partition_key_path("/a/b").unwrap(), vec!["a", "b"]);
        for bad in ["", "tenant", "/", "/a/", "//a", "/a b"] {
            assert!(validate_partition_key_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            PartitionKeyDefinition::new(&["/t"]).unwrap().kind(),
            PartitionKeyKind::Hash
        );
        let d = PartitionKeyDefinition::new(&["/t", "/u/v", "/s"]).unwrap();
        assert_eq!(d.kind(), PartitionKeyKind::MultiHash);
        assert_eq!(d.paths(), ["/t", "/u/v", "/s"]);
        let none: [&str; 0] = [];
        for bad in [
            &none[..],
            &["/a", "/b", "/c", "/d"],
            &["/a", "/a"],
            &["/a", "/a/b"],
            &["/a", "b"],
        ] {
            assert_eq!(
                PartitionKeyDefinition::new(bad).unwrap_err().status(),
                400,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn extraction_fills_missing_levels_with_none() {
        let d = PartitionKeyDefinition::new(&["/t", "/u", "/s"]).unwrap();
        let pk = d.extract(&json!({"id": "1", "t": "a", "s": 3})).unwrap();
        assert_eq!(
            pk,
            PartitionKey::hierarchical([
                PartitionKey::from("a"),
                PartitionKey::None,
                PartitionKey::from(3i64)
            ])
            .unwrap()
        );
        assert_eq!(d.extract(&json!({"t": {"x": 1}})).unwrap_err().status(), 400);
        let single = PartitionKeyDefinition::new(&["/t"]).unwrap();
        assert_eq!(single.extract(&json!({"t": "a"})).unwrap(), "a".into());
    }

    #[test]
    fn full_keys_and_prefixes() {
        let d = PartitionKeyDefinition::new(&["/t", "/u"]).unwrap();
        let full = PartitionKey::hierarchical(["a", "b"]).unwrap();
        let prefix = PartitionKey::hierarchical(["a"]).unwrap();
        assert!(d.check_full(&full).is_ok());
        assert_eq!(d.scope(&full).unwrap(), full);
        assert_eq!(d.scope(&prefix).unwrap(), prefix);
        assert_eq!(d.scope(&"a".into()).unwrap(), prefix);
        let e = d.check_full(&prefix).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("1 level(s)"), "{e}");
        assert_eq!(d.check_full(&"a".into()).unwrap_err().status(), 400);
        let three = PartitionKey::hierarchical(["a", "b", "c"]).unwrap();
        assert_eq!(d.scope(&three).unwrap_err().status(), 400);
        for unchecked in [
            PartitionKey::Hierarchical(vec![]),
            PartitionKey::Hierarchical(vec![prefix.clone(), "b".into()]),
        ] {
            assert_eq!(d.scope(&unchecked).unwrap_err().status(), 400, "{unchecked:?}");
            assert_eq!(
                d.check_full(&unchecked).unwrap_err().status(),
                400,
                "{unchecked:?}"
            );
        }
        assert_eq!(
            PartitionKeyDefinition::new(&["/t"])
                .unwrap()
                .scope(&prefix)
                .unwrap_err()
                .status(),
            400
        );
        let single = PartitionKeyDefinition::new(&["/t"]).unwrap();
        assert!(single.check_full(&"a".into()).is_ok());
        assert!(single.check_full(&PartitionKey::None).is_ok());
        assert_eq!(single.check_full(&full).unwrap_err().status(), 400);
    }

    #[test]
    fn pinned_takes_the_leading_levels() {
        let d = PartitionKeyDefinition::new(&["/t", "/u"]).unwrap();
        let both = |p: &[String]| Some(json!(p[0].clone() + "1"));
        assert_eq!(
            d.pinned(both),
            Some(PartitionKey::hierarchical(["t1", "u1"]).unwrap())
        );
        // The first level alone pins the prefix; the second alone pins nothing.
        let only_t = |p: &[String]| (p[0] == "t").then(|| json!("t1"));
        assert_eq!(
            d.pinned(only_t),
            Some(PartitionKey::hierarchical(["t1"]).unwrap())
        );
        let only_u = |p: &[String]| (p[0] == "u").then(|| json!("u1"));
        assert_eq!(d.pinned(only_u), None);
        let d3 = PartitionKeyDefinition::new(&["/t", "/u", "/s"]).unwrap();
        let t_and_s = |p: &[String]| (p[0] != "u").then(|| json!(p[0].clone() + "1"));
        assert_eq!(
            d3.pinned(t_and_s),
            Some(PartitionKey::hierarchical(["t1"]).unwrap())
        );
        let single = PartitionKeyDefinition::new(&["/t"]).unwrap();
        assert_eq!(single.pinned(both), Some("t1".into()));
    }
}
