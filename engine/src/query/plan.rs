//! The query planner: which index lookups can stand for a query's WHERE clause, and whether its
//! ORDER BY is allowed by the container's indexing policy. A lookup is used only when it is a
//! *necessary* condition of the WHERE clause (every row the clause keeps has an entry in the
//! lookup's ranges), so the items it proposes are a superset of the results; the executor
//! re-checks the whole clause on them. Pure: storage turns lookups into key ranges
//! (account/index.rs).

mod spatial;

use serde_json::Value;

use super::ast::{BinOp, Expr, ExprKind, SubqueryKind};
use super::eval::{Env, Row};
use super::exec::{conjuncts, Prepared};
use super::like::Pattern;
use crate::error::{Error, Result};
use crate::index::encode::type_tag;
use crate::index::path::{canonical, Seg};
use crate::index::spatial::Cover;
use crate::index::{CompiledPolicy, IndexingMode};

/// How a query's ORDER BY is read from the index: the planner's decision (its walk is
/// query/ordered.rs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderScan {
    /// The sort path (indexed for every type of value).
    pub(crate) path: Vec<Seg>,
    pub(crate) descending: bool,
    /// `Some`: the WHERE clause's lookups, all on the sort path: only their ranges are read, and
    /// no item lacking the path can match. `None`: the whole path, and the items lacking it
    /// (undefined sorts first) are found by a key-order scan.
    pub(crate) within: Option<Vec<Lookup>>,
}

/// What one lookup reads from the index of one path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LookupKind {
    /// Entries equal to any of these scalars.
    Values(Vec<Value>),
    /// Entries between the bounds (inclusive; both of one type, at least one present).
    Range { lo: Option<Value>, hi: Option<Value> },
    /// String entries starting with this text.
    Prefix(String),
    /// Every entry of the path (any type).
    Defined,
    /// The cells of the path's spatial index covering a filter's region (plan/spatial.rs).
    Spatial(SpatialLookup),
}

/// A spatial filter's lookup: the filter, for `describe`, and the cells it reads.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpatialLookup {
    pub(crate) what: String,
    pub(crate) cover: Cover,
}

impl LookupKind {
    pub(crate) fn is_spatial(&self) -> bool {
        matches!(self, LookupKind::Spatial(_))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lookup {
    pub(crate) path: Vec<Seg>,
    pub(crate) kind: LookupKind,
}

impl Lookup {
    /// A rough number of entries it reads, to choose between lookups.
    fn cost(&self) -> usize {
        match &self.kind {
            LookupKind::Values(v) => v.len(),
            LookupKind::Prefix(_) => 20,
            LookupKind::Range {
                lo: Some(_),
                hi: Some(_),
            } => 30,
            LookupKind::Range { .. } => 50,
            LookupKind::Defined => 100,
            LookupKind::Spatial(_) => 40,
        }
    }

    /// `/"kind" = "fruit"`, `/"qty" in [3, 9]`, ...
    pub(crate) fn describe(&self) -> String {
        let p = canonical(&self.path);
        match &self.kind {
            LookupKind::Values(v) if v.len() == 1 => format!("{p} = {}", v[0]),
            LookupKind::Values(v) => format!("{p} IN {}", Value::from(v.clone())),
            LookupKind::Range { lo, hi } => match (lo, hi) {
                (Some(l), Some(h)) => format!("{p} BETWEEN {l} AND {h}"),
                (Some(l), None) => format!("{p} >= {l}"),
                (None, Some(h)) => format!("{p} <= {h}"),
                (None, None) => format!("{p} any"),
            },
            LookupKind::Prefix(s) => format!("{p} STARTSWITH {}", Value::from(s.as_str())),
            LookupKind::Defined => format!("{p} IS_DEFINED"),
            LookupKind::Spatial(s) => format!(
                "{p} {} (spatial index: {} cells at level {})",
                s.what,
                s.cover.cells.len(),
                s.cover.level
            ),
        }
    }
}

/// The planner's decision for one query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    /// `Some`: the union of these lookups proposes every item the query can return. `None`: the
    /// query reads every item (of its partition).
    pub(crate) lookups: Option<Vec<Lookup>>,
    /// How ORDER BY is served, if the query has one.
    pub(crate) order_by: Option<String>,
    /// `Some` when ORDER BY can be read in index order (query/ordered.rs).
    pub(crate) order_scan: Option<OrderScan>,
}

impl Prepared {
    /// Plans the query under `policy`. 400 when the policy does not allow it: a filter or sort
    /// on anything but `id` under `indexingMode: none`, an ORDER BY on an excluded path, or an
    /// ORDER BY on several paths without a composite index.
    pub(crate) fn plan(&self, policy: &CompiledPolicy) -> Result<Plan> {
        let q = &self.query;
        let Some(alias) = q.from.as_deref() else {
            return Ok(Plan {
                lookups: None,
                order_by: None,
                order_scan: None,
            });
        };
        let paths = Paths::new(self, alias);
        let lookups = q.filter.as_ref().and_then(|f| self.necessary(f, &paths, policy));
        if policy.mode == IndexingMode::None {
            self.check_unindexed(&paths)?;
        }
        let order_by = self.order_plan(&paths, policy)?;
        let order_scan = self.order_scan(&paths, policy, lookups.as_deref());
        Ok(Plan {
            lookups,
            order_by,
            order_scan,
        })
    }

    /// ORDER BY in index order: one sort key that is a path of the item indexed for every type
    /// (so every item with a value there has an entry), and no lookup on another path (the
    /// lookup is then used and the results sorted in memory: without statistics, a selective
    /// filter is the safer bet).
    fn order_scan(
        &self,
        paths: &Paths<'_>,
        policy: &CompiledPolicy,
        lookups: Option<&[Lookup]>,
    ) -> Option<OrderScan> {
        if !self.streams_ordered() || policy.mode == IndexingMode::None {
            return None;
        }
        let o = self.query.order_by.first()?;
        let path = paths
            .root_path(&o.expr)
            .filter(|p| !p.is_empty() && policy.indexes_all_at(p))?;
        let within = match lookups {
            None => None,
            // Cells are not in the order of the path's values.
            Some(l) if l.iter().any(|x| x.kind.is_spatial()) => return None,
            Some(l) if l.iter().all(|x| x.path == path) => Some(l.to_vec()),
            Some(_) => return None,
        };
        Some(OrderScan {
            path,
            descending: o.descending,
            within,
        })
    }

    /// Under `indexingMode: none` a query may read everything, or filter (and sort) on `id`.
    fn check_unindexed(&self, paths: &Paths<'_>) -> Result<()> {
        let id = [Seg::Name("id".into())];
        let refuse = |what: &str| {
            Error::BadRequest(format!(
                "the container's indexing mode is none, so it has no index for {what}; filter on \
                 the id (c.id = ...) or read the items by id, or set an indexing policy with \
                 indexingMode consistent"
            ))
        };
        if let Some(f) = &self.query.filter {
            let mut terms = Vec::new();
            conjuncts(f, &mut terms);
            let by_id = terms.iter().any(|t| match &t.kind {
                ExprKind::Binary(BinOp::Eq, a, b) => {
                    (paths.root_path(a).as_deref() == Some(&id[..]) && self.constant(b).is_some())
                        || (paths.root_path(b).as_deref() == Some(&id[..]) && self.constant(a).is_some())
                }
                _ => false,
            });
            if !by_id {
                return Err(refuse("its WHERE clause"));
            }
        }
        for o in &self.query.order_by {
            if paths.root_path(&o.expr).as_deref() != Some(&id[..]) {
                return Err(refuse("its ORDER BY"));
            }
        }
        Ok(())
    }

    /// Checks ORDER BY against the policy (only sort keys that are paths of the FROM item are
    /// checked: a JOIN alias or a computed key is sorted in memory without an index).
    fn order_plan(&self, paths: &Paths<'_>, policy: &CompiledPolicy) -> Result<Option<String>> {
        let items = &self.query.order_by;
        if items.is_empty() {
            return Ok(None);
        }
        let keyed: Option<Vec<(Vec<Seg>, bool)>> = items
            .iter()
            .map(|o| {
                paths
                    .root_path(&o.expr)
                    .filter(|p| !p.is_empty())
                    .map(|p| (p, o.descending))
            })
            .collect();
        let dir = |d: bool| if d { "DESC" } else { "ASC" };
        let Some(keyed) = keyed else {
            return Ok(Some(
                "sorted in memory (a sort key is not a path of the item)".into(),
            ));
        };
        if policy.mode == IndexingMode::None {
            return Ok(Some("sorted in memory by id".into()));
        }
        match keyed.as_slice() {
            [(path, d)] => {
                if !policy.indexes(path, true) {
                    return Err(Error::BadRequest(format!(
                        "ORDER BY {}: the path is excluded from the container's indexing policy; \
                         include {}/? to sort on it",
                        canonical(path),
                        canonical(path)
                    )));
                }
                Ok(Some(format!("range index on {} {}", canonical(path), dir(*d))))
            }
            _ => {
                let list = keyed
                    .iter()
                    .map(|(p, d)| format!("{} {}", canonical(p), dir(*d)))
                    .collect::<Vec<_>>()
                    .join(", ");
                if !policy.has_composite(&keyed) {
                    return Err(Error::BadRequest(format!(
                        "ORDER BY on several paths needs a composite index over ({list}) (or all \
                         reversed) in the container's indexing policy"
                    )));
                }
                Ok(Some(format!("composite index ({list})")))
            }
        }
    }

    /// Lookups whose union holds every row for which `e` is true, or `None`.
    fn necessary(&self, e: &Expr, paths: &Paths<'_>, policy: &CompiledPolicy) -> Option<Vec<Lookup>> {
        let scalar_path = |x: &Expr| paths.path(x).filter(|p| !p.is_empty() && policy.indexes(p, true));
        let single = |path: Vec<Seg>, kind: LookupKind| Some(vec![Lookup { path, kind }]);
        if let Some(l) = self.spatial_lookup(e, paths, policy) {
            return Some(vec![l]);
        }
        match &e.kind {
            ExprKind::Binary(BinOp::And, a, b) => {
                let (a, b) = (self.necessary(a, paths, policy), self.necessary(b, paths, policy));
                match (a, b) {
                    (Some(a), Some(b)) => Some(match intersect_ranges(&a, &b) {
                        Some(both) => vec![both],
                        None if total_cost(&b) < total_cost(&a) => b,
                        None => a,
                    }),
                    (a, b) => a.or(b),
                }
            }
            ExprKind::Binary(BinOp::Or, a, b) => {
                let mut a = self.necessary(a, paths, policy)?;
                a.extend(self.necessary(b, paths, policy)?);
                Some(a)
            }
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
                let (path, v, flipped) = match (scalar_path(a), scalar_path(b)) {
                    (Some(p), _) => (p, self.scalar(b)?, false),
                    (None, Some(p)) => (p, self.scalar(a)?, true),
                    (None, None) => return None,
                };
                let below = matches!(
                    (op, flipped),
                    (BinOp::Lt | BinOp::Le, false) | (BinOp::Gt | BinOp::Ge, true)
                );
                let kind = match op {
                    BinOp::Eq => LookupKind::Values(vec![v]),
                    _ if below => LookupKind::Range {
                        lo: None,
                        hi: Some(v),
                    },
                    _ => LookupKind::Range {
                        lo: Some(v),
                        hi: None,
                    },
                };
                single(path, kind)
            }
            ExprKind::In {
                value,
                list,
                negated: false,
            } => {
                let path = scalar_path(value)?;
                let values = list.iter().map(|x| self.scalar(x)).collect::<Option<Vec<_>>>()?;
                single(path, LookupKind::Values(values))
            }
            ExprKind::Between {
                value,
                low,
                high,
                negated: false,
            } => {
                let path = scalar_path(value)?;
                let (lo, hi) = (self.scalar(low)?, self.scalar(high)?);
                if type_tag(&lo) != type_tag(&hi) && !(lo.is_boolean() && hi.is_boolean()) {
                    return None;
                }
                single(
                    path,
                    LookupKind::Range {
                        lo: Some(lo),
                        hi: Some(hi),
                    },
                )
            }
            // EXISTS(SELECT ... FROM t IN c.path WHERE w): some row of the subquery meets w, so
            // a lookup necessary for w (its aliases resolved through the enclosing ones) is too.
            ExprKind::Subquery(SubqueryKind::Exists, inner) => {
                let mut joins = paths.joins.clone();
                joins.extend(inner.joins.iter().map(|j| (j.alias.as_str(), &j.source)));
                let within = Paths {
                    alias: paths.alias,
                    joins,
                    prepared: paths.prepared,
                };
                self.necessary(inner.filter.as_ref()?, &within, policy)
            }
            // Every match starts with the pattern's literal prefix (case-sensitively); a pattern
            // without wildcards matches that one string.
            ExprKind::Like {
                value,
                pattern,
                escape,
                negated: false,
            } => {
                let path = scalar_path(value)?;
                let Value::String(pattern) = self.constant(pattern)? else {
                    return None;
                };
                let (prefix, literal) = Pattern::compile(&pattern, *escape)?.literal_prefix();
                match (prefix.is_empty(), literal) {
                    (true, _) => None,
                    (false, true) => single(path, LookupKind::Values(vec![Value::String(prefix)])),
                    (false, false) => single(path, LookupKind::Prefix(prefix)),
                }
            }
            ExprKind::Call(name, args) => match (name.as_str(), args.as_slice()) {
                ("STARTSWITH", [p, prefix, rest @ ..]) if self.not_true(rest) => {
                    let path = scalar_path(p)?;
                    match self.constant(prefix)? {
                        Value::String(s) => single(path, LookupKind::Prefix(s)),
                        _ => None,
                    }
                }
                ("IS_DEFINED", [p]) => {
                    let path = paths
                        .path(p)
                        .filter(|p| !p.is_empty() && policy.indexes_all_at(p))?;
                    single(path, LookupKind::Defined)
                }
                ("ARRAY_CONTAINS", [p, needle, ..]) => {
                    let mut path = paths.path(p)?;
                    path.push(Seg::Array);
                    if !policy.indexes(&path, true) {
                        return None;
                    }
                    single(path, LookupKind::Values(vec![self.scalar(needle)?]))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The value of an expression that reads no item (literals, parameters, and functions of
    /// them), if it has one.
    fn constant(&self, e: &Expr) -> Option<Value> {
        if mentions_item(e) {
            return None;
        }
        let env = Env {
            params: &self.params,
            now: self.now,
            aggs: None,
            udfs: self.udfs.as_deref(),
        };
        env.eval(e, &Row::new())
    }

    /// A constant that is a scalar (arrays and objects are not indexed by value).
    fn scalar(&self, e: &Expr) -> Option<Value> {
        self.constant(e)
            .filter(|v| !matches!(v, Value::Array(_) | Value::Object(_)))
    }

    /// True when the optional third argument of STARTSWITH is absent or a constant other than
    /// `true` (case-insensitive matching cannot use the index).
    fn not_true(&self, rest: &[Expr]) -> bool {
        match rest {
            [] => true,
            [x] => !mentions_item(x) && self.constant(x) != Some(Value::Bool(true)),
            _ => false,
        }
    }
}

/// `p >= lo AND p <= hi` as one range: both sides single half-open ranges of one path, of one
/// type, in opposite directions.
fn intersect_ranges(a: &[Lookup], b: &[Lookup]) -> Option<Lookup> {
    let ([x], [y]) = (a, b) else { return None };
    if x.path != y.path {
        return None;
    }
    let (lo, hi) = match (&x.kind, &y.kind) {
        (
            LookupKind::Range {
                lo: Some(lo),
                hi: None,
            },
            LookupKind::Range {
                lo: None,
                hi: Some(hi),
            },
        )
        | (
            LookupKind::Range {
                lo: None,
                hi: Some(hi),
            },
            LookupKind::Range {
                lo: Some(lo),
                hi: None,
            },
        ) => (lo, hi),
        _ => return None,
    };
    let same_type = type_tag(lo) == type_tag(hi) || (lo.is_boolean() && hi.is_boolean());
    same_type.then(|| Lookup {
        path: x.path.clone(),
        kind: LookupKind::Range {
            lo: Some(lo.clone()),
            hi: Some(hi.clone()),
        },
    })
}

fn total_cost(lookups: &[Lookup]) -> usize {
    lookups.iter().map(Lookup::cost).sum()
}

fn mentions_item(e: &Expr) -> bool {
    // A subquery may read the row (it is correlated), so it is never a constant.
    matches!(e.kind, ExprKind::Ident(_) | ExprKind::Subquery(..))
        || e.kind.children().into_iter().any(mentions_item)
}

/// Resolves expressions to document paths: the FROM alias is the root; a JOIN alias stands for
/// any element of its source array.
struct Paths<'a> {
    alias: &'a str,
    joins: Vec<(&'a str, &'a Expr)>,
    prepared: &'a Prepared,
}

impl<'a> Paths<'a> {
    fn new(prepared: &'a Prepared, alias: &'a str) -> Paths<'a> {
        Paths {
            alias,
            joins: prepared
                .query
                .joins
                .iter()
                .map(|j| (j.alias.as_str(), &j.source))
                .collect(),
            prepared,
        }
    }

    /// The document path `e` reads, through JOIN aliases.
    fn path(&self, e: &Expr) -> Option<Vec<Seg>> {
        self.resolve(e, true)
    }

    /// The document path `e` reads from the FROM item itself (not through a JOIN alias).
    fn root_path(&self, e: &Expr) -> Option<Vec<Seg>> {
        self.resolve(e, false)
    }

    fn resolve(&self, e: &Expr, through_joins: bool) -> Option<Vec<Seg>> {
        match &e.kind {
            ExprKind::Ident(name) if name == self.alias => Some(Vec::new()),
            ExprKind::Ident(name) if through_joins => {
                let (_, source) = self.joins.iter().find(|(a, _)| a == name)?;
                // `JOIN x IN [c.path]` (what `FROM c.path x` becomes) binds x to the path itself.
                if let ExprKind::Array(items) = &source.kind {
                    let [only] = items.as_slice() else {
                        return None;
                    };
                    return self.resolve(only, true);
                }
                let mut p = self.resolve(source, true)?;
                p.push(Seg::Array);
                Some(p)
            }
            ExprKind::Property(base, name) => {
                let mut p = self.resolve(base, through_joins)?;
                p.push(Seg::Name(name.clone()));
                Some(p)
            }
            ExprKind::Index(base, key) => {
                let key = match &key.kind {
                    ExprKind::Literal(Value::String(s)) => s.clone(),
                    ExprKind::Param(p) => self.prepared.params.get(p)?.as_str()?.to_string(),
                    _ => return None,
                };
                let mut p = self.resolve(base, through_joins)?;
                p.push(Seg::Name(key));
                Some(p)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexingPolicy;
    use serde_json::json;

    fn plan_with(policy: &str, sql: &str, params: &[(&str, Value)]) -> Result<Plan> {
        let params: Vec<(String, Value)> = params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        let p = IndexingPolicy::from_json(policy).unwrap().compile().unwrap();
        Prepared::new(sql, &params)?.plan(&p)
    }

    fn lookups(sql: &str) -> Option<Vec<String>> {
        plan_with(r#"{"includedPaths":[{"path":"/*"}]}"#, sql, &[("@p", json!(7))])
            .unwrap()
            .lookups
            .map(|l| l.iter().map(Lookup::describe).collect())
    }

    #[test]
    fn sargable_predicates_become_lookups() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("SELECT * FROM c WHERE c.a = 1", Some(&["/\"a\" = 1"])),
            (
                "SELECT * FROM c WHERE 'x' = c.b.c",
                Some(&["/\"b\"/\"c\" = \"x\""]),
            ),
            ("SELECT * FROM c WHERE c.a = @p", Some(&["/\"a\" = 7"])),
            ("SELECT * FROM c WHERE c.a > -2", Some(&["/\"a\" >= -2"])),
            ("SELECT * FROM c WHERE 5 > c.a", Some(&["/\"a\" <= 5"])),
            (
                "SELECT * FROM c WHERE c.a IN (1, 'x')",
                Some(&["/\"a\" IN [1,\"x\"]"]),
            ),
            (
                "SELECT * FROM c WHERE c.a BETWEEN 1 AND 4",
                Some(&["/\"a\" BETWEEN 1 AND 4"]),
            ),
            (
                "SELECT * FROM c WHERE STARTSWITH(c.s, 'ab')",
                Some(&["/\"s\" STARTSWITH \"ab\""]),
            ),
            (
                "SELECT * FROM c WHERE c.s LIKE 'ab%'",
                Some(&["/\"s\" STARTSWITH \"ab\""]),
            ),
            (
                "SELECT * FROM c WHERE c.s LIKE 'a!%_c' ESCAPE '!'",
                Some(&["/\"s\" STARTSWITH \"a%\""]),
            ),
            (
                "SELECT * FROM c WHERE c.s LIKE 'abc'",
                Some(&["/\"s\" = \"abc\""]),
            ),
            ("SELECT * FROM c WHERE c.s LIKE '%b'", None),
            (
                "SELECT * FROM c.o x WHERE x.n = 1",
                Some(&["/\"o\"/\"n\" = 1"]),
            ),
            (
                "SELECT * FROM t IN c.o.tags WHERE t = 'a'",
                Some(&["/\"o\"/\"tags\"/[] = \"a\""]),
            ),
            ("SELECT VALUE x FROM c JOIN x IN [c.a, c.b] WHERE x = 1", None),
            (
                "SELECT * FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = 'x')",
                Some(&["/\"tags\"/[] = \"x\""]),
            ),
            (
                "SELECT * FROM c WHERE EXISTS(SELECT VALUE 1 FROM c JOIN k IN c.kids JOIN t IN k.toys WHERE t.n > 2)",
                Some(&["/\"kids\"/[]/\"toys\"/[]/\"n\" >= 2"]),
            ),
            ("SELECT * FROM c WHERE NOT EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = 'x')", None),
            ("SELECT * FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags)", None),
            ("SELECT * FROM c WHERE c.s NOT LIKE 'ab%'", None),
            (
                "SELECT * FROM c WHERE IS_DEFINED(c.o)",
                Some(&["/\"o\" IS_DEFINED"]),
            ),
            (
                "SELECT * FROM c WHERE ARRAY_CONTAINS(c.t, 'x')",
                Some(&["/\"t\"/[] = \"x\""]),
            ),
            (
                "SELECT VALUE c FROM c JOIN t IN c.tags WHERE t = 'x'",
                Some(&["/\"tags\"/[] = \"x\""]),
            ),
            (
                "SELECT * FROM c WHERE c.a = 1 OR c.b = 2",
                Some(&["/\"a\" = 1", "/\"b\" = 2"]),
            ),
            (
                "SELECT * FROM c WHERE c.a > 1 AND c.id = 'k'",
                Some(&["/\"id\" = \"k\""]),
            ),
            ("SELECT * FROM c WHERE c['a b'] = 1", Some(&["/\"a b\" = 1"])),
            (
                "SELECT * FROM c WHERE c.a >= 1 AND c.a < 5",
                Some(&["/\"a\" BETWEEN 1 AND 5"]),
            ),
            (
                "SELECT * FROM c WHERE c.a < 'x' AND c.a >= 1",
                Some(&["/\"a\" <= \"x\""]),
            ),
            // Not necessary conditions, or not indexable: a full scan.
            ("SELECT * FROM c WHERE c.a = 1 OR c.b + 1 = 2", None),
            ("SELECT * FROM c WHERE NOT (c.a = 1)", None),
            ("SELECT * FROM c WHERE c.a != 1", None),
            ("SELECT * FROM c WHERE c.a NOT IN (1)", None),
            ("SELECT * FROM c WHERE c.a = c.b", None),
            ("SELECT * FROM c WHERE c.a = [1]", None),
            ("SELECT * FROM c WHERE STARTSWITH(c.s, 'ab', true)", None),
            ("SELECT * FROM c WHERE c.a BETWEEN 1 AND 'z'", None),
            ("SELECT * FROM c WHERE c.t[0] = 1", None),
            ("SELECT * FROM c", None),
        ];
        for (sql, want) in cases {
            let got = lookups(sql);
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{sql}");
        }
    }

    #[test]
    fn excluded_paths_are_not_used_and_cannot_be_sorted_on() {
        let policy = r#"{"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/secret/?"}]}"#;
        let p = plan_with(policy, "SELECT * FROM c WHERE c.secret = 1", &[]).unwrap();
        assert_eq!(p.lookups, None);
        let e = plan_with(policy, "SELECT * FROM c ORDER BY c.secret", &[]).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("excluded"), "{e}");
        let ok = plan_with(policy, "SELECT * FROM c ORDER BY c.other DESC", &[]).unwrap();
        assert_eq!(ok.order_by.as_deref(), Some("range index on /\"other\" DESC"));
    }

    #[test]
    fn several_sort_keys_need_a_composite_index() {
        let plain = r#"{"includedPaths":[{"path":"/*"}]}"#;
        let e = plan_with(plain, "SELECT * FROM c ORDER BY c.a, c.b DESC", &[]).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("composite index"), "{e}");
        let with = r#"{"includedPaths":[{"path":"/*"}],"compositeIndexes":[[{"path":"/a"},{"path":"/b","order":"descending"}]]}"#;
        assert!(plan_with(with, "SELECT * FROM c ORDER BY c.a, c.b DESC", &[]).is_ok());
        assert!(plan_with(with, "SELECT * FROM c ORDER BY c.a DESC, c.b", &[]).is_ok());
        assert!(plan_with(with, "SELECT * FROM c ORDER BY c.a, c.b", &[]).is_err());
        // Sort keys that are not paths of the item are sorted in memory.
        assert!(plan_with(plain, "SELECT VALUE c FROM c JOIN t IN c.x ORDER BY c.a, t", &[]).is_ok());
    }

    /// Spatial filters on a declared path become cell lookups (either argument order, `<`,
    /// `<=` and the flipped comparison); regions too large or near a pole, undeclared paths and
    /// non-constant geometries scan.
    #[test]
    fn spatial_filters_on_declared_paths_become_cell_lookups() {
        let policy = r#"{"includedPaths":[{"path":"/*"}],
            "spatialIndexes":[{"path":"/loc/?","types":["Point","Polygon"]}]}"#;
        let plan = |sql: &str| {
            plan_with(policy, sql, &[])
                .unwrap()
                .lookups
                .map(|l| l.iter().map(Lookup::describe).collect::<Vec<_>>())
        };
        let paris = "{'type':'Point','coordinates':[2.35,48.85]}";
        let square = "{'type':'Polygon','coordinates':[[[2,48],[3,48],[3,49],[2,49],[2,48]]]}";
        let indexed = [
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.loc, {paris}) < 5000"),
            format!("SELECT * FROM c WHERE ST_DISTANCE({paris}, c.loc) <= 5000"),
            format!("SELECT * FROM c WHERE 5000 > ST_DISTANCE(c.loc, {paris})"),
            format!("SELECT * FROM c WHERE ST_WITHIN(c.loc, {square})"),
            format!("SELECT * FROM c WHERE ST_INTERSECTS({square}, c.loc) AND c.n > 1"),
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.loc, {paris}) BETWEEN 10 AND 5000"),
            // Across the antimeridian: cells on both sides.
            "SELECT * FROM c WHERE ST_DISTANCE(c.loc, {'type':'Point','coordinates':[179.99,0]}) < 5000"
                .into(),
        ];
        for sql in &indexed {
            let got = plan(sql).unwrap_or_else(|| panic!("{sql}: no lookup"));
            assert_eq!(got.len(), 1, "{sql}");
            assert!(got[0].starts_with("/\"loc\" ST_"), "{sql}: {got:?}");
            assert!(got[0].contains("spatial index"), "{sql}: {got:?}");
        }
        assert!(plan(&indexed[0]).unwrap()[0].contains("ST_DISTANCE < 5000"));
        let world = "{'type':'Polygon','coordinates':[[[-170,-80],[170,-80],[170,80],[-170,80],[-170,-80]]]}";
        for sql in [
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.loc, {paris}) > 5000"),
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.other, {paris}) < 5000"),
            "SELECT * FROM c WHERE ST_DISTANCE(c.loc, c.other) < 5000".into(),
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.loc, {paris}) < 'far'"),
            format!("SELECT * FROM c WHERE ST_WITHIN(c.loc, {world})"),
            "SELECT * FROM c WHERE ST_DISTANCE(c.loc, {'type':'Point','coordinates':[0,88.99]}) < 5000"
                .into(),
            "SELECT * FROM c WHERE ST_WITHIN(c.loc, {'type':'Polygon'})".into(),
            format!("SELECT * FROM c WHERE NOT ST_WITHIN(c.loc, {square})"),
            format!("SELECT * FROM c WHERE ST_DISTANCE(c.loc, {paris}) NOT BETWEEN 0 AND 5000"),
        ] {
            assert_eq!(plan(&sql), None, "{sql}");
        }
        // ORDER BY on the spatial path is not read in index order through the cells.
        let p = plan_with(
            policy,
            &format!("SELECT * FROM c WHERE ST_WITHIN(c.loc, {square}) ORDER BY c.loc"),
            &[],
        )
        .unwrap();
        assert!(p.lookups.is_some() && p.order_scan.is_none());
    }

    #[test]
    fn mode_none_allows_only_reads_by_id() {
        let none = r#"{"indexingMode":"none"}"#;
        assert!(plan_with(none, "SELECT * FROM c", &[]).is_ok());
        assert!(plan_with(none, "SELECT * FROM c WHERE c.id = 'a' AND c.x > 1", &[]).is_ok());
        assert!(plan_with(none, "SELECT * FROM c ORDER BY c.id", &[]).is_ok());
        for sql in ["SELECT * FROM c WHERE c.x = 1", "SELECT * FROM c ORDER BY c.x"] {
            let e = plan_with(none, sql, &[]).unwrap_err();
            assert_eq!(e.status(), 400, "{sql}");
            assert!(e.to_string().contains("indexing mode is none"), "{e}");
        }
        let p = plan_with(none, "SELECT * FROM c WHERE c.id = 'a'", &[]).unwrap();
        assert_eq!(p.lookups, None, "mode none has no entries, even for id");
    }
}
