//! `strata demo`: the README's tour, end to end in a fresh temporary directory: a vault key, a
//! CMK account, item CRUD with etags (a 412 and a 404 on purpose), a bulk load, flush, compact,
//! reopen, a query answered by the index, and a scan showing ids and bodies are not on disk in
//! plaintext. Public engine API only.

use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};
use strata_engine::vault::VaultHome;
use strata_engine::{
    Account, AccountOptions, Container, Durability, Encryption, ItemOptions, ItemResponse, QueryOptions,
};

use crate::args::Globals;
use crate::error::{CliError, CliResult};
use crate::scan::{self, Needle};
use crate::steps::{Step, StepLog};

const KEY_NAME: &str = "demo-key";
const KEY_BITS: usize = 3072;
const ACCOUNT: &str = "demo";
const DATABASE: &str = "demo";
const CONTAINER: &str = "orders";
const PK_PATH: &str = "/customer";
/// Every item id starts with this; the scan looks for a whole id.
const ID_PREFIX: &str = "ord-qz7w";
/// Every item body carries this string; the scan looks for it.
const BODY_CANARY: &str = "canary-note-5xv2k";
/// Bulk items are numbered from here so they never collide with the hand-made ones.
const BULK_BASE: usize = 10_000;

/// Runs the tour; `bulk` is the number of items of the bulk load, `keep` keeps the directory.
pub fn run(g: &Globals, bulk: usize, keep: bool) -> CliResult<()> {
    let tmp = tempfile::Builder::new()
        .prefix("strata-demo-")
        .tempdir()
        .map_err(|e| {
            CliError::internal(format!(
                "cannot create a temporary directory ({e}); set TMPDIR to a writable directory"
            ))
        })?;
    let home = tmp.path().join("home");
    let data = tmp.path().join("data");
    let mut log = StepLog::new(g.format());
    log.note(
        "start",
        &format!(
            "strata demo in {} ({})\n  data dir: {}\n  home:     {}",
            tmp.path().display(),
            if keep {
                "kept afterwards"
            } else {
                "removed afterwards"
            },
            data.display(),
            home.display()
        ),
        json!({
            "dir": tmp.path().display().to_string(),
            "dataDir": data.display().to_string(),
            "home": home.display().to_string(),
        }),
    );

    let opts = AccountOptions::new(&data, &home).durability(g.durability.into());
    let outcome = tour(&mut log, &opts, bulk);
    match &outcome {
        Ok(scan) => {
            log.finish(true, scan.summary_fields());
            let verdict = scan.verdict();
            log.note("verdict", &verdict, json!({ "message": verdict }));
        }
        Err(_) => log.finish(false, json!({})),
    }
    if keep {
        let kept = tmp.keep();
        log.note(
            "kept",
            &format!("kept {}", kept.display()),
            json!({ "dir": kept.display().to_string() }),
        );
    }
    outcome.map(|_| ())
}

/// The scan's findings, for the summary and the closing sentence.
struct ScanFindings {
    files: usize,
    bytes: u64,
    id: String,
    id_files: usize,
    body_files: usize,
    name_files: usize,
}

impl ScanFindings {
    fn summary_fields(&self) -> Value {
        json!({
            "filesScanned": self.files,
            "bytesScanned": self.bytes,
            "scannedId": self.id,
            "scannedBodyString": BODY_CANARY,
            "filesWithId": self.id_files,
            "filesWithBodyString": self.body_files,
            "filesWithContainerName": self.name_files,
        })
    }

    fn verdict(&self) -> String {
        format!(
            "No file under the data directory contains the item id {:?} or the body string {:?} \
             in plaintext ({} files, {} bytes scanned); the container name {CONTAINER:?} appears \
             in {} file(s): the catalog, plaintext by contract.",
            self.id, BODY_CANARY, self.files, self.bytes, self.name_files
        )
    }
}

fn tour(log: &mut StepLog, opts: &AccountOptions, bulk: usize) -> CliResult<ScanFindings> {
    // Key vault and account.
    let t = Instant::now();
    let vault = VaultHome::new(&opts.home).open_local(None)?;
    let uri = vault.create_key(KEY_NAME, KEY_BITS)?;
    plain(
        log,
        format!("vault key create {KEY_NAME} ({KEY_BITS}-bit RSA)"),
        201,
        format!("{uri} ({})", ms(t)),
    );
    let account = Account::create(
        opts.clone(),
        ACCOUNT,
        Encryption::CustomerManaged {
            key_uri: uri.to_string(),
        },
    )?;
    plain(
        log,
        format!("init account {ACCOUNT} (customer-managed key)"),
        201,
        "root key wrapped by the vault key (RSA-OAEP-256)".into(),
    );
    let db = account.create_database(DATABASE)?;
    plain(log, format!("db create {DATABASE}"), 201, String::new());
    let orders = db.create_container(CONTAINER, PK_PATH)?;
    plain(
        log,
        format!("container create {CONTAINER} --pk {PK_PATH}"),
        201,
        String::new(),
    );

    // Item CRUD with etags.
    let customers = ["alice", "bob", "carol", "alice", "bob"];
    for (i, customer) in customers.iter().enumerate() {
        let item = order(i + 1, customer, "placed");
        let r = orders.create_item(*customer, &item);
        record(log, format!("create {}", id(i + 1)), 201, r)?;
    }
    let first = id(1);
    let read = record(
        log,
        format!("read {first}"),
        200,
        orders.read_item::<Value>("alice", &first),
    )?;
    let old_etag = read.and_then(|r| r.etag).ok_or_else(|| {
        CliError::internal(format!(
            "reading {first} returned no etag; the engine must set one"
        ))
    })?;
    let shipped = order(1, "alice", "shipped");
    let r = orders.replace_item_with("alice", &shipped, &if_match(&old_etag));
    record(log, format!("replace {first} If-Match its etag"), 200, r)?;
    let r = orders.replace_item_with("alice", &order(1, "alice", "lost"), &if_match(&old_etag));
    record(log, format!("replace {first} If-Match a stale etag"), 412, r)?;
    let r = orders.upsert_item("bob", &order(2, "bob", "paid"));
    record(log, format!("upsert {} (exists)", id(2)), 200, r)?;
    let r = orders.upsert_item("carol", &order(6, "carol", "placed"));
    record(log, format!("upsert {} (new)", id(6)), 201, r)?;
    let r = orders.delete_item("carol", &id(3));
    record(log, format!("delete {}", id(3)), 204, r)?;
    let r = orders.read_item::<Value>("carol", &id(3));
    record(log, format!("read {} (deleted)", id(3)), 404, r)?;

    // Bulk load, flush, compact.
    bulk_load(log, &orders, bulk)?;
    let t = Instant::now();
    account.flush()?;
    plain(log, "flush memtable".into(), 200, ms(t));
    let t = Instant::now();
    account.compact()?;
    plain(log, "compact".into(), 200, ms(t));

    // Close, reopen, read back.
    drop(orders);
    drop(db);
    drop(account);
    let t = Instant::now();
    let account = Account::open(opts.clone())?;
    plain(log, "close and reopen account".into(), 200, ms(t));
    let orders = account.database(DATABASE).container(CONTAINER);
    let back = record(
        log,
        format!("read {first} after reopen"),
        200,
        orders.read_item::<Value>("alice", &first),
    )?;
    if back.and_then(|r| r.item).as_ref().map(strip_system) != Some(strip_system(&shipped)) {
        return Err(CliError::internal(format!(
            "{first} came back different after reopen; expected the replaced version"
        )));
    }
    let r = orders.read_item::<Value>("carol", &id(3));
    record(log, format!("read {} after reopen", id(3)), 404, r)?;
    read_back(log, &orders, bulk)?;
    indexed_query(log, &orders)?;
    drop(orders);
    drop(account);

    // Plaintext scan of everything the store wrote.
    scan_data_dir(log, &opts.data_dir, &first)
}

fn bulk_load(log: &mut StepLog, orders: &Container, bulk: usize) -> CliResult<()> {
    let opts = ItemOptions {
        durability: Some(Durability::Buffered),
        ..ItemOptions::default()
    };
    let t = Instant::now();
    let mut charge = 0.0;
    for n in BULK_BASE..BULK_BASE + bulk {
        let customer = bulk_customer(n);
        let r = orders.create_item_with(customer.as_str(), &order(n, &customer, "placed"), &opts);
        charge += r.map_err(CliError::from)?.request_charge;
    }
    log.push(Step {
        operation: format!("create {bulk} more items (buffered durability)"),
        status: 201,
        charge: Some(charge),
        etag: None,
        detail: ms(t),
    });
    Ok(())
}

fn read_back(log: &mut StepLog, orders: &Container, bulk: usize) -> CliResult<()> {
    let t = Instant::now();
    let mut charge = 0.0;
    for n in BULK_BASE..BULK_BASE + bulk {
        let customer = bulk_customer(n);
        let r = orders
            .read_item::<Value>(customer.as_str(), &id(n))
            .map_err(|e| CliError::from(e).with_hint(format!("reading {} back", id(n))))?;
        charge += r.request_charge;
        let want = order(n, &customer, "placed");
        if r.item.as_ref().map(strip_system) != Some(strip_system(&want)) {
            return Err(CliError::internal(format!(
                "{} came back different after reopen",
                id(n)
            )));
        }
    }
    log.push(Step {
        operation: format!("read all {bulk} bulk items back"),
        status: 200,
        charge: Some(charge),
        etag: None,
        detail: format!("all intact, {}", ms(t)),
    });
    Ok(())
}

fn scan_data_dir(log: &mut StepLog, data: &Path, item_id: &str) -> CliResult<ScanFindings> {
    let needles = [
        Needle {
            label: "item id",
            bytes: item_id.as_bytes(),
        },
        Needle {
            label: "body string",
            bytes: BODY_CANARY.as_bytes(),
        },
        Needle {
            label: "container name",
            bytes: CONTAINER.as_bytes(),
        },
    ];
    let report = scan::scan(data, &needles)
        .map_err(|e| CliError::internal(format!("cannot scan {} ({e})", data.display())))?;
    let count = |i: usize| report.hits.get(i).map_or(0, Vec::len);
    let findings = ScanFindings {
        files: report.files,
        bytes: report.bytes,
        id: item_id.to_string(),
        id_files: count(0),
        body_files: count(1),
        name_files: count(2),
    };
    let leaks: Vec<String> = needles
        .iter()
        .zip(&report.hits)
        .take(2)
        .flat_map(|(n, files)| {
            files
                .iter()
                .map(move |f| format!("{} in {}", n.label, f.display()))
        })
        .collect();
    log.push(Step {
        operation: "scan data dir for plaintext".into(),
        status: if leaks.is_empty() { 200 } else { 500 },
        charge: None,
        etag: None,
        detail: format!(
            "{} files: id in {}, body in {}, {CONTAINER:?} in {}",
            findings.files, findings.id_files, findings.body_files, findings.name_files
        ),
    });
    if !leaks.is_empty() {
        return Err(CliError::internal(format!(
            "plaintext found on disk: {}; item ids and bodies must be sealed",
            leaks.join(", ")
        )));
    }
    Ok(findings)
}

/// Records an item call and checks its status against the one the tour expects.
fn record<T>(
    log: &mut StepLog,
    operation: String,
    expected: u16,
    result: strata_engine::Result<ItemResponse<T>>,
) -> CliResult<Option<ItemResponse<T>>> {
    match result {
        Ok(resp) => {
            let status = resp.status_code;
            log.push(Step {
                operation: operation.clone(),
                status,
                charge: Some(resp.request_charge),
                etag: resp.etag.clone(),
                detail: String::new(),
            });
            check_status(&operation, status, expected)?;
            Ok(Some(resp))
        }
        Err(e) => {
            let err = CliError::from(e);
            log.push(Step {
                operation: operation.clone(),
                status: err.status,
                charge: err.request_charge,
                etag: None,
                detail: shorten(&err.message),
            });
            if err.status == expected {
                Ok(None)
            } else {
                Err(err.with_hint(format!("during demo step `{operation}`")))
            }
        }
    }
}

/// A query the index answers (shown by its plan), checked against a full scan.
fn indexed_query(log: &mut StepLog, orders: &Container) -> CliResult<()> {
    let sql = "SELECT VALUE c.id FROM c WHERE c.status = 'shipped' OR c.status = 'paid' ORDER BY c.id";
    let t = Instant::now();
    let plan = orders.explain_query(sql, &[], &QueryOptions::default())?;
    if plan["indexUsed"] != Value::Bool(true) {
        return Err(CliError::internal(format!(
            "the demo query should use the index; its plan is {plan}"
        )));
    }
    let indexed = orders.query_items(sql, &[], &QueryOptions::default())?;
    let scan = QueryOptions {
        force_full_scan: true,
        ..QueryOptions::default()
    };
    let scanned = orders.query_items(sql, &[], &scan)?;
    if indexed.items != scanned.items || indexed.items != [json!(id(1)), json!(id(2))] {
        return Err(CliError::internal(format!(
            "the indexed query returned {:?}, a full scan {:?}; both should be [{}, {}]",
            indexed.items,
            scanned.items,
            id(1),
            id(2)
        )));
    }
    log.push(Step {
        operation: "query status shipped or paid (indexed)".into(),
        status: indexed.status_code,
        charge: Some(indexed.request_charge),
        etag: None,
        detail: format!(
            "{} items via {}; a full scan costs {} RU ({})",
            indexed.items.len(),
            plan["lookups"],
            scanned.request_charge,
            ms(t)
        ),
    });
    Ok(())
}

fn check_status(operation: &str, got: u16, expected: u16) -> CliResult<()> {
    if got == expected {
        Ok(())
    } else {
        Err(CliError::internal(format!(
            "demo step `{operation}` returned status {got}, expected {expected}"
        )))
    }
}

/// Records a step that is not an item call (no request charge, no etag).
fn plain(log: &mut StepLog, operation: String, status: u16, detail: String) {
    log.push(Step {
        operation,
        status,
        charge: None,
        etag: None,
        detail,
    });
}

fn if_match(etag: &str) -> ItemOptions {
    ItemOptions {
        if_match: Some(etag.to_string()),
        ..ItemOptions::default()
    }
}

fn id(n: usize) -> String {
    format!("{ID_PREFIX}-{n:05}")
}

fn bulk_customer(n: usize) -> String {
    format!("cust-{:02}", n % 40)
}

fn order(n: usize, customer: &str, status: &str) -> Value {
    json!({
        "id": id(n),
        "customer": customer,
        "status": status,
        "lines": [
            { "sku": format!("sku-{}", n % 97), "qty": 1 + n % 5, "price": 9.5 + (n % 13) as f64 },
        ],
        "note": format!("{BODY_CANARY}: leave order {n} at the side door"),
    })
}

/// The item without the system properties the engine adds (those starting with '_').
fn strip_system(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn ms(t: Instant) -> String {
    format!("{} ms", t.elapsed().as_millis())
}

fn shorten(s: &str) -> String {
    const MAX: usize = 90;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_string(),
    }
}
