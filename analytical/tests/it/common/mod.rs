//! Helpers shared by the scenario tests: deterministic keys, changes and batch readers.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::encryption::decrypt::FileDecryptionProperties;
use serde_json::{json, Value};
use strata_analytical::{AnalyticalKey, Change};

pub fn key(byte: u8) -> AnalyticalKey {
    AnalyticalKey::from_bytes([byte; 32])
}

pub fn up(id: &str, pk: &str, lsn: u64, ts: i64, doc: Value) -> Change {
    Change::upsert(id, json!(pk), lsn, ts, doc)
}

pub fn del(id: &str, pk: &str, lsn: u64, ts: i64) -> Change {
    Change::delete(id, json!(pk), lsn, ts)
}

/// (id, column) string values of a batch, for compact assertions.
pub fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let Some(col) = batch.column_by_name(column) else {
        return Vec::new();
    };
    let Some(a) = col.as_any().downcast_ref::<StringArray>() else {
        panic!("{column} is not a string column")
    };
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

pub fn ints(batch: &RecordBatch, column: &str) -> Vec<Option<i64>> {
    let Some(col) = batch.column_by_name(column) else {
        return Vec::new();
    };
    let Some(a) = col.as_any().downcast_ref::<Int64Array>() else {
        panic!("{column} is not an int64 column")
    };
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

/// Reads an encrypted file the way an external reader does (parquet-rs with the raw key).
pub fn read_external(path: &Path, key: &AnalyticalKey) -> parquet::errors::Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
    let dec = FileDecryptionProperties::builder(key.as_bytes().to_vec()).build()?;
    let opts = ArrowReaderOptions::new().with_file_decryption_properties(Arc::clone(&dec));
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, opts)?.build()?;
    reader.map(|b| b.map_err(Into::into)).collect()
}

/// Every regular file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
