//! Spatial indexes end to end: `ST_DISTANCE`, `ST_WITHIN` and `ST_INTERSECTS` over a declared
//! `spatialIndexes` path return hand-derived results, the same through the index, through a
//! forced full scan and in a container without a spatial index; a property test over random
//! geometries (every GeoJSON type, near cities, the antimeridian and a pole), declared types and
//! filters finds the index and a scan agreeing; EXPLAIN shows the cell lookup;
//! the entries follow replaces, deletes, TTL expiry and policy changes; an indexed query is
//! charged less than a scan; bad spatial policies are refused.
//!
//! The places, around the centre of Paris C = (2.3522, 48.8566) (longitude, latitude). Near C
//! a degree of latitude is 111,130 to 111,200 m (the WGS-84 meridian degree between latitudes
//! 45° and 49°) and a degree of longitude 73,377 m ((π/180) · N · cos φ with N = 6,390,285 m,
//! cos 48.8566° = 0.65791), so, by hand:
//! - `n_in` 0.0089° north: 989.1–989.7 m; `n_out` 0.0091° north: 1011.3–1011.9 m;
//!   `s_in` 0.0089° south: the same 989 m;
//! - `e_in` 0.0134° east: 983 m; `e_out` 0.0138° east: 1012.6 m;
//! - `w_cell` 0.0022° west: 161 m, in another level-14 cell (its boundary runs at longitude
//!   -180 + 8299 · 360/16384 = 2.35107°, between C and `w_cell`);
//! - `on_line` on the latitude 48.85 the query line runs along;
//! - `lyon` (4.8357, 45.764): some 390 km away;
//! - `small`, the square [2.355, 2.357] × [48.858, 48.860]: its nearest corner is
//!   0.0028° east (205 m) and 0.0014° north (156 m) of C: 258 m;
//! - `big`, the square [2.0, 2.7] × [48.5, 49.2]: holds C (distance 0), entered at level 8;
//! - `line`, (2.33, 48.84) to (2.34, 48.87): its nearest point to C is at 63% of its length,
//!   (1167 m, 256 m) from C: 1194 m;
//! - `multi`, a square near Lyon and the square [2.36, 2.362] × [48.852, 48.854] whose corner
//!   (2.36, 48.854) is 572 m east and 289 m south of C: 641 m;
//! - `mpoint`, a MultiPoint at C (a type the policy cannot declare: kept in the world cell);
//! - `text`, `typeless`, `out_of_range`, `none`: no geometry, never a match;
//! - `edge_e` (179.995, 0.5) and `edge_w` (-179.995, 0.5), either side of the antimeridian:
//!   0.01° of longitude apart at latitude 0.5°, 111,315 m/° · 0.01 = 1113 m.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, Container, ContainerOptions, Durability, Encryption, IndexingPolicy,
    ManualWallClock, QueryOptions,
};

const T0: u64 = 1_700_000_000;
const SPATIAL: &str = r#"{"includedPaths":[{"path":"/*"}],
    "spatialIndexes":[{"path":"/loc/?","types":["Point","Polygon","MultiPolygon","LineString"]}]}"#;

const C: &str = "{'type':'Point','coordinates':[2.3522,48.8566]}";
const AREA: &str =
    "{'type':'Polygon','coordinates':[[[2.30,48.83],[2.40,48.83],[2.40,48.88],[2.30,48.88],[2.30,48.83]]]}";
const LINE: &str = "{'type':'LineString','coordinates':[[2.30,48.85],[2.40,48.85]]}";

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])
}

fn places() -> Vec<(&'static str, Option<Value>)> {
    let point = |x: f64, y: f64| Some(json!({"type": "Point", "coordinates": [x, y]}));
    vec![
        ("center", point(2.3522, 48.8566)),
        ("n_in", point(2.3522, 48.8655)),
        ("n_out", point(2.3522, 48.8657)),
        ("s_in", point(2.3522, 48.8477)),
        ("e_in", point(2.3656, 48.8566)),
        ("e_out", point(2.3660, 48.8566)),
        ("w_cell", point(2.3500, 48.8566)),
        ("on_line", point(2.3300, 48.85)),
        ("lyon", point(4.8357, 45.764)),
        (
            "small",
            Some(json!({"type": "Polygon", "coordinates": square(2.355, 48.858, 2.357, 48.860)})),
        ),
        (
            "big",
            Some(json!({"type": "Polygon", "coordinates": square(2.0, 48.5, 2.7, 49.2)})),
        ),
        (
            "line",
            Some(json!({"type": "LineString", "coordinates": [[2.33, 48.84], [2.34, 48.87]]})),
        ),
        (
            "multi",
            Some(json!({"type": "MultiPolygon", "coordinates": [
                square(4.83, 45.76, 4.84, 45.77),
                square(2.36, 48.852, 2.362, 48.854),
            ]})),
        ),
        (
            "mpoint",
            Some(json!({"type": "MultiPoint", "coordinates": [[2.3522, 48.8566]]})),
        ),
        ("edge_e", point(179.995, 0.5)),
        ("edge_w", point(-179.995, 0.5)),
        ("text", Some(json!("Paris"))),
        ("typeless", Some(json!({"type": "Point"}))),
        ("out_of_range", point(200.0, 48.0)),
        ("none", None),
    ]
}

/// Each query with its hand-derived ids (see the file's comment).
fn cases() -> Vec<(String, Vec<&'static str>)> {
    let within_1000 = vec![
        "big", "center", "e_in", "mpoint", "multi", "n_in", "s_in", "small", "w_cell",
    ];
    let mut within_1500 = within_1000.clone();
    within_1500.extend(["e_out", "line", "n_out"]);
    vec![
        (format!("ST_DISTANCE(c.loc, {C}) < 1000"), within_1000.clone()),
        (format!("1000 > ST_DISTANCE({C}, c.loc)"), within_1000),
        // on_line: 0.0066° south (734 m) and 0.0222° west (1629 m): 1787 m, beyond 1500.
        (format!("ST_DISTANCE(c.loc, {C}) <= 1500"), within_1500.clone()),
        // 0 < distance: drops the items at distance 0 (big contains C; center and mpoint are C).
        (
            format!("ST_DISTANCE(c.loc, {C}) BETWEEN 0.001 AND 1500"),
            within_1500
                .into_iter()
                .filter(|i| !["big", "center", "mpoint"].contains(i))
                .collect(),
        ),
        (
            format!("ST_WITHIN(c.loc, {AREA})"),
            vec![
                "center", "e_in", "e_out", "line", "mpoint", "n_in", "n_out", "on_line", "s_in", "small",
                "w_cell",
            ],
        ),
        (format!("ST_WITHIN({AREA}, c.loc)"), vec!["big"]),
        // Lookups on two paths: their candidates are read whole and merged.
        (
            format!("ST_WITHIN({AREA}, c.loc) OR c.id IN ('lyon', 'text')"),
            vec!["big", "lyon", "text"],
        ),
        (
            format!("ST_INTERSECTS(c.loc, {LINE})"),
            vec!["big", "line", "on_line"],
        ),
        (
            format!("ST_INTERSECTS({AREA}, c.loc)"),
            vec![
                "big", "center", "e_in", "e_out", "line", "mpoint", "multi", "n_in", "n_out", "on_line",
                "s_in", "small", "w_cell",
            ],
        ),
        // Across the antimeridian, the region wraps: cells on both sides are read.
        (
            "ST_DISTANCE(c.loc, {'type':'Point','coordinates':[179.995,0.5]}) < 2000".into(),
            vec!["edge_e", "edge_w"],
        ),
        (
            "ST_DISTANCE({'type':'Point','coordinates':[179.995,0.5]}, c.loc) < 1000".into(),
            vec!["edge_e"],
        ),
        // multi's square near Lyon holds the point.
        (
            "ST_DISTANCE(c.loc, {'type':'Point','coordinates':[4.8357,45.764]}) < 50".into(),
            vec!["lyon", "multi"],
        ),
    ]
}

/// A new account in a temporary directory, its time standing at `T0`.
fn fresh() -> (tempfile::TempDir, ManualWallClock, Account) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered)
        .wall_clock(Arc::new(clock.clone()));
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    (dir, clock, account)
}

fn container(account: &Account, name: &str, policy: Option<&str>) -> Container {
    let db = match account.create_database("db") {
        Ok(db) => db,
        Err(e) if e.status() == 409 => account.database("db"),
        Err(e) => panic!("{e}"),
    };
    let opts = ContainerOptions {
        indexing_policy: policy.map(|p| IndexingPolicy::from_json(p).unwrap()),
        default_ttl: Some(-1),
        ..Default::default()
    };
    db.create_container_with(name, "/pk", opts).unwrap()
}

fn load(c: &Container) {
    for (i, (id, loc)) in places().into_iter().enumerate() {
        let mut doc = json!({"id": id, "pk": format!("p{}", i % 3)});
        if let Some(loc) = loc {
            doc["loc"] = loc;
        }
        c.create_item(doc["pk"].as_str().unwrap(), &doc).unwrap();
    }
}

/// The sorted ids the filter keeps, and the charge; `force` reads every item.
fn ids(c: &Container, filter: &str, force: bool) -> (Vec<String>, f64) {
    let opts = QueryOptions {
        max_item_count: Some(100_000),
        force_full_scan: force,
        ..QueryOptions::default()
    };
    let r = c
        .query_items(&format!("SELECT VALUE c.id FROM c WHERE {filter}"), &[], &opts)
        .unwrap();
    assert!(r.continuation.is_none());
    let mut ids: Vec<String> = r.items.iter().map(|v| v.as_str().unwrap().to_string()).collect();
    ids.sort();
    (ids, r.request_charge)
}

/// The sorted ids the filter keeps, read two per page with continuation tokens.
fn paged_ids(c: &Container, filter: &str) -> Vec<String> {
    let sql = format!("SELECT VALUE c.id FROM c WHERE {filter}");
    let (mut out, mut token) = (Vec::new(), None);
    loop {
        let opts = QueryOptions {
            max_item_count: Some(2),
            continuation: token,
            ..QueryOptions::default()
        };
        let r = c.query_items(&sql, &[], &opts).unwrap();
        out.extend(r.items.iter().map(|v| v.as_str().unwrap().to_string()));
        token = r.continuation;
        if token.is_none() {
            break;
        }
    }
    let n = out.len();
    out.sort();
    out.dedup();
    assert_eq!(out.len(), n, "{filter}: an item came twice");
    out
}

fn explain(c: &Container, filter: &str) -> Value {
    c.explain_query(
        &format!("SELECT * FROM c WHERE {filter}"),
        &[],
        &QueryOptions::default(),
    )
    .unwrap()
}

/// Every case through `spatial` (which must use its spatial index) equals the expected ids
/// (after `edit` removes or adds some), a forced scan, and `plain`.
fn check(spatial: &Container, plain: &Container, edit: &dyn Fn(&str, &mut Vec<&'static str>)) {
    for (filter, mut want) in cases() {
        edit(&filter, &mut want);
        want.sort_unstable();
        let plan = explain(spatial, &filter);
        assert_eq!(plan["indexUsed"], true, "{filter}: {plan}");
        let lookup = plan["lookups"][0].as_str().unwrap();
        assert!(
            lookup.starts_with("/\"loc\" ST_") && lookup.contains("spatial index"),
            "{lookup}"
        );
        assert_eq!(ids(spatial, &filter, false).0, want, "{filter} (spatial index)");
        assert_eq!(
            paged_ids(spatial, &filter),
            want,
            "{filter} (spatial index, paged)"
        );
        assert_eq!(ids(spatial, &filter, true).0, want, "{filter} (forced scan)");
        assert_eq!(explain(plain, &filter)["indexUsed"], false, "{filter}");
        assert_eq!(ids(plain, &filter, false).0, want, "{filter} (no spatial index)");
    }
}

#[test]
fn spatial_filters_match_hand_derived_results_with_and_without_the_index() {
    let (_dir, clock, account) = fresh();
    let spatial = container(&account, "spatial", Some(SPATIAL));
    let plain = container(&account, "plain", None);
    load(&spatial);
    load(&plain);
    check(&spatial, &plain, &|_, _| {});
    // 1 km around C: ±1000 / 110,000 = ±0.00909° of latitude, ±1000 / (111,000 · cos 48.8657°)
    // = ±0.01370° of longitude: longitude steps 8298–8299 and latitude steps 12638–12639 at
    // level 14 (4 cells); at level 17, 11 × 14 = 154 cells, past 64.
    assert_eq!(
        explain(&spatial, &format!("ST_DISTANCE(c.loc, {C}) < 1000"))["lookups"],
        json!(["/\"loc\" ST_DISTANCE < 1000 (spatial index: 4 cells at level 14)"])
    );

    // Replace: n_in moves to Lyon; delete: center goes; TTL: e_in expires.
    for c in [&spatial, &plain] {
        c.replace_item(
            "p1",
            &json!({"id": "n_in", "pk": "p1", "loc": {"type": "Point", "coordinates": [4.8357, 45.764]}}),
        )
        .unwrap();
        c.delete_item("p0", "center").unwrap();
        c.replace_item(
            "p1",
            &json!({"id": "e_in", "pk": "p1", "ttl": 10,
                "loc": {"type": "Point", "coordinates": [2.3656, 48.8566]}}),
        )
        .unwrap();
    }
    clock.advance(20);
    let edited = |filter: &str, want: &mut Vec<&'static str>| {
        want.retain(|i| !["n_in", "center", "e_in"].contains(i));
        if filter.contains("4.8357") {
            want.push("n_in");
        }
    };
    check(&spatial, &plain, &edited);
    account.flush().unwrap();
    account.compact().unwrap();
    check(&spatial, &plain, &edited);

    // Declaring the index on `plain` rebuilds it in the background; then it answers alike.
    let status = plain
        .set_indexing_policy(IndexingPolicy::from_json(SPATIAL).unwrap())
        .unwrap();
    assert_eq!(status.generation, 1);
    while !plain.index_status().unwrap().ready {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    for (filter, _) in cases() {
        assert_eq!(explain(&plain, &filter)["indexUsed"], true, "{filter}");
        assert_eq!(
            ids(&plain, &filter, false).0,
            ids(&spatial, &filter, false).0,
            "{filter}"
        );
    }
    // The policy reads back as written.
    let back = plain.indexing_policy().unwrap();
    assert_eq!(back.spatial_indexes.len(), 1);
    assert_eq!(back.spatial_indexes[0].path, "/loc/?");
    assert_eq!(back.spatial_indexes[0].types.len(), 4);
}

/// Where only Points are declared, a Polygon at the path is in the world cell: still found.
/// Regions the cells do not serve (near a pole, too large) scan.
#[test]
fn undeclared_types_are_still_found_and_large_regions_scan() {
    let (_dir, _clock, account) = fresh();
    let points_only = r#"{"includedPaths":[{"path":"/*"}],
        "spatialIndexes":[{"path":"/loc/?","types":["Point"]}]}"#;
    let c = container(&account, "c", Some(points_only));
    load(&c);
    let plain = container(&account, "plain", None);
    load(&plain);
    check(&c, &plain, &|_, _| {});
    for filter in [
        "ST_DISTANCE(c.loc, {'type':'Point','coordinates':[10,89.5]}) < 1000",
        "ST_WITHIN(c.loc, {'type':'Polygon','coordinates':[[[-170,-80],[170,-80],[170,80],[-170,80],[-170,-80]]]})",
    ] {
        assert_eq!(explain(&c, filter)["indexUsed"], false, "{filter}");
        assert_eq!(ids(&c, filter, false).0, ids(&plain, filter, false).0, "{filter}");
    }
}

/// 2,000 points on a 0.01° grid around Paris; a 500 m circle keeps a handful: the indexed query
/// reads a few cells' entries and their items, the scan reads all 2,000 items.
#[test]
fn an_indexed_spatial_query_is_charged_less_than_a_scan() {
    let (_dir, _clock, account) = fresh();
    let c = container(&account, "c", Some(SPATIAL));
    for i in 0..2000 {
        let (x, y) = (2.0 + f64::from(i % 50) * 0.01, 48.6 + f64::from(i / 50) * 0.01);
        c.create_item(
            format!("p{}", i % 7),
            &json!({"id": format!("g{i}"), "pk": format!("p{}", i % 7),
                "loc": {"type": "Point", "coordinates": [x, y]}}),
        )
        .unwrap();
    }
    // (2.35, 48.85) is grid point i = 25 * 50 + 35 = 1285; its neighbours 0.01° away are 734 m
    // (east, west) and 1112 m (north, south) off: only it is within 500 m.
    let filter = "ST_DISTANCE(c.loc, {'type':'Point','coordinates':[2.35,48.85]}) < 500";
    let (indexed, indexed_ru) = ids(&c, filter, false);
    let (scanned, scan_ru) = ids(&c, filter, true);
    assert_eq!(indexed, vec!["g1285"]);
    assert_eq!(scanned, indexed);
    assert!(indexed_ru * 10.0 < scan_ru, "{indexed_ru} vs {scan_ru}");
}

#[test]
fn bad_spatial_policies_are_refused_and_change_nothing() {
    let (_dir, _clock, account) = fresh();
    let c = container(&account, "c", None);
    for (bad, says) in [
        (r#"[{"path":"/loc/?","types":["Circle"]}]"#, "Circle"),
        (r#"[{"path":"/loc/?","types":[]}]"#, "lists no types"),
        (r#"[{"path":"/","types":["Point"]}]"#, "not valid"),
    ] {
        let text = format!(r#"{{"includedPaths":[{{"path":"/*"}}],"spatialIndexes":{bad}}}"#);
        let e = IndexingPolicy::from_json(&text).unwrap_err();
        assert_eq!(e.status(), 400, "{bad}");
        assert!(e.to_string().contains(says), "{bad}: {e}");
    }
    let mut policy = IndexingPolicy::from_json(SPATIAL).unwrap();
    policy.spatial_indexes.push(policy.spatial_indexes[0].clone());
    let e = c.set_indexing_policy(policy).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("appears twice"), "{e}");
    assert_eq!(c.index_status().unwrap().generation, 0);
    assert!(c.indexing_policy().unwrap().spatial_indexes.is_empty());
}

/// Places for the property test: two cities, and spots next to the antimeridian and a pole
/// (where distance lookups fall back to a scan but shape lookups still use cells).
const ANCHORS: [(f64, f64); 5] = [
    (2.35, 48.85),
    (-73.98, 40.75),
    (179.9, -16.5),
    (-179.95, 0.0),
    (10.0, 88.5),
];

/// A position near an anchor, at one of a few scales (so values land at different levels).
fn position() -> impl Strategy<Value = (f64, f64)> {
    (
        0..ANCHORS.len(),
        prop::sample::select(vec![0.0005, 0.01, 0.3, 2.0]),
        -1.0f64..1.0,
        -1.0f64..1.0,
    )
        .prop_map(|(a, scale, dx, dy)| {
            let (x, y) = ANCHORS[a];
            (
                (x + dx * scale).clamp(-180.0, 180.0),
                (y + dy * scale).clamp(-90.0, 90.0),
            )
        })
}

fn rect((x, y): (f64, f64), (w, h): (f64, f64)) -> Value {
    let (x1, y1) = ((x + w).min(180.0), (y + h).min(90.0));
    json!([[[x, y], [x1, y], [x1, y1], [x, y1], [x, y]]])
}

fn size() -> impl Strategy<Value = (f64, f64)> {
    (
        prop::sample::select(vec![0.0001, 0.005, 0.2, 3.0]),
        0.1f64..1.0,
        0.1f64..1.0,
    )
        .prop_map(|(s, a, b)| (s * a, s * b))
}

/// Any value the spatial functions may meet at the path: every GeoJSON type (some with edges
/// of more than 180° of longitude), invalid GeoJSON, and other values.
fn geometry() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => position().prop_map(|(x, y)| Some(json!({"type": "Point", "coordinates": [x, y]}))),
        2 => (position(), size()).prop_map(|(p, s)| Some(json!({"type": "Polygon", "coordinates": rect(p, s)}))),
        2 => prop::collection::vec(position(), 2..4)
            .prop_map(|ps| Some(json!({"type": "LineString", "coordinates": ps.iter().map(|(x, y)| json!([x, y])).collect::<Vec<_>>()}))),
        1 => (position(), -180.0f64..180.0, -80.0f64..80.0)
            .prop_map(|((x, y), x2, y2)| Some(json!({"type": "LineString", "coordinates": [[x, y], [x2, y2]]}))),
        1 => (position(), size(), position(), size()).prop_map(|(p, s, q, t)| Some(json!({
            "type": "MultiPolygon", "coordinates": [rect(p, s), rect(q, t)]}))),
        1 => prop::collection::vec(position(), 1..3)
            .prop_map(|ps| Some(json!({"type": "MultiPoint", "coordinates": ps.iter().map(|(x, y)| json!([x, y])).collect::<Vec<_>>()}))),
        1 => Just(Some(json!("somewhere"))),
        1 => Just(None),
    ]
}

/// A constant rectangle near an anchor, as query text.
fn area() -> impl Strategy<Value = String> {
    (position(), size())
        .prop_map(|(p, s)| format!("{{'type':'Polygon','coordinates':{}}}", rect(p, s)).replace('"', "'"))
}

fn filter() -> impl Strategy<Value = String> {
    let point = position().prop_map(|(x, y)| format!("{{'type':'Point','coordinates':[{x},{y}]}}"));
    let line = (position(), position())
        .prop_map(|((x, y), (u, v))| format!("{{'type':'LineString','coordinates':[[{x},{y}],[{u},{v}]]}}"));
    prop_oneof![
        (
            point,
            prop::sample::select(vec![1.0, 150.0, 2_000.0, 40_000.0, 400_000.0])
        )
            .prop_map(|(g, r)| format!("ST_DISTANCE(c.loc, {g}) < {r}")),
        area().prop_map(|g| format!("ST_WITHIN(c.loc, {g})")),
        area().prop_map(|g| format!("ST_WITHIN({g}, c.loc)")),
        area().prop_map(|g| format!("ST_INTERSECTS(c.loc, {g})")),
        line.prop_map(|g| format!("ST_INTERSECTS({g}, c.loc)")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Whatever the values at the path, the declared types and the filter, the spatial index
    /// only narrows: a query gives what a forced full scan gives.
    #[test]
    fn indexed_and_scanned_spatial_queries_agree(
        locs in prop::collection::vec(geometry(), 1..40),
        types in prop::sample::select(vec![
            r#"["Point"]"#, r#"["Polygon","LineString"]"#, r#"["Point","Polygon","MultiPolygon","LineString"]"#,
        ]),
        filters in prop::collection::vec(filter(), 1..8),
    ) {
        let (_dir, _clock, account) = fresh();
        let policy = format!(
            r#"{{"includedPaths":[{{"path":"/*"}}],"spatialIndexes":[{{"path":"/loc/?","types":{types}}}]}}"#
        );
        let c = container(&account, "c", Some(&policy));
        for (i, loc) in locs.into_iter().enumerate() {
            let mut doc = json!({"id": format!("d{i}"), "pk": format!("p{}", i % 3)});
            if let Some(loc) = loc {
                doc["loc"] = loc;
            }
            c.create_item(format!("p{}", i % 3), &doc).unwrap();
        }
        for f in &filters {
            prop_assert_eq!(ids(&c, f, false).0, ids(&c, f, true).0, "{}", f);
        }
    }
}
