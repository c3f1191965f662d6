//! Nothing secret reaches the data directory in the clear. Items whose ids, bodies, nested fields,
//! non-partition-key fields and property names carry canary strings (distinct per encryption mode)
//! are written, upserted, patched, batched and deleted in an SMK and in a CMK account (and written
//! and batched in a container with a hierarchical partition key, whose levels only are plaintext
//! by contract, and written to a container with a spatial index, whose coordinates and cell
//! keys are needles too); every file
//! under the data directory is scanned after the writes (WAL only), after a flush, after a
//! compaction and after a reopen. No file may contain a canary — as raw bytes, hex, base64 or UTF-16, nor inside any zstd
//! frame found anywhere in a file (each is decompressed and scanned too). The data directory must
//! not hold the raw service key, a slice of the vault's RSA private key, or PEM/"PRIVATE KEY" text.
//! A stored procedure's body carries a canary too, and a trigger's name and body, and a backup of the account is scanned the same
//! way. The change feed lives in the same store; the analytical tier's Parquet files (and an export
//! of them) are scanned too.
//!
//! The customer-layer data key (unwrapped from KEYRING through the vault) is in no file of the
//! data directory or the home. With the customer key in a PKCS#11 token (SoftHSM2; ignored unless
//! run by scripts/test.sh) the token's own files are scanned too: no canary, no data key, no PEM.
//!
//! The scan is proven to work: the database and container names (plaintext by contract) are found
//! in CATALOG, and canaries planted on purpose outside the data directory — raw, hex, base64,
//! UTF-16 and inside a zstd frame between random bytes — are found.

use crate::common::{self, Backend};

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::RngCore;
use serde_json::{json, Value};
use strata::analytical::Tier;
use strata::{
    Account, AccountOptions, AnalyticalSchema, BatchOperation, ContainerOptions, Encryption, IndexingPolicy,
    KeyUri, LocalVault, PatchOperation, PatchOptions, Principal, TriggerOperation, TriggerType,
};

const DB_NAME: &str = "leakdb-plaintext-name";
const CONTAINER_NAME: &str = "leak-container-plaintext-name";
const PK_VALUES: [&str; 2] = ["tenant-visible-1", "tenant-visible-2"];
const ITEMS: usize = 150;
/// Bytes of decompressed output read from one zstd frame at most.
const MAX_FRAME_OUTPUT: usize = 64 << 20;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

// ---------------------------------------------------------------------------------------------
// The scanner.

/// A string to look for, in each encoding a careless writer might store it in.
#[derive(Clone)]
struct Needle {
    label: String,
    forms: Vec<(&'static str, Vec<u8>)>,
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Needle {
    fn bytes(label: &str, raw: &[u8]) -> Needle {
        let mut forms = vec![
            ("raw", raw.to_vec()),
            ("hex", hex(raw).into_bytes()),
            ("HEX", hex(raw).to_uppercase().into_bytes()),
        ];
        // Base64 at each of the three alignments: keep only the characters that depend on the
        // needle alone (drop the group shared with preceding bytes and the trailing partial one).
        for (k, name) in [(0, "base64/0"), (1, "base64/1"), (2, "base64/2")] {
            let mut shifted = vec![0u8; k];
            shifted.extend_from_slice(raw);
            let enc = base64(&shifted);
            let start = if k > 0 { 4 } else { 0 };
            let full = shifted.len() / 3 * 4;
            if full > start + 8 {
                forms.push((name, enc.as_bytes()[start..full].to_vec()));
            }
        }
        Needle {
            label: label.to_string(),
            forms,
        }
    }

    fn text(s: &str) -> Needle {
        let mut n = Needle::bytes(s, s.as_bytes());
        let utf16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        n.forms.push(("utf16le", utf16));
        n
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    file: PathBuf,
    needle: String,
    form: &'static str,
    /// Offset of the zstd frame the needle was found in, if it was found after decompressing.
    zstd_frame_at: Option<usize>,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else {
        return false;
    };
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if hay[at..].starts_with(needle) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// Decompresses the zstd frame starting at `at` as far as it goes (damaged or truncated frames
/// yield what decoded before the damage).
fn decode_frame(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(dec) = zstd::stream::read::Decoder::new(&bytes[at..]) else {
        return out;
    };
    let mut dec = dec.single_frame().take(MAX_FRAME_OUTPUT as u64);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match dec.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

#[derive(Default)]
struct Scan {
    files: Vec<PathBuf>,
    zstd_frames: usize,
    hits: Vec<Hit>,
}

impl Scan {
    fn hit_files(&self) -> BTreeSet<String> {
        self.hits
            .iter()
            .map(|h| h.file.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }
}

fn scan_bytes(file: &Path, bytes: &[u8], needles: &[Needle], frame: Option<usize>, out: &mut Vec<Hit>) {
    for n in needles {
        for (form, pattern) in &n.forms {
            if contains(bytes, pattern) {
                out.push(Hit {
                    file: file.to_path_buf(),
                    needle: n.label.clone(),
                    form,
                    zstd_frame_at: frame,
                });
            }
        }
    }
}

fn scan_tree(root: &Path, needles: &[Needle]) -> Scan {
    let mut scan = Scan::default();
    for path in common::files_under(root) {
        {
            let bytes = std::fs::read(&path).unwrap();
            scan_bytes(&path, &bytes, needles, None, &mut scan.hits);
            let mut from = 0;
            while let Some(i) = bytes[from..].windows(4).position(|w| w == ZSTD_MAGIC) {
                let at = from + i;
                scan.zstd_frames += 1;
                let plain = decode_frame(&bytes, at);
                scan_bytes(&path, &plain, needles, Some(at), &mut scan.hits);
                from = at + 1;
            }
            scan.files.push(path);
        }
    }
    scan.hits.sort();
    scan.hits.dedup();
    scan
}

// ---------------------------------------------------------------------------------------------
// The accounts.

struct Canaries {
    id: String,
    body: String,
    nested: String,
    free: String,
    key: String,
    /// Inside a stored procedure's body.
    procedure: String,
}

fn canaries(mode: &str) -> Canaries {
    Canaries {
        id: format!("CANARYID-{mode}-q7Zx"),
        body: format!("CANARYBODY-{mode}-k3Vw"),
        nested: format!("CANARYNEST-{mode}-p9Lm"),
        free: format!("CANARYFREE-{mode}-t2Hs"),
        key: format!("CANARYKEY-{mode}-b8Rn"),
        procedure: format!("CANARYPROC-{mode}-w4Jd"),
    }
}

fn all_canary_needles() -> Vec<Needle> {
    ["SMK", "CMK", "CMK-PKCS11"]
        .iter()
        .flat_map(|m| {
            let c = canaries(m);
            [c.id, c.body, c.nested, c.free, c.key, c.procedure]
        })
        .map(|s| Needle::text(&s))
        .collect()
}

/// Coordinates are customer data: a point written to a container with a spatial index, whose
/// entries are keyed by the point's cells (tests/it/spatial_index.rs).
const SPATIAL_CANARY: [f64; 2] = [2.7193846152, 31.4271828459];

/// The point's coordinates as JSON text, and the key bytes of its level-17 cell
/// (`0x09 | 17 | x: u32 BE | y: u32 BE`, docs/format.md: `x = floor((lon + 180) / 360 · 2^17)`,
/// `y = floor((lat + 90) / 180 · 2^17)`).
fn spatial_needles() -> Vec<Needle> {
    let [lon, lat] = SPATIAL_CANARY;
    let x = ((lon + 180.0) / 360.0 * 131_072.0).floor() as u32;
    let y = ((lat + 90.0) / 180.0 * 131_072.0).floor() as u32;
    let mut cell = vec![0x09, 17];
    cell.extend_from_slice(&x.to_be_bytes());
    cell.extend_from_slice(&y.to_be_bytes());
    vec![
        Needle::text(&lon.to_string()),
        Needle::text(&lat.to_string()),
        Needle::bytes("spatial cell key", &cell),
    ]
}

fn write_spatial_items(account: &Account) {
    let policy = IndexingPolicy::from_json(
        r#"{"includedPaths":[{"path":"/*"}],"spatialIndexes":[{"path":"/loc/?","types":["Point"]}]}"#,
    )
    .unwrap();
    let spatial = account
        .database(DB_NAME)
        .create_container_with(
            "leak-spatial-plaintext-name",
            "/tenant",
            ContainerOptions {
                indexing_policy: Some(policy),
                ..Default::default()
            },
        )
        .unwrap();
    for i in 0..20 {
        let body = json!({"id": format!("s{i}"), "tenant": PK_VALUES[i % 2],
            "loc": {"type": "Point", "coordinates": SPATIAL_CANARY}});
        spatial.create_item(PK_VALUES[i % 2], &body).unwrap();
    }
    // The entries are there: a distance filter finds the points through them.
    let sql = format!(
        "SELECT VALUE COUNT(1) FROM c WHERE ST_DISTANCE(c.loc, {{'type':'Point','coordinates':{:?}}}) < 1",
        SPATIAL_CANARY
    );
    let plan = spatial.explain_query(&sql, &[], &Default::default()).unwrap();
    assert_eq!(plan["indexUsed"], true, "{plan}");
    let found = spatial.query_items(&sql, &[], &Default::default()).unwrap();
    assert_eq!(found.items, vec![json!(20)]);
}

fn item(c: &Canaries, i: usize, version: u32) -> (String, &'static str, Value) {
    let id = format!("{}-{i:04}", c.id);
    let pk = PK_VALUES[i % 2];
    let mut body = json!({
        "id": id,
        "tenant": pk,
        "version": version,
        // Compressible, so a segment block would show it plainly if compressed but not sealed.
        "note": format!("{} ", c.body).repeat(12),
        "nested": {"level1": {"list": [1, {"secret": c.nested}], "n": i}},
        "free": c.free,
        "pad": "lorem ipsum dolor sit amet ".repeat(10 + i % 30),
    });
    body.as_object_mut().unwrap().insert(c.key.clone(), json!(i));
    (id, pk, body)
}

fn list_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn assert_clean(stage: &str, data: &Path, needles: &[Needle]) -> Scan {
    let scan = scan_tree(data, needles);
    assert!(
        scan.hits.is_empty(),
        "{stage}: canaries found in the data directory: {:#?}",
        scan.hits
    );
    let names: BTreeSet<String> = scan
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for must in ["CATALOG", "KEYRING", "MANIFEST"] {
        assert!(
            names.contains(must),
            "{stage}: the scan did not see {must}: {names:?}"
        );
    }
    eprintln!(
        "{stage}: {} files scanned, {} zstd frames decoded, no canary",
        scan.files.len(),
        scan.zstd_frames
    );
    scan
}

/// The RSA private key's PKCS#8 DER, from a vault key file:
/// frame(20 bytes) | attrs_len u32 LE | attrs | der_len u32 LE | der.
pub(crate) fn vault_private_der(vault_dir: &Path) -> Vec<u8> {
    let mut files = Vec::new();
    let mut stack = vec![vault_dir.join("keys")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "key") {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let attrs_len = u32_at(20);
    let der_at = 24 + attrs_len;
    let der_len = u32_at(der_at);
    let der = bytes[der_at + 4..der_at + 4 + der_len].to_vec();
    // PKCS#8: SEQUENCE, then the RSA private key; a 2048-bit key's DER is about 1.2 KB.
    assert_eq!(der[0], 0x30, "not DER");
    assert!(der.len() > 1000, "{}", der.len());
    der
}

fn run_mode(cmk: bool, backend: Backend) {
    let mode = match (cmk, backend) {
        (false, _) => "SMK",
        (true, Backend::Files) => "CMK",
        (true, Backend::Token) => "CMK-PKCS11",
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("home");
    let opts = AccountOptions::new(&data, &home);
    let enc = if cmk {
        let uri = common::backend_vault(&opts, backend)
            .create_key("leak-cmk", 2048)
            .unwrap();
        Encryption::CustomerManaged {
            key_uri: uri.to_string(),
        }
    } else {
        Encryption::ServiceManaged
    };
    let c = canaries(mode);
    let mut needles = all_canary_needles();
    needles.extend(spatial_needles());

    let account = Account::create(opts.clone(), "leakacct", enc).unwrap();
    let container = account
        .create_database(DB_NAME)
        .unwrap()
        .create_container(CONTAINER_NAME, "/tenant")
        .unwrap();
    for i in 0..ITEMS {
        let (_, pk, body) = item(&c, i, 0);
        container.create_item(pk, &body).unwrap();
    }
    // Superseded versions and tombstones carry ids and bodies too.
    for i in (0..ITEMS).step_by(5) {
        let (_, pk, body) = item(&c, i, 1);
        container.upsert_item(pk, &body).unwrap();
    }
    for i in (0..ITEMS).step_by(7) {
        let (id, pk, _) = item(&c, i, 0);
        container.delete_item(pk, &id).unwrap();
    }
    // Patches and transactional batches write through the same sealed path: a patched-in value
    // and a batch's items carry canaries too.
    let (id1, pk1, _) = item(&c, 1, 0);
    let patch = [PatchOperation::set(
        "/patched",
        json!({ "by": c.free, "key": c.nested }),
    )];
    container
        .patch_item(pk1, &id1, &patch, &PatchOptions::default())
        .unwrap();
    let (id3, pk3, _) = item(&c, 3, 0);
    let (batch_id, _, mut batch_body) = item(&c, ITEMS + 2, 0);
    batch_body["tenant"] = json!(pk3);
    let ops = [
        BatchOperation::create(batch_body),
        BatchOperation::patch(&id3, vec![PatchOperation::add("/batched", json!(c.body))]),
    ];
    assert!(container.execute_batch(pk3, &ops).unwrap().is_success());
    // A hierarchical (MultiHash) container: each level's value is plaintext by contract, the
    // rest of its items, and a batch in one of its partitions, are sealed like any other.
    let hier = account
        .database(DB_NAME)
        .create_container_with_paths(
            "leak-hierarchical-plaintext-name",
            &["/tenant", "/user"],
            Default::default(),
        )
        .unwrap();
    for i in 0..20 {
        let (_, tenant, mut body) = item(&c, ITEMS + 10 + i, 0);
        body["user"] = json!(format!("user-visible-{}", i % 3));
        let pk = strata::PartitionKey::hierarchical([tenant.to_string(), format!("user-visible-{}", i % 3)])
            .unwrap();
        hier.create_item(pk, &body).unwrap();
    }
    let (hier_id, tenant, mut hier_body) = item(&c, ITEMS + 40, 0);
    hier_body["user"] = json!("user-visible-0");
    let hier_pk = strata::PartitionKey::hierarchical([tenant, "user-visible-0"]).unwrap();
    let ops = [
        BatchOperation::create(hier_body),
        BatchOperation::patch(&hier_id, vec![PatchOperation::add("/batched", json!(c.body))]),
    ];
    assert!(hier.execute_batch(hier_pk.clone(), &ops).unwrap().is_success());
    assert_eq!(
        hier.read_item::<Value>(hier_pk, &hier_id).unwrap().item.unwrap()["batched"],
        json!(c.body)
    );
    write_spatial_items(&account);
    // A stored procedure's body is customer data: sealed in the store like an item (its name
    // is plaintext by contract, in CATALOG).
    let proc_body = format!(
        "function leakProc() {{ var secret = '{}'; getContext().getResponse().setBody(secret); }}",
        c.procedure
    );
    container
        .create_stored_procedure("leak-proc-plaintext-name", &proc_body)
        .unwrap();
    let ran = container
        .execute_stored_procedure("leak-proc-plaintext-name", pk3, &[])
        .unwrap();
    assert_eq!(ran.body, json!(c.procedure));
    // A trigger is customer data whole (the contract lists none of it as plaintext).
    let trigger_body = format!(
        "function leakTrigger() {{ var r = getContext().getRequest(); var d = r.getBody(); d.t = '{}'; r.setBody(d); }}",
        c.procedure
    );
    container
        .create_trigger(
            &c.procedure,
            TriggerType::Pre,
            TriggerOperation::All,
            &trigger_body,
        )
        .unwrap();
    assert_eq!(container.list_triggers().unwrap()[0].body, trigger_body);
    // And a user-defined function, name and body.
    let udf_body = format!("function leakUdf(x) {{ return x + '{}'; }}", c.procedure);
    container
        .create_user_defined_function(&c.procedure, &udf_body)
        .unwrap();
    container
        .create_user_defined_function("leakUdf", &udf_body)
        .unwrap();
    let called = container
        .query_items(
            "SELECT VALUE udf.leakUdf(c.id) FROM c WHERE c.id = @id",
            &[("@id".into(), json!(id1))],
            &Default::default(),
        )
        .unwrap();
    assert_eq!(called.items, vec![json!(format!("{id1}{}", c.procedure))]);
    let read_back = |id: &str, pk: &str| container.read_item::<Value>(pk, id).unwrap().item.unwrap();
    assert_eq!(read_back(&id1, pk1)["patched"]["by"], json!(c.free));
    assert_eq!(read_back(&id3, pk3)["batched"], json!(c.body));
    assert_eq!(read_back(&batch_id, pk3)["id"], json!(batch_id));
    let check_items = |account: &Account| {
        let container = account.database(DB_NAME).container(CONTAINER_NAME);
        for i in 0..ITEMS {
            let (id, pk, _) = item(&c, i, 0);
            let got = container.read_item::<Value>(pk, &id);
            if i % 7 == 0 {
                assert_eq!(got.unwrap_err().status(), 404, "{id}");
                continue;
            }
            let body = got.unwrap().item.unwrap();
            let (_, _, want) = item(&c, i, u32::from(i % 5 == 0));
            for (k, v) in want.as_object().unwrap() {
                assert_eq!(&body[k], v, "{id}: {k}");
            }
        }
    };
    // The canaries really are stored: they come back through the API.
    check_items(&account);

    let lsm = data.join("lsm");
    assert!(
        list_ext(&lsm.join("seg"), "seg").is_empty(),
        "{mode}: flushed too early"
    );
    assert!(!list_ext(&lsm.join("wal"), "wal").is_empty(), "{mode}: no WAL");
    assert_clean(&format!("{mode} after writes (WAL only)"), &data, &needles);

    account.flush().unwrap();
    assert!(
        !list_ext(&lsm.join("seg"), "seg").is_empty(),
        "{mode}: flush wrote no segment"
    );
    assert_clean(&format!("{mode} after flush"), &data, &needles);

    account.compact().unwrap();
    assert_clean(&format!("{mode} after compact"), &data, &needles);

    drop(hier);
    drop(container);
    drop(account);
    let account = Account::open(opts.clone()).unwrap();
    check_items(&account);
    // And after writing into the reopened account (a fresh WAL beside the compacted segment).
    let extra = account.database(DB_NAME).container(CONTAINER_NAME);
    let (_, pk, body) = item(&c, ITEMS + 1, 0);
    extra.create_item(pk, &body).unwrap();
    assert_clean(&format!("{mode} after reopen"), &data, &needles);
    assert!(!list_ext(&lsm.join("seg"), "seg").is_empty());

    // Closed without a flush: the next open replays that WAL into a segment (the recovery path).
    drop(extra);
    drop(account);
    let account = Account::open(opts.clone()).unwrap();
    // The item, and the lifetime request-unit counts the closing account recorded.
    assert_eq!(account.recovery_report().records_replayed, 2);
    let extra = account.database(DB_NAME).container(CONTAINER_NAME);
    assert_eq!(
        extra
            .read_item::<Value>(pk, &item(&c, ITEMS + 1, 0).0)
            .unwrap()
            .status_code,
        200
    );
    assert_clean(&format!("{mode} after WAL replay"), &data, &needles);

    // The analytical tier (Parquet under DATA/analytical) and an export of it: encrypted too,
    // property names included. A CMK account needs a managed identity for the tier.
    if cmk {
        let vault = common::open_backend_vault(&opts, backend);
        common::use_user_identity(&opts, &vault, &account, "leak-ops");
    }
    extra
        .enable_analytical(-1, AnalyticalSchema::FullFidelity)
        .unwrap();
    let mut tier = Tier::open(&extra).unwrap();
    assert!(tier.catch_up().unwrap().applied > 0);
    let export = tmp.path().join("analytical-export");
    tier.export(&export, 4_000_000_000).unwrap();
    assert!(!list_ext(&extra.analytical_dir().unwrap().join("data"), "parquet").is_empty());
    let export_scan = scan_tree(&export, &needles);
    assert!(export_scan.hits.is_empty(), "{mode}: {:#?}", export_scan.hits);
    std::fs::remove_dir_all(&export).unwrap();
    let scan = assert_clean(&format!("{mode} with the analytical tier"), &data, &needles);

    // Nor does a backup hold them (it copies the sealed segments, the catalog and the keyring).
    let backups = tmp.path().join("backups");
    account.backup_now(&backups).unwrap();
    let backup_scan = scan_tree(&backups, &needles);
    assert!(backup_scan.hits.is_empty(), "{mode}: {:#?}", backup_scan.hits);

    // Nor do the canaries reach the key holders.
    let home_scan = scan_tree(&home, &needles);
    assert!(home_scan.hits.is_empty(), "{mode}: {:#?}", home_scan.hits);

    // No key material in the data directory: the raw SMK, a slice of the RSA private key, PEM.
    let smk_file = std::fs::read(opts.service_dir().join("smk")).unwrap();
    assert_eq!(smk_file.len(), 8 + 4 + 4 + 4 + 32, "unexpected smk framing");
    let smk = &smk_file[smk_file.len() - 32..];
    let mut secrets = vec![
        Needle::bytes("raw SMK", smk),
        Needle::text("PRIVATE KEY"),
        Needle::text("-----BEGIN"),
    ];
    // The customer-layer data key itself, unwrapped through the vault from KEYRING.
    let dek = cmk.then(|| {
        let vault = common::open_backend_vault(&opts, backend);
        Needle::bytes("customer DEK", &customer_dek(&vault, &data))
    });
    secrets.extend(dek.clone());
    if cmk && matches!(backend, Backend::Files) {
        let der = vault_private_der(&opts.vault_dir());
        // Windows from the private exponent and primes, well past the public modulus.
        for frac in [2, 3] {
            let at = der.len() * frac / 4;
            secrets.push(Needle::bytes(&format!("RSA DER @{at}"), &der[at..at + 32]));
        }
    }
    let key_scan = scan_tree(&data, &secrets);
    assert!(
        key_scan.hits.is_empty(),
        "{mode}: key material in the data directory: {:#?}",
        key_scan.hits
    );
    // ...while the same scan does find that material where it legitimately lives.
    let smk_where = scan_tree(&opts.service_dir(), &secrets[..1]);
    assert_eq!(smk_where.hit_files(), BTreeSet::from(["smk".to_string()]));
    if cmk && matches!(backend, Backend::Files) {
        let der_where = scan_tree(&opts.vault_dir(), &secrets[4..]);
        assert_eq!(der_where.hits.len(), 2, "{:#?}", der_where.hits);
    }
    // The home (vault records, audit log, identities) does not hold the data key either.
    if let Some(dek) = &dek {
        let home_keys = scan_tree(&home, std::slice::from_ref(dek));
        assert!(home_keys.hits.is_empty(), "{mode}: {:#?}", home_keys.hits);
    }
    if let (Backend::Token, Some(dek)) = (backend, &dek) {
        // Nor do the token's own files: no canary, no data key. The scan reads them: it finds
        // the public key object's label, which SoftHSM2 stores in the clear.
        let token = token_dir_of(&home);
        let mut token_needles = needles.clone();
        token_needles.extend([
            dek.clone(),
            Needle::text("PRIVATE KEY"),
            Needle::text("-----BEGIN"),
        ]);
        let token_scan = scan_tree(&token, &token_needles);
        assert!(
            token_scan.hits.is_empty(),
            "{mode}: the token's files: {:#?}",
            token_scan.hits
        );
        let label = scan_tree(&token, &[Needle::text("strata/hsm/leak-cmk/")]);
        assert!(
            !label.hits.is_empty(),
            "{mode}: the scan did not read the token's objects"
        );
    }

    // The positive side of the contract: names are plaintext, in CATALOG.
    let names = scan_tree(&data, &[Needle::text(DB_NAME), Needle::text(CONTAINER_NAME)]);
    for name in [DB_NAME, CONTAINER_NAME] {
        assert!(
            names
                .hits
                .iter()
                .any(|h| h.needle == name && h.form == "raw" && h.file.ends_with("CATALOG")),
            "{mode}: {name} not found in plaintext in CATALOG: {:#?}",
            names.hits
        );
    }
    assert!(scan.files.len() >= 5, "{mode}: {:?}", scan.files);

    // A canary planted on purpose beside the data directory is found by the very same scan.
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut planted = random_bytes(3000);
    planted.extend_from_slice(format!("{}-0001", c.id).as_bytes());
    planted.extend(random_bytes(3000));
    std::fs::write(outside.join("planted.bin"), planted).unwrap();
    let whole = scan_tree(tmp.path(), &needles);
    assert_eq!(
        whole.hits.iter().map(|h| (&h.file, h.form)).collect::<Vec<_>>(),
        vec![(&outside.join("planted.bin"), "raw")],
        "{mode}: {:#?}",
        whole.hits
    );
    drop(extra);
    drop(account);
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

#[test]
fn no_canary_or_key_in_the_data_dir_smk() {
    run_mode(false, Backend::Files);
}

#[test]
fn no_canary_or_key_in_the_data_dir_cmk() {
    run_mode(true, Backend::Files);
}

#[test]
#[ignore = "runs from scripts/test.sh: needs SoftHSM2 (STRATA_PKCS11_MODULE)"]
fn no_canary_or_key_in_the_data_dir_or_the_token_pkcs11() {
    run_mode(true, Backend::Token);
}

/// The customer-layer DEK of the account in `data`: KEYRING's wrapped key (a JSON payload after
/// the 20-byte frame header), unwrapped through `vault` as the first-party identity.
fn customer_dek(vault: &LocalVault, data: &Path) -> Vec<u8> {
    let bytes = std::fs::read(data.join("KEYRING")).unwrap();
    let keyring: Value = serde_json::from_slice(&bytes[20..]).unwrap();
    let entry = &keyring["customer"];
    let kid = KeyUri::parse(entry["kid"].as_str().unwrap()).unwrap();
    let hex = entry["wrapped_dek"].as_str().unwrap();
    let wrapped: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let dek = vault.unwrap_key(&Principal::FirstParty, &kid, &wrapped).unwrap();
    assert_eq!(dek.len(), 32);
    dek.to_vec()
}

/// The SoftHSM2 directory of the token behind the vault "hsm" in `home`.
fn token_dir_of(home: &Path) -> PathBuf {
    let cfg: Value =
        serde_json::from_slice(&std::fs::read(home.join("vaults/hsm/pkcs11.json")).unwrap()).unwrap();
    let label = cfg["token"].as_str().unwrap().as_bytes().to_vec();
    let root = strata_vault::SoftToken::token_dir();
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|d| {
            std::fs::read(d.join("token.object")).is_ok_and(|b| b.windows(label.len()).any(|w| w == label))
        })
        .expect("the token's directory")
}

/// The scanner itself: it finds a canary in every encoding it claims to check, including inside a
/// zstd frame surrounded by random bytes, and finds nothing in random bytes.
#[test]
fn scanner_finds_planted_canaries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let canary = "CANARYBODY-SMK-k3Vw";
    let needles = all_canary_needles();
    let embed = |payload: &[u8]| {
        let mut v = random_bytes(777);
        v.extend_from_slice(payload);
        v.extend(random_bytes(555));
        v
    };
    let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
    // The canary occurs only as a back-reference to a near miss, so its bytes are not in the
    // frame: only decompressing finds it.
    let near = "CANARYBODY-SMK-k3Vx";
    let plain = format!("{{\"note\":\"{near}\"}} ").repeat(20) + &format!("{{\"note\":\"{canary}\"}}");
    let compressed = zstd::bulk::compress(plain.as_bytes(), 3).unwrap();
    assert!(!contains(&compressed, canary.as_bytes()), "zstd did not hide it");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("raw.bin", embed(canary.as_bytes()), "raw"),
        ("hex.txt", embed(hex(canary.as_bytes()).as_bytes()), "hex"),
        (
            "HEX.txt",
            embed(hex(canary.as_bytes()).to_uppercase().as_bytes()),
            "HEX",
        ),
        (
            "b64-0.txt",
            embed(base64(canary.as_bytes()).as_bytes()),
            "base64/0",
        ),
        (
            "b64-1.txt",
            embed(base64(&[b"x", canary.as_bytes()].concat()).as_bytes()),
            "base64/1",
        ),
        (
            "b64-2.txt",
            embed(base64(&[b"xy", canary.as_bytes()].concat()).as_bytes()),
            "base64/2",
        ),
        ("utf16.bin", embed(&utf16), "utf16le"),
        ("frame.bin", embed(&compressed), "raw"),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("noise.bin"), random_bytes(50_000)).unwrap();
    let scan = scan_tree(dir, &needles);
    assert_eq!(scan.files.len(), cases.len() + 1);
    for (name, _, form) in &cases {
        let hit = scan
            .hits
            .iter()
            .find(|h| h.file.ends_with(name) && h.form == *form && h.needle == canary);
        assert!(hit.is_some(), "{name}: not found as {form}: {:#?}", scan.hits);
    }
    let framed: Vec<_> = scan
        .hits
        .iter()
        .filter(|h| h.file.ends_with("frame.bin"))
        .collect();
    assert!(
        !framed.is_empty() && framed.iter().all(|h| h.zstd_frame_at == Some(777)),
        "{framed:#?}"
    );
    assert!(!scan.hit_files().contains("noise.bin"));
    // Other modes' canaries were not "found" by accident.
    assert!(scan.hits.iter().all(|h| h.needle == canary), "{:#?}", scan.hits);
}
