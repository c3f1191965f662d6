//! Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/), deterministically but for
//! the random salts in file headers: real WALs and segments written by the engine's own writers
//! under the fuzz targets' fixed keys (one and two seal layers, torn and zero-filled tails),
//! forged blocks and records behind valid seals, queries and items; each file seed is read back
//! first to prove it gets past the header and the seal. Run from the repository root:
//! `cargo run --manifest-path fuzz/Cargo.toml --bin gen_corpus -- fuzz/corpus`. Existing seeds of
//! the same names are replaced; other files (inputs that found bugs) are left alone.

use std::path::{Path, PathBuf};

use strata_fuzz::{query, segment, wal};
use strata_lsm::fuzzing::{
    compressed_block, data_block, forged_segment, read_segment, replay_wal, segment_path, suite, wal_record,
    write_sealed_wal, write_segment, write_wal, Batch, KvRecord,
};

fn put(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(format!("seed-{name}")), bytes)
}

fn batches(n: usize, with_deletes: bool) -> Vec<Batch> {
    (0..n)
        .map(|i| {
            (0..=(i % 3))
                .map(|j| {
                    let key = format!("key{:04}", i * 3 + j).into_bytes();
                    let value = (!with_deletes || j != 1).then(|| format!("value {i}.{j}").into_bytes());
                    (key, value)
                })
                .collect()
        })
        .collect()
}

fn records(n: usize, value_len: usize) -> Vec<KvRecord> {
    (0..n)
        .map(|i| {
            let key = format!("key{i:04}").into_bytes();
            let value = (i % 7 != 3).then(|| format!("{i:08}").repeat(value_len / 8).into_bytes());
            (key, i as u64 + 1, value)
        })
        .collect()
}

fn wal_seeds(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let mut files: Vec<(String, bool, Vec<u8>)> = Vec::new();
    for (name, customer_layer, b) in [
        ("smk-3", false, batches(3, false)),
        ("smk-deletes", false, batches(5, true)),
        ("cmk-2", true, batches(2, true)),
        ("empty", false, Vec::new()),
    ] {
        let path = write_wal(tmp.path(), &suite(customer_layer), &b)?;
        // A seed that does not get past the header is no seed.
        let replayed = replay_wal(&path, &suite(customer_layer), false)?;
        let ops: usize = b.iter().map(Vec::len).sum();
        assert_eq!(
            (replayed.frames, replayed.records.len()),
            (b.len() as u64, ops),
            "{name}"
        );
        files.push((name.to_string(), customer_layer, std::fs::read(&path)?));
        std::fs::remove_file(path)?;
    }
    let full = files[0].2.clone();
    // A torn tail: the last record cut short; and zeros the file system allocated past it.
    files.push(("torn".into(), false, full[..full.len() - 5].to_vec()));
    let mut zeroed = full.clone();
    let n = zeroed.len();
    zeroed[n - 20..].fill(0);
    zeroed.extend_from_slice(&[0; 64]);
    files.push(("zero-tail".into(), false, zeroed));
    for (name, customer_layer, bytes) in &files {
        put(
            out,
            "wal_read",
            &format!("file-{name}"),
            &wal::encode_file(*customer_layer, bytes),
        )?;
    }
    // Plaintext records sealed behind a valid header: real ones, then junk after a real one.
    let real: Vec<Vec<u8>> = batches(3, true)
        .iter()
        .enumerate()
        .map(|(i, b)| wal_record(i as u64 + 1, i as u64 * 3 + 1, b))
        .collect();
    let path = write_sealed_wal(tmp.path(), &suite(false), &real)?;
    assert_eq!(replay_wal(&path, &suite(false), false)?.frames, real.len() as u64);
    std::fs::remove_file(path)?;
    put(out, "wal_read", "sealed-real", &wal::encode_sealed(false, &real))?;
    put(
        out,
        "wal_read",
        "sealed-junk",
        &wal::encode_sealed(true, &[real[0].clone(), b"\x01\x00\x00\x00junk".to_vec()]),
    )?;
    Ok(())
}

fn segment_seeds(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    for (name, customer_layer, recs) in [
        ("smk-small", false, records(10, 16)),
        ("cmk-small", true, records(6, 8)),
        // Over the 16 KiB block target: several data blocks.
        ("smk-blocks", false, records(300, 120)),
    ] {
        let path = write_segment(tmp.path(), &suite(customer_layer), &recs)?;
        let read = read_segment(&path, &suite(customer_layer), b"", &[])?;
        assert!(read.scan_error.is_none() && read.scan == recs, "{name}");
        let bytes = std::fs::read(&path)?;
        std::fs::remove_file(path)?;
        put(
            out,
            "segment_read",
            &format!("file-{name}"),
            &segment::encode_file(customer_layer, &bytes),
        )?;
    }
    // Real data blocks behind the forging path: one compressed as the writer does, one plain.
    let a = records(5, 8);
    let b: Vec<KvRecord> = records(12, 8).split_off(5);
    let last = |r: &[KvRecord]| r.last().map(|r| r.0.clone()).unwrap_or_default();
    let probes = vec![b"key0002".to_vec(), b"key0009".to_vec()];
    // The forged shape with real blocks reads back every record.
    let plains = [
        compressed_block(&data_block(&a), None)?,
        compressed_block(&data_block(&b), None)?,
    ];
    let bytes = forged_segment(&suite(false), &plains, &[last(&a), last(&b)], &probes)?;
    std::fs::write(segment_path(tmp.path()), &bytes)?;
    let read = read_segment(&segment_path(tmp.path()), &suite(false), b"", &probes)?;
    assert_eq!(read.scan.len(), a.len() + b.len());
    assert!(read.gets.iter().all(|g| matches!(g, Ok(Some(_)))));
    put(
        out,
        "segment_read",
        "blocks",
        &segment::encode_blocks(
            false,
            &[(data_block(&a), true), (data_block(&b), true)],
            &[last(&a), last(&b)],
            &probes,
        ),
    )?;
    // The same first block, already compressed, passed as plaintext (the claimed-size path).
    let plain = compressed_block(&data_block(&a), None)?;
    put(
        out,
        "segment_read",
        "blocks-plain",
        &segment::encode_blocks(true, &[(plain, false)], &[last(&a)], &probes),
    )?;
    // A forged index: one entry pointing at the header.
    let mut body = Vec::new();
    body.extend_from_slice(&3u32.to_le_bytes());
    body.extend_from_slice(b"key");
    body.extend_from_slice(&0u64.to_le_bytes());
    body.extend_from_slice(&64u32.to_le_bytes());
    put(
        out,
        "segment_read",
        "index",
        &segment::encode_index(false, 1, &body),
    )?;
    Ok(())
}

fn query_seeds(out: &Path) -> std::io::Result<()> {
    let queries: &[(&str, Option<&str>)] = &[
        ("SELECT * FROM c", None),
        (
            "SELECT VALUE c.id FROM c WHERE c.a > 0 AND NOT IS_DEFINED(c.x) ORDER BY c.id DESC",
            None,
        ),
        (
            "SELECT TOP 2 c.id, c.tags[0] AS t FROM c WHERE ARRAY_CONTAINS(c.tags, @s) OR c.a IN (1, 's')",
            None,
        ),
        ("SELECT COUNT(1) AS n, SUM(c.a) FROM c GROUP BY c.pk", None),
        (
            "SELECT DISTINCT VALUE LOWER(CONCAT(c.id, 'x', \"\\u0041\")) FROM c OFFSET @k LIMIT 3",
            None,
        ),
        (
            "SELECT c.x.y.z ?? 1, (c.a BETWEEN -1 AND 1e3) ? 'in' : 'out' FROM c JOIN t IN c.tags",
            None,
        ),
        (
            "SELECT VALUE {\"a\": [1, 2.5, null, true], \"b\": @o.a} FROM c WHERE c.id = @q",
            Some("{\"@q\": \"1\"}"),
        ),
        (
            "SELECT * FROM c WHERE STARTSWITH(c.id, '1') AND LENGTH(c.s) > 0 AND ABS(c.n) = 0",
            None,
        ),
        ("SELECT VALUE ((((1)))) FROM c WHERE c[\"a\"] != @p[0]", None),
        (
            "SELECT SUBSTRING(c.id, 0, 1), UPPER(c.s) FROM root c WHERE c.a <> 'open",
            None,
        ),
    ];
    for (i, (text, params)) in queries.iter().enumerate() {
        put(
            out,
            "query_parse",
            &format!("{i:02}"),
            &query::encode(text, *params),
        )?;
    }
    Ok(())
}

fn item_seeds(out: &Path) -> std::io::Result<()> {
    let items: &[&str] = &[
        r#"{"id": "1", "pk": "a", "n": 1.5, "tags": ["x", null, true], "o": {"p": {"q": []}}}"#,
        r#"{"id": "é/x", "pk": 1}"#,
        r#"{"id": "2", "ttl": -1, "a": {"b": "nested pk"}}"#,
        r#"{"id": "3", "ttl": 0, "__sys_x": 1}"#,
        r#"{"id": "4", "_ts": 5, "_etag": "e", "pk": [1]}"#,
        r#"{"id": 5}"#,
        r#"[{"id": "6"}]"#,
        r#"{"id": "7", "pk": 1e400}"#,
        r#"{"id": "8", "s": "\u0000\ud83d\ude00", "big": 18446744073709551615, "neg": -9223372036854775808}"#,
    ];
    for (i, text) in items.iter().enumerate() {
        put(out, "item_validate", &format!("{i:02}"), text.as_bytes())?;
    }
    // Nesting at the limit, and one level over it.
    let deep = |n: usize| format!("{{\"id\": \"d\", \"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
    put(out, "item_validate", "deep-127", deep(127).as_bytes())?;
    put(out, "item_validate", "deep-128", deep(128).as_bytes())?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: gen_corpus <corpus dir, e.g. fuzz/corpus>")?;
    wal_seeds(&out)?;
    segment_seeds(&out)?;
    query_seeds(&out)?;
    item_seeds(&out)?;
    Ok(())
}
