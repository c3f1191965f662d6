//! Stored procedures: the cost of one execution as a client sees it (a fresh sandbox runtime,
//! the script, the commit), for a procedure that writes nothing and for the counter increment
//! (a point read and a replace of one item, committed in one batch). Service-managed keys,
//! buffered durability, so the figures are the script path's, not fsync's. See docs/scripts.md.

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use strata::{Account, AccountOptions, Durability, Encryption};

const NOTHING: &str = "function nothing() { getContext().getResponse().setBody(1); }";

const INCREMENT: &str = r#"function increment(id) {
    var c = getContext().getCollection();
    c.readDocument(c.getAltLink() + "/docs/" + id, function (err, doc) {
        if (err) throw err;
        doc.count += 1;
        c.replaceDocument(doc._self, doc, function (err) { if (err) throw err; });
    });
}"#;

fn bench_scripts(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
        .durability(Durability::Buffered);
    let account = Account::create(opts, "bench", Encryption::ServiceManaged).expect("account");
    let container = account
        .create_database("db")
        .and_then(|d| d.create_container("c", "/pk"))
        .expect("container");
    container
        .create_stored_procedure("nothing", NOTHING)
        .expect("create");
    container
        .create_stored_procedure("increment", INCREMENT)
        .expect("create");
    container
        .create_item("p", &json!({"id": "counter", "pk": "p", "count": 0}))
        .expect("item");

    let mut g = c.benchmark_group("stored_procedure");
    g.bench_function("nothing", |b| {
        b.iter(|| {
            container
                .execute_stored_procedure("nothing", "p", &[])
                .expect("run")
        })
    });
    let runs = AtomicU64::new(0);
    g.bench_function("increment", |b| {
        b.iter(|| {
            runs.fetch_add(1, Ordering::Relaxed);
            container
                .execute_stored_procedure("increment", "p", &[json!("counter")])
                .expect("run")
        })
    });
    g.finish();
    let stored = container
        .read_item::<serde_json::Value>("p", "counter")
        .expect("read");
    assert_eq!(
        stored.item.expect("item")["count"],
        json!(runs.load(Ordering::Relaxed)),
        "every increment committed"
    );
}

criterion_group!(benches, bench_scripts);
criterion_main!(benches);
