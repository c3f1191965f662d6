//! The embedded use, end to end: a local vault key, a customer-managed-key account in a
//! temporary directory, item writes and reads with their charges, a reopen.
//! Run: `cargo run --example quickstart`

use serde::{Deserialize, Serialize};
use strata::{Account, AccountOptions, Durability, Encryption, ItemOptions, LocalVault};

#[derive(Serialize, Deserialize, Debug)]
struct Order {
    id: String,
    customer: String,
    total: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"));

    // The customer key lives in the vault, outside the data directory.
    let vault = LocalVault::open(&opts.vault_dir())?;
    let key_uri = vault.create_key("orders-key", 3072)?;
    println!("customer key: {key_uri}");

    let account = Account::create(
        opts.clone(),
        "shop",
        Encryption::CustomerManaged {
            key_uri: key_uri.to_string(),
        },
    )?;
    let orders = account
        .create_database("sales")?
        .create_container("orders", "/customer")?;

    let order = Order {
        id: "o-1".into(),
        customer: "alice".into(),
        total: 12.5,
    };
    let created = orders.create_item("alice", &order)?;
    println!("create: {} ({} RU)", created.status_code, created.request_charge);

    let read = orders.read_item::<Order>("alice", "o-1")?;
    println!("read: {:?} ({} RU)", read.item, read.request_charge);

    let mut updated = read.item.ok_or("read returned no item")?;
    updated.total = 20.0;
    let etag = read.etag.unwrap_or_default();
    let replaced = orders.replace_item_with("alice", &updated, &ItemOptions::if_match(etag.clone()))?;
    println!(
        "replace: {} ({} RU)",
        replaced.status_code, replaced.request_charge
    );

    // A stale etag is refused with 412.
    if let Err(e) = orders.replace_item_with("alice", &updated, &ItemOptions::if_match(etag)) {
        println!("stale replace: {} {}", e.status(), e);
    }

    // Bulk writes may trade durability for speed.
    let bulk = ItemOptions::default().with_durability(Durability::Buffered);
    for i in 0..1000 {
        let o = Order {
            id: format!("bulk-{i}"),
            customer: "bob".into(),
            total: f64::from(i),
        };
        orders.create_item_with("bob", &o, &bulk)?;
    }
    account.flush()?;
    drop((orders, account));

    let account = Account::open(opts)?;
    let again = account
        .database("sales")
        .container("orders")
        .read_item::<Order>("bob", "bulk-999")?;
    println!("after reopen: {:?}", again.item);
    Ok(())
}
