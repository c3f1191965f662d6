//! Request paths: a URL path (`/dbs/shop/colls/orders/docs/42`) as the resource it names, and the
//! resource type and link a signature covers. Names are percent-decoded here, once. Owns no
//! behaviour: which verbs a resource takes is `handlers`' business.

use crate::percent::percent_decode;

/// The most path segments a request may have (`dbs/d/colls/c/docs/id` is six).
const MAX_SEGMENTS: usize = 8;

/// A resource the gateway serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the database account.
    Account,
    /// `/dbs`: the database feed.
    Databases,
    Database {
        db: String,
    },
    /// `/dbs/{db}/colls`.
    Collections {
        db: String,
    },
    Collection {
        db: String,
        coll: String,
    },
    /// `/dbs/{db}/colls/{coll}/docs`: create, upsert, query, read feed.
    Documents {
        db: String,
        coll: String,
    },
    Document {
        db: String,
        coll: String,
        id: String,
    },
    /// `/dbs/{db}/colls/{coll}/pkranges`.
    PartitionKeyRanges {
        db: String,
        coll: String,
    },
    /// `/dbs/{db}/colls/{coll}/sprocs`, `/triggers` or `/udfs`: a feed of server-side scripts.
    Scripts {
        db: String,
        coll: String,
        kind: ScriptKind,
    },
    /// `/dbs/{db}/colls/{coll}/sprocs/{id}` (or `triggers/{id}`, `udfs/{id}`).
    Script {
        db: String,
        coll: String,
        kind: ScriptKind,
        id: String,
    },
    /// `/offers`: the provisioned throughput of databases and collections.
    Offers,
    /// `/offers/{id}`.
    Offer {
        id: String,
    },
    /// A path of the protocol this gateway does not serve (users, permissions, ...), or none.
    Unsupported,
}

/// The three kinds of server-side script a collection holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptKind {
    StoredProcedure,
    Trigger,
    UserDefinedFunction,
}

impl ScriptKind {
    /// The kind a path segment names (`sprocs`, `triggers`, `udfs`).
    fn from_segment(s: &str) -> Option<ScriptKind> {
        match s {
            "sprocs" => Some(ScriptKind::StoredProcedure),
            "triggers" => Some(ScriptKind::Trigger),
            "udfs" => Some(ScriptKind::UserDefinedFunction),
            _ => None,
        }
    }
}

/// A parsed request path: the route, and what its signature covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub route: Route,
    /// Lowercase resource type (`dbs`, `colls`, `docs`, `pkranges`; empty for the account).
    pub resource_type: String,
    /// The link signed: the path without the trailing feed segment (`dbs/d/colls/c` for
    /// `/dbs/d/colls/c/docs`), decoded, without leading or trailing slashes.
    pub resource_link: String,
}

/// Parses a URL path (no query string). `None` for bad percent-encoding or too many segments.
pub fn parse(path: &str) -> Option<Target> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<_>>()?;
    if segments.len() > MAX_SEGMENTS {
        return None;
    }
    let (resource_type, resource_link) = match segments.len() {
        0 => (String::new(), String::new()),
        n if n % 2 == 1 => (segments[n - 1].to_ascii_lowercase(), segments[..n - 1].join("/")),
        n => (segments[n - 2].to_ascii_lowercase(), segments.join("/")),
    };
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let route = match s.as_slice() {
        [] => Route::Account,
        ["dbs"] => Route::Databases,
        ["dbs", db] => Route::Database { db: db.to_string() },
        ["dbs", db, "colls"] => Route::Collections { db: db.to_string() },
        ["dbs", db, "colls", coll] => Route::Collection {
            db: db.to_string(),
            coll: coll.to_string(),
        },
        ["dbs", db, "colls", coll, "docs"] => Route::Documents {
            db: db.to_string(),
            coll: coll.to_string(),
        },
        ["dbs", db, "colls", coll, "docs", id] => Route::Document {
            db: db.to_string(),
            coll: coll.to_string(),
            id: id.to_string(),
        },
        ["dbs", db, "colls", coll, "pkranges"] => Route::PartitionKeyRanges {
            db: db.to_string(),
            coll: coll.to_string(),
        },
        ["dbs", db, "colls", coll, feed] => match ScriptKind::from_segment(feed) {
            Some(kind) => Route::Scripts {
                db: db.to_string(),
                coll: coll.to_string(),
                kind,
            },
            None => Route::Unsupported,
        },
        ["dbs", db, "colls", coll, feed, id] => match ScriptKind::from_segment(feed) {
            Some(kind) => Route::Script {
                db: db.to_string(),
                coll: coll.to_string(),
                kind,
                id: id.to_string(),
            },
            None => Route::Unsupported,
        },
        ["offers"] => Route::Offers,
        ["offers", id] => Route::Offer { id: id.to_string() },
        _ => Route::Unsupported,
    };
    // An offer is addressed by resource id, not by name: its link signs as the bare id in
    // lower case (as the SDKs sign it).
    let resource_link = match &route {
        Route::Offer { id } => id.to_ascii_lowercase(),
        _ => resource_link,
    };
    Some(Target {
        route,
        resource_type,
        resource_link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str) -> (Route, String, String) {
        let t = parse(path).unwrap();
        (t.route, t.resource_type, t.resource_link)
    }

    #[test]
    fn feeds_sign_their_parent_and_items_sign_themselves() {
        assert_eq!(t(""), (Route::Account, "".into(), "".into()));
        assert_eq!(t("/"), (Route::Account, "".into(), "".into()));
        assert_eq!(t("/dbs/"), (Route::Databases, "dbs".into(), "".into()));
        assert_eq!(
            t("/dbs/shop/"),
            (
                Route::Database { db: "shop".into() },
                "dbs".into(),
                "dbs/shop".into()
            )
        );
        assert_eq!(
            t("/dbs/shop/colls/orders/docs/"),
            (
                Route::Documents {
                    db: "shop".into(),
                    coll: "orders".into()
                },
                "docs".into(),
                "dbs/shop/colls/orders".into()
            )
        );
        assert_eq!(
            t("/dbs/shop/colls/orders/docs/a%20b"),
            (
                Route::Document {
                    db: "shop".into(),
                    coll: "orders".into(),
                    id: "a b".into()
                },
                "docs".into(),
                "dbs/shop/colls/orders/docs/a b".into()
            )
        );
        assert_eq!(
            t("/dbs/shop/colls/orders/pkranges"),
            (
                Route::PartitionKeyRanges {
                    db: "shop".into(),
                    coll: "orders".into()
                },
                "pkranges".into(),
                "dbs/shop/colls/orders".into()
            )
        );
    }

    #[test]
    fn offers_sign_their_bare_id_in_lower_case() {
        assert_eq!(t("/offers"), (Route::Offers, "offers".into(), "".into()));
        assert_eq!(
            t("/offers/AbC1/"),
            (Route::Offer { id: "AbC1".into() }, "offers".into(), "abc1".into())
        );
    }

    #[test]
    fn scripts_route_by_kind_and_sign_like_documents() {
        assert_eq!(
            t("/dbs/shop/colls/orders/sprocs"),
            (
                Route::Scripts {
                    db: "shop".into(),
                    coll: "orders".into(),
                    kind: ScriptKind::StoredProcedure
                },
                "sprocs".into(),
                "dbs/shop/colls/orders".into()
            )
        );
        assert_eq!(
            t("/dbs/shop/colls/orders/triggers/stamp"),
            (
                Route::Script {
                    db: "shop".into(),
                    coll: "orders".into(),
                    kind: ScriptKind::Trigger,
                    id: "stamp".into()
                },
                "triggers".into(),
                "dbs/shop/colls/orders/triggers/stamp".into()
            )
        );
        assert!(matches!(
            t("/dbs/shop/colls/orders/udfs/tax").0,
            Route::Script {
                kind: ScriptKind::UserDefinedFunction,
                ..
            }
        ));
    }

    #[test]
    fn unknown_and_hostile_paths() {
        assert_eq!(t("/dbs/shop/colls/orders/conflicts").0, Route::Unsupported);
        assert_eq!(
            t("/dbs/shop/colls/orders/docs/1/attachments").0,
            Route::Unsupported
        );
        assert_eq!(t("/offers/x/extra").0, Route::Unsupported);
        assert_eq!(t("/dbs/shop/users").0, Route::Unsupported);
        assert_eq!(parse("/dbs/%zz"), None);
        assert_eq!(parse("/dbs/%ff"), None);
        assert_eq!(parse(&"/a".repeat(9)), None);
    }
}
