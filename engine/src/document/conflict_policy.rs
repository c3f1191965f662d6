//! A container's conflict-resolution policy, set at creation, and the pure decision it makes when
//! a synchronised change meets a local change to the same item: last-writer-wins on `_ts` or on
//! a numeric path (highest wins; a delete always wins), or custom (nothing is decided: the
//! conflict is recorded). No storage: `account::sync` applies the verdict.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// How conflicting changes to one item from two synchronised accounts are resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum ConflictResolutionPolicy {
    /// The version with the highest value at `path` wins (`/_ts` by default); a delete always
    /// wins. Resolved conflicts are not recorded.
    LastWriterWins {
        #[serde(rename = "conflictResolutionPath")]
        path: String,
    },
    /// No resolver: every conflicting change is recorded in the container's conflict feed and
    /// the current item stays.
    Custom,
}

impl Default for ConflictResolutionPolicy {
    fn default() -> Self {
        ConflictResolutionPolicy::LastWriterWins { path: "/_ts".into() }
    }
}

/// What to do with an incoming change that conflicts with a local one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Apply the incoming change.
    Incoming,
    /// Keep the local version.
    Local,
    /// Record the conflict; keep the local version.
    Record,
}

impl ConflictResolutionPolicy {
    /// 400 unless last-writer-wins names a path like `/_ts` or `/a/b` (one or more segments).
    pub fn validate(&self) -> Result<()> {
        if let ConflictResolutionPolicy::LastWriterWins { path } = self {
            let ok = path.starts_with('/') && path.len() > 1 && path[1..].split('/').all(|s| !s.is_empty());
            if !ok {
                return Err(Error::BadRequest(format!(
                    "conflict resolution path {path:?} must be a property path such as /_ts or /version"
                )));
            }
        }
        Ok(())
    }

    /// The verdict on an incoming version (`None`: a delete) against the local version
    /// (`None`: deleted locally). Deterministic and symmetric: two accounts that exchange their
    /// versions reach the same winner.
    pub(crate) fn resolve(&self, incoming: Option<&Value>, local: Option<&Value>) -> Verdict {
        let path = match self {
            ConflictResolutionPolicy::Custom => return Verdict::Record,
            ConflictResolutionPolicy::LastWriterWins { path } => path,
        };
        let (inc, loc) = match (incoming, local) {
            (None, _) => return Verdict::Incoming,
            (Some(_), None) => return Verdict::Local,
            (Some(i), Some(l)) => (i, l),
        };
        let order = compare_at(inc, loc, path)
            .or_else(|| compare_at(inc, loc, "/_ts"))
            .unwrap_or(std::cmp::Ordering::Equal)
            // Ties: the larger etag wins, the same on both sides.
            .then_with(|| etag(inc).cmp(etag(loc)));
        if order == std::cmp::Ordering::Greater {
            Verdict::Incoming
        } else {
            Verdict::Local
        }
    }
}

fn number_at(v: &Value, path: &str) -> Option<f64> {
    path.split('/')
        .skip(1)
        .try_fold(v, |cur, seg| cur.get(seg))
        .and_then(Value::as_f64)
}

/// Compares the numbers at `path`; an item with a number beats one without; `None` if neither
/// has one.
fn compare_at(a: &Value, b: &Value, path: &str) -> Option<std::cmp::Ordering> {
    match (number_at(a, path), number_at(b, path)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        (Some(_), None) => Some(std::cmp::Ordering::Greater),
        (None, Some(_)) => Some(std::cmp::Ordering::Less),
        (None, None) => None,
    }
}

fn etag(v: &Value) -> &str {
    v.get("_etag").and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_writer_wins_is_symmetric_and_deletes_win() {
        let lww = ConflictResolutionPolicy::default();
        let old = json!({"id": "a", "_ts": 10, "_etag": "\"1\""});
        let new = json!({"id": "a", "_ts": 20, "_etag": "\"0\""});
        assert_eq!(lww.resolve(Some(&new), Some(&old)), Verdict::Incoming);
        assert_eq!(lww.resolve(Some(&old), Some(&new)), Verdict::Local);
        assert_eq!(
            lww.resolve(None, Some(&new)),
            Verdict::Incoming,
            "a delete always wins"
        );
        assert_eq!(
            lww.resolve(Some(&new), None),
            Verdict::Local,
            "a local delete always wins"
        );
        // Same _ts: the etag decides, the same way from both sides.
        let twin = json!({"id": "a", "_ts": 10, "_etag": "\"2\""});
        let ab = lww.resolve(Some(&twin), Some(&old));
        let ba = lww.resolve(Some(&old), Some(&twin));
        assert_ne!(ab, ba);

        let by_version = ConflictResolutionPolicy::LastWriterWins {
            path: "/meta/version".into(),
        };
        let v5 = json!({"id": "a", "_ts": 1, "meta": {"version": 5}});
        let v3 = json!({"id": "a", "_ts": 99, "meta": {"version": 3}});
        let none = json!({"id": "a", "_ts": 100});
        assert_eq!(by_version.resolve(Some(&v5), Some(&v3)), Verdict::Incoming);
        assert_eq!(by_version.resolve(Some(&v3), Some(&v5)), Verdict::Local);
        assert_eq!(
            by_version.resolve(Some(&none), Some(&v3)),
            Verdict::Local,
            "a number beats none"
        );
        assert_eq!(
            ConflictResolutionPolicy::Custom.resolve(Some(&v5), Some(&v3)),
            Verdict::Record
        );
    }

    #[test]
    fn paths_are_validated_and_the_policy_round_trips() {
        for bad in ["", "/", "_ts", "/a//b", "/a/"] {
            let p = ConflictResolutionPolicy::LastWriterWins { path: bad.into() };
            assert_eq!(p.validate().unwrap_err().status(), 400, "{bad}");
        }
        ConflictResolutionPolicy::default().validate().unwrap();
        for p in [
            ConflictResolutionPolicy::default(),
            ConflictResolutionPolicy::Custom,
        ] {
            let s = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<ConflictResolutionPolicy>(&s).unwrap(), p);
        }
    }
}
