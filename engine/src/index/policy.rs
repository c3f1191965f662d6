//! A container's indexing policy: the mode (`consistent` or `none`), the included and excluded
//! paths, the composite indexes and the spatial indexes; its validation and the rule that decides whether a value
//! at a document path is indexed (the more precise path wins). Policies are plaintext metadata
//! by contract (paths only, never values). Knows nothing of keys or storage.

use serde::{Deserialize, Serialize};

use super::path::{parse_plain_path, PathPattern, Seg};
use crate::error::{Error, Result};

/// Most paths in a composite index.
pub const MAX_COMPOSITE_PATHS: usize = 8;
/// Most included plus excluded paths, and most composite indexes, in one policy.
const MAX_POLICY_PATHS: usize = 256;

/// How a container keeps its index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexingMode {
    /// The index is updated in the same batch as each write.
    #[default]
    Consistent,
    /// No index: the container is a key-value store; queries that filter or sort on anything
    /// but `id` are refused (400).
    None,
}

/// `{"path": "/a/?"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyPath {
    pub path: String,
}

/// Sort order of one composite-index path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompositeOrder {
    #[default]
    Ascending,
    Descending,
}

/// `{"path": "/a", "order": "ascending"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositePath {
    pub path: String,
    #[serde(default)]
    pub order: CompositeOrder,
}

/// A GeoJSON type a spatial index takes (the managed service's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpatialType {
    Point,
    LineString,
    Polygon,
    MultiPolygon,
}

impl SpatialType {
    /// The type's GeoJSON name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SpatialType::Point => "Point",
            SpatialType::LineString => "LineString",
            SpatialType::Polygon => "Polygon",
            SpatialType::MultiPolygon => "MultiPolygon",
        }
    }
}

/// `{"path": "/location/?", "types": ["Point", "Polygon"]}`: the GeoJSON value at the path is
/// indexed by the cells it covers (docs/indexing.md, "Spatial indexes").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpatialIndex {
    pub path: String,
    pub types: Vec<SpatialType>,
}

/// A container's indexing policy, in the JSON shape managed document databases use:
/// `{"indexingMode": "consistent", "includedPaths": [{"path": "/*"}], "excludedPaths":
/// [{"path": "/\"_etag\"/?"}], "compositeIndexes": [[{"path": "/a", "order": "ascending"}, ...]],
/// "spatialIndexes": [{"path": "/location/?", "types": ["Point"]}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexingPolicy {
    #[serde(default)]
    pub indexing_mode: IndexingMode,
    /// Accepted for compatibility; must be true (every item is indexed as the paths say).
    #[serde(default = "yes")]
    pub automatic: bool,
    #[serde(default)]
    pub included_paths: Vec<PolicyPath>,
    #[serde(default)]
    pub excluded_paths: Vec<PolicyPath>,
    #[serde(default)]
    pub composite_indexes: Vec<Vec<CompositePath>>,
    /// Omitted from the JSON when empty, so policies written before spatial indexes read back
    /// unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spatial_indexes: Vec<SpatialIndex>,
}

fn yes() -> bool {
    true
}

const ETAG_PATH: &str = "/\"_etag\"/?";

impl Default for IndexingPolicy {
    /// Everything indexed but `_etag`.
    fn default() -> Self {
        IndexingPolicy {
            indexing_mode: IndexingMode::Consistent,
            automatic: true,
            included_paths: vec![PolicyPath { path: "/*".into() }],
            excluded_paths: vec![PolicyPath {
                path: ETAG_PATH.into(),
            }],
            composite_indexes: Vec::new(),
            spatial_indexes: Vec::new(),
        }
    }
}

impl IndexingPolicy {
    /// Parses a policy from JSON text (400 with serde's message for a malformed one) and
    /// validates it.
    pub fn from_json(text: &str) -> Result<IndexingPolicy> {
        let p: IndexingPolicy = serde_json::from_str(text).map_err(|e| {
            Error::BadRequest(format!(
                "the indexing policy is not valid JSON of the expected shape: {e}"
            ))
        })?;
        p.normalized()
    }

    /// Validates the policy and returns it as stored: `_etag` excluded unless a path names it.
    pub fn normalized(mut self) -> Result<IndexingPolicy> {
        self.compile()?;
        let names_etag = self
            .included_paths
            .iter()
            .chain(&self.excluded_paths)
            .any(|p| p.path.contains("_etag"));
        if self.indexing_mode == IndexingMode::Consistent && !names_etag {
            self.excluded_paths.push(PolicyPath {
                path: ETAG_PATH.into(),
            });
        }
        Ok(self)
    }

    /// Checks every rule and builds the matcher.
    pub(crate) fn compile(&self) -> Result<CompiledPolicy> {
        let bad = |why: String| Error::BadRequest(format!("the indexing policy is not valid: {why}"));
        if !self.automatic {
            return Err(bad(
                "automatic must be true (manual indexing is not supported)".into()
            ));
        }
        let total = self.included_paths.len() + self.excluded_paths.len();
        if total > MAX_POLICY_PATHS || self.composite_indexes.len() > MAX_POLICY_PATHS {
            return Err(bad(format!(
                "it has more than {MAX_POLICY_PATHS} paths or composite indexes"
            )));
        }
        let mut rules = Vec::with_capacity(total);
        for (list, included) in [(&self.included_paths, true), (&self.excluded_paths, false)] {
            for p in list {
                let pattern = PathPattern::parse(&p.path)?;
                if rules.iter().any(|(q, _): &(PathPattern, bool)| *q == pattern) {
                    return Err(bad(format!("path {} appears twice", p.path)));
                }
                rules.push((pattern, included));
            }
        }
        if self.indexing_mode == IndexingMode::None {
            if total > 0 || !self.composite_indexes.is_empty() || !self.spatial_indexes.is_empty() {
                return Err(bad(
                    "with indexingMode none, includedPaths, excludedPaths, compositeIndexes and \
                     spatialIndexes must be empty"
                        .into(),
                ));
            }
        } else if !rules.iter().any(|(p, _)| p.segs.is_empty()) {
            return Err(bad(
                "the root path /* must appear in includedPaths or excludedPaths".into(),
            ));
        }
        let mut composites = Vec::with_capacity(self.composite_indexes.len());
        for c in &self.composite_indexes {
            if c.len() < 2 || c.len() > MAX_COMPOSITE_PATHS {
                return Err(bad(format!(
                    "a composite index has {} paths; it needs 2 to {MAX_COMPOSITE_PATHS}",
                    c.len()
                )));
            }
            let mut paths: Vec<(Vec<Seg>, bool)> = Vec::with_capacity(c.len());
            for cp in c {
                let segs = parse_plain_path(&cp.path)?;
                if paths.iter().any(|(s, _)| *s == segs) {
                    return Err(bad(format!("a composite index names {} twice", cp.path)));
                }
                paths.push((segs, cp.order == CompositeOrder::Descending));
            }
            composites.push(paths);
        }
        Ok(CompiledPolicy {
            mode: self.indexing_mode,
            rules,
            composites,
            spatial: compile_spatial(&self.spatial_indexes)?,
        })
    }
}

/// A validated policy, ready to decide paths.
#[derive(Clone, Debug)]
pub(crate) struct CompiledPolicy {
    pub(crate) mode: IndexingMode,
    rules: Vec<(PathPattern, bool)>,
    /// Each composite index: its paths with `true` for descending.
    pub(crate) composites: Vec<Vec<(Vec<Seg>, bool)>>,
    /// Each spatial index: its path and the types it takes.
    pub(crate) spatial: Vec<(Vec<Seg>, Vec<SpatialType>)>,
}

/// Checks the spatial indexes: a path to a property, written `/a/b/?` (or `/a/b/*`, which names
/// the same value here: the geometry at the path), named once; one to four distinct types.
fn compile_spatial(list: &[SpatialIndex]) -> Result<Vec<(Vec<Seg>, Vec<SpatialType>)>> {
    let bad = |why: String| {
        Error::BadRequest(format!(
            "the indexing policy's spatialIndexes are not valid: {why}"
        ))
    };
    if list.len() > MAX_POLICY_PATHS {
        return Err(bad(format!("there are more than {MAX_POLICY_PATHS}")));
    }
    let mut out: Vec<(Vec<Seg>, Vec<SpatialType>)> = Vec::with_capacity(list.len());
    for s in list {
        let segs = PathPattern::parse(&s.path)?.segs;
        if segs.is_empty() {
            return Err(bad(format!(
                "path {} names no property; write the path of the GeoJSON value, like /location/?",
                s.path
            )));
        }
        if out.iter().any(|(p, _)| *p == segs) {
            return Err(bad(format!("path {} appears twice", s.path)));
        }
        if s.types.is_empty() {
            return Err(bad(format!(
                "path {} lists no types; give some of Point, LineString, Polygon, MultiPolygon",
                s.path
            )));
        }
        let mut types = Vec::with_capacity(s.types.len());
        for t in &s.types {
            if types.contains(t) {
                return Err(bad(format!("path {} lists {} twice", s.path, t.name())));
            }
            types.push(*t);
        }
        out.push((segs, types));
    }
    Ok(out)
}

impl CompiledPolicy {
    /// Whether the value at `path` (a scalar, or an array/object) is indexed: the most precise
    /// matching path decides; `id` and `_ts` at the root are always indexed; the bookkeeping
    /// properties `_lsn`, `_rid`, `_self` and `_attachments` never (queries on them scan).
    pub(crate) fn indexes(&self, path: &[Seg], scalar: bool) -> bool {
        if self.mode == IndexingMode::None {
            return false;
        }
        if let [Seg::Name(n)] = path {
            match n.as_str() {
                "id" | "_ts" if scalar => return true,
                "_lsn" | "_rid" | "_self" | "_attachments" => return false,
                _ => {}
            }
        }
        self.rules
            .iter()
            .filter(|(p, _)| p.matches(path, scalar))
            .max_by_key(|(p, _)| p.precision())
            .is_some_and(|(_, included)| *included)
    }

    /// Whether every value at `path`, of any type, is indexed (what `IS_DEFINED` needs).
    pub(crate) fn indexes_all_at(&self, path: &[Seg]) -> bool {
        self.indexes(path, true) && self.indexes(path, false)
    }

    /// The types the spatial index at `path` takes, if the policy declares one there.
    pub(crate) fn spatial_types(&self, path: &[Seg]) -> Option<&[SpatialType]> {
        if self.mode == IndexingMode::None {
            return None;
        }
        self.spatial
            .iter()
            .find(|(p, _)| p.as_slice() == path)
            .map(|(_, t)| t.as_slice())
    }

    /// Whether some composite index serves `ORDER BY` over these paths in these directions
    /// (`true`: descending), read forwards or backwards.
    pub(crate) fn has_composite(&self, order: &[(Vec<Seg>, bool)]) -> bool {
        self.composites.iter().any(|c| {
            c.len() == order.len()
                && (c.iter().zip(order).all(|(a, b)| a == b)
                    || c.iter().zip(order).all(|(a, b)| a.0 == b.0 && a.1 != b.1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Seg {
        Seg::Name(s.into())
    }

    #[test]
    fn default_indexes_everything_but_etag() {
        let p = IndexingPolicy::default().compile().unwrap();
        assert!(p.indexes(&[n("a"), n("b")], true));
        assert!(p.indexes(&[n("tags"), Seg::Array], true));
        assert!(p.indexes(&[n("a")], false));
        assert!(!p.indexes(&[n("_etag")], true));
        assert!(!p.indexes(&[n("_lsn")], true));
        assert!(!p.indexes(&[n("_self")], true));
        assert!(p.indexes(&[n("_ts")], true));
        assert!(p.indexes_all_at(&[n("x")]));
    }

    #[test]
    fn the_more_precise_path_wins() {
        let p = IndexingPolicy::from_json(
            r#"{"includedPaths":[{"path":"/a/?"},{"path":"/b/*"}],
                "excludedPaths":[{"path":"/*"},{"path":"/b/secret/?"}]}"#,
        )
        .unwrap();
        let c = p.compile().unwrap();
        assert!(c.indexes(&[n("a")], true));
        assert!(!c.indexes(&[n("a")], false), "/a/? covers scalars only");
        assert!(!c.indexes(&[n("a"), n("x")], true));
        assert!(c.indexes(&[n("b"), n("x")], true));
        assert!(!c.indexes(&[n("b"), n("secret")], true));
        assert!(c.indexes(&[n("b"), n("secret"), n("deeper")], true));
        assert!(!c.indexes(&[n("z")], true));
        assert!(c.indexes(&[n("id")], true), "id is always indexed");
        assert!(c.indexes(&[n("_ts")], true));
        // _etag was excluded by the root path already; the normalised policy says so too.
        assert!(p.excluded_paths.iter().any(|x| x.path == ETAG_PATH));
    }

    #[test]
    fn invalid_policies_are_refused() {
        for bad in [
            r#"{"includedPaths":[{"path":"/a/?"}]}"#,
            r#"{"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/*"}]}"#,
            r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"}]]}"#,
            r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"},{"path":"/a"}]]}"#,
            r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"},{"path":"/b","order":"sideways"}]]}"#,
            r#"{"indexingMode":"none","includedPaths":[{"path":"/*"}]}"#,
            r#"{"indexingMode":"lazy"}"#,
            r#"{"includedPaths":[{"path":"/*"}],"automatic":false}"#,
            r#"{"includedPaths":[{"path":"/*"}],"unknown":1}"#,
            r#"{"includedPaths":[{"path":"*"}]}"#,
            "not json",
        ] {
            let e = IndexingPolicy::from_json(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
        let none = IndexingPolicy::from_json(r#"{"indexingMode":"none"}"#).unwrap();
        let c = none.compile().unwrap();
        assert!(!c.indexes(&[n("id")], true));
    }

    #[test]
    fn spatial_indexes_are_checked_and_kept() {
        let text = r#"{"includedPaths":[{"path":"/*"}],"spatialIndexes":[
            {"path":"/location/?","types":["Point","Polygon","MultiPolygon","LineString"]},
            {"path":"/area/*","types":["Polygon"]}]}"#;
        let p = IndexingPolicy::from_json(text).unwrap();
        assert_eq!(p.spatial_indexes.len(), 2);
        let back: IndexingPolicy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p, "the policy round-trips through its JSON");
        let c = p.compile().unwrap();
        assert_eq!(c.spatial_types(&[n("location")]).map(<[_]>::len), Some(4));
        assert_eq!(c.spatial_types(&[n("area")]), Some(&[SpatialType::Polygon][..]));
        assert_eq!(c.spatial_types(&[n("other")]), None);
        // A policy without them writes no spatialIndexes key.
        let plain = serde_json::to_value(IndexingPolicy::default()).unwrap();
        assert!(plain.get("spatialIndexes").is_none());
        for (bad, says) in [
            (r#"[{"path":"/loc/?","types":["Circle"]}]"#, "Circle"),
            (r#"[{"path":"/loc/?","types":[]}]"#, "lists no types"),
            (r#"[{"path":"/loc/?","types":["Point","Point"]}]"#, "Point twice"),
            (
                r#"[{"path":"/loc/?","types":["Point"]},{"path":"/loc/*","types":["Polygon"]}]"#,
                "twice",
            ),
            (r#"[{"path":"/*","types":["Point"]}]"#, "names no property"),
            (r#"[{"path":"loc","types":["Point"]}]"#, "must start with /"),
            (r#"[{"path":"/loc/?"}]"#, "types"),
            (r#"[{"path":"/loc/?","types":["Point"],"x":1}]"#, "unknown field"),
        ] {
            let text = format!(r#"{{"includedPaths":[{{"path":"/*"}}],"spatialIndexes":{bad}}}"#);
            let e = IndexingPolicy::from_json(&text).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        let e = IndexingPolicy::from_json(
            r#"{"indexingMode":"none","spatialIndexes":[{"path":"/loc/?","types":["Point"]}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("spatialIndexes"), "{e}");
    }

    #[test]
    fn composite_indexes_serve_either_direction() {
        let p = IndexingPolicy::from_json(
            r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"},{"path":"/b","order":"descending"}]]}"#,
        )
        .unwrap()
        .compile()
        .unwrap();
        assert!(p.has_composite(&[(vec![n("a")], false), (vec![n("b")], true)]));
        assert!(p.has_composite(&[(vec![n("a")], true), (vec![n("b")], false)]));
        assert!(!p.has_composite(&[(vec![n("a")], false), (vec![n("b")], false)]));
        assert!(!p.has_composite(&[(vec![n("b")], true), (vec![n("a")], false)]));
    }
}
