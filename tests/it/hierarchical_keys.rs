//! Hierarchical partition keys (`MultiHash`, two or three paths): items addressed by the full
//! key, with the none component for a level the item lacks; a wrong number of levels is a 400;
//! queries and the change feed scoped to a prefix of the levels or to the full key (and a WHERE
//! clause pinning the first levels scopes the query to them); batches, patches and stored procedures in
//! one full key; a backup restores the container with its definition, and sync recreates it;
//! TTL expiries reach a prefix's change feed.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use strata::{
    Account, AccountOptions, BatchOperation, ChangeFeedMode, ChangeFeedOptions, Container, ContainerOptions,
    Encryption, ManualWallClock, PartitionKey, PartitionKeyKind, PatchOperation, PatchOptions, QueryOptions,
};

fn key(levels: &[&str]) -> PartitionKey {
    PartitionKey::hierarchical(levels.iter().copied()).unwrap()
}

fn item(id: &str, tenant: &str, user: &str) -> Value {
    json!({"id": id, "tenant": tenant, "user": user, "colour": "red", "n": 1})
}

fn new_account(dir: &std::path::Path, name: &str) -> (AccountOptions, Account) {
    let opts = AccountOptions::new(dir.join(name), dir.join("home"));
    let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
    account.create_database("db").unwrap();
    (opts, account)
}

fn hierarchical(account: &Account) -> Container {
    account
        .database("db")
        .create_container_with_paths("h", &["/tenant", "/user"], ContainerOptions::default())
        .unwrap()
}

/// Items in three tenants (one whose name extends another's) and two users each.
fn populate(c: &Container) {
    for tenant in ["t1", "t10", "t2"] {
        for user in ["u1", "u2"] {
            for i in 0..3 {
                let id = format!("{tenant}-{user}-{i}");
                c.create_item(key(&[tenant, user]), &item(&id, tenant, user))
                    .unwrap();
            }
        }
    }
}

fn query_ids(c: &Container, sql: &str, pk: Option<PartitionKey>, page: usize) -> BTreeSet<String> {
    let mut opts = QueryOptions {
        partition_key: pk,
        max_item_count: Some(page),
        ..QueryOptions::default()
    };
    let mut out = BTreeSet::new();
    loop {
        let res = c.query_items(sql, &[], &opts).unwrap();
        for v in res.items {
            out.insert(
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v["id"].as_str().unwrap().to_string()),
            );
        }
        match res.continuation {
            Some(t) => opts.continuation = Some(t),
            None => return out,
        }
    }
}

fn expected(tenant: &str, users: &[&str]) -> BTreeSet<String> {
    users
        .iter()
        .flat_map(|u| (0..3).map(move |i| format!("{tenant}-{u}-{i}")))
        .collect()
}

#[test]
fn items_are_addressed_by_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let (_, account) = new_account(dir.path(), "data");
    let c = hierarchical(&account);
    let def = c.partition_key_definition().unwrap();
    assert_eq!(def.kind(), PartitionKeyKind::MultiHash);
    assert_eq!(def.paths(), ["/tenant", "/user"]);
    let info = &account.database("db").list_containers().unwrap()[0];
    assert_eq!(info.partition_key_paths, ["/tenant", "/user"]);

    c.create_item(key(&["t1", "u1"]), &item("a", "t1", "u1")).unwrap();
    let got = c.read_item::<Value>(key(&["t1", "u1"]), "a").unwrap();
    assert_eq!(got.item.unwrap()["user"], "u1");
    // The same id in another partition is another item.
    c.create_item(key(&["t1", "u2"]), &item("a", "t1", "u2")).unwrap();
    assert_eq!(
        c.read_item::<Value>(key(&["t1", "u3"]), "a")
            .unwrap_err()
            .status(),
        404
    );

    // A key with too few or too many levels, or a single value, is a 400 that says so.
    for bad in [key(&["t1"]), key(&["t1", "u1", "s1"]), PartitionKey::from("t1")] {
        let e = c.read_item::<Value>(bad.clone(), "a").unwrap_err();
        assert_eq!(e.status(), 400, "{bad}");
        assert!(e.to_string().contains("level"), "{e}");
        assert_eq!(c.delete_item(bad.clone(), "a").unwrap_err().status(), 400);
        assert_eq!(
            c.upsert_item(bad, &item("a", "t1", "u1")).unwrap_err().status(),
            400
        );
    }
    // The key given must be the item's.
    assert_eq!(
        c.create_item(key(&["t1", "u2"]), &item("b", "t1", "u1"))
            .unwrap_err()
            .status(),
        400
    );

    // An item without a level's path has the none component there, as the service does.
    let none = PartitionKey::hierarchical([PartitionKey::from("t1"), PartitionKey::None]).unwrap();
    c.create_item(none.clone(), &json!({"id": "no-user", "tenant": "t1"}))
        .unwrap();
    assert_eq!(
        c.read_item::<Value>(none.clone(), "no-user").unwrap().status_code,
        200
    );
    assert_eq!(c.partition_key_of(&json!({"tenant": "t1"})).unwrap(), none);
    // An explicit null is another key than a missing path.
    let null = PartitionKey::hierarchical([PartitionKey::from("t1"), PartitionKey::Null]).unwrap();
    assert_eq!(c.read_item::<Value>(null, "no-user").unwrap_err().status(), 404);

    let mut replaced = item("a", "t1", "u1");
    replaced["n"] = json!(2);
    c.replace_item(key(&["t1", "u1"]), &replaced).unwrap();
    assert_eq!(
        c.read_item::<Value>(key(&["t1", "u1"]), "a")
            .unwrap()
            .item
            .unwrap()["n"],
        2
    );
    assert_eq!(c.delete_item(key(&["t1", "u1"]), "a").unwrap().status_code, 204);
    assert_eq!(
        c.read_item::<Value>(key(&["t1", "u2"]), "a").unwrap().status_code,
        200
    );

    // Creation refuses more than three paths and paths that repeat or nest.
    let db = account.database("db");
    for paths in [&["/a", "/b", "/c", "/d"][..], &["/a", "/a"], &["/a", "/a/b"]] {
        let e = db.create_container_with_paths("bad", paths, ContainerOptions::default());
        assert_eq!(e.unwrap_err().status(), 400, "{paths:?}");
    }
    let three = db
        .create_container_with_paths("three", &["/a", "/b", "/c"], ContainerOptions::default())
        .unwrap();
    three
        .create_item(
            key(&["1", "2", "3"]),
            &json!({"id": "x", "a": "1", "b": "2", "c": "3"}),
        )
        .unwrap();
    assert_eq!(
        three
            .read_item::<Value>(key(&["1", "2", "3"]), "x")
            .unwrap()
            .status_code,
        200
    );
    // A single-path container takes no levels.
    let single = db.create_container("single", "/tenant").unwrap();
    assert_eq!(
        single.partition_key_definition().unwrap().kind(),
        PartitionKeyKind::Hash
    );
    assert_eq!(
        single
            .read_item::<Value>(key(&["t1", "u1"]), "a")
            .unwrap_err()
            .status(),
        400
    );
}

#[test]
fn queries_and_the_feed_take_a_prefix_or_the_full_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, account) = new_account(dir.path(), "data");
    let c = hierarchical(&account);
    populate(&c);
    let all = "SELECT * FROM c";
    // A one-level prefix: every user of t1, not t10's (whose name extends it); paged.
    assert_eq!(
        query_ids(&c, all, Some(key(&["t1"])), 2),
        expected("t1", &["u1", "u2"])
    );
    // A single value on a hierarchical container is the one-level prefix.
    assert_eq!(
        query_ids(&c, all, Some("t1".into()), 100),
        expected("t1", &["u1", "u2"])
    );
    assert_eq!(
        query_ids(&c, all, Some(key(&["t10", "u2"])), 2),
        expected("t10", &["u2"])
    );
    // Through the index too (a WHERE on another property), scoped the same way.
    let red = "SELECT VALUE c.id FROM c WHERE c.colour = 'red'";
    assert_eq!(
        query_ids(&c, red, Some(key(&["t2"])), 4),
        expected("t2", &["u1", "u2"])
    );
    let bad = QueryOptions {
        partition_key: Some(key(&["t1", "u1", "s1"])),
        ..QueryOptions::default()
    };
    assert_eq!(c.query_items(all, &[], &bad).unwrap_err().status(), 400);

    // A WHERE clause that pins every level pins the partition; one that pins the first level
    // scopes the query to that prefix's key range; one that pins only a later level reads the
    // container.
    let both = "SELECT * FROM c WHERE c.tenant = 't1' AND c.user = 'u2'";
    assert_eq!(query_ids(&c, both, None, 100), expected("t1", &["u2"]));
    let plan = c.explain_query(both, &[], &QueryOptions::default()).unwrap();
    assert_eq!(plan["scope"], r#"partition ["t1","u2"]"#);
    let one = "SELECT * FROM c WHERE c.tenant = 't1'";
    assert_eq!(
        c.explain_query(one, &[], &QueryOptions::default()).unwrap()["scope"],
        r#"partition ["t1"]"#
    );
    assert_eq!(query_ids(&c, one, None, 100), expected("t1", &["u1", "u2"]));
    assert_eq!(query_ids(&c, one, None, 1), expected("t1", &["u1", "u2"]));
    // The prefix scope reads only its own items: the same clause written so that it pins
    // nothing (an OR is not a top-level AND term) returns the same items but reads the whole
    // container, and is charged for it.
    let forced = QueryOptions {
        force_full_scan: true,
        ..QueryOptions::default()
    };
    let unpinned = "SELECT * FROM c WHERE (c.tenant = 't1' OR c.tenant = 't1')";
    assert_eq!(
        c.explain_query(unpinned, &[], &forced).unwrap()["scope"],
        "container"
    );
    let scoped = c.query_items(one, &[], &forced).unwrap();
    let everything = c.query_items(unpinned, &[], &forced).unwrap();
    assert_eq!(scoped.items.len(), 6);
    assert_eq!(everything.items.len(), 6);
    assert!(
        scoped.request_charge < everything.request_charge,
        "{} vs {}",
        scoped.request_charge,
        everything.request_charge
    );
    let later = "SELECT * FROM c WHERE c.user = 'u2'";
    assert_eq!(
        c.explain_query(later, &[], &QueryOptions::default()).unwrap()["scope"],
        "container"
    );
    let param = c
        .explain_query(
            "SELECT * FROM c WHERE c.tenant = @t AND c.n >= 0",
            &[("@t".to_string(), json!("t2"))],
            &QueryOptions::default(),
        )
        .unwrap();
    assert_eq!(param["scope"], r#"partition ["t2"]"#);

    // A partition filter (what the gateway makes of an effective-partition-key range) keeps
    // the items of the partitions it accepts, in streamed, ordered and computed queries alike,
    // within a prefix scope or the container's.
    let u2 = || {
        strata::PartitionFilter::new("user u2", |pk: &PartitionKey| {
            pk.levels().get(1) == Some(&PartitionKey::from("u2"))
        })
    };
    let filtered = |sql: &str, pk: Option<PartitionKey>| {
        let mut opts = QueryOptions {
            partition_key: pk,
            max_item_count: Some(2),
            partition_filter: Some(u2()),
            ..QueryOptions::default()
        };
        let mut out = Vec::new();
        loop {
            let res = c.query_items(sql, &[], &opts).unwrap();
            out.extend(res.items);
            match res.continuation {
                Some(t) => opts.continuation = Some(t),
                None => return out,
            }
        }
    };
    let as_ids =
        |v: Vec<Value>| -> BTreeSet<String> { v.iter().map(|i| i.as_str().unwrap().to_string()).collect() };
    let all_u2: BTreeSet<String> = ["t1", "t10", "t2"]
        .iter()
        .flat_map(|t| expected(t, &["u2"]))
        .collect();
    assert_eq!(as_ids(filtered("SELECT VALUE c.id FROM c", None)), all_u2);
    assert_eq!(
        as_ids(filtered("SELECT VALUE c.id FROM c ORDER BY c.id", None)),
        all_u2
    );
    assert_eq!(
        as_ids(filtered("SELECT VALUE c.id FROM c", Some(key(&["t1"])))),
        expected("t1", &["u2"])
    );
    assert_eq!(
        filtered("SELECT VALUE COUNT(1) FROM c", None),
        vec![json!(9)],
        "an aggregate counts only the kept partitions"
    );
    // A continuation belongs to its filter.
    let first = c
        .query_items(
            "SELECT * FROM c",
            &[],
            &QueryOptions {
                max_item_count: Some(1),
                ..QueryOptions::default()
            },
        )
        .unwrap();
    let other = QueryOptions {
        continuation: first.continuation,
        partition_filter: Some(u2()),
        ..QueryOptions::default()
    };
    assert_eq!(
        c.query_items("SELECT * FROM c", &[], &other)
            .unwrap_err()
            .status(),
        400
    );

    // A filter that depends on the first levels alone (the gateway's EPK range of a prefix) is
    // read as the key range of the one prefix it keeps, found by one seek per distinct prefix:
    // same results as the container scan with the same predicate, for less.
    let first_is = |label: &str, depth: usize, levels: &'static [&'static str]| {
        let want: Vec<PartitionKey> = levels.iter().map(|l| PartitionKey::from(*l)).collect();
        strata::PartitionFilter::of_leading_levels(label.to_string(), depth, move |pk: &PartitionKey| {
            pk.levels().get(..want.len()) == Some(&want[..])
        })
    };
    let scoped_by = |sql: &str, filter: strata::PartitionFilter, page: usize| {
        let mut opts = QueryOptions {
            max_item_count: Some(page),
            partition_filter: Some(filter),
            ..QueryOptions::default()
        };
        let (mut out, mut charge) = (Vec::new(), 0.0);
        loop {
            let res = c.query_items(sql, &[], &opts).unwrap();
            out.extend(res.items);
            charge += res.request_charge;
            match res.continuation {
                Some(t) => opts.continuation = Some(t),
                None => return (out, charge),
            }
        }
    };
    let t1 = || first_is("t1", 1, &["t1"]);
    let plan = c
        .explain_query(
            "SELECT * FROM c",
            &[],
            &QueryOptions {
                partition_filter: Some(t1()),
                ..QueryOptions::default()
            },
        )
        .unwrap();
    assert_eq!(plan["scope"], r#"partition ["t1"]"#);
    for page in [1, 4, 100] {
        let (ids, _) = scoped_by("SELECT VALUE c.id FROM c", t1(), page);
        assert_eq!(as_ids(ids), expected("t1", &["u1", "u2"]), "page size {page}");
    }
    let (ids, _) = scoped_by("SELECT VALUE c.id FROM c ORDER BY c.id DESC", t1(), 5);
    let mut want: Vec<String> = expected("t1", &["u1", "u2"]).into_iter().collect();
    want.reverse();
    assert_eq!(ids, want.iter().map(|i| json!(i)).collect::<Vec<_>>());
    let (ids, _) = scoped_by(
        "SELECT VALUE c.id FROM c",
        first_is("t10/u2", 2, &["t10", "u2"]),
        2,
    );
    assert_eq!(as_ids(ids), expected("t10", &["u2"]));
    // The same predicate without a depth reads the container, and is charged for it.
    let everywhere = strata::PartitionFilter::new("t1 anywhere", |pk: &PartitionKey| {
        pk.levels().first() == Some(&PartitionKey::from("t1"))
    });
    let (ids, scan_charge) = scoped_by("SELECT * FROM c", everywhere, 100);
    let (scoped, seek_charge) = scoped_by("SELECT * FROM c", t1(), 100);
    assert_eq!(ids, scoped);
    assert!(
        seek_charge < scan_charge,
        "the prefix's range ({seek_charge} RU) costs less than the container ({scan_charge} RU)"
    );
    // No prefix kept: an empty scope, which still answers an aggregate.
    let none = || first_is("t3", 1, &["t3"]);
    let (ids, _) = scoped_by("SELECT VALUE c.id FROM c", none(), 10);
    assert!(ids.is_empty());
    let (count, _) = scoped_by("SELECT VALUE COUNT(1) FROM c", none(), 10);
    assert_eq!(count, vec![json!(0)]);
    let plan = c
        .explain_query(
            "SELECT * FROM c",
            &[],
            &QueryOptions {
                partition_filter: Some(none()),
                ..QueryOptions::default()
            },
        )
        .unwrap();
    assert!(plan["scope"].as_str().unwrap().starts_with("none"), "{plan}");

    // The change feed by prefix and by full key, in both modes, paged.
    for mode in [
        ChangeFeedMode::LatestVersion,
        ChangeFeedMode::AllVersionsAndDeletes,
    ] {
        for (scope, want) in [
            (key(&["t1"]), expected("t1", &["u1", "u2"])),
            (key(&["t1", "u1"]), expected("t1", &["u1"])),
        ] {
            let mut o = ChangeFeedOptions {
                mode,
                partition_key: Some(scope.clone()),
                max_item_count: 2,
                ..ChangeFeedOptions::default()
            };
            let mut got = BTreeSet::new();
            loop {
                let page = c.read_change_feed(&o).unwrap();
                if page.status_code == 304 {
                    break;
                }
                for v in page.items {
                    let id = v.get("current").unwrap_or(&v)["id"].as_str().unwrap().to_string();
                    got.insert(id);
                }
                o.start = strata::ChangeFeedStart::Continuation(page.continuation);
            }
            assert_eq!(got, want, "{mode:?} {scope}");
        }
    }
    let bad_feed = ChangeFeedOptions {
        partition_key: Some(key(&["t1", "u1", "x"])),
        ..ChangeFeedOptions::default()
    };
    assert_eq!(c.read_change_feed(&bad_feed).unwrap_err().status(), 400);
}

#[test]
fn batches_patches_and_procedures_work_in_one_full_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, account) = new_account(dir.path(), "data");
    let c = hierarchical(&account);
    let pk = key(&["t1", "u1"]);
    let ops = [
        BatchOperation::create(item("a", "t1", "u1")),
        BatchOperation::create(item("b", "t1", "u1")),
        BatchOperation::patch("a", vec![PatchOperation::incr("/n", 5)]),
    ];
    assert!(c.execute_batch(pk.clone(), &ops).unwrap().is_success());
    assert_eq!(
        c.read_item::<Value>(pk.clone(), "a").unwrap().item.unwrap()["n"],
        6
    );
    // A prefix is not one partition; an operation of another partition is refused; nothing written.
    let e = c.execute_batch(key(&["t1"]), &[BatchOperation::create(item("c", "t1", "u1"))]);
    assert_eq!(e.unwrap_err().status(), 400);
    let e = c.execute_batch(pk.clone(), &[BatchOperation::create(item("c", "t1", "u2"))]);
    assert!(!e.map(|r| r.is_success()).unwrap_or(false));
    assert_eq!(
        c.read_item::<Value>(key(&["t1", "u2"]), "c")
            .unwrap_err()
            .status(),
        404
    );

    // Patch: every level is protected, other properties patch as usual.
    let opts = PatchOptions::default();
    for path in ["/tenant", "/user"] {
        let e = c.patch_item(pk.clone(), "b", &[PatchOperation::set(path, json!("x"))], &opts);
        assert_eq!(e.unwrap_err().status(), 400, "{path}");
    }
    c.patch_item(
        pk.clone(),
        "b",
        &[PatchOperation::set("/colour", json!("blue"))],
        &opts,
    )
    .unwrap();
    assert_eq!(
        c.read_item::<Value>(pk.clone(), "b").unwrap().item.unwrap()["colour"],
        "blue"
    );

    // A stored procedure runs in a full key and sees only its partition.
    c.create_stored_procedure(
        "count",
        "function count() { var ctx = getContext(); \
         ctx.getCollection().queryDocuments(ctx.getCollection().getSelfLink(), 'SELECT VALUE COUNT(1) FROM c', \
         function (err, docs) { if (err) throw err; ctx.getResponse().setBody(docs[0]); }); }",
    )
    .unwrap();
    c.create_item(key(&["t1", "u2"]), &item("other", "t1", "u2"))
        .unwrap();
    assert_eq!(
        c.execute_stored_procedure("count", pk.clone(), &[]).unwrap().body,
        json!(2)
    );
    assert_eq!(
        c.execute_stored_procedure("count", key(&["t1"]), &[])
            .unwrap_err()
            .status(),
        400
    );
}

#[test]
fn backup_restore_and_sync_keep_the_definition_and_the_items() {
    let dir = tempfile::tempdir().unwrap();
    let (_, account) = new_account(dir.path(), "data");
    let c = hierarchical(&account);
    populate(&c);
    account.flush().unwrap();
    let info = account.backup_now(&dir.path().join("backups")).unwrap();
    let restored = Account::restore(
        &info.path,
        AccountOptions::new(dir.path().join("restored"), dir.path().join("home")),
    )
    .unwrap();
    let rc = restored.database("db").container("h");
    assert_eq!(
        rc.partition_key_definition().unwrap().paths(),
        ["/tenant", "/user"]
    );
    assert_eq!(
        rc.read_item::<Value>(key(&["t10", "u2"]), "t10-u2-1")
            .unwrap()
            .status_code,
        200
    );
    assert_eq!(
        query_ids(&rc, "SELECT * FROM c", Some(key(&["t1"])), 5),
        expected("t1", &["u1", "u2"])
    );

    let (_, other) = new_account(dir.path(), "synced");
    other.sync_from(&account).unwrap();
    let sc = other.database("db").container("h");
    assert_eq!(
        sc.partition_key_definition().unwrap().kind(),
        PartitionKeyKind::MultiHash
    );
    assert_eq!(
        query_ids(&sc, "SELECT * FROM c", Some(key(&["t2"])), 100),
        expected("t2", &["u1", "u2"])
    );
    // A same-named container partitioned otherwise is a conflict, not a silent mix.
    let (_, third) = new_account(dir.path(), "third");
    third.database("db").create_container("h", "/tenant").unwrap();
    assert_eq!(third.sync_from(&account).unwrap_err().status(), 409);
}

#[test]
fn items_expire_by_ttl_and_their_expiry_reaches_a_prefix_feed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_700_000_000);
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .wall_clock(std::sync::Arc::new(clock.clone()));
    let account = Account::create(opts, "acct", Encryption::ServiceManaged).unwrap();
    let c = account
        .create_database("db")
        .unwrap()
        .create_container_with_paths(
            "h",
            &["/tenant", "/user"],
            ContainerOptions {
                default_ttl: Some(-1),
                ..ContainerOptions::default()
            },
        )
        .unwrap();
    let mut short = item("short", "t1", "u1");
    short["ttl"] = json!(10);
    c.create_item(key(&["t1", "u1"]), &short).unwrap();
    c.create_item(key(&["t1", "u2"]), &item("long", "t1", "u2"))
        .unwrap();
    clock.advance(11);
    assert_eq!(
        c.read_item::<Value>(key(&["t1", "u1"]), "short")
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        query_ids(&c, "SELECT * FROM c", Some(key(&["t1"])), 10),
        BTreeSet::from(["long".to_string()])
    );
    // The expiry is a delete in the all-versions feed of the prefix.
    let o = ChangeFeedOptions {
        mode: ChangeFeedMode::AllVersionsAndDeletes,
        partition_key: Some(key(&["t1"])),
        ..ChangeFeedOptions::default()
    };
    let records = c.read_change_feed(&o).unwrap().items;
    let expired: Vec<&Value> = records
        .iter()
        .filter(|r| r["metadata"]["operationType"] == "delete")
        .collect();
    assert_eq!(expired.len(), 1, "{records:?}");
    assert_eq!(expired[0]["metadata"]["partitionKey"], json!(["t1", "u1"]));
    assert_eq!(expired[0]["metadata"]["timeToLiveExpired"], json!(true));
}
